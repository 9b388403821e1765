"""What every form of the product shares."""

from django import forms

GENERIC_REQUIRED = str(forms.Field.default_error_messages["required"])
CHOSEN = (forms.ChoiceField, forms.FileField)  # picked, not typed (ModelChoiceField is a ChoiceField)


class NamedRequired:
    """A missing field's error names the field — 请选择主办单位, 请填写督办要求 — instead of Django's
    这个字段是必填项。, which says nothing once it is read apart from the form (a banner, a log, the API)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if str(field.error_messages.get("required", "")) != GENERIC_REQUIRED:
                continue  # the form says it its own way
            label = field.label or name
            if isinstance(field, forms.BooleanField):
                message = f"请勾选{label}"
            elif isinstance(field, CHOSEN):
                message = f"请选择{label}"
            else:
                message = f"请填写{label}"
            field.error_messages = {**field.error_messages, "required": message}
