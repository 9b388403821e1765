"""The workbench forms: they render fields and hand the input to ``orders.transitions``.

Validation of an order's content lives in the transitions (one place for the UI and the API);
a form only turns typed text into values (a category's full name into the category, a local
date-time into an aware one) and maps a refusal's field errors back onto its fields.
"""

import uuid
from collections.abc import Callable
from datetime import datetime

from django import forms
from django.urls import reverse_lazy
from django.utils import timezone

from accounts.models import User
from categories.models import Category, RequestType
from hotline.forms import NamedRequired
from orders import transitions
from orders.errors import InvalidInput, TransitionError
from orders.escalation import higher_units_by_level
from orders.models import (
    Action,
    Channel,
    ContactResult,
    DirectDispatchRule,
    EmergencyLine,
    NonAcceptanceGround,
    Priority,
    ReplyResult,
    Satisfaction,
    Tag,
    Warning,
    WorkOrder,
)
from orders.queries import SEARCH_DAYS
from orders.validators import MAX_ATTACHMENT_BYTES, attachment_error
from org.models import Unit, UnitKind

AREA_KINDS = (UnitKind.DISTRICT, UnitKind.STREET)
HANDLING_KINDS = (UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY, UnitKind.DEPARTMENT, UnitKind.UTILITY)
YES_NO = [("", "—"), ("1", "是"), ("0", "否")]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked again by ``attachment_error`` before anything is saved."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def unit_choices(kinds: tuple[str, ...], blank: str | None = None) -> list:
    """Active units of ``kinds`` grouped by kind, for a <select> with optgroups."""
    groups: dict[str, list] = {}
    for unit in Unit.objects.active().filter(kind__in=kinds).order_by("path"):
        groups.setdefault(unit.get_kind_display(), []).append((unit.code, unit.name))
    choices = [("", blank)] if blank is not None else []
    return choices + list(groups.items())


def apply_errors(form: forms.Form, exc: TransitionError) -> None:
    """Show a transition's refusal on the form: per field where the form has it, else at the top."""
    if not exc.errors:
        form.add_error(None, exc.message)
    for field, message in exc.errors.items():
        form.add_error(field if field in form.fields else None, message)


