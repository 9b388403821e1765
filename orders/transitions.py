"""The work order's life cycle: the only place an order changes state.

Views, the REST API, management commands and the demo loader all call these functions.
Each one, in a single database transaction:
1. re-reads the order under a row lock (PostgreSQL; SQLite serialises writers anyway) and, when the
   caller names the version it saw, refuses if someone changed the order since (409);
2. runs the action's guard: role (403), unit (403), state (409), input (422);
3. writes the change with ``UPDATE … WHERE version = <read>`` and appends one ``OrderEvent``.
Nothing half-done survives a refusal: the transaction rolls back.

``actor=None`` means the system itself (direct-dispatch rules, automatic archiving).
``at`` lets the demo loader replay history at past instants; it defaults to now.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from categories.models import Category, RequestType
from orders import deadlines, escalation
from orders.errors import Conflict, Forbidden, InvalidInput
from orders.models import (
    Action,
    Attachment,
    Callback,
    Channel,
    Closure,
    CoAssignment,
    ContactResult,
    DirectDispatchRule,
    EmergencyLine,
    ExtensionRequest,
    NonAcceptanceGround,
    NonAcceptanceRequest,
    OrderCounter,
    OrderEvent,
    Priority,
    ReplyResult,
    RequestStatus,
    ReturnRequest,
    Satisfaction,
    State,
    Tag,
    Warning,
    WorkOrder,
)
from orders.validators import attachment_error, credit_code_error, normalize_phone, phone_error
from org.models import Unit, UnitKind
from system.config import get_setting

INTAKE_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.ADMIN)
FRONT_DESK = (Role.OPERATOR, Role.DISPATCHER)
CALLBACK_DESK = (Role.CALLBACK, Role.DISPATCHER)
MAX_TEXT = 5000


# ---------------------------------------------------------------- plumbing


def _label(action: str) -> str:
    return str(Action(action).label)


def _require_role(actor: User | None, action: str, roles: Iterable[str]) -> None:
    if actor is not None and not actor.has_role(*roles):
        raise Forbidden(f"{actor.get_role_display()}不能执行“{_label(action)}”")


def _require_state(order: WorkOrder, action: str, *states: str) -> None:
    if order.state not in states:
        raise Conflict(f"工单当前为“{order.get_state_display()}”，不能“{_label(action)}”")


def _is_unit_member(actor: User, unit_id: int | None) -> bool:
    return unit_id is not None and actor.visible_units.filter(pk=unit_id).exists()


def _require_lead_unit(order: WorkOrder, actor: User | None, action: str) -> None:
    if actor is not None and not _is_unit_member(actor, order.lead_unit_id):
        raise Forbidden(f"只有主办单位的承办人可以“{_label(action)}”")


def _text(value: Any, field: str, label: str, required: bool = True, max_length: int = MAX_TEXT) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InvalidInput({field: f"请填写{label}"})
    if len(text) > max_length:
        raise InvalidInput({field: f"{label}不能超过 {max_length} 字"})
    return text


def _choice(value: Any, field: str, label: str, choices: type) -> str:
    if value in (None, ""):
        raise InvalidInput({field: f"请选择{label}"})
    if value not in choices.values:
        raise InvalidInput({field: f"{label}无效，可选：{'、'.join(str(c.label) for c in choices)}"})
    return value


@dataclass
class Step:
    """What a transition changes: new state, field values, the event's note and data."""

    to_state: str | None = None
    fields: dict | None = None
    note: str = ""
    data: dict | None = None
    action: str | None = None  # when the outcome names the event differently (e.g. 驳回退单)


def _commit(order: WorkOrder, actor: User | None, action: str, step: Step, at: datetime) -> OrderEvent:
    from_state = order.state
    to_state = step.to_state or from_state
    fields = step.fields or {}
    updated = WorkOrder.objects.filter(pk=order.pk, version=order.version).update(
        state=to_state, version=F("version") + 1, updated_at=timezone.now(), warning_due=None, **fields
    )  # warning_due=None: the colour is recomputed on the worker's next run
    if updated != 1:
        raise Conflict("工单已被他人处理，请刷新后再操作")
    for name, value in fields.items():
        setattr(order, name, value)
    order.state, order.version, order.warning_due = to_state, order.version + 1, None
    return OrderEvent.objects.create(
        order=order,
        action=action,
        actor=actor,
        actor_unit=actor.unit if actor else None,
        from_state=from_state,
        to_state=to_state,
        note=step.note,
        data=step.data or {},
        created_at=at,
    )


GUARDS: dict[str, Callable[[WorkOrder, User | None, datetime], None]] = {}


def transition(action: str, guard: Callable[[WorkOrder, User | None, datetime], None]) -> Callable:
    """Register ``guard`` for ``action`` and wrap the transition in lock + guard + transaction."""
    GUARDS[action] = guard

    def decorator(func: Callable[..., Step]) -> Callable[..., WorkOrder]:
        @wraps(func)
        def wrapped(
            order: WorkOrder, actor: User | None, *args, version: int | None = None, at: datetime | None = None, **kw
        ) -> WorkOrder:
            at = at or timezone.now()
            with transaction.atomic():
                fresh = WorkOrder.objects.select_for_update().get(pk=order.pk)
                if version is not None and fresh.version != version:
                    raise Conflict("工单已被他人更新，请刷新后再操作")
                guard(fresh, actor, at)
                step = func(fresh, actor, *args, at=at, **kw)
                _commit(fresh, actor, step.action or action, step, at)
            return fresh

        return wrapped

    return decorator


