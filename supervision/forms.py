"""Forms of the supervision pages; the rules live in ``supervision/actions.py``."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.forms import NamedRequired
from orders.forms import HANDLING_KINDS, unit_choices
from org.models import UnitKind
from supervision.models import Cause, Verdict


class SuperviseForm(NamedRequired, forms.Form):
    """督办单 to a unit for orders chosen elsewhere (an alert's); `IssueForm` adds the order numbers."""

    # required in the browser; checked with the other fields by supervision/actions.py (all errors at once)
    unit = forms.ChoiceField(
        label="督办单位", choices=[], required=False, widget=forms.Select(attrs={"required": True})
    )
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


class IssueForm(SuperviseForm):
    orders = forms.CharField(
        label="督办工单", max_length=2000, required=False,
        widget=forms.TextInput(attrs={"required": True}), help_text="工单编号，多个用逗号或空格分隔",
    )  # fmt: skip
    field_order = ["orders", "unit", "requirements", "deadline"]

    def clean_orders(self) -> list[str]:
        text = self.cleaned_data["orders"].replace("，", ",").replace(",", " ")
        return list(dict.fromkeys(n for n in text.split() if n))


class AnswerForm(NamedRequired, forms.Form):
    answer = forms.CharField(
        label="答复内容", required=False, widget=forms.Textarea(attrs={"rows": 4, "required": True})
    )


class FlagForm(NamedRequired, forms.Form):
    cause = forms.ChoiceField(label="原因", choices=Cause.choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        label="列入说明", required=False, widget=forms.Textarea(attrs={"rows": 2, "required": True})
    )


class ReviewForm(NamedRequired, forms.Form):
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


class WhistleForm(NamedRequired, forms.Form):
    departments = forms.MultipleChoiceField(
        label="召集部门", choices=[], required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )
    description = forms.CharField(label="吹哨事由", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["departments"].choices = unit_choices((UnitKind.DEPARTMENT, UnitKind.UTILITY))


class ReportForm(NamedRequired, forms.Form):
    action = forms.CharField(label="采取的行动", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CloseWhistleForm(NamedRequired, forms.Form):
    resolved = forms.TypedChoiceField(
        label="结果", choices=[("1", "已解决"), ("0", "未解决")], widget=forms.RadioSelect, coerce=lambda v: v == "1"
    )
    outcome = forms.CharField(label="办理结果", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SpotCheckForm(NamedRequired, forms.Form):
    """专员抽查: what to sample. The rules (and the 422 naming each field) live in ``supervision/spotchecks.py``."""

    unit = forms.ChoiceField(label=_("被抽查单位"), choices=[], required=False)
    period_start = forms.CharField(
        label=_("期间开始"), required=False, widget=forms.DateInput(attrs={"type": "date", "required": True})
    )
    period_end = forms.CharField(
        label=_("期间结束"), required=False, widget=forms.DateInput(attrs={"type": "date", "required": True})
    )
    size = forms.CharField(
        label=_("抽样数量"), required=False, max_length=9,
        widget=forms.NumberInput(attrs={"min": 1, "required": True}),
    )  # fmt: skip
    seed = forms.CharField(
        label=_("随机种子"), required=False, max_length=18, widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=_("留空则随机生成；同一种子、单位、期间和总体抽出的样本相同。"),
    )  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = unit_choices(HANDLING_KINDS, blank="请选择被抽查单位")


class ChecklistForm(NamedRequired, forms.Form):
    """The checklist of one sampled order (prefixed with the item's id on the sample page)."""

    substance = forms.ChoiceField(
        label=_("答复有实质内容"), choices=Verdict.choices, required=False, widget=forms.RadioSelect
    )
    contact = forms.ChoiceField(
        label=_("确实联系了市民"), choices=Verdict.choices, required=False, widget=forms.RadioSelect
    )
    result_true = forms.ChoiceField(
        label=_("办理结果属实"), choices=Verdict.choices, required=False, widget=forms.RadioSelect
    )
    finding = forms.BooleanField(label=_("发现问题"), required=False, help_text=_("任一项为“否”即记为问题。"))
    finding_text = forms.CharField(
        label=_("问题描述"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("留空时按为“否”的检查项生成。"),
    )  # fmt: skip
    note = forms.CharField(label=_("审核意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FindingAnswerForm(NamedRequired, forms.Form):
    answer = forms.CharField(
        label=_("单位说明"), required=False, widget=forms.Textarea(attrs={"rows": 3, "required": True})
    )
