"""Every indicator pinned on a hand-built set of orders, through the roll-up, by dimension and period."""

import os
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from analytics import indicators, rollup
from analytics.indicators import Filters
from analytics.models import OrderFact, RollupCell
from categories.models import Category, RequestType
from orders import transitions as t
from orders.models import WorkOrder
from supervision import actions

SH = ZoneInfo("Asia/Shanghai")
MON = datetime(2025, 9, 15, 9, 0, tzinfo=SH)
WEEK = (date(2025, 9, 15), date(2025, 9, 26))  # eleven days: B is finished on the 25th

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(staff, order_data, city):
    """Week of 15 September 2025:
    - A: to 一区, signed in time, finished on time after 2 h, called back satisfied + resolved;
    - B: to 一街道 (under 一区), signed late, extension requested, finished late after 240 h, reached, basic, not
      resolved, then reopened;
    - C: to 二区, return requested, still open, under a supervision order;
    - D: answered directly at intake (web, enterprise);
    - E: received on Sunday the 21st, not dispatched;
    - F: to 二区, signed in time, finished late after 72 h (no callback yet);
    and one order received a year earlier and one in the week before, for 同比 and 环比."""
    op, disp, cb = staff["operator"], staff["dispatcher"], staff["callback"]

    def new(at, **changes):
        return t.intake(op, {**order_data, "area": city["s1"], **changes}, at=at)[0]

    a = t.dispatch(new(MON), disp, lead_unit=city["d1"], at=MON)
    a = t.sign(a, staff["h1"], at=MON + timedelta(minutes=30))
    a = t.reply(
        a, staff["h1"], result="resolved", content="已修复。", measures="更换灯具。", at=MON + timedelta(hours=2)
    )
    t.callback(a, cb, contact_result="reached", satisfaction="satisfied", resolved=True, at=MON + timedelta(hours=3))

    b = t.dispatch(new(MON), disp, lead_unit=city["s1"], at=MON)
    b = t.sign(b, staff["hs1"], at=MON + timedelta(hours=30))
    WorkOrder.objects.filter(pk=b.pk).update(due_at=MON + timedelta(days=2))  # a two-day limit
    b.refresh_from_db()
    b = t.request_extension(
        b, staff["hs1"], new_due_at=b.due_at + timedelta(days=10), reason="需协调", at=MON + timedelta(hours=31)
    )
    b = t.reply(
        b, staff["hs1"], result="resolved", content="已处理。", measures="协调。", at=MON + timedelta(hours=240)
    )
    b = t.callback(b, cb, contact_result="reached", satisfaction="basic", resolved=False, at=MON + timedelta(hours=241))
    if b.state != "reopened":
        t.reopen(b, cb, reason="未解决", at=MON + timedelta(hours=242))

    c = t.dispatch(new(MON), disp, lead_unit=city["d2"], at=MON)
    c = t.request_return(c, staff["h2"], reason="不属于本单位", at=MON + timedelta(hours=1))
    actions.issue(
        staff["supervisor"], city["d2"], [c], "请尽快办理", MON + timedelta(days=3), at=MON + timedelta(hours=2)
    )

    d = new(
        MON,
        channel="web",
        request_type="consult",
        is_enterprise=True,
        enterprise_name="某公司",
        enterprise_credit_code="91430100MA4L8XYM38",
    )
    t.answer_directly(d, op, answer="按政策可以办理。", at=MON + timedelta(minutes=5))

    new(datetime(2025, 9, 21, 10, 0, tzinfo=SH))

    f = t.dispatch(new(MON), disp, lead_unit=city["d2"], at=MON)
    f = t.sign(f, staff["h2"], at=MON + timedelta(minutes=10))
    WorkOrder.objects.filter(pk=f.pk).update(due_at=MON + timedelta(days=2))
    f.refresh_from_db()
    f = t.reply(f, staff["h2"], result="resolved", content="已处理。", measures="清理。", at=MON + timedelta(hours=72))
    new(MON - timedelta(days=365))
    new(MON - timedelta(days=7))
    rollup.refresh()
    return {"a": a, "b": b, "c": c, "d": d, "f": f}