def allowed_actions(order: WorkOrder, actor: User) -> list[str]:
    """The actions this user may take on this order now (role, unit and state; not yet the input)."""
    allowed, now = [], timezone.now()
    for action, guard in GUARDS.items():
        try:
            guard(order, actor, now)
        except (Forbidden, Conflict):
            continue
        allowed.append(action)
    return allowed


# ---------------------------------------------------------------- intake


def _next_number(at: datetime) -> str:
    day = timezone.localtime(at).date()
    return f"{day:%Y%m%d}{OrderCounter.next_in_day(day):06d}"


def clean_intake(data: dict) -> dict:
    """The intake input checked and resolved (codes to rows); raises InvalidInput naming every bad field."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}

    def check(field: str, fn: Callable[[], Any]) -> None:
        try:
            clean[field] = fn()
        except InvalidInput as exc:
            errors.update(exc.errors)

    check("channel", lambda: _choice(data.get("channel", Channel.PHONE), "channel", "渠道", Channel))
    check("priority", lambda: _choice(data.get("priority") or Priority.NORMAL, "priority", "紧急程度", Priority))
    check("title", lambda: _text(data.get("title"), "title", "标题", max_length=200))
    check("content", lambda: _text(data.get("content"), "content", "诉求内容"))
    check("caller_name", lambda: _text(data.get("caller_name"), "caller_name", "诉求人", False, 50))
    check("address", lambda: _text(data.get("address"), "address", "地址", False, 200))
    phone = normalize_phone(str(data.get("caller_phone") or ""))
    if reason := phone_error(phone):
        errors["caller_phone"] = reason
    clean["caller_phone"] = phone

    rtype = data.get("request_type")
    rtype = rtype if isinstance(rtype, RequestType) else RequestType.objects.filter(code=rtype, is_active=True).first()
    if rtype is None:
        errors["request_type"] = "诉求类型不存在"
    clean["request_type"] = rtype

    category = data.get("category")
    if not isinstance(category, Category):
        try:
            category = Category.objects.filter(pk=int(category), is_active=True).first()
        except (TypeError, ValueError):
            category = None
    if category is None:
        errors["category"] = "请选择诉求分类" if data.get("category") in (None, "") else "诉求分类不存在"
    elif not category.is_leaf:
        errors["category"] = "请选择到三级诉求分类"
    clean["category"] = category

    clean["is_enterprise"] = bool(data.get("is_enterprise"))
    clean["enterprise_name"] = str(data.get("enterprise_name") or "").strip()[:100]
    clean["enterprise_credit_code"] = str(data.get("enterprise_credit_code") or "").strip().upper()
    if clean["is_enterprise"]:
        if not clean["enterprise_name"]:
            errors["enterprise_name"] = "涉企诉求请填写企业名称"
        if reason := credit_code_error(clean["enterprise_credit_code"]):
            errors["enterprise_credit_code"] = reason

    area = data.get("area")
    if area not in (None, ""):
        area = area if isinstance(area, Unit) else Unit.objects.filter(code=str(area)).first()
        if area is None or area.kind not in (UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY):
            errors["area"] = "所属区域必须是区/县、街道/乡镇或社区/村"
    clean["area"] = area or None

    for field, label, limit in (("latitude", "纬度", 90), ("longitude", "经度", 180)):
        value = data.get(field)
        if value in (None, ""):
            clean[field] = None
            continue
        try:
            number = Decimal(str(value)).quantize(Decimal("0.000001"))
            if abs(number) > limit:
                raise InvalidOperation
            clean[field] = number
        except InvalidOperation:
            errors[field] = f"{label}应在 -{limit} 到 {limit} 之间"

    tag_codes = list(data.get("tags") or [])
    tags = list(Tag.objects.filter(code__in=tag_codes))
    if len(tags) != len(set(tag_codes)):
        errors["tags"] = "标签不存在"
    clean["tags"] = tags

    related = list(data.get("related") or [])
    related_orders = list(WorkOrder.objects.filter(number__in=related))
    if len(related_orders) != len(set(related)):
        errors["related"] = "关联工单不存在"
    clean["related"] = related_orders

    if errors:
        raise InvalidInput(errors)
    return clean


def intake(
    actor: User | None, data: dict, *, idempotency_key: str | None = None, at: datetime | None = None
) -> tuple[WorkOrder, bool]:
    """受理: create an order from ``data``; returns (order, created). A repeated idempotency key returns the first."""
    _require_role(actor, Action.INTAKE, INTAKE_ROLES)
    key = (idempotency_key or "").strip()[:64] or None
    if key and (existing := WorkOrder.objects.filter(idempotency_key=key).first()):
        return existing, False
    clean = clean_intake(data)
    at = at or timezone.now()
    tags, related = clean.pop("tags"), clean.pop("related")
    try:
        with transaction.atomic():
            # The day's counter row is locked from its UPDATE to the commit, so it is taken last: concurrent intakes
            # then wait for each other only for the end of a transaction, not for all of it.
            order = WorkOrder.objects.create(
                number=f"~{uuid.uuid4().hex[:19]}",
                received_at=at,
                created_by=actor,
                idempotency_key=key,
                warning=Warning.GREEN,
                **clean,
            )
            if tags:  # a new order has none to replace
                order.tags.set(tags)
            if related:
                order.related.set(related)
            OrderEvent.objects.create(
                order=order,
                action=Action.INTAKE,
                actor=actor,
                actor_unit=actor.unit if actor else None,
                to_state=order.state,
                data={"channel": order.channel},
                created_at=at,
            )
            order.number = _next_number(at)
            WorkOrder.objects.filter(pk=order.pk).update(number=order.number)
    except IntegrityError:
        if key and (existing := WorkOrder.objects.filter(idempotency_key=key).first()):
            return existing, False
        raise
    rule = direct_dispatch_rule(order.category)
    if rule is not None:
        order = dispatch(order, None, lead_unit=rule.unit, note=f"直派规则：{rule}", at=at)
    return order, True


def direct_dispatch_rule(category: Category) -> DirectDispatchRule | None:
    """The active 直派 rule for the category or its nearest ancestor (the first made, if several)."""
    lineage = category.lineage_ids()
    rules: dict[int, DirectDispatchRule] = {}
    active = DirectDispatchRule.objects.filter(category_id__in=lineage, is_active=True, unit__is_active=True)
    for rule in active.select_related("unit").order_by("pk"):
        rules.setdefault(rule.category_id, rule)
    return next((rules[pk] for pk in lineage if pk in rules), None)


# ---------------------------------------------------------------- closing at the front desk


def _guard_front_desk(action: str) -> Callable:
    def guard(order: WorkOrder, actor: User | None, at: datetime) -> None:
        _require_role(actor, action, FRONT_DESK)
        _require_state(order, action, State.PENDING_DISPATCH)

    return guard


def _close(closure: str, at: datetime, note: str, **fields) -> Step:
    return Step(State.ARCHIVED, {"closure": closure, "archived_at": at, "warning": None, **fields}, note)


@transition(Action.ANSWER_DIRECTLY, _guard_front_desk(Action.ANSWER_DIRECTLY))
def answer_directly(
    order: WorkOrder, actor: User | None, *, answer: str, source: str = "", article=None, at: datetime
) -> Step:
    """直接办结: the operator answered at first contact, citing the knowledge article answered from if any."""
    from knowledge.models import Article

    answer = _text(answer, "answer", "答复内容")
    fields = {"reply_content": answer, "reply_result": ReplyResult.EXPLAINED, "replied_at": at}
    data = {"source": source[:200]} if source else {}
    if article not in (None, ""):
        try:
            cited = Article.objects.filter(pk=int(getattr(article, "pk", article))).first()
        except (TypeError, ValueError, OverflowError):
            cited = None
        if cited is None or not cited.is_in_force(timezone.localdate(at)):
            raise InvalidInput({"article": "引用的知识条目不存在、已下线或已过期"})
        fields["answered_article"] = cited
        data.update(article=cited.pk, article_version=cited.version, article_title=cited.title)
    step = _close(Closure.DIRECT, at, answer, **fields)
    step.data = data
    return step


@transition(Action.TRANSFER, _guard_front_desk(Action.TRANSFER))
def transfer(order: WorkOrder, actor: User | None, *, line: str, note: str = "", at: datetime) -> Step:
    """转紧急热线: handed to 110/119/120/122 and closed here."""
    line = _choice(line, "line", "紧急热线", EmergencyLine)
    step = _close(Closure.TRANSFERRED, at, _text(note, "note", "说明", required=False))
    step.data = {"line": line}
    return step


@transition(Action.INVALIDATE, _guard_front_desk(Action.INVALIDATE))
def invalidate(order: WorkOrder, actor: User | None, *, reason: str, at: datetime) -> Step:
    """无效工单: not a request the hotline handles (silent call, test, abuse)."""
    return _close(Closure.INVALID, at, _text(reason, "reason", "无效原因"))


@transition(Action.WITHDRAW, _guard_front_desk(Action.WITHDRAW))
def withdraw(order: WorkOrder, actor: User | None, *, reason: str, at: datetime) -> Step:
    """撤回: the caller withdrew the request before it was dispatched."""
    return _close(Closure.WITHDRAWN, at, _text(reason, "reason", "撤回原因"))


def _guard_merge(order: WorkOrder, actor: User | None, at: datetime) -> None:
    _require_role(actor, Action.MERGE, FRONT_DESK)
    _require_state(order, Action.MERGE, State.PENDING_DISPATCH)


@transition(Action.MERGE, _guard_merge)
def merge(order: WorkOrder, actor: User | None, *, parent: WorkOrder, note: str = "", at: datetime) -> Step:
    """并单: a duplicate joins its parent order and follows the parent's outcome."""
    parent = WorkOrder.objects.filter(pk=getattr(parent, "pk", parent)).first()
    if parent is None or parent.pk == order.pk:
        raise InvalidInput({"parent": "请选择另一张工单作为主工单"})
    if parent.closure in (
        Closure.MERGED, Closure.INVALID, Closure.WITHDRAWN, Closure.TRANSFERRED, Closure.NOT_ACCEPTED
    ):  # fmt: skip
        raise InvalidInput({"parent": f"主工单{parent.number}已{parent.get_closure_display()}，不能并入"})
    step = _close(Closure.MERGED, at, _text(note, "note", "说明", required=False), parent=parent)
    step.data = {"parent": parent.number}
    OrderEvent.objects.create(
        order=parent,
        action=Action.MERGE,
        actor=actor,
        actor_unit=actor.unit if actor else None,
        from_state=parent.state,
        to_state=parent.state,
        note=f"并入工单 {order.number}",
        data={"child": order.number},
        created_at=at,
    )
    return step


