"""Forms of the alert page; the rules live in ``alerts/actions.py`` and the modules it calls."""

from django import forms
from django.utils import timezone

from orders.forms import HANDLING_KINDS, unit_choices


class MergeForm(forms.Form):
    parent = forms.ChoiceField(label="主工单", choices=[], help_text="其余工单逐张并入主工单，无法并入的会列出原因")
    note = forms.CharField(label="并单说明", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, orders=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", "请选择主工单")] + [
            (str(o.pk), f"{o.number} {o.title[:30]}（{o.get_state_display()}）") for o in orders
        ]


class SuperviseForm(forms.Form):
    unit = forms.ChoiceField(label="督办单位", choices=[])
    requirements = forms.CharField(label="督办要求", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    deadline = forms.DateTimeField(
        label="答复期限", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "required": True}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = unit_choices(HANDLING_KINDS, blank="请选择督办单位")

    def clean_deadline(self):
        value = self.cleaned_data["deadline"]
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value