class IntakeForm(NamedRequired, forms.Form):
    """受理: what the operator types while the caller talks. Ctrl+Enter submits."""

    caller_phone = forms.CharField(
        label="联系电话", max_length=30, required=False,
        widget=forms.TextInput(attrs={
            "autofocus": True, "inputmode": "tel", "autocomplete": "off", "required": True,
            "hx-get": reverse_lazy("orders:caller_history"), "hx-trigger": "load, input changed delay:300ms, change",
            "hx-target": "#caller-history",
        }),
    )  # fmt: skip
    caller_name = forms.CharField(label="诉求人", max_length=50, required=False)
    channel = forms.ChoiceField(label="渠道", choices=Channel.choices, initial=Channel.PHONE)
    request_type = forms.ChoiceField(label="诉求类型", choices=[])
    category = forms.CharField(
        label="诉求分类", max_length=200, required=False,
        widget=forms.TextInput(
            attrs={"list": "category-options", "placeholder": "输入关键词，如：噪音、物业、养老", "required": True}
        ),
        help_text="选择到三级分类",
    )  # fmt: skip
    title = forms.CharField(
        label="标题", max_length=200, required=False, widget=forms.TextInput(attrs={"required": True})
    )
    content = forms.CharField(
        label="诉求内容", required=False, widget=forms.Textarea(attrs={"rows": 5, "required": True})
    )
    address = forms.CharField(label="地址", max_length=200, required=False)
    area = forms.ChoiceField(label="所属区域", choices=[], required=False)
    priority = forms.ChoiceField(label="紧急程度", choices=Priority.choices, initial=Priority.NORMAL)
    tags = forms.MultipleChoiceField(label="标签", choices=[], required=False, widget=forms.CheckboxSelectMultiple)
    is_enterprise = forms.BooleanField(label="涉企诉求", required=False)
    enterprise_name = forms.CharField(label="企业名称", max_length=100, required=False)
    enterprise_credit_code = forms.CharField(label="统一社会信用代码", max_length=18, required=False)
    latitude = forms.CharField(label="纬度", max_length=20, required=False)
    longitude = forms.CharField(label="经度", max_length=20, required=False)
    attachments = MultipleFileField(
        label="附件", required=False,
        help_text=f"图片、PDF、Office 文档、录音或视频，每个不超过 {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB",
    )  # fmt: skip
    answer = forms.CharField(
        label="直接答复内容", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="能当场答复的，填写答复内容后点“直接办结”，无需派单",
    )  # fmt: skip
    article = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["request_type"].choices = list(
            RequestType.objects.filter(is_active=True).values_list("code", "name")
        )
        self.fields["area"].choices = unit_choices(AREA_KINDS, blank="—")
        self.fields["tags"].choices = list(Tag.objects.values_list("code", "name"))
        if not self.is_bound:
            self.initial["idempotency_key"] = uuid.uuid4().hex

    def clean_category(self) -> int | None:
        """The leaf picked by its full name (or id); unknown text is left for the intake check to refuse."""
        text = self.cleaned_data["category"].strip()
        if not text:
            return None
        if text.isdigit():
            return int(text)
        category = Category.objects.filter(full_name=text).only("pk").first()
        return category.pk if category else -1

    def clean(self) -> dict:
        data = super().clean()
        if not self.errors:
            try:
                transitions.clean_intake(data)
            except InvalidInput as exc:
                apply_errors(self, exc)
        for upload in self.files.getlist("attachments"):
            head = upload.read(16)
            upload.seek(0)
            reason, _ = attachment_error(upload.name, upload.size, head)
            if reason:
                self.add_error("attachments", f"{upload.name}：{reason}")
        return data

    def submit(
        self, user: User, answer_directly: bool = False, transfer_line: str = "", merge_into: str = ""
    ) -> tuple[WorkOrder, bool]:
        """受理, with the attachments, then at once 直接办结, 转紧急热线 or 并单 when the operator chose so;
        all or nothing. Returns (order, created)."""
        from django.db import transaction

        data = dict(self.cleaned_data)
        key, answer, article = data.pop("idempotency_key"), data.pop("answer"), data.pop("article")
        data.pop("attachments", None)
        with transaction.atomic():
            order, created = transitions.intake(user, data, idempotency_key=key)
            if not created:
                return order, False
            for upload in self.files.getlist("attachments"):
                content = upload.read(MAX_ATTACHMENT_BYTES + 1)
                order = transitions.attach(order, user, name=upload.name, content=content)
            if transfer_line:
                order = transitions.transfer(order, user, line=transfer_line, note="受理时提示紧急情况，一键转接")
            elif merge_into:
                parent = WorkOrder.objects.filter(number=merge_into).first()
                order = transitions.merge(order, user, parent=parent, note="受理时发现多人反映同一问题")
            elif answer_directly:
                if not answer.strip():
                    raise InvalidInput({"answer": "直接办结请填写答复内容"})
                order = transitions.answer_directly(
                    order, user, answer=answer, source="受理时直接答复", article=article
                )
        return order, True