# ---------------------------------------------------------------- dispatch, sign, return


def _guard_dispatch(order: WorkOrder, actor: User | None, at: datetime) -> None:
    _require_role(actor, Action.DISPATCH, (Role.DISPATCHER,))
    _require_state(order, Action.DISPATCH, State.PENDING_DISPATCH)


def _handling_unit(unit: Any, field: str) -> Unit:
    unit = unit if isinstance(unit, Unit) else Unit.objects.filter(code=str(unit or "")).first()
    if unit is None or not unit.is_active:
        raise InvalidInput({field: "承办单位不存在或已停用"})
    if unit.kind in (UnitKind.CENTER, UnitKind.CITY):
        raise InvalidInput({field: f"不能派给{unit.get_kind_display()}本身，请选择具体承办单位"})
    return unit


@transition(Action.DISPATCH, _guard_dispatch)
def dispatch(
    order: WorkOrder, actor: User | None, *, lead_unit: Any, co_units: Iterable[Any] = (), note: str = "", at: datetime
) -> Step:
    """派单: to a lead unit plus co-units; sets the sign and finish deadlines."""
    lead = _handling_unit(lead_unit, "lead_unit")
    co = []
    for unit in co_units:
        unit = _handling_unit(unit, "co_units")
        if unit.pk != lead.pk and unit not in co:
            co.append(unit)
    CoAssignment.objects.filter(order=order).delete()
    CoAssignment.objects.bulk_create([CoAssignment(order=order, unit=u) for u in co])
    sign_due_at, due_at = deadlines.dispatch_dues(order, at)
    fields = {
        "lead_unit": lead,
        "dispatched_at": at,
        "sign_due_at": sign_due_at,
        "due_at": due_at,
        "signed_at": None,
        "limit_started_at": at,
        "warning": Warning.GREEN,
        "warned": Warning.GREEN,
    }
    data = {"lead_unit": lead.code, "co_units": [u.code for u in co]}
    return Step(State.PENDING_SIGN, fields, _text(note, "note", "派单说明", required=False), data)


