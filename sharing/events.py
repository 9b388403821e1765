"""The shared form of timeline events: which a unit's system may see, their JSON, and pages of them.

Webhooks and the event feed send the same JSON (``SharedEvent``). It carries the order's business facts
(number, title, category, units, state, deadline) and never the caller's name or phone: the receiving
systems are outside the hotline's access control. A phone number typed into a note or a title is masked
too. A receiving system that needs the caller asks ``GET /api/orders/{number}``, which masks by role.
"""

import json
import re
from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet
from ninja import Field, Schema

from accounts.models import User
from accounts.roles import Role
from orders.models import OrderEvent, WorkOrder
from orders.queries import visible_orders
from org.models import Unit
from sharing import horizon
from sharing.kinds import KIND_OF_ACTION, Kind, actions_of

MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
LANDLINE_IN_TEXT = re.compile(r"(?<!\d)(0\d{2,3}-?)\d{3,4}(\d{4})(?!\d)")


def mask_phones(text: str, caller_phone: str = "") -> str:
    """``text`` with the caller's phone and anything shaped like a phone number masked (138****8000)."""
    if caller_phone:  # the caller's own number is masked whatever its shape (a 400 number, an extension)
        text = text.replace(
            caller_phone, f"{caller_phone[:3]}****{caller_phone[-4:]}" if len(caller_phone) >= 7 else "****"
        )
    text = MOBILE_IN_TEXT.sub(r"\1****\2", text)
    return LANDLINE_IN_TEXT.sub(r"\1****\2", text)


class SharedOrder(Schema):
    number: str
    title: str
    request_type: str = Field(alias="request_type.code")
    category: str = Field(alias="category.full_name")
    priority: str
    state: str
    lead_unit: str | None = Field(None, alias="lead_unit.code", description="主办单位编码")
    co_units: list[str] = Field(description="协办单位编码")
    area: str | None = Field(None, alias="area.code", description="所属区域的单位编码")
    due_at: datetime | None = Field(description="办结时限")

    @staticmethod
    def resolve_title(obj: WorkOrder) -> str:
        return mask_phones(obj.title, obj.caller_phone)

    @staticmethod
    def resolve_co_units(obj: WorkOrder) -> list[str]:
        return [assignment.unit.code for assignment in obj.co_assignments.all()]


class SharedEvent(Schema):
    id: int = Field(description="事件编号；接收方按它去重")
    cursor: str = Field(description="从此事件之后继续读取事件流时用的 after")
    kind: Kind
    action: str = Field(description="工单动作编码，如 dispatch、reassign")
    action_label: str = Field(alias="get_action_display")
    created_at: datetime
    from_state: str
    to_state: str
    unit: str | None = Field(None, alias="actor_unit.code", description="操作单位编码；系统自动操作时为空")
    note: str
    data: dict
    order: SharedOrder = Field(description="工单在读取时的概况（不含诉求人信息）")

    @staticmethod
    def resolve_cursor(obj: OrderEvent) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_kind(obj: OrderEvent) -> str:
        return KIND_OF_ACTION[obj.action]

    @staticmethod
    def resolve_note(obj: OrderEvent) -> str:
        return mask_phones(obj.note, obj.order.caller_phone)


def unit_orders(unit: Unit) -> QuerySet[WorkOrder]:
    """Orders the unit or its sub-units lead or co-handle.

    Asked of ``orders/queries.py`` as for a manager of the unit (an unsaved user), so a subscription sees
    exactly what that manager sees on screen and the rule of who sees which order stays in one place."""
    return visible_orders(User(role=Role.HANDLER, unit=unit, is_unit_manager=True))


def shared_events(orders: QuerySet[WorkOrder], kinds: Iterable[str] = Kind.values) -> QuerySet[OrderEvent]:
    """Events of these kinds on these orders, in id order (the order cursors follow)."""
    return OrderEvent.objects.filter(action__in=actions_of(kinds), order__in=orders.values("pk")).order_by("pk")


def with_payload(events: QuerySet[OrderEvent]) -> QuerySet[OrderEvent]:
    """The events with everything their JSON reads loaded in a fixed number of queries."""
    return events.select_related(
        "actor_unit", "order__request_type", "order__category", "order__lead_unit", "order__area"
    ).prefetch_related("order__co_assignments__unit")


def payload(event: OrderEvent) -> dict:
    return SharedEvent.from_orm(event).model_dump(mode="json")


def body(event: OrderEvent) -> bytes:
    """The webhook body: the event's JSON, compact UTF-8 (the exact bytes the signature covers)."""
    return json.dumps(payload(event), ensure_ascii=False, separators=(",", ":")).encode()


def page(
    orders: QuerySet[WorkOrder], after: int, limit: int, kinds: Iterable[str], now: datetime
) -> tuple[list[OrderEvent], int, bool]:
    """Up to ``limit`` settled events after the cursor ``after``; returns (events, next cursor, more to read).

    When the page is not full, every settled event up to the horizon has been looked at, so the next
    cursor moves to the horizon: the next request skips the events this reader may not see."""
    settled = horizon.settled_event_id(now)
    rows = list(with_payload(shared_events(orders, kinds).filter(pk__gt=after, pk__lte=settled))[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1].pk if more else max(after, settled), more