def test_each_formula_on_the_week(orders):
    c = indicators.totals(*WEEK)
    assert (c.received, c.direct, c.dispatched, c.responded) == (6, 1, 4, 2)
    # B was reopened: not finished any more until its unit replies again
    assert (c.finished, c.on_time, c.valid_callbacks, c.resolved, c.satisfied) == (2, 1, 2, 1, 2)
    assert (c.returns, c.reopens, c.extensions, c.supervised) == (1, 1, 1, 1)
    assert c.direct_rate == Decimal(1) / 6
    assert c.response_rate == Decimal("0.5")
    assert c.on_time_rate == Decimal("0.5")
    assert c.resolution_rate == Decimal("0.5") and c.satisfaction_rate == 1
    assert c.return_rate == c.reopen_rate == c.extension_rate == Decimal("0.25")
    assert c.average_handling_hours == Decimal("37.0")  # (2 h + 72 h) / 2
    # 100 × (0.10 × 0.5 + 0.45 × 0.5 + 0.45 × 1) = 72.50
    assert c.composite() == Decimal("72.50")


def test_no_data_is_none_not_zero(orders):
    empty = indicators.totals(date(2030, 1, 1), date(2030, 2, 1))
    assert empty.received == 0
    assert empty.response_rate is None and empty.composite() is None and empty.average_handling_hours is None


def test_filters_unit_with_and_without_sub_units_category_area_channel_type_enterprise(orders, city):
    with_sub = indicators.totals(*WEEK, Filters(unit=city["d1"]))
    alone = indicators.totals(*WEEK, Filters(unit=city["d1"], sub_units=False))
    assert (with_sub.dispatched, alone.dispatched) == (2, 1)
    leaf = orders["a"].category
    for category in (leaf, leaf.parent, leaf.parent.parent):
        assert indicators.totals(*WEEK, Filters(category=category)).received == 6
    other = Category.objects.filter(level=1).exclude(pk=leaf.parent.parent_id).first()
    assert indicators.totals(*WEEK, Filters(category=other)).received == 0
    assert indicators.totals(*WEEK, Filters(area=city["d1"])).received == 6
    assert indicators.totals(*WEEK, Filters(area=city["d2"])).received == 0
    assert indicators.totals(*WEEK, Filters(channel="web")).received == 1
    assert indicators.totals(*WEEK, Filters(enterprise=True)).direct == 1
    complaint = RequestType.objects.get(code="complaint")
    assert indicators.totals(*WEEK, Filters(request_type=complaint)).received == 5  # D was a consultation


def test_breakdowns(orders, city):
    by_unit = {label: c for _, label, c in indicators.breakdown("unit", *WEEK)}
    assert by_unit["一区"].dispatched == 1 and by_unit["一街道"].dispatched == 1 and by_unit["二区"].returns == 1
    assert by_unit["二区"].dispatched == 2 and by_unit["二区"].on_time == 0
    by_channel = {label: c.received for _, label, c in indicators.breakdown("channel", *WEEK)}
    assert by_channel == {"电话": 5, "网站": 1}
    by_type = {label: c.received for _, label, c in indicators.breakdown("request_type", *WEEK)}
    assert by_type == {"投诉": 5, "咨询": 1}
    assert {label: c.received for _, label, c in indicators.breakdown("enterprise", *WEEK)} == {"非涉企": 5, "涉企": 1}


def test_periods_and_comparisons(orders):
    days = dict(indicators.series("day", *WEEK))
    assert days[date(2025, 9, 15)].received == 5 and days[date(2025, 9, 21)].received == 1
    weeks = indicators.series("week", date(2025, 9, 1), date(2025, 9, 30))
    assert [(d, c.received) for d, c in weeks] == [
        (date(2025, 9, 8), 1),
        (date(2025, 9, 15), 6),
        (date(2025, 9, 22), 0),
    ]
    (month,) = indicators.series("month", date(2025, 9, 1), date(2025, 10, 1))
    assert month[0] == date(2025, 9, 1) and month[1].received == 7
    years = indicators.series("year", date(2024, 1, 1), date(2026, 1, 1))
    assert [(d.year, c.received) for d, c in years] == [(2024, 1), (2025, 7)]
    comparison = indicators.compare(*WEEK)
    assert (comparison.current.received, comparison.previous.received, comparison.last_year.received) == (6, 1, 1)
    assert comparison.change(comparison.current.received, comparison.previous.received) == 5