def _guard_sign(order: WorkOrder, actor: User | None, at: datetime) -> None:
    _require_role(actor, Action.SIGN, (Role.HANDLER,))
    _require_state(order, Action.SIGN, State.PENDING_SIGN)
    _require_lead_unit(order, actor, Action.SIGN)


@transition(Action.SIGN, _guard_sign)
def sign(order: WorkOrder, actor: User | None, *, at: datetime) -> Step:
    """签收: the lead unit takes the order."""
    return Step(State.IN_PROGRESS, {"signed_at": at}, data={"late": bool(order.sign_due_at and at > order.sign_due_at)})


def _guard_return_request(order: WorkOrder, actor: User | None, at: datetime) -> None:
    _require_role(actor, Action.RETURN_REQUEST, (Role.HANDLER,))
    _require_state(order, Action.RETURN_REQUEST, State.PENDING_SIGN, State.IN_PROGRESS)
    _require_lead_unit(order, actor, Action.RETURN_REQUEST)
    if order.return_requests.filter(status=RequestStatus.PENDING).exists():
        raise Conflict("已有待审核的退单申请")
    if order.non_acceptance_requests.filter(status=RequestStatus.PENDING).exists():
        raise Conflict("已有待审核的不予受理申请")
    if order.state == State.IN_PROGRESS and order.signed_at:
        closes = deadlines.return_window_closes(order.signed_at)
        if at > closes:
            raise Conflict(f"签收后只能在 {get_setting('return_window_working_hours')} 个工作小时内申请退单")


@transition(Action.RETURN_REQUEST, _guard_return_request)
def request_return(order: WorkOrder, actor: User | None, *, reason: str, at: datetime) -> Step:
    """退单申请: the lead unit says the order is not theirs; the reason is mandatory."""
    reason = _text(reason, "reason", "退单理由")
    ReturnRequest.objects.create(order=order, unit=order.lead_unit, requested_by=actor, reason=reason, created_at=at)
    return Step(note=reason)


def _guard_decide_return(order: WorkOrder, actor: User | None, at: datetime) -> None:
    _require_role(actor, Action.RETURN_APPROVE, (Role.DISPATCHER,))
    if not order.return_requests.filter(status=RequestStatus.PENDING).exists():
        raise Conflict("没有待审核的退单申请")


def _decide(request, actor: User | None, approve: bool, note: str, at: datetime) -> str:
    note = _text(note, "note", "驳回理由", required=not approve)
    request.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
    request.decided_by, request.decided_at, request.decision_note = actor, at, note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return note


