"""赋色预警: each threshold pinned at its edge, per-tag rules, and a recompute that does not loop over orders."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders import transitions as t
from orders.models import Tag, Warning, WorkOrder
from supervision import warnings
from supervision.models import WarningRule

SH = ZoneInfo("Asia/Shanghai")
SECOND = timedelta(seconds=1)
# Monday 15 September 2025, 09:00: a complaint dispatched now has 5 working days (35 working hours).
DISPATCHED = datetime(2025, 9, 15, 9, 0, tzinfo=SH)

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatched(staff, order_data, city):
    def make(**overrides) -> WorkOrder:
        order, _ = t.intake(staff["operator"], {**order_data, **overrides}, at=DISPATCHED)
        return t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"], at=DISPATCHED)

    return make


def colour_at(order: WorkOrder, now: datetime) -> int | None:
    warnings.recompute(now)
    return WorkOrder.objects.get(pk=order.pk).warning


def test_not_signed_turns_orange_at_24_hours_and_red_at_48(dispatched):
    order = dispatched()
    assert colour_at(order, DISPATCHED + timedelta(hours=24) - SECOND) == Warning.GREEN
    assert colour_at(order, DISPATCHED + timedelta(hours=24)) == Warning.ORANGE
    assert colour_at(order, DISPATCHED + timedelta(hours=48) - SECOND) == Warning.ORANGE
    assert colour_at(order, DISPATCHED + timedelta(hours=48)) == Warning.RED


def test_signed_order_turns_yellow_with_a_quarter_left_and_red_when_overdue(dispatched, staff):
    order = t.sign(dispatched(), staff["h1"], at=DISPATCHED + timedelta(minutes=30))
    # the deadline was counted on the working-day calendar: 5 working days from Monday 09:00 end on Friday
    assert order.due_at == datetime(2025, 9, 19, 17, 30, tzinfo=SH)
    quarter_left = order.due_at - (order.due_at - DISPATCHED) / 4
    assert colour_at(order, quarter_left - SECOND) == Warning.GREEN
    assert colour_at(order, quarter_left + SECOND) == Warning.YELLOW
    assert colour_at(order, order.due_at - SECOND) == Warning.YELLOW
    assert colour_at(order, order.due_at + SECOND) == Warning.RED


def test_extension_moves_the_yellow_and_red_edges(dispatched, staff):
    order = t.sign(dispatched(), staff["h1"], at=DISPATCHED + timedelta(minutes=30))
    old_due = order.due_at
    day_two = DISPATCHED + timedelta(days=1)
    order = t.request_extension(
        order, staff["h1"], new_due_at=old_due + timedelta(days=7), reason="需采购材料", at=day_two
    )
    order = t.decide_extension(order, staff["dispatcher"], approve=True, at=day_two)
    assert colour_at(order, old_due + SECOND) == Warning.GREEN
    assert colour_at(order, order.due_at + SECOND) == Warning.RED


def test_a_tag_rule_has_its_own_hours(dispatched):
    WarningRule.objects.filter(tag__code="jinan").update(orange_hours=Decimal("4"), red_hours=Decimal("8"))
    urgent, plain = dispatched(tags=["jinan"]), dispatched(title="普通工单")
    now = DISPATCHED + timedelta(hours=4)
    warnings.recompute(now)
    assert WorkOrder.objects.get(pk=urgent.pk).warning == Warning.ORANGE
    assert WorkOrder.objects.get(pk=plain.pk).warning == Warning.GREEN
    assert colour_at(urgent, DISPATCHED + timedelta(hours=8)) == Warning.RED


def test_callback_overdue_is_red_and_closed_orders_have_no_colour(dispatched, staff):
    order = t.sign(dispatched(), staff["h1"], at=DISPATCHED + timedelta(hours=1))
    order = t.reply(
        order,
        staff["h1"],
        result="resolved",
        content="已处理。",
        measures="已维修。",
        at=DISPATCHED + timedelta(hours=3),
    )
    assert colour_at(order, order.callback_due_at - SECOND) == Warning.GREEN
    assert colour_at(order, order.callback_due_at + SECOND) == Warning.RED
    order = t.callback(
        WorkOrder.objects.get(pk=order.pk), staff["callback"], contact_result="reached", satisfaction="satisfied",
        resolved=True,
    )  # fmt: skip
    assert order.warning is None and colour_at(order, order.callback_due_at + timedelta(days=30)) is None


def test_recompute_uses_the_same_number_of_queries_for_10_or_60_orders(dispatched):
    Tag.objects.get(code="jinan")
    for i in range(10):
        dispatched(title=f"工单 {i}")
    with CaptureQueriesContext(connection) as few:
        warnings.recompute(DISPATCHED + timedelta(hours=30))
    for i in range(50):
        dispatched(title=f"更多工单 {i}", tags=["jinan"] if i % 2 else [])
    with CaptureQueriesContext(connection) as many:
        changed = warnings.recompute(DISPATCHED + timedelta(hours=30))
    assert changed == 50  # the first ten were already orange
    assert len(many.captured_queries) == len(few.captured_queries)
    assert WorkOrder.objects.filter(warning=Warning.ORANGE).count() == 60


def test_list_filters_by_colour_and_shows_badges(dispatched, staff, client):
    late, fresh = dispatched(title="很久没签收"), dispatched(title="刚派的")
    WorkOrder.objects.filter(pk=fresh.pk).update(dispatched_at=DISPATCHED + timedelta(days=3))
    warnings.recompute(DISPATCHED + timedelta(days=3))
    client.force_login(staff["supervisor"])
    html = client.get("/orders/", {"warning": Warning.RED}).content.decode()
    assert late.number in html and fresh.number not in html and "warn-3" in html
    assert client.get("/api/orders", {"warning": 3}).json()["count"] == 1


def test_warning_rule_validation():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="默认规则"):
        WarningRule(tag=None).full_clean()
    with pytest.raises(ValidationError, match="红色时限"):
        WarningRule(tag=Tag.objects.get(code="media"), orange_hours=Decimal("10"), red_hours=Decimal("5")).full_clean()


def test_each_order_keeps_the_instant_its_colour_can_next_change(dispatched, staff):
    order = dispatched()
    warnings.recompute(DISPATCHED + timedelta(hours=1))
    order.refresh_from_db()
    # not signed: the next edge is orange at 24 hours (the yellow edge comes later on a 5-working-day limit)
    assert order.warning == Warning.GREEN
    assert order.warning_due == pytest.approx((DISPATCHED + timedelta(hours=24)).timestamp(), abs=0.01)
    warnings.recompute(DISPATCHED + timedelta(hours=25))
    order.refresh_from_db()
    assert order.warning == Warning.ORANGE
    assert order.warning_due == pytest.approx((DISPATCHED + timedelta(hours=48)).timestamp(), abs=0.01)
    signed = t.sign(order, staff["h1"], at=DISPATCHED + timedelta(hours=26))
    assert WorkOrder.objects.get(pk=signed.pk).warning_due is None  # every transition clears it
    warnings.recompute(DISPATCHED + timedelta(hours=26))
    signed.refresh_from_db()
    quarter_left = signed.due_at - (signed.due_at - signed.limit_started_at) / 4
    assert signed.warning == Warning.GREEN
    assert signed.warning_due == pytest.approx(quarter_left.timestamp(), abs=0.01)


def test_a_run_recolours_only_the_orders_that_are_due(dispatched):
    waiting, other = dispatched(title="甲"), dispatched(title="乙")
    warnings.recompute(DISPATCHED + timedelta(hours=1))
    # a colour written behind the module's back is not looked at before the order's next edge ...
    WorkOrder.objects.filter(pk=waiting.pk).update(warning=Warning.RED)
    assert warnings.recompute(DISPATCHED + timedelta(hours=2)) == 0
    assert WorkOrder.objects.get(pk=waiting.pk).warning == Warning.RED
    # ... is repaired at that edge, and at once by a full run
    assert colour_at(waiting, DISPATCHED + timedelta(hours=24)) == Warning.ORANGE
    assert WorkOrder.objects.get(pk=other.pk).warning == Warning.ORANGE
    WorkOrder.objects.filter(pk=waiting.pk).update(warning=Warning.GREEN)
    assert warnings.recompute(DISPATCHED + timedelta(hours=25), full=True) == 1
    assert WorkOrder.objects.get(pk=waiting.pk).warning == Warning.ORANGE


def test_changing_a_rule_or_an_orders_tags_recolours_at_the_next_run(dispatched):
    order = dispatched()
    now = DISPATCHED + timedelta(hours=5)
    assert colour_at(order, now) == Warning.GREEN
    rule = WarningRule.objects.get(tag__code="jinan")
    rule.orange_hours, rule.red_hours = Decimal("4"), Decimal("8")
    rule.save()
    assert colour_at(order, now) == Warning.GREEN  # the order does not carry the tag
    order.tags.add(Tag.objects.get(code="jinan"))
    assert colour_at(order, now) == Warning.ORANGE
    default = WarningRule.objects.get(tag=None)
    order.tags.clear()
    default.orange_hours = Decimal("2")
    default.save()
    assert colour_at(order, now) == Warning.ORANGE
    default.red_hours = Decimal("5")
    default.save()
    assert colour_at(order, now) == Warning.RED


def test_colour_counts_agree_with_the_lists_they_open(dispatched, staff, city, client):
    """The 预警 box of the 督办 page and of a unit's 看板: each count is the number of orders its link lists."""
    from supervision.queries import colour_counts

    for i in range(3):
        late = dispatched(title=f"久未签收 {i}")
        WorkOrder.objects.filter(pk=late.pk).update(received_at=DISPATCHED - timedelta(minutes=i))
    fresh = dispatched(title="刚派的")
    WorkOrder.objects.filter(pk=fresh.pk).update(dispatched_at=DISPATCHED + timedelta(days=3))
    warnings.recompute(DISPATCHED + timedelta(days=3))
    client.force_login(staff["h1"])
    for user, unit in ((staff["supervisor"], None), (staff["h1"], city["d1"])):
        counts = {c["colour"]: c for c in colour_counts(user, unit=unit)}
        assert counts[Warning.RED]["count"] == 3 and counts[Warning.GREEN]["count"] == 1
    listed = client.get(counts[Warning.RED]["url"]).content.decode()
    assert listed.count('class="warn-badge warn-3"') == 3
