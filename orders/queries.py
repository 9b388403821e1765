"""Which orders a user sees, and the lists built from them: queues, inbox tabs, filters, a caller's history."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Substr
from django.db.models.lookups import LessThan
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from categories.models import Category
from orders.models import (
    OPEN_STATES,
    ExtensionRequest,
    NonAcceptanceRequest,
    RequestStatus,
    ReturnRequest,
    State,
    WorkOrder,
)
from system.dbfunctions import Epoch

# Orders at the unit: the inbox's open tabs, and what can be overdue there.
AT_UNIT = (State.PENDING_SIGN, State.IN_PROGRESS)
# 即将超期: less than this share of the allowed time is left.
DUE_SOON_SHARE = 0.25
ORDER_NUMBER = re.compile(r"^[A-Za-z]?\d{8,19}$")
# A text search without a date range looks at this many days: unindexed text over years of orders would scan
# millions of rows; choosing 受理日期 searches further back.
SEARCH_DAYS = 90


def visible_orders(user: User) -> QuerySet[WorkOrder]:
    """Everything for hotline-centre roles; for a handler, orders where its units lead or co-handle."""
    orders = WorkOrder.objects.select_related("category", "request_type", "lead_unit", "area")
    if user.is_citywide:
        return orders
    units = user.visible_units.values("pk")
    return orders.filter(Q(lead_unit__in=units) | Q(co_assignments__unit__in=units)).distinct()


@dataclass
class OrderFilter:
    state: str = ""
    unit: str = ""  # unit code; includes its sub-units
    category: int | None = None  # any level; includes the categories below it
    channel: str = ""
    request_type: str = ""
    priority: str = ""
    date_from: date | None = None
    date_to: date | None = None
    overdue: bool | None = None
    enterprise: bool | None = None
    warning: int | None = None  # 赋色预警 colour (orders.models.Warning)
    q: str = ""

    def apply(self, orders: QuerySet[WorkOrder], now: datetime | None = None) -> QuerySet[WorkOrder]:
        now = now or timezone.now()
        if self.state:
            orders = orders.filter(state=self.state)
        if self.unit:
            orders = orders.filter(lead_unit__path__startswith=_unit_path(self.unit))
        if self.category:  # the category and those below it, resolved first: the orders are filtered by id
            c = self.category
            below = Category.objects.filter(Q(pk=c) | Q(parent_id=c) | Q(parent__parent_id=c))
            orders = orders.filter(category_id__in=list(below.values_list("pk", flat=True)))
        if self.channel:
            orders = orders.filter(channel=self.channel)
        if self.request_type:
            orders = orders.filter(request_type__code=self.request_type)
        if self.priority:
            orders = orders.filter(priority=self.priority)
        tz = timezone.get_current_timezone()
        if self.date_from:
            orders = orders.filter(received_at__gte=datetime.combine(self.date_from, time.min, tz))
        if self.date_to:
            orders = orders.filter(received_at__lt=datetime.combine(self.date_to + timedelta(days=1), time.min, tz))
        if self.overdue is not None:
            overdue = overdue_q(now)
            orders = orders.filter(overdue) if self.overdue else orders.exclude(overdue)
        if self.enterprise is not None:
            orders = orders.filter(is_enterprise=self.enterprise)
        if self.warning is not None:
            orders = orders.filter(warning=self.warning, state__in=OPEN_STATES)
        if self.q:
            # an order number is looked up through its unique index; anything else is searched in the texts
            if ORDER_NUMBER.match(self.q) and WorkOrder.objects.filter(number=self.q).exists():
                return orders.filter(number=self.q)
            orders = orders.filter(Q(title__icontains=self.q) | Q(content__icontains=self.q))
            if not self.date_from and not self.date_to:
                orders = orders.filter(received_at__gte=now - timedelta(days=SEARCH_DAYS))
        return orders


def _unit_path(code: str) -> str:
    from org.models import Unit

    unit = Unit.objects.filter(code=code).only("path").first()
    return unit.path if unit else "/no-such-unit/"


def overdue_q(now: datetime) -> Q:
    """Open at the unit and past its finish deadline, or replied after it."""
    return Q(state__in=AT_UNIT, due_at__lt=now) | Q(
        replied_at__isnull=False, due_at__isnull=False, replied_at__gt=F("due_at")
    )


def is_overdue(order: WorkOrder, now: datetime | None = None) -> bool:
    """The same rule as ``overdue_q``, for one order in hand."""
    if order.due_at is None:
        return False
    if order.replied_at is not None:
        return order.replied_at > order.due_at
    return order.state in AT_UNIT and order.due_at < (now or timezone.now())


INBOX_TABS = {
    "to_sign": "待签收",
    "in_progress": "办理中",
    "due_soon": "即将超期",
    "overdue": "已超期",
    "done": "已办结",
}


# Each tab's order; the open tabs (all but 已办结) hold orders at the unit, so they are counted in one aggregate.
INBOX_ORDER = {"to_sign": "sign_due_at", "in_progress": "due_at", "due_soon": "due_at", "overdue": "due_at",
               "done": "-replied_at"}  # fmt: skip


def inbox_filters(now: datetime) -> dict[str, Q]:
    """Which of a unit's orders each inbox tab holds, the one definition for the lists and their counts."""
    return {
        "to_sign": Q(state=State.PENDING_SIGN),
        "in_progress": Q(state=State.IN_PROGRESS),
        "due_soon": due_soon_q(now),
        "overdue": Q(state__in=AT_UNIT, due_at__lt=now),
        "done": Q(state__in=(State.PENDING_CALLBACK, State.ARCHIVED), replied_at__isnull=False),
    }


