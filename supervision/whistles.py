"""吹哨报到: a street blows the whistle on an order; each summoned department reports within the limit.

Rates (``stats``): a whistle is resolved when the street closes it as solved; per street, resolved ÷
closed whistles; per department, resolved ÷ closed whistles it was summoned to, and reports on time ÷ reports.
Late departments are told once: ``remind_late`` claims each call with ``UPDATE … WHERE late_notified = false``.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from analytics.indicators import ratio
from notifications.send import notify_unit
from orders import transitions
from orders.errors import Conflict, Forbidden, InvalidInput
from orders.models import Action, State, WorkOrder
from org.models import Unit, UnitKind
from supervision.models import Whistle, WhistleCall, WhistleStatus
from system.config import get_setting

SUMMONABLE = (UnitKind.DEPARTMENT, UnitKind.UTILITY)
MAX_TEXT = 5000


def _text(value: str, field: str, label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput({field: f"请填写{label}"})
    if len(value) > MAX_TEXT:
        raise InvalidInput({field: f"{label}不能超过 {MAX_TEXT} 字"})
    return value


def link(whistle: Whistle) -> str:
    return reverse("supervision:whistle", args=[whistle.pk])


def blow(
    actor: User, order: WorkOrder, departments: Iterable[Unit], description: str, at: datetime | None = None
) -> Whistle:
    """吹哨: the street leading ``order`` summons ``departments``."""
    at = at or timezone.now()
    street = actor.unit
    if not actor.has_role(Role.HANDLER) or street.kind != UnitKind.STREET:
        raise Forbidden("只有街道/乡镇的承办人可以吹哨")
    if order.lead_unit_id != street.pk:
        raise Forbidden("只能对本街道主办的工单吹哨")
    if order.state not in (State.PENDING_SIGN, State.IN_PROGRESS):
        raise Conflict(f"工单当前为“{order.get_state_display()}”，不能吹哨")
    errors = {}
    try:
        description = _text(description, "description", "吹哨事由")
    except InvalidInput as exc:
        errors.update(exc.errors)
    departments = list(dict.fromkeys(departments))
    if not departments or any(d is None or d.kind not in SUMMONABLE or not d.is_active for d in departments):
        errors["departments"] = "请选择要召集的职能部门或公共服务企业"
    if errors:  # both at once
        raise InvalidInput(errors)
    due = at + timedelta(hours=get_setting("whistle_report_hours"))
    with transaction.atomic():
        whistle = Whistle.objects.create(
            order=order, street=street, description=description, blown_by=actor, blown_at=at, report_due_at=due
        )
        WhistleCall.objects.bulk_create([WhistleCall(whistle=whistle, department=d) for d in departments])
        names = "、".join(d.name for d in departments)
        transitions.record(order, actor, Action.SUPERVISE, f"街道吹哨，召集{names}报到：{description}", at=at)
        deadline = timezone.localtime(due).strftime("%m-%d %H:%M")
        for department in departments:
            notify_unit(department, f"{street.name}吹哨：请于 {deadline} 前报到", description, link(whistle))
    return whistle


def report(actor: User, call: WhistleCall, action: str, at: datetime | None = None) -> WhistleCall:
    """报到: the summoned department records what it did; after the limit it counts as late."""
    at = at or timezone.now()
    if not actor.has_role(Role.HANDLER) or not actor.visible_units.filter(pk=call.department_id).exists():
        raise Forbidden("只有被召集的部门可以报到")
    action = _text(action, "action", "采取的行动")
    with transaction.atomic():
        done = WhistleCall.objects.filter(
            pk=call.pk, reported_at__isnull=True, whistle__status=WhistleStatus.OPEN
        ).update(reported_at=at, action=action, reported_by=actor)
        if done != 1:
            raise Conflict("已报到，或吹哨已结束")
        call.refresh_from_db()
        late = "" if call.on_time else "（超时）"
        note = f"{call.department.name}报到{late}：{action}"
        transitions.record(call.whistle.order, actor, Action.SUPERVISE, note, at=at)
    return call


def close(actor: User, whistle: Whistle, resolved: bool, outcome: str, at: datetime | None = None) -> Whistle:
    """The street closes the whistle with its outcome."""
    at = at or timezone.now()
    if not actor.has_role(Role.HANDLER) or actor.unit_id != whistle.street_id:
        raise Forbidden("只有吹哨的街道可以结束吹哨")
    outcome = _text(outcome, "outcome", "办理结果")
    status = WhistleStatus.RESOLVED if resolved else WhistleStatus.UNRESOLVED
    with transaction.atomic():
        done = Whistle.objects.filter(pk=whistle.pk, status=WhistleStatus.OPEN).update(
            status=status, outcome=outcome, closed_at=at
        )
        if done != 1:
            raise Conflict("吹哨已结束")
        whistle.refresh_from_db()
        transitions.record(
            whistle.order, actor, Action.SUPERVISE, f"吹哨结束（{whistle.get_status_display()}）：{outcome}", at=at
        )
    return whistle


def remind_late(now: datetime | None = None) -> int:
    """Tell each department that missed its report deadline, once."""
    now = now or timezone.now()
    late = WhistleCall.objects.filter(
        reported_at__isnull=True,
        late_notified=False,
        whistle__status=WhistleStatus.OPEN,
        whistle__report_due_at__lt=now,
    ).select_related("whistle__street", "department")
    sent = 0
    for call in late:
        with transaction.atomic():
            if WhistleCall.objects.filter(pk=call.pk, late_notified=False).update(late_notified=True) != 1:
                continue
            title = f"{call.whistle.street.name}吹哨报到已超时，请立即报到"
            notify_unit(call.department, title, call.whistle.description, link(call.whistle))
            sent += 1
    return sent


def stats(start: datetime, end: datetime) -> dict[str, list[dict]]:
    """Resolution rates of whistles blown in [start, end), per street and per department."""
    whistles = Whistle.objects.filter(blown_at__gte=start, blown_at__lt=end).select_related("street")
    streets: dict[str, dict] = defaultdict(lambda: {"blown": 0, "closed": 0, "resolved": 0})
    for w in whistles:
        row = streets[w.street.name]
        row["blown"] += 1
        row["closed"] += w.status != WhistleStatus.OPEN
        row["resolved"] += w.status == WhistleStatus.RESOLVED
    departments: dict[str, dict] = defaultdict(
        lambda: {"called": 0, "closed": 0, "resolved": 0, "reported": 0, "on_time": 0}
    )
    for call in WhistleCall.objects.filter(whistle__in=whistles).select_related("whistle", "department"):
        row = departments[call.department.name]
        row["called"] += 1
        row["closed"] += call.whistle.status != WhistleStatus.OPEN
        row["resolved"] += call.whistle.status == WhistleStatus.RESOLVED
        row["reported"] += call.reported_at is not None
        row["on_time"] += bool(call.on_time)
    return {
        "streets": [
            {"name": k, **v, "resolution_rate": ratio(v["resolved"], v["closed"])} for k, v in sorted(streets.items())
        ],
        "departments": [
            {
                "name": k,
                **v,
                "resolution_rate": ratio(v["resolved"], v["closed"]),
                "on_time_rate": ratio(v["on_time"], v["reported"]),
            }
            for k, v in sorted(departments.items())
        ],  # fmt: skip
    }
