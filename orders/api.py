"""Work orders over REST: intake, lists, detail and one endpoint per life-cycle action.

The endpoints only translate between JSON and ``orders.transitions``; every rule (who may do what,
in which state, with which input) lives there. Refusals come back as 403/409/422 through the
``TransitionError`` handler in ``hotline/api.py``.
"""

from datetime import date, datetime
from decimal import Decimal

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, File, Form, Header, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from audit import log as audit_log
from hotline.api import ErrorOut, Pagination
from orders import transitions
from orders.models import (
    Channel,
    ContactResult,
    EmergencyLine,
    NonAcceptanceGround,
    Priority,
    ReplyResult,
    Satisfaction,
    State,
    Warning,
    WorkOrder,
)
from orders.queries import NEEDS_FULL_PHONE, SEARCH_DAYS, OrderFilter, caller_phone_for, visible_orders
from orders.validators import MAX_ATTACHMENT_BYTES

router = Router(tags=["工单"])


# ---------------------------------------------------------------- output


class EventOut(Schema):
    action: str
    action_label: str = Field(alias="get_action_display")
    actor: str | None = None
    unit: str | None = Field(None, alias="actor_unit.code")
    unit_name: str | None = Field(None, alias="actor_unit.name")
    from_state: str
    from_state_label: str = Field(alias="get_from_state_display")
    to_state: str
    to_state_label: str = Field(alias="get_to_state_display")
    note: str
    data: dict
    created_at: datetime

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return str(obj.actor) if obj.actor_id else None


class CoUnitOut(Schema):
    unit: str = Field(alias="unit.code")
    unit_name: str = Field(alias="unit.name")
    opinion: str
    opinion_at: datetime | None


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    created_at: datetime


class OrderSummaryOut(Schema):
    number: str
    channel: str
    channel_label: str = Field(alias="get_channel_display")
    caller_name: str
    caller_phone: str = Field(description="按角色脱敏：话务、派单、承办、回访人员看到完整号码")
    is_enterprise: bool
    request_type: str = Field(alias="request_type.code")
    request_type_name: str = Field(alias="request_type.name")
    category: int = Field(alias="category_id")
    category_name: str = Field(alias="category.full_name")
    title: str
    address: str
    area: str | None = Field(None, alias="area.code")
    area_name: str | None = Field(None, alias="area.name")
    priority: str
    priority_label: str = Field(alias="get_priority_display")
    state: str
    state_label: str = Field(alias="get_state_display")
    closure: str
    closure_label: str = Field(alias="get_closure_display")
    lead_unit: str | None = Field(None, alias="lead_unit.code")
    lead_unit_name: str | None = Field(None, alias="lead_unit.name")
    received_at: datetime
    sign_due_at: datetime | None
    due_at: datetime | None
    version: int = Field(description="每次状态变更加 1；提交操作时带上可避免覆盖他人的修改")
    warning: int | None = Field(description="预警颜色：0 绿、1 黄、2 橙、3 红；已归档为空")

    @staticmethod
    def resolve_caller_phone(obj, context) -> str:
        return caller_phone_for(context["request"].auth, obj)


class OrderOut(OrderSummaryOut):
    content: str
    enterprise_name: str
    enterprise_credit_code: str
    latitude: float | None
    longitude: float | None
    tags: list[str] = Field(description="标签编码")
    related: list[str] = Field(description="关联工单编号")
    parent: str | None = Field(None, alias="parent.number", description="并入的主工单编号")
    dispatched_at: datetime | None
    signed_at: datetime | None
    replied_at: datetime | None
    callback_due_at: datetime | None
    archived_at: datetime | None
    reply_result: str
    reply_content: str
    reply_measures: str
    satisfaction: str
    resolved: bool | None
    return_count: int
    reopen_count: int
    extension_count: int
    co_units: list[CoUnitOut]
    attachments: list[AttachmentOut] = Field(description="下载：GET /api/orders/{number}/attachments/{id}")
    events: list[EventOut] = Field(description="办理过程，按时间先后")
    allowed_actions: list[str] = Field(description="当前用户现在可以执行的动作编码")

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return [tag.code for tag in obj.tags.all()]

    @staticmethod
    def resolve_related(obj) -> list[str]:
        return [other.number for other in obj.related.order_by("number")]

    @staticmethod
    def resolve_co_units(obj) -> list:
        return list(obj.co_assignments.select_related("unit").order_by("pk"))

    @staticmethod
    def resolve_attachments(obj) -> list:
        return list(obj.attachments.order_by("pk"))

    @staticmethod
    def resolve_events(obj) -> list:
        return list(obj.events.select_related("actor", "actor_unit"))

    @staticmethod
    def resolve_allowed_actions(obj, context) -> list[str]:
        return transitions.allowed_actions(obj, context["request"].auth)