def _cells() -> list[str]:
    fields = ("grain", "span", "day", "key", "received", "dispatched", "finished", "returns", "reopens", "satisfied")
    return sorted(map(str, RollupCell.objects.exclude(received=0, dispatched=0, finished=0, returns=0, reopens=0,
                                                      satisfied=0, valid_callbacks=0, supervised=0, direct=0,
                                                      extensions=0).values_list(*fields)))  # fmt: skip


def test_rollup_follows_changes_incrementally_and_once(orders, staff):
    cells, facts = _cells(), OrderFact.objects.count()
    assert cells and facts
    assert rollup.refresh() >= 1  # nothing changed since: the recent orders are recomputed to the same facts
    assert _cells() == cells and OrderFact.objects.count() == facts
    c = orders["c"]
    c.refresh_from_db()
    t.decide_return(c, staff["dispatcher"], approve=False, note="属于本单位", at=MON + timedelta(hours=4))
    assert rollup.refresh() >= 1
    assert indicators.totals(*WEEK).returns == 1


def test_cells_moved_by_differences_equal_cells_summed_afresh(orders, staff, city):
    """The cells after incremental runs (old facts subtracted, new ones added) are the cells a rebuild sums."""
    c = orders["c"]
    c.refresh_from_db()
    c = t.decide_return(c, staff["dispatcher"], approve=True, note="改派", at=MON + timedelta(hours=5))
    t.dispatch(c, staff["dispatcher"], lead_unit=city["d1"], at=MON + timedelta(days=1))
    WorkOrder.objects.filter(pk=orders["a"].pk).update(channel="web", updated_at=timezone.now())  # a dimension
    rollup.refresh()
    incremental, month_before = _cells(), indicators.totals(date(2025, 9, 1), date(2025, 10, 1))
    assert incremental and rollup.rebuild(batch=2) == OrderFact.objects.count()
    assert _cells() == incremental
    assert indicators.totals(date(2025, 9, 1), date(2025, 10, 1)) == month_before


def test_cells_facts_and_months_give_the_same_numbers(orders, city):
    """Whole months come from monthly cells, the edge days from daily cells, questions no grain answers from the
    per-order facts: every way sums to what the facts say."""
    category = orders["a"].category.parent.parent
    periods = [WEEK, (date(2024, 9, 1), date(2025, 9, 30)), (date(2024, 8, 20), date(2025, 10, 3))]
    choices = [Filters(), Filters(unit=city["d1"]), Filters(category=category), Filters(area=city["d1"]),
               Filters(unit=city["d2"], sub_units=False, channel="phone"), Filters(enterprise=True)]  # fmt: skip
    for start, end in periods:
        for filters in choices:
            expected = OrderFact.objects.filter(filters.q(), day__gte=start, day__lt=end).aggregate(**indicators.SUMS)
            got = indicators.totals(start, end, filters)
            assert [getattr(got, n) for n in indicators.COUNTERS] == [expected[n] or 0 for n in indicators.COUNTERS]
    assert indicators._rows(*periods[1], Filters()).model is RollupCell
    assert indicators._rows(*periods[1], choices[4]).model is OrderFact  # unit × channel: no grain has both
    months = indicators.series("month", *periods[2])
    assert sum(c.received for _, c in months) == indicators.totals(*periods[2]).received == 8


def test_rollup_claim_lets_only_one_run(orders):
    from analytics.models import RollupState

    state = RollupState.objects.get()
    stale = state.watermark - timedelta(minutes=1)
    RollupState.objects.update(watermark=stale)
    # another run moved the watermark after this one read it: the conditional UPDATE matches nothing
    assert RollupState.objects.filter(watermark=stale).update(watermark=state.watermark) == 1
    assert RollupState.objects.filter(watermark=stale).update(watermark=state.watermark) == 0