@transition(Action.RETURN_APPROVE, _guard_decide_return)
def decide_return(order: WorkOrder, actor: User | None, *, approve: bool, note: str = "", at: datetime) -> Step:
    """退单审核: approved goes back to the dispatcher queue (count +1); rejected stays with the unit."""
    request = order.return_requests.get(status=RequestStatus.PENDING)
    note = _decide(request, actor, approve, note, at)
    if not approve:
        return Step(note=note, action=Action.RETURN_REJECT)
    CoAssignment.objects.filter(order=order).delete()
    fields = {
        "lead_unit": None,
        "sign_due_at": None,
        "due_at": None,
        "signed_at": None,
        "limit_started_at": None,
        "warning": Warning.GREEN,
        "warned": Warning.GREEN,
        "return_count": order.return_count + 1,
    }
    return Step(State.PENDING_DISPATCH, fields, note, {"unit": request.unit.code})


# ---------------------------------------------------------------- escalation and non-acceptance


def _pending_requests(order: WorkOrder) -> list[str]:
    """The kinds of request on this order still waiting for the dispatcher."""
    kinds = (
        ("退单", order.return_requests), ("延期", order.extension_requests),
        ("不予受理", order.non_acceptance_requests),
    )  # fmt: skip
    return [label for label, requests in kinds if requests.filter(status=RequestStatus.PENDING).exists()]


def _guard_escalate(order: WorkOrder, actor: User | None, at: datetime) -> None:
    _require_role(actor, Action.ESCALATE, (Role.DISPATCHER, Role.SUPERVISOR))
    _require_state(order, Action.ESCALATE, State.PENDING_SIGN, State.IN_PROGRESS)
    if order.lead_unit is None or escalation.level(order.lead_unit) <= 1:
        raise Conflict("主办单位已是市级单位，没有更高一级的单位可以提级")
    if pending := _pending_requests(order):
        raise Conflict(f"有待审核的{'、'.join(pending)}申请，请先审核再提级")


@transition(Action.ESCALATE, _guard_escalate)
def escalate(order: WorkOrder, actor: User | None, *, lead_unit: Any, reason: str, at: datetime) -> Step:
    """提级办理: the order is lifted to a higher unit (``orders/escalation.py`` says which are higher) with new
    deadlines, as a dispatch; the unit it leaves stays on it as a co-unit and keeps seeing it."""
    errors: dict[str, str] = {}
    previous = order.lead_unit
    try:
        lead = _handling_unit(lead_unit, "lead_unit")
        if why := escalation.refusal(previous, lead):
            raise InvalidInput({"lead_unit": why})
    except InvalidInput as exc:
        errors.update(exc.errors)
    try:
        reason = _text(reason, "reason", "提级理由")
    except InvalidInput as exc:
        errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    CoAssignment.objects.filter(order=order, unit=lead).delete()
    CoAssignment.objects.get_or_create(order=order, unit=previous)
    fields = {
        "lead_unit": lead, "dispatched_at": at, "sign_due_at": deadlines.sign_due(order, at),
        "due_at": deadlines.finish_due(order, at), "signed_at": None, "limit_started_at": at,
        "warning": Warning.GREEN, "warned": Warning.GREEN,
    }  # fmt: skip
    data = {"from_unit": previous.code, "to_unit": lead.code}
    return Step(State.PENDING_SIGN, fields, reason, data)


def _guard_non_acceptance_request(order: WorkOrder, actor: User | None, at: datetime) -> None:
    _require_role(actor, Action.NON_ACCEPTANCE_REQUEST, (Role.HANDLER,))
    _require_state(order, Action.NON_ACCEPTANCE_REQUEST, State.PENDING_SIGN, State.IN_PROGRESS)
    _require_lead_unit(order, actor, Action.NON_ACCEPTANCE_REQUEST)
    if pending := _pending_requests(order):
        raise Conflict(f"已有待审核的{'、'.join(pending)}申请")


def _duplicate_of(order: WorkOrder, number: Any) -> WorkOrder:
    """The earlier order a 重复诉求 repeats, named by its number."""
    number = str(number or "").strip()
    if not number:
        raise InvalidInput({"duplicate_of": "理由为“重复诉求”时，请填写在先的工单编号"})
    earlier = WorkOrder.objects.filter(number=number[:20]).first()
    if earlier is None:
        raise InvalidInput({"duplicate_of": f"工单 {number[:20]} 不存在"})
    if earlier.pk == order.pk:
        raise InvalidInput({"duplicate_of": "不能与本工单重复，请填写在先的另一张工单"})
    if earlier.received_at > order.received_at:
        raise InvalidInput({"duplicate_of": f"工单 {earlier.number} 受理晚于本工单，请填写在先的工单"})
    return earlier


@transition(Action.NON_ACCEPTANCE_REQUEST, _guard_non_acceptance_request)
def request_non_acceptance(
    order: WorkOrder, actor: User | None, *, ground: str, basis: str, duplicate_of: Any = None, at: datetime
) -> Step:
    """申请不予受理: the lead unit asks not to handle the order on a coded ground, with its basis; a duplicate names
    the earlier order it repeats."""
    errors: dict[str, str] = {}
    earlier = None
    try:
        ground = _choice(str(ground) if isinstance(ground, str) else "", "ground", "不予受理理由", NonAcceptanceGround)
        if ground == NonAcceptanceGround.DUPLICATE:
            earlier = _duplicate_of(order, duplicate_of)
    except InvalidInput as exc:
        errors.update(exc.errors)
    try:
        basis = _text(basis, "basis", "不予受理依据")
    except InvalidInput as exc:
        errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    NonAcceptanceRequest.objects.create(
        order=order, unit=order.lead_unit, requested_by=actor, ground=ground, basis=basis, duplicate_of=earlier,
        created_at=at,
    )  # fmt: skip
    data = {"ground": ground, "unit": order.lead_unit.code}
    if earlier:
        data["duplicate_of"] = earlier.number
    return Step(note=f"{NonAcceptanceGround(ground).label}：{basis}", data=data)