# ---------------------------------------------------------------- input


class OrderIn(Schema):
    channel: Channel = Field(Channel.API, description="受理渠道，默认 api")
    caller_name: str = ""
    caller_phone: str = Field(description="手机 11 位，固话带区号，或 400/800 号码")
    is_enterprise: bool = False
    enterprise_name: str = ""
    enterprise_credit_code: str = Field("", description="涉企诉求必填，18 位统一社会信用代码")
    request_type: str = Field(description="诉求类型编码，见 /api/categories/types")
    category: int = Field(description="三级诉求分类的 id，见 /api/categories?level=3")
    title: str
    content: str
    address: str = ""
    area: str | None = Field(None, description="所属区域的单位编码（区/县、街道/乡镇或社区/村）")
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    priority: Priority = Priority.NORMAL
    tags: list[str] = Field([], description="标签编码")
    related: list[str] = Field([], description="关联工单编号")


class OrderFilterIn(Schema):
    state: State | None = None
    unit: str | None = Field(None, description="主办单位编码，含下级单位")
    category: int | None = Field(None, description="任一级诉求分类 id，含下级分类")
    channel: Channel | None = None
    request_type: str | None = Field(None, description="诉求类型编码")
    priority: Priority | None = None
    date_from: date | None = Field(None, description="受理日期起（含）")
    date_to: date | None = Field(None, description="受理日期止（含）")
    overdue: bool | None = None
    enterprise: bool | None = None
    warning: Warning | None = Field(None, description="预警颜色：0 绿、1 黄、2 橙、3 红（在办工单）")
    q: str | None = Field(
        None, max_length=50, description=f"工单编号（精确定位），或标题、内容关键词（无受理日期时近 {SEARCH_DAYS} 天）"
    )


class VersionIn(Schema):
    version: int | None = Field(None, description="客户端看到的工单版本；工单已被他人更新时返回 409")


class AnswerIn(VersionIn):
    answer: str
    source: str = Field("", description="答复依据，如知识库条目")
    article: int | None = Field(None, description="引用的知识条目编号（须为现行有效的条目）")


class TransferIn(VersionIn):
    line: EmergencyLine
    note: str = ""


class ReasonIn(VersionIn):
    reason: str


class MergeIn(VersionIn):
    parent: str = Field(description="主工单编号")
    note: str = ""


class DispatchIn(VersionIn):
    lead_unit: str = Field(description="主办单位编码")
    co_units: list[str] = Field([], description="协办单位编码")
    note: str = ""


class DecisionIn(VersionIn):
    approve: bool
    note: str = Field("", description="驳回时必填")


class EscalateIn(VersionIn):
    lead_unit: str = Field(description="提级后的主办单位编码：须为更高一级、管辖当前主办单位的街道、区县或职能部门")
    reason: str = Field(description="提级理由")


class NonAcceptanceIn(VersionIn):
    ground: NonAcceptanceGround = Field(description="不予受理理由编码")
    basis: str = Field(description="依据（如诉讼案号、职责依据、所缺信息）")
    duplicate_of: str | None = Field(None, description="理由为 duplicate（重复诉求）时必填：在先的工单编号")


class ExtensionIn(VersionIn):
    new_due_at: datetime = Field(description="申请的新办结时限；不带时区时按北京时间")
    reason: str


class OpinionIn(VersionIn):
    opinion: str


class ContentIn(VersionIn):
    content: str


class ReplyIn(VersionIn):
    result: ReplyResult
    content: str
    measures: str


class CallbackIn(VersionIn):
    contact_result: ContactResult
    satisfaction: Satisfaction | None = Field(None, description="已联系时必填")
    resolved: bool | None = Field(None, description="已联系时必填")
    note: str = ""


class NoteIn(VersionIn):
    note: str


class LinkIn(VersionIn):
    other: str = Field(description="要关联的工单编号")


# ---------------------------------------------------------------- endpoints