class OrderFilterForm(NamedRequired, forms.Form):
    """The filters above every order list; ``filters()`` gives the arguments of ``queries.OrderFilter``."""

    q = forms.CharField(
        label="关键词",
        max_length=50,
        required=False,
        help_text=f"工单编号直接定位；文字检索未选受理日期时查近 {SEARCH_DAYS} 天",
    )
    state = forms.ChoiceField(label="状态", required=False)
    unit = forms.ChoiceField(label="承办单位", required=False)
    category = forms.TypedChoiceField(label="诉求分类", required=False, coerce=int, empty_value=None)
    channel = forms.ChoiceField(label="渠道", required=False, choices=[("", "全部"), *Channel.choices])
    request_type = forms.ChoiceField(label="诉求类型", required=False)
    date_from = forms.DateField(label="受理日期从", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="至", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    overdue = forms.TypedChoiceField(
        label="超期", required=False, choices=YES_NO, coerce=lambda v: v == "1", empty_value=None
    )
    enterprise = forms.TypedChoiceField(
        label="涉企", required=False, choices=YES_NO, coerce=lambda v: v == "1", empty_value=None
    )
    warning = forms.TypedChoiceField(
        label="预警", required=False, choices=[("", "全部"), *Warning.choices], coerce=int, empty_value=None
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        from orders.models import State

        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", "全部"), *State.choices]
        units = user.visible_units if not user.is_citywide else Unit.objects.all()
        groups: dict[str, list] = {}
        for unit in units.active().filter(kind__in=HANDLING_KINDS).order_by("path"):
            groups.setdefault(unit.get_kind_display(), []).append((unit.code, unit.name))
        self.fields["unit"].choices = [("", "全部"), *groups.items()]
        self.fields["category"].choices = [("", "全部")] + [
            (c.pk, ("　" if c.level == 2 else "") + c.name)
            for c in Category.objects.active().filter(level__lte=2).order_by("full_name")
        ]
        self.fields["request_type"].choices = [("", "全部"), *RequestType.objects.values_list("code", "name")]

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class DirectDispatchRuleForm(NamedRequired, forms.ModelForm):
    """工单直派 rule, as the admin site and the demo loader create it."""

    class Meta:
        model = DirectDispatchRule
        fields = ["category", "unit", "is_active", "note"]

    def clean_unit(self) -> Unit:
        unit = self.cleaned_data["unit"]
        if unit.kind not in HANDLING_KINDS:
            raise forms.ValidationError(f"不能直派给{unit.get_kind_display()}，请选择具体承办单位")
        return unit


# ---------------------------------------------------------------- one form per life-cycle action


class ActionForm(NamedRequired, forms.Form):
    """A life-cycle action on the order page. ``run`` calls the transition; ``label`` is the button."""

    action: str = ""
    label: str = ""
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, order: WorkOrder | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.order = order

    def run(self, order: WorkOrder, user: User, version: int) -> WorkOrder:
        raise NotImplementedError


def _text_area(label: str, rows: int = 3, required: bool = True) -> forms.CharField:
    """A text box. Required only in the browser: the transition checks it, with the action's other fields, so that
    every missing or wrong field is named at once and in the words the API uses."""
    attrs = {"rows": rows, "required": True} if required else {"rows": rows}
    return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs=attrs))


class AnswerForm(ActionForm):
    action, label = Action.ANSWER_DIRECTLY, "直接办结"
    answer = _text_area("答复内容")
    source = forms.CharField(label="答复依据", max_length=200, required=False)
    article = forms.IntegerField(label="引用知识条目编号", required=False, min_value=1)

    def run(self, order, user, version):
        d = self.cleaned_data
        return transitions.answer_directly(
            order, user, answer=d["answer"], source=d["source"], article=d["article"], version=version
        )


class TransferForm(ActionForm):
    action, label = Action.TRANSFER, "转紧急热线"
    line = forms.ChoiceField(label="转往", choices=EmergencyLine.choices, widget=forms.RadioSelect)
    note = _text_area("说明", 2, required=False)

    def run(self, order, user, version):
        d = self.cleaned_data
        return transitions.transfer(order, user, line=d["line"], note=d["note"], version=version)


class ReasonForm(ActionForm):
    reason = _text_area("理由")

    def run(self, order, user, version):
        return self.transition(order, user, reason=self.cleaned_data["reason"], version=version)


def reason_form(action: str, label: str, transition: Callable, reason_label: str) -> type[ReasonForm]:
    fields = {"action": action, "label": label, "transition": staticmethod(transition)}
    fields["reason"] = _text_area(reason_label)
    return type(f"{transition.__name__.title()}Form", (ReasonForm,), fields)


class MergeForm(ActionForm):
    action, label = Action.MERGE, "并单"
    parent = forms.CharField(
        label="主工单编号", max_length=20, required=False, widget=forms.TextInput(attrs={"required": True})
    )
    note = _text_area("说明", 2, required=False)

    def run(self, order, user, version):
        parent = WorkOrder.objects.filter(number=self.cleaned_data["parent"].strip()).first()
        return transitions.merge(order, user, parent=parent, note=self.cleaned_data["note"], version=version)