def inbox(user: User, tab: str, now: datetime | None = None) -> QuerySet[WorkOrder]:
    """承办单位 inbox: orders led by the user's units, one tab at a time."""
    if tab not in INBOX_ORDER:
        raise ValueError(tab)
    now = now or timezone.now()
    units = user.visible_units.values("pk")
    orders = WorkOrder.objects.select_related("category", "request_type", "lead_unit").filter(lead_unit__in=units)
    return orders.filter(inbox_filters(now)[tab]).order_by(INBOX_ORDER[tab])


def inbox_counts(user: User, now: datetime | None = None) -> dict[str, tuple[int, bool]]:
    """Each inbox tab's (count, more than counted): the open tabs exactly, in one aggregate over the unit's orders
    at the unit (a workload, not a history); 已办结 up to the tab cap."""
    from orders.paging import TAB_COUNT_CAP, capped_count

    now = now or timezone.now()
    units = user.visible_units.values("pk")
    filters = inbox_filters(now)
    at_unit = WorkOrder.objects.filter(lead_unit__in=units, state__in=AT_UNIT).order_by()
    counts = at_unit.aggregate(**{tab: Count("pk", filter=q) for tab, q in filters.items() if tab != "done"})
    found = {tab: (n, False) for tab, n in counts.items()}
    found["done"] = capped_count(inbox(user, "done", now), TAB_COUNT_CAP)
    return found


def due_soon_q(now: datetime) -> Q:
    """即将超期: at the unit, not yet overdue, less than DUE_SOON_SHARE of the time from dispatch (or receipt) to
    the deadline left. ``due - now < share × (due - start)`` is written ``(1 − share)·due + share·start < now``
    in seconds, so that the database compares numbers on SQLite and PostgreSQL alike."""
    start = Coalesce("dispatched_at", "received_at")
    edge = (1 - DUE_SOON_SHARE) * Epoch("due_at") + DUE_SOON_SHARE * Epoch(start)
    return Q(state__in=AT_UNIT, due_at__gte=now, due_at__gt=start) & Q(LessThan(edge, Value(now.timestamp())))


def dispatcher_queue() -> QuerySet[WorkOrder]:
    """派单员: new orders to dispatch, oldest first."""
    return (
        WorkOrder.objects.select_related("category", "request_type", "area")
        .filter(state=State.PENDING_DISPATCH)
        .order_by("received_at")
    )


def pending_decisions() -> QuerySet[WorkOrder]:
    """Orders with a return, extension or non-acceptance request waiting for the dispatcher: the few pending
    requests found through their partial indexes, then their orders by primary key (no join over the orders)."""
    ids: set[int] = set()
    for model in (ReturnRequest, ExtensionRequest, NonAcceptanceRequest):
        ids.update(model.objects.filter(status=RequestStatus.PENDING).values_list("order_id", flat=True))
    return WorkOrder.objects.select_related("lead_unit", "category").filter(pk__in=ids).order_by("received_at")


def callback_queue() -> QuerySet[WorkOrder]:
    """回访员: replied orders waiting for the callback, most urgent first."""
    return (
        WorkOrder.objects.select_related("category", "lead_unit")
        .filter(state=State.PENDING_CALLBACK)
        .order_by("callback_due_at")
    )


def caller_history(
    phone: str, exclude_pk: int | None = None, limit: int = 10, days: int | None = None
) -> QuerySet[WorkOrder]:
    """一人多诉: the caller's earlier orders (of the last ``days`` days if given), newest first; none without a
    number (orders whose personal data was removed have none)."""
    if not phone:
        return WorkOrder.objects.none()
    orders = WorkOrder.objects.select_related("category").filter(caller_phone=phone).order_by("-received_at")
    if days:
        orders = orders.filter(received_at__gte=timezone.now() - timedelta(days=days))
    if exclude_pk:
        orders = orders.exclude(pk=exclude_pk)
    return orders[:limit]