def _guard_decide_non_acceptance(order: WorkOrder, actor: User | None, at: datetime) -> None:
    _require_role(actor, Action.NON_ACCEPTANCE_APPROVE, (Role.DISPATCHER,))
    _require_state(order, Action.NON_ACCEPTANCE_APPROVE, State.PENDING_SIGN, State.IN_PROGRESS)
    if not order.non_acceptance_requests.filter(status=RequestStatus.PENDING).exists():
        raise Conflict("没有待审核的不予受理申请")


@transition(Action.NON_ACCEPTANCE_APPROVE, _guard_decide_non_acceptance)
def decide_non_acceptance(order: WorkOrder, actor: User | None, *, approve: bool, note: str = "", at: datetime) -> Step:
    """不予受理审核: approval closes the order as 不予受理 (archived, counted); rejection, with its reason, leaves
    it with the unit as it was."""
    request = order.non_acceptance_requests.select_related("unit", "duplicate_of").get(status=RequestStatus.PENDING)
    note = _decide(request, actor, approve, note, at)
    data = {"ground": request.ground, "unit": request.unit.code}
    if not approve:
        return Step(note=note, data=data, action=Action.NON_ACCEPTANCE_REJECT)
    if request.duplicate_of_id:
        order.related.add(request.duplicate_of)
        data["duplicate_of"] = request.duplicate_of.number
    step = _close(Closure.NOT_ACCEPTED, at, note)
    step.data = data
    return step


# ---------------------------------------------------------------- handling


def _guard_extension_request(order: WorkOrder, actor: User | None, at: datetime) -> None:
    _require_role(actor, Action.EXTENSION_REQUEST, (Role.HANDLER,))
    _require_state(order, Action.EXTENSION_REQUEST, State.IN_PROGRESS)
    _require_lead_unit(order, actor, Action.EXTENSION_REQUEST)
    if order.extension_requests.filter(status=RequestStatus.PENDING).exists():
        raise Conflict("已有待审核的延期申请")
    if order.non_acceptance_requests.filter(status=RequestStatus.PENDING).exists():
        raise Conflict("已有待审核的不予受理申请")
    if order.extension_count >= get_setting("max_extensions"):
        raise Conflict(f"每张工单最多延期 {get_setting('max_extensions')} 次")
    if order.due_at and at > order.due_at:
        raise Conflict("已超过办结时限，不能再申请延期")


@transition(Action.EXTENSION_REQUEST, _guard_extension_request)
def request_extension(order: WorkOrder, actor: User | None, *, new_due_at: datetime, reason: str, at: datetime) -> Step:
    """延期申请: before the deadline, with a new deadline and a reason."""
    reason = _text(reason, "reason", "延期理由")
    if not isinstance(new_due_at, datetime) or timezone.is_naive(new_due_at):
        raise InvalidInput({"new_due_at": "请填写新的办结时限"})
    if order.due_at and new_due_at <= order.due_at:
        raise InvalidInput({"new_due_at": "新的办结时限必须晚于当前时限"})
    ExtensionRequest.objects.create(
        order=order, unit=order.lead_unit, requested_by=actor, reason=reason, old_due_at=order.due_at,
        new_due_at=new_due_at, created_at=at,
    )  # fmt: skip
    return Step(note=reason, data={"new_due_at": new_due_at.isoformat()})


def _guard_decide_extension(order: WorkOrder, actor: User | None, at: datetime) -> None:
    _require_role(actor, Action.EXTENSION_APPROVE, (Role.DISPATCHER,))
    if not order.extension_requests.filter(status=RequestStatus.PENDING).exists():
        raise Conflict("没有待审核的延期申请")


@transition(Action.EXTENSION_APPROVE, _guard_decide_extension)
def decide_extension(order: WorkOrder, actor: User | None, *, approve: bool, note: str = "", at: datetime) -> Step:
    """延期审核: approval moves the deadline and counts an extension."""
    request = order.extension_requests.get(status=RequestStatus.PENDING)
    note = _decide(request, actor, approve, note, at)
    if not approve:
        return Step(note=note, action=Action.EXTENSION_REJECT)
    fields = {"due_at": request.new_due_at, "extension_count": order.extension_count + 1, "warned": Warning.GREEN}
    return Step(fields=fields, note=note, data={"due_at": request.new_due_at.isoformat()})


def _guard_co_opinion(order: WorkOrder, actor: User | None, at: datetime) -> None:
    _require_role(actor, Action.CO_OPINION, (Role.HANDLER,))
    _require_state(order, Action.CO_OPINION, State.PENDING_SIGN, State.IN_PROGRESS)
    if actor is not None and not any(_is_unit_member(actor, a.unit_id) for a in order.co_assignments.all()):
        raise Forbidden("只有协办单位可以提交协办意见")


