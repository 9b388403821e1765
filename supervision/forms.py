"""Forms of the supervision pages; the rules live in ``supervision/actions.py``."""

from django import forms
from django.utils import timezone

from orders.forms import HANDLING_KINDS, unit_choices


class IssueForm(forms.Form):
    orders = forms.CharField(
        label="督办工单", max_length=2000, required=False,
        widget=forms.TextInput(attrs={"required": True}), help_text="工单编号，多个用逗号或空格分隔",
    )  # fmt: skip
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

    def clean_orders(self) -> list[str]:
        text = self.cleaned_data["orders"].replace("，", ",").replace(",", " ")
        return list(dict.fromkeys(n for n in text.split() if n))

    def clean_deadline(self):
        value = self.cleaned_data["deadline"]
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="答复内容", required=False, widget=forms.Textarea(attrs={"rows": 4, "required": True})
    )
