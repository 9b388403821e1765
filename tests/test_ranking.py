"""红黑榜: the three rates and the composite score, pinned on hand-built orders."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from analytics.indicators import UnitScore, parse_weights
from orders import transitions as t
from orders.models import WorkOrder
from supervision.ranking import notice_text, rank_units
from system.models import Setting

SH = ZoneInfo("Asia/Shanghai")
DAY = datetime(2025, 9, 15, 9, 0, tzinfo=SH)  # a Monday

pytestmark = pytest.mark.django_db


@pytest.fixture
def handled(staff, order_data, city):
    """(unit, signed in time?, callback) → one order dispatched, signed, replied and called back on DAY."""

    def make(unit_key: str, handler_key: str, on_time: bool, satisfaction: str | None, resolved: bool | None):
        order, _ = t.intake(staff["operator"], order_data, at=DAY)
        order = t.dispatch(order, staff["dispatcher"], lead_unit=city[unit_key], at=DAY)
        sign_at = DAY + (timedelta(minutes=30) if on_time else timedelta(hours=5))
        order = t.sign(order, staff[handler_key], at=sign_at)
        order = t.reply(order, staff[handler_key], result="resolved", content="已处理。", measures="已维修。",
                        at=sign_at + timedelta(hours=1))  # fmt: skip
        if satisfaction is None:
            t.callback(order, staff["callback"], contact_result="unreachable", at=sign_at + timedelta(hours=2))
        else:
            t.callback(order, staff["callback"], contact_result="reached", satisfaction=satisfaction,
                       resolved=resolved, at=sign_at + timedelta(hours=2))  # fmt: skip
        return WorkOrder.objects.get(pk=order.pk)

    return make


def test_rates_and_composite_on_hand_built_orders(handled):
    Setting.objects.create(key="ranking_min_orders", value="2")
    # 一区: 4 dispatched, 3 signed in time; 3 valid callbacks (1 unreachable): 2 resolved, 3 satisfied-or-basic
    handled("d1", "h1", True, "satisfied", True)
    handled("d1", "h1", True, "basic", True)
    handled("d1", "h1", True, "basic", False)
    handled("d1", "h1", False, None, None)
    # 二区: 2 dispatched, both in time; 2 valid callbacks, 1 resolved, 1 satisfied
    handled("d2", "h2", True, "satisfied", True)
    handled("d2", "h2", True, "unsatisfied", False)

    ranking = rank_units(date(2025, 9, 15), date(2025, 9, 15))
    by_name = {r.score.unit_name: r for r in ranking.ranked}
    one, two = by_name["一区"], by_name["二区"]
    assert (one.score.dispatched, one.score.responded, one.score.valid_callbacks) == (4, 3, 3)
    assert one.score.response_rate == Decimal("0.75")
    assert one.score.resolution_rate == Decimal(2) / 3 and one.score.satisfaction_rate == 1
    # 100 × (0.10 × 0.75 + 0.45 × 2/3 + 0.45 × 1) = 82.50
    assert one.composite == Decimal("82.50")
    # 100 × (0.10 × 1 + 0.45 × 0.5 + 0.45 × 0.5) = 55.00
    assert two.composite == Decimal("55.00")
    assert [r.score.unit_name for r in ranking.red] == ["一区"]
    assert [r.score.unit_name for r in ranking.black] == ["二区"]
    assert (one.rank, two.rank) == (1, 2)

    text = notice_text(ranking)
    assert "2025年09月15日至2025年09月15日" in text and "第1名 一区：综合得分 82.50" in text
    assert "响应率 75.00%" in text and "二、黑榜" in text and "第2名 二区" in text

    assert rank_units(date(2025, 9, 16), date(2025, 9, 20)).ranked == []
    Setting.objects.filter(key="ranking_min_orders").update(value="3")  # 二区 has only 2 orders
    ranking = rank_units(date(2025, 9, 15), date(2025, 9, 15))
    assert [r.score.unit_name for r in ranking.ranked] == ["一区"]
    assert [s.unit_name for s in ranking.unranked] == ["二区"]


def test_weights_are_a_setting(handled):
    handled("d1", "h1", False, "satisfied", True)  # response 0, resolution 1, satisfaction 1
    Setting.objects.create(key="kpi_weights", value="0.5,0.25,0.25")
    Setting.objects.create(key="ranking_min_orders", value="1")
    (only,) = rank_units(date(2025, 9, 15), date(2025, 9, 15)).ranked
    assert only.composite == Decimal("50.00")
    with pytest.raises(ValueError):
        parse_weights("0.5,0.5,0.5")
    with pytest.raises(ValueError):
        parse_weights("a,b,c")


def test_no_data_is_not_zero():
    score = UnitScore(1, "某单位", dispatched=3, responded=3)
    assert score.resolution_rate is None and score.composite(parse_weights("0.1,0.45,0.45")) is None


def test_ranking_pages(handled, staff, client):
    Setting.objects.create(key="ranking_min_orders", value="1")
    handled("d1", "h1", True, "satisfied", True)
    client.force_login(staff["leader"])
    page = client.get("/supervision/rankings/", {"start": "2025-09-15", "end": "2025-09-15"}).content.decode()
    assert "一区" in page and "100.00" in page
    notice = client.get("/supervision/rankings/notice.txt", {"start": "2025-09-15", "end": "2025-09-15"})
    assert notice["Content-Disposition"].startswith("attachment") and "一区" in notice.content.decode()
    assert client.get("/supervision/rankings/", {"start": "bad", "end": "2025-09-15"}).status_code == 200
    client.force_login(staff["h1"])
    assert client.get("/supervision/rankings/").status_code == 403


def test_a_spot_check_finding_moves_a_unit_down(handled, staff, city, client):
    from supervision import spotchecks

    Setting.objects.create(key="ranking_min_orders", value="1")
    handled("d1", "h1", True, "satisfied", True)  # 一区: 100.00
    handled("d1", "h1", True, "satisfied", True)
    handled("d2", "h2", True, "satisfied", True)
    handled("d2", "h2", True, "basic", False)  # 二区: 100 × (0.10 + 0.45 × 0.5 + 0.45) = 77.50
    day = date(2025, 9, 15)
    before = rank_units(day, day)
    assert [(r.score.unit_name, r.composite, r.findings) for r in before.ranked] == [
        ("一区", Decimal("100.00"), 0), ("二区", Decimal("77.50"), 0),
    ]  # fmt: skip

    Setting.objects.create(key="spot_check_penalty", value="12.5")
    check = spotchecks.create(staff["supervisor"], city["d1"], day, day, 2, seed=1)
    first, second = check.items.all()
    yes = {"substance": "yes", "contact": "yes", "result_true": "yes"}
    spotchecks.review(staff["supervisor"], first, {**yes, "contact": "no"})
    spotchecks.review(staff["supervisor"], second, {**yes, "finding": True, "finding_text": "答复套话"})
    assert rank_units(day, day).ranked[0].score.unit_name == "二区"
    spotchecks.review(staff["supervisor"], second, yes)  # corrected: one finding left, 一区 87.50 is first again
    assert [(r.score.unit_name, r.composite) for r in rank_units(day, day).ranked][0] == ("一区", Decimal("87.50"))
    spotchecks.review(staff["supervisor"], second, {**yes, "finding": True, "finding_text": "答复套话"})

    after = rank_units(day, day)
    assert [(r.score.unit_name, r.composite, r.findings, r.rank) for r in after.ranked] == [
        ("二区", Decimal("77.50"), 0, 1), ("一区", Decimal("75.00"), 2, 2),
    ]  # fmt: skip
    assert after.ranked[1].base == Decimal("100.00") and after.penalty == Decimal("12.5")
    assert [r.score.unit_name for r in after.black] == ["一区"]
    assert "第2名 一区：综合得分 75.00" in notice_text(after) and "抽查问题 2 个" in notice_text(after)
    # findings count on the day their order was handled: none on later days
    assert rank_units(date(2025, 9, 16), date(2025, 9, 16)).ranked == []
    assert spotchecks.findings_per_unit(date(2025, 9, 16), date(2025, 9, 30)) == {}

    client.force_login(staff["supervisor"])
    page = client.get("/supervision/rankings/", {"start": "2025-09-15", "end": "2025-09-15"}).content.decode()
    assert "<th>抽查问题</th>" in page and '<span class="tag red">2</span>' in page and "扣分前 100.00" in page