@transition(Action.CO_OPINION, _guard_co_opinion)
def co_opinion(order: WorkOrder, actor: User | None, *, opinion: str, at: datetime) -> Step:
    """协办意见: a co-unit tells the lead unit what it found or did."""
    opinion = _text(opinion, "opinion", "协办意见")
    assignment = next(a for a in order.co_assignments.all() if actor is None or _is_unit_member(actor, a.unit_id))
    assignment.opinion, assignment.opinion_at = opinion, at
    assignment.save(update_fields=["opinion", "opinion_at"])
    return Step(note=opinion, data={"unit": assignment.unit.code})


def _guard_lead_in_progress(action: str) -> Callable:
    def guard(order: WorkOrder, actor: User | None, at: datetime) -> None:
        _require_role(actor, action, (Role.HANDLER,))
        _require_state(order, action, State.IN_PROGRESS)
        _require_lead_unit(order, actor, action)

    return guard


@transition(Action.INTERIM_REPLY, _guard_lead_in_progress(Action.INTERIM_REPLY))
def interim_reply(order: WorkOrder, actor: User | None, *, content: str, at: datetime) -> Step:
    """阶段性答复: progress told to the caller while handling goes on."""
    return Step(note=_text(content, "content", "阶段性答复"))


@transition(Action.REPLY, _guard_lead_in_progress(Action.REPLY))
def reply(order: WorkOrder, actor: User | None, *, result: str, content: str, measures: str, at: datetime) -> Step:
    """办结: the unit's reply with its result and the measures taken; the order waits for the callback."""
    errors = {}
    try:
        result = _choice(result, "result", "办理结果", ReplyResult)
    except InvalidInput as exc:
        errors.update(exc.errors)
    for field, label in (("content", "答复内容"), ("measures", "办理措施")):
        try:
            _text({"content": content, "measures": measures}[field], field, label)
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    fields = {
        "reply_result": result,
        "reply_content": content.strip(),
        "reply_measures": measures.strip(),
        "replied_at": at,
        "callback_due_at": deadlines.callback_due(at),
        "warning": Warning.GREEN,
        "warned": Warning.GREEN,
        "satisfaction": "",
        "resolved": None,
    }
    return Step(State.PENDING_CALLBACK, fields, content.strip(), {"result": result, "on_time": _on_time(order, at)})


def _on_time(order: WorkOrder, at: datetime) -> bool:
    return order.due_at is None or at <= order.due_at


# ---------------------------------------------------------------- callback, reopen, archive


def _guard_callback(order: WorkOrder, actor: User | None, at: datetime) -> None:
    _require_role(actor, Action.CALLBACK, (Role.CALLBACK,))
    _require_state(order, Action.CALLBACK, State.PENDING_CALLBACK)


@transition(Action.CALLBACK, _guard_callback)
def callback(
    order: WorkOrder,
    actor: User | None,
    *,
    contact_result: str,
    satisfaction: str = "",
    resolved: bool | None = None,
    note: str = "",
    at: datetime,
) -> Step:
    """回访: satisfied and resolved orders are archived at once; others wait for 重办 or 归档."""
    contact_result = _choice(contact_result, "contact_result", "联系结果", ContactResult)
    note = _text(note, "note", "回访记录", required=False)
    reached = contact_result == ContactResult.REACHED
    if reached:
        errors = {}
        if satisfaction not in Satisfaction.values:
            errors["satisfaction"] = "请选择满意度：满意、基本满意或不满意"
        if resolved is None:
            errors["resolved"] = "请选择问题是否解决"
        if errors:
            raise InvalidInput(errors)
    else:
        satisfaction, resolved = "", None
    Callback.objects.create(
        order=order, agent=actor, contact_result=contact_result, satisfaction=satisfaction, resolved=resolved,
        note=note, created_at=at,
    )  # fmt: skip
    data = {"contact_result": contact_result, "satisfaction": satisfaction, "resolved": resolved}
    good = reached and satisfaction != Satisfaction.UNSATISFIED and resolved
    if good:
        fields = {
            "satisfaction": satisfaction, "resolved": resolved, "closure": Closure.HANDLED, "archived_at": at,
            "warning": None,
        }  # fmt: skip
        return Step(State.ARCHIVED, fields, note, {**data, "archived": True})
    return Step(fields={"satisfaction": satisfaction, "resolved": resolved}, note=note, data=data)


def _guard_reopen(order: WorkOrder, actor: User | None, at: datetime) -> None:
    _require_role(actor, Action.REOPEN, (Role.CALLBACK, Role.DISPATCHER, Role.SUPERVISOR))
    _require_state(order, Action.REOPEN, State.PENDING_CALLBACK)
    if not (order.satisfaction == Satisfaction.UNSATISFIED or order.resolved is False):
        raise Conflict("只有回访不满意或未解决的工单才能重办")


@transition(Action.REOPEN, _guard_reopen)
def reopen(order: WorkOrder, actor: User | None, *, reason: str, at: datetime) -> Step:
    """重办: back to the same lead unit with a new deadline; counted."""
    reason = _text(reason, "reason", "重办理由")
    fields = {
        "reopen_count": order.reopen_count + 1,
        "due_at": deadlines.finish_due(order, at),
        "limit_started_at": at,
        "warning": Warning.GREEN,
        "warned": Warning.GREEN,
        "reply_result": "",
        "callback_due_at": None,
    }
    return Step(State.IN_PROGRESS, fields, reason, {"unit": order.lead_unit.code if order.lead_unit else None})