class DispatchForm(ActionForm):
    action, label = Action.DISPATCH, "派单"
    lead_unit = forms.ChoiceField(label="主办单位", choices=[])
    co_units = forms.MultipleChoiceField(
        label="协办单位", choices=[], required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )
    note = _text_area("派单说明", 2, required=False)

    def __init__(self, *args, order: WorkOrder | None = None, **kwargs) -> None:
        super().__init__(*args, order=order, **kwargs)
        self.fields["lead_unit"].choices = unit_choices(HANDLING_KINDS, blank="请选择主办单位")
        self.fields["co_units"].choices = unit_choices(HANDLING_KINDS)
        self.recommendations = []
        if order is not None:  # also when the form comes back with an error: the choice is still to be made
            from nlp.places import extract
            from orders.routing import recommend

            self.recommendations = recommend(order.category, extract(order.address, order.title, order.content))
            if self.recommendations and not self.is_bound:
                self.initial["lead_unit"] = self.recommendations[0].unit.code

    def run(self, order, user, version):
        d = self.cleaned_data
        return transitions.dispatch(
            order, user, lead_unit=d["lead_unit"], co_units=d["co_units"], note=d["note"], version=version
        )


class SignForm(ActionForm):
    action, label = Action.SIGN, "签收"

    def run(self, order, user, version):
        return transitions.sign(order, user, version=version)


class DecisionForm(ActionForm):
    decision = forms.ChoiceField(
        label="审核结果", choices=[("approve", "同意"), ("reject", "驳回")], widget=forms.RadioSelect
    )
    note = _text_area("审核意见（驳回时必填）", 2, required=False)

    def run(self, order, user, version):
        d = self.cleaned_data
        return self.transition(order, user, approve=d["decision"] == "approve", note=d["note"], version=version)


class ReturnDecisionForm(DecisionForm):
    action, label, transition = Action.RETURN_APPROVE, "退单审核", staticmethod(transitions.decide_return)


class ExtensionDecisionForm(DecisionForm):
    action, label, transition = Action.EXTENSION_APPROVE, "延期审核", staticmethod(transitions.decide_extension)


class EscalateForm(ActionForm):
    """提级办理: only the units higher than the current lead unit are offered; the transition checks again."""

    action, label = Action.ESCALATE, "提级办理"
    lead_unit = forms.CharField(label="提级至", required=False, widget=forms.Select(attrs={"required": True}))
    reason = _text_area("提级理由")

    def __init__(self, *args, order: WorkOrder | None = None, **kwargs) -> None:
        super().__init__(*args, order=order, **kwargs)
        groups = higher_units_by_level(order.lead_unit) if order is not None and order.lead_unit_id else {}
        self.fields["lead_unit"].widget.choices = [("", "请选择上级单位")] + [
            (name, [(u.code, u.name) for u in units]) for name, units in groups.items()
        ]

    def run(self, order, user, version):
        d = self.cleaned_data
        return transitions.escalate(order, user, lead_unit=d["lead_unit"], reason=d["reason"], version=version)


class NonAcceptanceForm(ActionForm):
    action, label = Action.NON_ACCEPTANCE_REQUEST, "申请不予受理"
    ground = forms.CharField(
        label="不予受理理由", required=False,
        widget=forms.Select(choices=[("", "请选择"), *NonAcceptanceGround.choices], attrs={"required": True}),
    )  # fmt: skip
    basis = _text_area("依据")
    duplicate_of = forms.CharField(
        label="重复的工单编号", max_length=20, required=False, help_text="理由为“重复诉求”时必填：在先的工单编号"
    )

    def run(self, order, user, version):
        d = self.cleaned_data
        return transitions.request_non_acceptance(
            order, user, ground=d["ground"], basis=d["basis"], duplicate_of=d["duplicate_of"], version=version
        )


class NonAcceptanceDecisionForm(DecisionForm):
    action, label = Action.NON_ACCEPTANCE_APPROVE, "不予受理审核"
    transition = staticmethod(transitions.decide_non_acceptance)


class ExtensionForm(ActionForm):
    action, label = Action.EXTENSION_REQUEST, "申请延期"
    new_due_at = forms.DateTimeField(
        label="新的办结时限", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "required": True}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )  # fmt: skip
    reason = _text_area("延期理由")

    def run(self, order, user, version):
        d = self.cleaned_data
        new_due_at: datetime | None = d["new_due_at"]
        if new_due_at is not None and timezone.is_naive(new_due_at):
            new_due_at = timezone.make_aware(new_due_at)
        return transitions.request_extension(order, user, new_due_at=new_due_at, reason=d["reason"], version=version)