# An action on an order: the order as it is now, or 404 (not visible to this user) or 409 (its state forbids
# the action, or someone changed it first); 403 and 422 are declared for every endpoint in hotline/api.py.
ACTION_RESPONSES = {200: OrderOut, 404: ErrorOut, 409: ErrorOut}


def _order(request, number: str) -> WorkOrder:
    """The order if this user may see it, else 404."""
    return get_object_or_404(visible_orders(request.auth), number=number)


def _visible_or_none(request, number: str) -> WorkOrder | None:
    return visible_orders(request.auth).filter(number=number).first()


def _act(request, number: str, action, payload: VersionIn, **kwargs) -> WorkOrder:
    return action(_order(request, number), request.auth, version=payload.version, **kwargs)


@router.post("", response={200: OrderOut, 201: OrderOut}, summary="受理工单（重复的 Idempotency-Key 返回原工单）")
def create_order(
    request,
    payload: OrderIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description="同一个键只受理一次"),
):
    order, created = transitions.intake(request.auth, payload.dict(), idempotency_key=idempotency_key)
    return Status(201 if created else 200, order)


@router.get("", response=list[OrderSummaryOut], summary="工单列表（按受理时间倒序，可筛选）")
@paginate(Pagination)
def list_orders(request, filters: Query[OrderFilterIn]):
    given = {name: value for name, value in filters.dict().items() if value is not None}
    return OrderFilter(**given).apply(visible_orders(request.auth)).order_by("-received_at", "-pk")


@router.get("/{number}", response={200: OrderOut, 404: ErrorOut}, summary="工单详情（含办理过程和当前可执行的动作）")
def get_order(request, number: str):
    order = _order(request, number)
    if request.auth.role in NEEDS_FULL_PHONE:  # the answer carries the caller's number in full
        audit_log.view_personal(request, order.number)
    return order


@router.post("/{number}/answer-directly", response=ACTION_RESPONSES, summary="直接办结")
def answer_directly(request, number: str, payload: AnswerIn):
    return _act(
        request,
        number,
        transitions.answer_directly,
        payload,
        answer=payload.answer,
        source=payload.source,
        article=payload.article,
    )


@router.post("/{number}/transfer", response=ACTION_RESPONSES, summary="转紧急热线（110/119/120/122）")
def transfer(request, number: str, payload: TransferIn):
    return _act(request, number, transitions.transfer, payload, line=payload.line, note=payload.note)


@router.post("/{number}/invalidate", response=ACTION_RESPONSES, summary="无效工单")
def invalidate(request, number: str, payload: ReasonIn):
    return _act(request, number, transitions.invalidate, payload, reason=payload.reason)


@router.post("/{number}/withdraw", response=ACTION_RESPONSES, summary="撤回（诉求人撤回诉求）")
def withdraw(request, number: str, payload: ReasonIn):
    return _act(request, number, transitions.withdraw, payload, reason=payload.reason)


@router.post("/{number}/merge", response=ACTION_RESPONSES, summary="并单（并入主工单）")
def merge(request, number: str, payload: MergeIn):
    parent = _visible_or_none(request, payload.parent)
    return _act(request, number, transitions.merge, payload, parent=parent, note=payload.note)


@router.post("/{number}/dispatch", response=ACTION_RESPONSES, summary="派单（主办单位和协办单位）")
def dispatch(request, number: str, payload: DispatchIn):
    return _act(
        request, number, transitions.dispatch, payload,
        lead_unit=payload.lead_unit, co_units=payload.co_units, note=payload.note,
    )  # fmt: skip


@router.post("/{number}/sign", response=ACTION_RESPONSES, summary="签收")
def sign(request, number: str, payload: VersionIn):
    return _act(request, number, transitions.sign, payload)


@router.post("/{number}/return-request", response=ACTION_RESPONSES, summary="退单申请")
def return_request(request, number: str, payload: ReasonIn):
    return _act(request, number, transitions.request_return, payload, reason=payload.reason)


@router.post("/{number}/return-decision", response=ACTION_RESPONSES, summary="退单审核（同意或驳回）")
def return_decision(request, number: str, payload: DecisionIn):
    return _act(request, number, transitions.decide_return, payload, approve=payload.approve, note=payload.note)