def test_drill_down_lists_the_orders_behind_each_counter(orders):
    behind = {
        name: set(rollup.orders_behind(name, *WEEK).values_list("pk", flat=True)) for name in rollup.COUNTER_SOURCES
    }
    a, b, c, d, f = (orders[k].pk for k in "abcdf")
    assert behind["direct"] == {d}
    assert behind["dispatched"] == {a, b, c, f} and behind["responded"] == {a, f}
    assert behind["finished"] == {a, f} and behind["on_time"] == {a}
    assert behind["returns"] == {c} and behind["supervised"] == {c}
    assert behind["reopens"] == behind["extensions"] == {b}
    assert behind["valid_callbacks"] == {a, b} and behind["resolved"] == {a}
    totals = indicators.totals(*WEEK)
    for name in ("received", "direct", "dispatched", "responded", "finished", "returns", "supervised"):
        assert len(behind[name]) == getattr(totals, name), name


def test_drill_down_filters_match_the_breakdown_filters(orders, city):
    for filters in (
        Filters(unit=city["d1"]),
        Filters(unit=city["d1"], sub_units=False),
        Filters(area=city["d1"]),
        Filters(category=orders["a"].category.parent.parent),
        Filters(channel="web"),
        Filters(enterprise=True),
    ):
        for name in ("received", "dispatched", "finished", "returns"):
            behind = rollup.orders_behind(name, *WEEK).filter(filters.order_q())
            assert behind.count() == getattr(indicators.totals(*WEEK, filters), name), (filters, name)


def test_rebuild_rollup_command_recomputes_everything_and_sets_the_watermark(orders):
    from django.core.management import call_command

    from analytics.models import RollupState

    cells = _cells()
    RollupCell.objects.all().delete()
    OrderFact.objects.filter(order=orders["a"]).delete()
    assert indicators.totals(*WEEK).received == 0
    before = timezone.now()
    call_command("rebuild_rollup", "--batch", "3", stdout=open(os.devnull, "w"))
    assert _cells() == cells and indicators.totals(*WEEK).received == 6
    assert RollupState.objects.get(name=rollup.STATE).watermark >= before


# ---------------------------------------------------------------- 提级量 and 不予受理量

OCT = datetime(2025, 10, 13, 9, 0, tzinfo=SH)  # a Monday, away from the week above
OCT_WEEK = (date(2025, 10, 13), date(2025, 10, 20))


@pytest.fixture
def lifted(staff, order_data, city):
    """Week of 13 October 2025:
    - G: to 一街道 on Monday, escalated to 一区 on Tuesday and to 住建局 on Wednesday (two escalations);
    - J: to 二街道 on Monday, escalated to 二区 the same day;
    - H: to 二区, non-acceptance asked on Tuesday and approved on Thursday;
    - K: to 二区, non-acceptance asked and rejected on Tuesday."""
    op, disp, sup = staff["operator"], staff["dispatcher"], staff["supervisor"]

    def sent(unit, at=OCT):
        return t.dispatch(t.intake(op, {**order_data, "area": city["s1"]}, at=at)[0], disp, lead_unit=unit, at=at)

    g = sent(city["s1"])
    g = t.escalate(g, sup, lead_unit=city["d1"].code, reason="街道无力解决", at=OCT + timedelta(days=1, hours=1))
    g = t.escalate(g, disp, lead_unit=city["dept"].code, reason="需市住建局统筹", at=OCT + timedelta(days=2, hours=1))
    j = t.escalate(sent(city["s2"]), disp, lead_unit=city["d2"].code, reason="需区里协调", at=OCT + timedelta(hours=3))
    h = t.request_non_acceptance(
        sent(city["d2"]), staff["h2"], ground="litigation", basis="已起诉", at=OCT + timedelta(days=1)
    )
    h = t.decide_non_acceptance(h, disp, approve=True, at=OCT + timedelta(days=3))
    k = t.request_non_acceptance(
        sent(city["d2"]), staff["h2"], ground="not_government", basis="民事纠纷", at=OCT + timedelta(days=1)
    )
    k = t.decide_non_acceptance(k, disp, approve=False, note="属于本单位职责", at=OCT + timedelta(days=1, hours=2))
    rollup.refresh()
    return {"g": g, "j": j, "h": h, "k": k}


