"""Forms of the supervision pages; the rules live in ``supervision/actions.py``."""

from django import forms
from django.utils import timezone

from orders.forms import HANDLING_KINDS, unit_choices
from org.models import UnitKind
from supervision.models import Cause


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


class FlagForm(forms.Form):
    cause = forms.ChoiceField(label="原因", choices=Cause.choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        label="列入说明", required=False, widget=forms.Textarea(attrs={"rows": 2, "required": True})
    )


class ReviewForm(forms.Form):
    participants = forms.CharField(label="参会单位和人员", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    conclusion = forms.CharField(label="研判结论", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    lead_unit = forms.ChoiceField(label="主办单位", choices=[])
    co_units = forms.MultipleChoiceField(
        label="协办单位", choices=[], required=False, widget=forms.SelectMultiple(attrs={"size": 5})
    )
    new_deadline = forms.DateTimeField(
        label="新的办结时限", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "required": True}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead_unit"].choices = unit_choices(HANDLING_KINDS, blank="请选择主办单位")
        self.fields["co_units"].choices = unit_choices(HANDLING_KINDS)

    def clean_new_deadline(self):
        value = self.cleaned_data["new_deadline"]
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value


class WhistleForm(forms.Form):
    departments = forms.MultipleChoiceField(
        label="召集部门", choices=[], required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )
    description = forms.CharField(label="吹哨事由", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["departments"].choices = unit_choices((UnitKind.DEPARTMENT, UnitKind.UTILITY))


class ReportForm(forms.Form):
    action = forms.CharField(label="采取的行动", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CloseWhistleForm(forms.Form):
    resolved = forms.TypedChoiceField(
        label="结果", choices=[("1", "已解决"), ("0", "未解决")], widget=forms.RadioSelect, coerce=lambda v: v == "1"
    )
    outcome = forms.CharField(label="办理结果", required=False, widget=forms.Textarea(attrs={"rows": 2}))