class OpinionForm(ActionForm):
    action, label = Action.CO_OPINION, "提交协办意见"
    opinion = _text_area("协办意见")

    def run(self, order, user, version):
        return transitions.co_opinion(order, user, opinion=self.cleaned_data["opinion"], version=version)


class InterimForm(ActionForm):
    action, label = Action.INTERIM_REPLY, "阶段性答复"
    content = _text_area("阶段性答复")

    def run(self, order, user, version):
        return transitions.interim_reply(order, user, content=self.cleaned_data["content"], version=version)


class ReplyForm(ActionForm):
    action, label = Action.REPLY, "办结"
    # checked by the transition with 答复内容 and 办理措施 (see _text_area)
    result = forms.ChoiceField(
        label="办理结果", choices=ReplyResult.choices, required=False,
        widget=forms.RadioSelect(attrs={"required": True}),
    )  # fmt: skip
    content = _text_area("答复内容", 4)
    measures = _text_area("办理措施", 3)

    def run(self, order, user, version):
        d = self.cleaned_data
        return transitions.reply(
            order, user, result=d["result"], content=d["content"], measures=d["measures"], version=version
        )


class CallbackForm(ActionForm):
    action, label = Action.CALLBACK, "记录回访"
    contact_result = forms.ChoiceField(
        label="联系结果", choices=ContactResult.choices, widget=forms.RadioSelect, initial=ContactResult.REACHED
    )
    satisfaction = forms.ChoiceField(
        label="满意度", choices=Satisfaction.choices, widget=forms.RadioSelect, required=False
    )
    resolved = forms.TypedChoiceField(
        label="问题是否解决", choices=[("1", "已解决"), ("0", "未解决")], widget=forms.RadioSelect,
        required=False, coerce=lambda v: v == "1", empty_value=None,
    )  # fmt: skip
    note = _text_area("回访记录", 2, required=False)

    def run(self, order, user, version):
        d = self.cleaned_data
        return transitions.callback(
            order, user, contact_result=d["contact_result"], satisfaction=d["satisfaction"] or "",
            resolved=d["resolved"], note=d["note"], version=version,
        )  # fmt: skip


class ArchiveForm(ActionForm):
    action, label = Action.ARCHIVE, "归档"
    note = _text_area("归档说明")

    def run(self, order, user, version):
        return transitions.archive(order, user, note=self.cleaned_data["note"], version=version)


class LinkForm(ActionForm):
    action, label = Action.LINK, "关联工单"
    other = forms.CharField(
        label="工单编号", max_length=20, required=False, widget=forms.TextInput(attrs={"required": True})
    )

    def run(self, order, user, version):
        other = WorkOrder.objects.filter(number=self.cleaned_data["other"].strip()).first()
        return transitions.link(order, user, other=other, version=version)


class AttachForm(ActionForm):
    action, label = Action.ATTACH, "上传附件"
    file = forms.FileField(label="附件", required=False)

    def run(self, order, user, version):
        upload = self.cleaned_data.get("file")
        if upload is None:
            raise InvalidInput({"file": "请选择文件"})
        content = upload.read(MAX_ATTACHMENT_BYTES + 1)
        return transitions.attach(order, user, name=upload.name, content=content, version=version)


ACTION_FORMS: dict[str, type[ActionForm]] = {
    form.action: form
    # The order of the cards on the order page: what the role is there to do comes first (派单, 签收, 办结, 回访,
    # 审核), then the other ways out, then what is only sometimes needed.
    for form in [
        DispatchForm,
        SignForm,
        ReplyForm,
        CallbackForm,
        ReturnDecisionForm,
        NonAcceptanceDecisionForm,
        ExtensionDecisionForm,
        OpinionForm,
        ArchiveForm,
        AnswerForm,
        MergeForm,
        TransferForm,
        reason_form(Action.INVALIDATE, "无效工单", transitions.invalidate, "无效原因"),
        reason_form(Action.WITHDRAW, "撤回", transitions.withdraw, "撤回原因"),
        InterimForm,
        ExtensionForm,
        reason_form(Action.RETURN_REQUEST, "申请退单", transitions.request_return, "退单理由"),
        NonAcceptanceForm,
        EscalateForm,
        reason_form(Action.REOPEN, "重办", transitions.reopen, "重办理由"),
        LinkForm,
        AttachForm,
    ]
}