@router.post("/{number}/escalate", response=ACTION_RESPONSES, summary="提级办理（改由上级单位主办，原单位转为协办）")
def escalate(request, number: str, payload: EscalateIn):
    return _act(request, number, transitions.escalate, payload, lead_unit=payload.lead_unit, reason=payload.reason)


@router.post("/{number}/non-acceptance-request", response=ACTION_RESPONSES, summary="申请不予受理")
def non_acceptance_request(request, number: str, payload: NonAcceptanceIn):
    return _act(
        request, number, transitions.request_non_acceptance, payload,
        ground=payload.ground, basis=payload.basis, duplicate_of=payload.duplicate_of,
    )  # fmt: skip


@router.post("/{number}/non-acceptance-decision", response=ACTION_RESPONSES, summary="不予受理审核（同意或驳回）")
def non_acceptance_decision(request, number: str, payload: DecisionIn):
    return _act(request, number, transitions.decide_non_acceptance, payload, approve=payload.approve, note=payload.note)


@router.post("/{number}/extension-request", response=ACTION_RESPONSES, summary="延期申请")
def extension_request(request, number: str, payload: ExtensionIn):
    new_due_at = payload.new_due_at
    if timezone.is_naive(new_due_at):
        new_due_at = timezone.make_aware(new_due_at)
    return _act(request, number, transitions.request_extension, payload, new_due_at=new_due_at, reason=payload.reason)


@router.post("/{number}/extension-decision", response=ACTION_RESPONSES, summary="延期审核（同意或驳回）")
def extension_decision(request, number: str, payload: DecisionIn):
    return _act(request, number, transitions.decide_extension, payload, approve=payload.approve, note=payload.note)


@router.post("/{number}/co-opinion", response=ACTION_RESPONSES, summary="协办意见")
def co_opinion(request, number: str, payload: OpinionIn):
    return _act(request, number, transitions.co_opinion, payload, opinion=payload.opinion)


@router.post("/{number}/interim-reply", response=ACTION_RESPONSES, summary="阶段性答复")
def interim_reply(request, number: str, payload: ContentIn):
    return _act(request, number, transitions.interim_reply, payload, content=payload.content)


@router.post("/{number}/reply", response=ACTION_RESPONSES, summary="办结（答复诉求人）")
def reply(request, number: str, payload: ReplyIn):
    return _act(
        request, number, transitions.reply, payload,
        result=payload.result, content=payload.content, measures=payload.measures,
    )  # fmt: skip


@router.post("/{number}/callback", response=ACTION_RESPONSES, summary="回访")
def callback(request, number: str, payload: CallbackIn):
    return _act(
        request, number, transitions.callback, payload,
        contact_result=payload.contact_result, satisfaction=payload.satisfaction or "",
        resolved=payload.resolved, note=payload.note,
    )  # fmt: skip


@router.post("/{number}/reopen", response=ACTION_RESPONSES, summary="重办")
def reopen(request, number: str, payload: ReasonIn):
    return _act(request, number, transitions.reopen, payload, reason=payload.reason)


@router.post("/{number}/archive", response=ACTION_RESPONSES, summary="归档")
def archive(request, number: str, payload: NoteIn):
    return _act(request, number, transitions.archive, payload, note=payload.note)


@router.post("/{number}/link", response=ACTION_RESPONSES, summary="关联工单")
def link(request, number: str, payload: LinkIn):
    other = _visible_or_none(request, payload.other)
    return _act(request, number, transitions.link, payload, other=other)


@router.post(
    "/{number}/attachments",
    response={**ACTION_RESPONSES, 422: ErrorOut, 507: ErrorOut},
    summary="上传附件（multipart/form-data，字段 file；磁盘已满时 507，什么也不保存）",
)
def attach(request, number: str, file: File[UploadedFile], version: Form[int | None] = None):
    # One byte past the limit is enough to refuse an oversized file without reading all of it.
    content = file.read(MAX_ATTACHMENT_BYTES + 1)
    return transitions.attach(_order(request, number), request.auth, name=file.name, content=content, version=version)


@router.get("/{number}/attachments/{attachment_id}", summary="下载附件", response={200: None, 404: ErrorOut})
def download_attachment(request, number: str, attachment_id: int):
    item = get_object_or_404(_order(request, number).attachments, pk=attachment_id)
    return FileResponse(item.file.open("rb"), as_attachment=True, filename=item.name, content_type=item.content_type)