def _guard_archive(order: WorkOrder, actor: User | None, at: datetime) -> None:
    _require_role(actor, Action.ARCHIVE, CALLBACK_DESK)
    _require_state(order, Action.ARCHIVE, State.PENDING_CALLBACK)
    if not order.callbacks.exists():
        raise Conflict("请先回访，再归档")


@transition(Action.ARCHIVE, _guard_archive)
def archive(order: WorkOrder, actor: User | None, *, note: str, at: datetime) -> Step:
    """归档 after a callback that did not end in satisfaction (unreachable, or not reopened), with the reason."""
    note = _text(note, "note", "归档说明")
    return Step(State.ARCHIVED, {"closure": Closure.HANDLED, "archived_at": at, "warning": None}, note)


def _guard_reassign(order: WorkOrder, actor: User | None, at: datetime) -> None:
    _require_role(actor, Action.REASSIGN, (Role.SUPERVISOR,))
    _require_state(order, Action.REASSIGN, State.PENDING_DISPATCH, State.PENDING_SIGN, State.IN_PROGRESS)


@transition(Action.REASSIGN, _guard_reassign)
def reassign(
    order: WorkOrder,
    actor: User | None,
    *,
    lead_unit: Any,
    co_units: Iterable[Any] = (),
    due_at: datetime,
    note: str = "",
    at: datetime,
) -> Step:
    """研判改派: after a joint review, the order goes to the units it named, with the deadline it set."""
    lead = _handling_unit(lead_unit, "lead_unit")
    if not isinstance(due_at, datetime) or due_at <= at:
        raise InvalidInput({"due_at": "新的办结时限必须晚于现在"})
    co = []
    for unit in co_units:
        unit = _handling_unit(unit, "co_units")
        if unit.pk != lead.pk and unit not in co:
            co.append(unit)
    CoAssignment.objects.filter(order=order).delete()
    CoAssignment.objects.bulk_create([CoAssignment(order=order, unit=u) for u in co])
    fields = {
        "lead_unit": lead, "dispatched_at": at, "sign_due_at": deadlines.sign_due(order, at), "due_at": due_at,
        "signed_at": None, "limit_started_at": at, "warning": Warning.GREEN, "warned": Warning.GREEN,
    }  # fmt: skip
    data = {"lead_unit": lead.code, "co_units": [u.code for u in co], "due_at": due_at.isoformat()}
    return Step(State.PENDING_SIGN, fields, _text(note, "note", "说明", required=False), data)


# ---------------------------------------------------------------- records that do not change state


def _guard_visible(action: str) -> Callable:
    """Anyone who works on orders and can see this one; a leader reads but does not write."""

    def guard(order: WorkOrder, actor: User | None, at: datetime) -> None:
        _require_role(actor, action, [r for r in Role.values if r != Role.LEADER])
        if actor is not None and not can_see(actor, order):
            raise Forbidden(f"无权对此工单“{_label(action)}”")

    return guard


@transition(Action.LINK, _guard_visible(Action.LINK))
def link(order: WorkOrder, actor: User | None, *, other: WorkOrder, at: datetime) -> Step:
    """关联工单: mark two orders as related (both directions)."""
    other = WorkOrder.objects.filter(pk=getattr(other, "pk", other)).first()
    if other is None or other.pk == order.pk:
        raise InvalidInput({"other": "请选择另一张工单"})
    order.related.add(other)
    return Step(data={"other": other.number})


@transition(Action.ATTACH, _guard_visible(Action.ATTACH))
def attach(order: WorkOrder, actor: User | None, *, name: str, content: bytes, at: datetime) -> Step:
    """上传附件: checked by size, extension and the file's actual bytes."""
    from django.core.files.base import ContentFile

    from system.storage import refuse_if_disk_full

    name = (name or "").replace("/", "_").replace("\\", "_").strip()[:200]
    reason, content_type = attachment_error(name, len(content), content[:16])
    if reason:
        raise InvalidInput({"file": reason})
    attachment = Attachment(order=order, name=name, content_type=content_type, size=len(content), uploaded_by=actor)
    with refuse_if_disk_full("file"):
        attachment.file.save(name, ContentFile(content), save=True)
    return Step(data={"attachment": attachment.pk, "name": name, "size": len(content)})


def record(
    order: WorkOrder,
    actor: User | None,
    action: str,
    note: str = "",
    data: dict | None = None,
    at: datetime | None = None,
) -> OrderEvent:
    """A timeline entry that changes nothing on the order (催办, 督办): appended without a version bump,
    so it never makes someone's open page stale."""
    return OrderEvent.objects.create(
        order=order, action=action, actor=actor, actor_unit=actor.unit if actor else None,
        from_state=order.state, to_state=order.state, note=note, data=data or {}, created_at=at or timezone.now(),
    )  # fmt: skip


def can_see(user: User, order: WorkOrder) -> bool:
    if user.is_citywide:
        return True
    units = set(user.visible_units.values_list("pk", flat=True))
    return order.lead_unit_id in units or order.co_assignments.filter(unit_id__in=units).exists()