def test_escalations_and_non_acceptance_are_counted_on_their_days(lifted):
    c = indicators.totals(*OCT_WEEK)
    assert (c.received, c.dispatched, c.escalated, c.not_accepted) == (4, 4, 3, 1)
    days = dict(indicators.series("day", *OCT_WEEK))
    assert [days[date(2025, 10, d)].escalated for d in (13, 14, 15, 16)] == [1, 1, 1, 0]
    assert [days[date(2025, 10, d)].not_accepted for d in (13, 14, 15, 16)] == [0, 0, 0, 1]
    # counted under the order's lead unit, as every counter is: G under 住建局 now, J and H under 二区
    by_unit = {label: c for _, label, c in indicators.breakdown("unit", *OCT_WEEK)}
    assert (by_unit["住建局"].escalated, by_unit["二区"].escalated, by_unit["二区"].not_accepted) == (2, 1, 1)
    scores = {s.unit_name: s for s in indicators.unit_scores(*OCT_WEEK)}
    assert (scores["二区"].escalated, scores["二区"].not_accepted, scores["住建局"].not_accepted) == (1, 1, 0)
    assert indicators.totals(*WEEK).escalated == indicators.totals(*WEEK).not_accepted == 0


def test_drill_down_lists_the_escalated_and_not_accepted_orders(lifted):
    g, j, h = (lifted[k].pk for k in "gjh")

    def behind(counter, start, end):
        return set(rollup.orders_behind(counter, start, end).values_list("pk", flat=True))

    assert behind("escalated", *OCT_WEEK) == {g, j}
    assert behind("escalated", date(2025, 10, 14), date(2025, 10, 15)) == {g}
    assert behind("not_accepted", *OCT_WEEK) == {h}  # K was rejected
    assert behind("not_accepted", date(2025, 10, 13), date(2025, 10, 16)) == set()  # asked on the 14th, decided 16th
    assert rollup.orders_behind("not_accepted", *OCT_WEEK).filter(Filters(unit=lifted["h"].lead_unit).order_q())


def test_escalation_counters_rebuild_to_the_same_cells(lifted):
    before = [getattr(indicators.totals(*OCT_WEEK), n) for n in ("escalated", "not_accepted")]
    rollup.rebuild(batch=2)
    assert [getattr(indicators.totals(*OCT_WEEK), n) for n in ("escalated", "not_accepted")] == before == [3, 1]


def test_unit_table_shows_both_counts_with_the_orders_behind(lifted, staff, client):
    client.force_login(staff["leader"])
    page = client.get("/analytics/unit/?start=2025-10-13&end=2025-10-19").content.decode()
    assert "提级量" in page and "不予受理量" in page
    d2 = lifted["h"].lead_unit
    link = f"/analytics/orders/?counter=not_accepted&amp;start=2025-10-13&amp;end=2025-10-19&amp;unit={d2.pk}&amp;sub=0"
    assert link in page
    listed = client.get(link.replace("&amp;", "&")).content.decode()
    assert lifted["h"].number in listed and lifted["k"].number not in listed
    escalated = client.get(f"/analytics/orders/?counter=escalated&start=2025-10-13&end=2025-10-19&unit={d2.pk}&sub=0")
    assert lifted["j"].number in escalated.content.decode() and lifted["g"].number not in escalated.content.decode()


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="parallel rebuild and index drops: PostgreSQL"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_rebuild_gives_the_same_roll_up_and_keeps_the_indexes(orders):
    """Two threads with their own connections take the id ranges in turn; the facts' indexes, dropped while the
    facts are written, are all there again afterwards."""
    from django.db import connection

    assert rollup.rebuild(batch=2) == OrderFact.objects.count()
    single = _cells()
    assert rollup.rebuild(batch=1, jobs=2) == OrderFact.objects.count()
    assert _cells() == single
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [OrderFact._meta.db_table])
        present = {row[0] for row in cursor.fetchall()}
    assert {index.name for index in OrderFact._meta.indexes} <= present
