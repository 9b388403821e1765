from django import forms

from hotline.forms import NamedRequired
from org.models import Unit


class UnitForm(NamedRequired, forms.ModelForm):
    """The one form that creates and edits units: used by the admin site and by the demo loader."""

    class Meta:
        model = Unit
        fields = ["code", "name", "kind", "parent", "area", "contact_person", "contact_phone", "is_active"]
