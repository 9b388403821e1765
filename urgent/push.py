"""The push job: find the orders that meet an active urgent rule, push each once, follow it until it closes.

One run (``urgent.tasks.push_urgent``, every 30 seconds from the scheduler), safely with any number at once:
1. candidates, among open orders without an item:
   - orders received since the watermark (the instant the last finished run started) less ``MARGIN``, which
     covers transactions that committed a little after their order's instant; text, priority and 涉企 do not
     change after intake, so a new order is judged on them once it is in this window;
   - orders merged into (并单) or linked (关联) since then, and the orders linked to those or to the new ones:
     their number of callers changed;
   - every order red now carrying a tag of an active red-warning rule (colours change without a new event, so
     these are looked up each run, through the tag; the colour itself is ``supervision/warnings.py``'s);
   each is judged against every active rule (``urgent/matching.py``);
2. push: in one transaction, create the item (the order is unique in the table: a second run racing for the
   same order gets an IntegrityError and rolls back, so nothing is pushed twice), its rules and reasons, its
   leaders (``urgent/leaders.py``), their in-app messages and the queued email (``notifications/send.py``),
   and one robot delivery per robot of its units (``urgent/webhooks.py``);
3. first action: one UPDATE sets ``first_action_at`` of open and claimed items to the first event after the
   push by which the order's unit acted (签收, 阶段性答复, 办结, 退单申请, 延期申请; system events do not count);
4. close: items whose order was merged or archived close themselves (two UPDATEs);
5. the robot deliveries that are due are sent, retried or dead-lettered.
The watermark moves to this run's start when the run finishes; a run that fails leaves it, and the next run
looks at the same orders again (pushing none twice). A first run looks back ``FIRST_LOOKBACK``.
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from notifications.send import notify
from orders.models import OPEN_STATES, Action, Closure, OrderEvent, State, Warning, WorkOrder
from urgent import matching, webhooks
from urgent.leaders import responsible_leaders
from urgent.models import ItemStatus, RuleKind, UrgentItem, UrgentRule, Watermark

WATERMARK = "orders"
MARGIN = timedelta(minutes=2)
FIRST_LOOKBACK = timedelta(hours=1)
CHUNK = 500
UNIT_ACTIONS = (Action.SIGN, Action.INTERIM_REPLY, Action.REPLY, Action.RETURN_REQUEST, Action.EXTENSION_REQUEST)


def _since(now: datetime) -> datetime:
    mark = Watermark.objects.filter(name=WATERMARK).first()
    return mark.until if mark else now - FIRST_LOOKBACK


def _advance(now: datetime) -> None:
    if not Watermark.objects.filter(name=WATERMARK, until__lt=now).update(until=now):
        Watermark.objects.get_or_create(name=WATERMARK, defaults={"until": now})


def _unpushed():
    return WorkOrder.objects.filter(state__in=OPEN_STATES, urgent_item__isnull=True)


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def candidate_ids(rules: list[UrgentRule], since: datetime) -> list[int]:
    """The orders this run judges (step 1 of the module's description), oldest first."""
    start = since - MARGIN
    ids = set(_unpushed().filter(received_at__gt=start).values_list("pk", flat=True))
    ids.update(
        OrderEvent.objects.filter(created_at__gt=start, action__in=(Action.MERGE, Action.LINK)).values_list(
            "order_id", flat=True
        )
    )
    if any(rule.kind == RuleKind.CALLERS for rule in rules):
        through = WorkOrder.related.through
        for chunk in _chunks(sorted(ids)):
            ids.update(through.objects.filter(from_workorder_id__in=chunk).values_list("to_workorder_id", flat=True))
    red_tags = sorted({code for rule in rules if rule.kind == RuleKind.RED_TAG for code in rule.tags})
    if red_tags:
        ids.update(_unpushed().filter(warning=Warning.RED, tags__code__in=red_tags).values_list("pk", flat=True))
    return sorted(ids)


def _notice(order: WorkOrder, reasons: list[str]) -> tuple[str, str]:
    title = f"【热线要情】{order.number} {webhooks.safe_text(order.title, order.caller_name, order.caller_phone)}"
    lines = [
        f"命中规则：{'；'.join(reasons)}",
        f"诉求分类：{order.category.full_name}",
        f"所属区域：{order.area.name if order.area else '—'}",
        f"主办单位：{order.lead_unit.name if order.lead_unit else '待派发'}",
        f"受理时间：{timezone.localtime(order.received_at):%Y-%m-%d %H:%M}",
        "请在“热线要情”中认领。",
    ]
    return title[:200], "\n".join(lines)


def push_order(order: WorkOrder, matched: list[tuple[UrgentRule, str]], now: datetime) -> UrgentItem | None:
    """Push ``order`` as an item with the rules it met; None when it had been pushed already."""
    leaders = responsible_leaders(order)
    reasons = [why for _, why in matched]
    try:
        with transaction.atomic():
            item = UrgentItem.objects.create(order=order, reasons=reasons, pushed_at=now)
            item.rules.set([rule for rule, _ in matched])
            item.leaders.set(leaders)
            title, body = _notice(order, reasons)
            notify(leaders, title, body, f"{reverse('urgent:inbox')}#item-{item.pk}")
            webhooks.queue(item, now)
    except IntegrityError:
        return None  # another run pushed this order first
    return item


def push_new(now: datetime) -> int:
    """Steps 1 and 2: push every candidate that meets an active rule; returns how many this run pushed."""
    rules = list(UrgentRule.objects.filter(is_active=True).order_by("pk"))
    since = _since(now)
    pushed = 0
    if rules:
        for chunk in _chunks(candidate_ids(rules, since)):
            orders = (
                _unpushed()
                .filter(pk__in=chunk)
                .select_related("category", "area", "lead_unit")
                .prefetch_related("tags")
                .order_by("pk")
            )
            for order in orders:
                matched = matching.reasons(rules, order)
                if matched and push_order(order, matched, now) is not None:
                    pushed += 1
    _advance(now)
    return pushed


def record_first_actions() -> int:
    """Step 3: the unit's first action after the push, for the open and claimed items that lack one."""
    first = (
        OrderEvent.objects.filter(
            order_id=OuterRef("order_id"),
            action__in=UNIT_ACTIONS,
            actor_unit__isnull=False,
            created_at__gte=OuterRef("pushed_at"),
        )
        .order_by("created_at", "pk")
        .values("created_at")[:1]
    )
    waiting = UrgentItem.objects.filter(first_action_at__isnull=True, status__in=(ItemStatus.OPEN, ItemStatus.CLAIMED))
    return waiting.filter(Exists(first)).update(first_action_at=Subquery(first))


def close_finished(now: datetime) -> int:
    """Step 4: items whose order was merged or archived close; returns how many."""
    live = UrgentItem.objects.filter(status__in=(ItemStatus.OPEN, ItemStatus.CLAIMED))
    merged = live.filter(order__closure=Closure.MERGED).update(
        status=ItemStatus.CLOSED, closed_at=now, close_reason="工单已并单"
    )
    archived = live.filter(order__state=State.ARCHIVED).update(
        status=ItemStatus.CLOSED, closed_at=now, close_reason="工单已归档"
    )
    return merged + archived


def run(now: datetime | None = None) -> dict[str, int]:
    """One run of the job (steps 1 to 5)."""
    now = now or timezone.now()
    result = {"pushed": push_new(now), "first_actions": record_first_actions(), "closed": close_finished(now)}
    outcomes = webhooks.deliver_due(now)
    result.update({key: outcomes[key] for key in (webhooks.DELIVERED, webhooks.RETRY, webhooks.DEAD)})
    return result