def open_count(user: User) -> int:
    return visible_orders(user).filter(state__in=OPEN_STATES).count()


NEEDS_FULL_PHONE = {Role.OPERATOR, Role.DISPATCHER, Role.HANDLER, Role.CALLBACK}
# The others see the number masked and may ask for it, with a reason (查看完整号码, kept in the audit log).
MASKED_PHONE_ROLES = tuple(sorted(set(Role.values) - NEEDS_FULL_PHONE))


def caller_phone_for(user: User, order: WorkOrder) -> str:
    """The caller's phone as this user may see it: in full for those who call back, masked for others."""
    phone = order.caller_phone
    if user.role in NEEDS_FULL_PHONE or len(phone) < 7:
        return phone
    return f"{phone[:3]}****{phone[-4:]}"


def workload(user: User, now: datetime | None = None) -> list[tuple[str, str, str]]:
    """(label, count, link) of the queues this user works from, for the home page; a count past the cap reads
    "10000+" (超期 includes every order ever replied late: years of them in a big city)."""
    from orders.paging import capped_count

    def shown(counted: tuple[int, bool]) -> str:
        return f"{counted[0]}+" if counted[1] else str(counted[0])

    now = now or timezone.now()
    if user.role == Role.HANDLER:
        counts = inbox_counts(user, now)
        return [(label, shown(counts[tab]), f"/orders/inbox/?tab={tab}") for tab, label in INBOX_TABS.items()]
    visible = visible_orders(user)
    items = []
    if user.role in (Role.OPERATOR, Role.DISPATCHER, Role.ADMIN):
        today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        received = shown(capped_count(visible.filter(received_at__gte=today)))
        items.append(("今日受理", received, "/orders/?date_from=" + f"{today:%Y-%m-%d}"))
    if user.role == Role.DISPATCHER:
        items.append(("待派发", shown(capped_count(dispatcher_queue())), "/orders/dispatch/"))
        items.append(("待审核申请", str(pending_decisions().count()), "/orders/dispatch/"))
    if user.role == Role.CALLBACK:
        items.append(("待回访", shown(capped_count(callback_queue())), "/orders/callbacks/"))
    if user.role in (Role.SUPERVISOR, Role.LEADER, Role.ADMIN, Role.DISPATCHER):
        in_progress = shown(capped_count(visible.filter(state=State.IN_PROGRESS)))
        items.append(("办理中", in_progress, "/orders/?state=in_progress"))
        items.append(("超期（含超期办结）", shown(capped_count(visible.filter(overdue_q(now)))), "/orders/?overdue=1"))
    return items


SIMILAR_DAYS = 7  # 多人一诉: open orders received this recently are compared
SIMILAR_MIN = 0.2  # bigram overlap (Jaccard) from which two texts are taken for the same issue
SIMILAR_POOL = 500  # at most this many of the newest candidates at the place are compared


def _bigrams(text: str) -> set[tuple[str, str]]:
    text = "".join(filter(str.isalnum, text))
    return set(zip(text, text[1:], strict=False))


def similar_open_orders(
    text: str, place_path: str | None, phone: str = "", limit: int = 5
) -> list[tuple[WorkOrder, float]]:
    """多人一诉: open orders from other callers at the same place in the last days, most similar text first."""
    words = _bigrams(text[:2000])
    if len(words) < 4 or not place_path:
        return []
    from org.models import Unit

    since = timezone.now() - timedelta(days=SIMILAR_DAYS)
    areas = list(Unit.objects.filter(path__startswith=place_path).values_list("pk", flat=True))
    # (area, received_at) is indexed: the pool is a few index range scans, not a pass over all open orders
    pool = (
        WorkOrder.objects.filter(area_id__in=areas, received_at__gte=since, state__in=OPEN_STATES)
        .exclude(caller_phone=phone)
        .order_by("-received_at")
        .values_list("pk", "title", Substr("content", 1, 150))[:SIMILAR_POOL]
    )
    scored = []
    for pk, title, content in pool:
        other = _bigrams(f"{title}{content}")
        score = len(words & other) / len(words | other) if other else 0.0
        if score >= SIMILAR_MIN:
            scored.append((score, pk))
    scored.sort(reverse=True)
    by_pk = WorkOrder.objects.select_related("area", "lead_unit").in_bulk([pk for _, pk in scored[:limit]])
    return [(by_pk[pk], round(score, 2)) for score, pk in scored[:limit] if pk in by_pk]
