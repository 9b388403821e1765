from django import forms

from hotline.forms import NamedRequired
from org.models import Unit


class UnitForm(NamedRequired, forms.ModelForm):
    """The one form that creates and edits units: used by the admin site and by the demo loader."""

    class Meta:
        model = Unit
        fields = ["code", "name", "kind", "parent", "area", "contact_person", "contact_phone", "is_active"]

    def clean_contact_phone(self) -> str:
        """Optional; when given, a number the hotline can dial (the handlers' home page and the 派单 notice show it)."""
        from orders.validators import normalize_phone, phone_error

        phone = normalize_phone(self.cleaned_data["contact_phone"])
        if phone and (error := phone_error(phone)):
            raise forms.ValidationError(error)
        return phone
