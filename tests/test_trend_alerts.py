"""监测预警 over real orders: the hourly job raises one alert per series, tells the right people, and the alert
is turned into 多人一诉 or a 督办单, closes itself when its orders are done, and is shown only to whom it concerns."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from alerts import trends
from alerts.models import AlertRule, Dimension, Kind, Status, TrendAlert
from categories.models import Category
from notifications.models import Notification
from orders import transitions as t
from orders.models import Closure, State, WorkOrder
from supervision.models import SupervisionOrder
from system.schedule import JOBS

pytestmark = pytest.mark.django_db

LEAF = "城乡建设 › 城市建设和市政管理 › 城市公共设施"
HEATING = "城乡建设 › 城市建设和市政管理 › 冬季采暖"


@pytest.fixture
def now():
    return timezone.now().replace(second=0, microsecond=0)


@pytest.fixture
def take(staff, order_data):
    """Take in an order at a given instant, with overrides of the fixture's data."""

    def intake(at, **changes):
        data = {**order_data, "caller_phone": f"1390000{intake.n:04d}", **changes}
        intake.n += 1
        order, _ = t.intake(staff["operator"], data, at=at)
        return order

    intake.n = 0
    return intake


@pytest.fixture
def burst(take, now):
    """Nine weeks ago one order (so there is a baseline on record), now six in an hour and a half in 一区一街道."""
    take(now - timedelta(weeks=9), area="T2")
    return [take(now - timedelta(minutes=90 - 15 * i), area="T1-S1") for i in range(6)]


def leaf(name: str = LEAF) -> Category:
    return Category.objects.get(full_name=name)


def test_a_burst_raises_one_alert_even_when_the_job_runs_twice(burst, staff, city, now):
    first = trends.run(now)
    second = trends.run(now)
    # 城乡建设 × 一区, 城市建设和市政管理 × 全市 and 城乡建设 × 全市 are the same six orders: covered, not raised
    assert first == {"closed": 0, "created": 1, "updated": 0, "covered": 3}
    assert second == {"closed": 0, "created": 0, "updated": 1, "covered": 3}
    alert = TrendAlert.objects.get()
    # the most specific series: the level-2 category in the district; the wider ones are the same orders
    assert alert.kind == Kind.BURST and alert.dimension == Dimension.CATEGORY_AREA
    assert (alert.category, alert.district) == (leaf().parent, city["d1"])
    assert alert.series_label == "一区 · 城乡建设 › 城市建设和市政管理"
    assert alert.observed == 6 and alert.expected < 1 and alert.ratio > 6 and alert.p_value < 1e-4
    assert set(alert.orders.all()) == set(burst)
    # no category default unit: the district is responsible; its handlers and the supervisors are told once
    assert alert.responsible_unit == city["d1"]
    link = f"/alerts/{alert.pk}/"
    assert Notification.objects.filter(user=staff["h1"], link=link).count() == 1
    assert Notification.objects.filter(user=staff["supervisor"], link=link).count() == 1
    assert not Notification.objects.filter(user=staff["h2"], link=link).exists()
    assert "6 件" in Notification.objects.get(user=staff["h1"]).body


def test_quiet_without_a_burst_and_without_history(take, now):
    for i in range(6):  # a new system: six orders but no past week on record
        take(now - timedelta(minutes=10 * i + 5), area="T1-S1")
    assert trends.run(now)["created"] == 0
    take(now - timedelta(weeks=9), area="T2")
    for week in range(1, 9):  # the same six every week at this hour: ordinary
        for i in range(6):
            take(now - timedelta(weeks=week, minutes=10 * i + 5), area="T1-S1")
    assert trends.run(now)["created"] == 0 and not TrendAlert.objects.exists()


def test_a_later_order_is_added_to_the_open_alert(burst, take, now):
    trends.run(now)
    later = take(now + timedelta(minutes=20), area="T1-S1-C1")  # a community of the same district
    trends.run(now + timedelta(hours=1))
    alert = TrendAlert.objects.get()
    assert later in alert.orders.all() and alert.orders.count() == 7
    assert alert.last_detected_at == now + timedelta(hours=1) and alert.first_detected_at == now


def test_responsible_unit_is_the_categorys_default_unit_or_the_unit_itself(burst, staff, city, now, take):
    category = leaf().parent
    category.default_unit = city["dept"]
    category.save()
    trends.run(now)
    alert = TrendAlert.objects.get()
    assert alert.responsible_unit == city["dept"]
    assert Notification.objects.filter(user=staff["hdept"], link=f"/alerts/{alert.pk}/").exists()
    assert not Notification.objects.filter(user=staff["h1"]).exists()

    # a unit swamped across categories: a unit series, the unit itself responsible
    leaves = [Category.objects.filter(level=3, parent__parent=top).first() for top in Category.objects.filter(level=1)]
    later = now + timedelta(days=1)
    for i, category in enumerate(leaves[:6]):  # one from each of six top categories
        order = take(later - timedelta(minutes=10 * i + 5), category=category.pk)
        t.dispatch(order, staff["dispatcher"], lead_unit=city["power"], at=later - timedelta(minutes=2))
    trends.run(later)
    unit_alert = TrendAlert.objects.get(dimension=Dimension.UNIT)
    assert unit_alert.unit == unit_alert.responsible_unit == city["power"]
    assert unit_alert.series_label == "供电公司" and unit_alert.orders.count() == 6


def test_another_scheduler_creating_the_alert_first_is_updated_not_duplicated(burst, staff, now, monkeypatch):
    real_evaluate = trends.evaluate

    def evaluate_then_lose_the_race(at, checks=None):
        findings = real_evaluate(at, checks)
        monkeypatch.setattr(trends, "evaluate", real_evaluate)
        trends.raise_alerts(at)  # the other scheduler's run commits between this run's reads and its writes
        return findings

    monkeypatch.setattr(trends, "evaluate", evaluate_then_lose_the_race)
    done = trends.raise_alerts(now)
    assert done["created"] == [] and len(done["updated"]) == 1
    assert TrendAlert.objects.count() == 1
    assert Notification.objects.filter(user=staff["supervisor"]).count() == 1


def test_convert_to_multi_caller_order_merges_the_others_into_the_parent(burst, staff, city, now, client):
    dispatched = t.dispatch(burst[5], staff["dispatcher"], lead_unit=city["d1"])  # no longer mergeable
    trends.run(now)
    alert = TrendAlert.objects.get()
    parent = burst[0]
    client.force_login(staff["dispatcher"])
    page = client.get(f"/alerts/{alert.pk}/")
    assert "转为多人一诉" in page.content.decode() and all(o.number in page.content.decode() for o in burst)
    response = client.post(f"/alerts/{alert.pk}/", {"action": "merge", "parent": parent.pk}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert f"已将 4 张工单并入 {parent.number}" in html
    assert f"1 张工单未能并入（{dispatched.number}：" in html and "不能“并单”" in html
    for order in burst[1:5]:
        order.refresh_from_db()
        assert (order.parent_id, order.closure, order.state) == (parent.pk, Closure.MERGED, State.ARCHIVED)
    assert WorkOrder.objects.get(pk=dispatched.pk).state == State.PENDING_SIGN
    alert.refresh_from_db()
    assert (alert.status, alert.parent_order, alert.handled_by) == (Status.HANDLED, parent, staff["dispatcher"])


def test_merge_refusals_are_reported_not_an_error_page(burst, staff, now, client):
    trends.run(now)
    alert = TrendAlert.objects.get()
    client.force_login(staff["supervisor"])  # 并单 is the front desk's: every order is refused, and said so
    assert "转为多人一诉</h2>" not in client.get(f"/alerts/{alert.pk}/").content.decode()
    response = client.post(f"/alerts/{alert.pk}/", {"action": "merge", "parent": burst[0].pk}, follow=True)
    assert response.status_code == 200 and "5 张工单未能并入" in response.content.decode()
    assert not WorkOrder.objects.filter(closure=Closure.MERGED).exists()
    assert TrendAlert.objects.get().status == Status.OPEN
    # a parent that is not one of the alert's open orders is bad input
    client.force_login(staff["dispatcher"])
    outsider = WorkOrder.objects.exclude(pk__in=[o.pk for o in burst]).get()
    bad = client.post(f"/alerts/{alert.pk}/", {"action": "merge", "parent": outsider.pk})
    assert bad.status_code == 422 and not WorkOrder.objects.filter(closure=Closure.MERGED).exists()
    assert client.post(f"/alerts/{alert.pk}/", {"action": "explode"}).status_code == 400


def test_convert_to_supervision_order(burst, staff, city, now, client):
    trends.run(now)
    alert = TrendAlert.objects.get()
    client.force_login(staff["supervisor"])
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "转为督办单" in page and 'value="T1" selected' in page and "一区 · 城乡建设" in page
    deadline = (timezone.localtime(now) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    bad = client.post(f"/alerts/{alert.pk}/", {"action": "supervise", "unit": "T1", "requirements": "", "deadline": ""})
    assert bad.status_code == 422 and "请填写督办要求" in bad.content.decode()
    assert not SupervisionOrder.objects.exists()
    ok = client.post(
        f"/alerts/{alert.pk}/",
        {"action": "supervise", "unit": "T1-S1", "requirements": "集中排查路灯故障", "deadline": deadline},
    )
    assert ok.status_code == 302
    supervision = SupervisionOrder.objects.get()
    assert supervision.unit == city["s1"] and set(supervision.orders.all()) == set(burst)
    assert Notification.objects.filter(user=staff["hs1"], link=f"/supervision/orders/{supervision.number}/").exists()
    alert.refresh_from_db()
    assert (alert.status, alert.supervision) == (Status.HANDLED, supervision)
    assert supervision.number in client.get(f"/alerts/{alert.pk}/").content.decode()
    # a dispatcher may not issue one: refused by supervision.actions, shown on the form
    client.force_login(staff["dispatcher"])
    refused = client.post(
        f"/alerts/{alert.pk}/", {"action": "supervise", "unit": "T1", "requirements": "再督办", "deadline": deadline}
    )
    assert refused.status_code == 403 and "不能发督办单" in refused.content.decode()
    assert SupervisionOrder.objects.count() == 1


def test_alert_closes_itself_when_its_orders_are_merged_or_archived(burst, staff, now, client, take):
    trends.run(now)
    alert = TrendAlert.objects.get()
    parent = burst[0]
    for order in burst[1:]:
        t.merge(order, staff["dispatcher"], parent=parent)
    assert trends.run(now)["closed"] == 0  # the parent is still open
    t.answer_directly(parent, staff["operator"], answer="已答复：路灯已报修。")
    client.force_login(staff["supervisor"])
    html = client.get(f"/alerts/{alert.pk}/").content.decode()  # opening it closes it
    alert.refresh_from_db()
    assert alert.status == Status.CLOSED and alert.closed_at is not None
    assert "预警自动关闭" in html and "转为督办单</h2>" not in html
    assert trends.run(now)["created"] == 0  # the same orders do not raise a new alert once it has closed

    # the hourly run closes the others; a closed alert no longer blocks a new one on its series
    other = TrendAlert.objects.create(
        kind=Kind.RISE, dimension=Dimension.UNIT, series_key="u:0", observed=1, expected=1, ratio=1, p_value=1,
        window_start=now, window_end=now, first_detected_at=now, last_detected_at=now,
    )  # fmt: skip
    other.orders.add(parent)
    assert trends.close_finished() == 1
    again = [take(now + timedelta(days=1, minutes=-80 + 10 * i), area="T1-S1") for i in range(6)]
    trends.run(now + timedelta(days=1))
    assert set(TrendAlert.objects.get(status=Status.OPEN, kind=Kind.BURST).orders.all()) == set(again)


def test_thresholds_are_validated_when_saved():
    rule = AlertRule.objects.get(kind=Kind.BURST)
    assert (rule.window_hours, rule.baseline_weeks, rule.min_count) == (2, 8, 5)
    cases = {
        "window_hours": (0, "统计窗口必须在 1 到 168 小时之间"),
        "baseline_weeks": (0, "基线周数必须在 1 到 12 之间"),
        "min_count": (0, "最少工单数必须是正整数"),
        "min_ratio": (0.5, "最低倍数不能小于 1"),
        "max_p": (1.5, "显著性阈值 p 必须大于 0 且小于 1"),
    }
    for field, (value, message) in cases.items():
        bad = AlertRule.objects.get(kind=Kind.BURST)
        setattr(bad, field, value)
        with pytest.raises(ValidationError) as exc:
            bad.save()
        assert message in exc.value.message_dict[field][0], field
    for p in (0, 1, -0.1, float("nan")):
        rule.max_p = p
        with pytest.raises(ValidationError):
            rule.full_clean()
    rule.refresh_from_db()
    assert rule.max_p == 0.0001 and rule.min_ratio == 3.0


def test_the_admin_refuses_bad_thresholds_with_the_field_named(staff, client):
    rule = AlertRule.objects.get(kind=Kind.RISE)
    client.force_login(staff["admin"])
    form = {"kind": "rise", "window_hours": "-3", "baseline_weeks": "4", "min_count": "10", "min_ratio": "0.8",
            "max_p": "0", "is_active": "on"}  # fmt: skip
    response = client.post(f"/admin/alerts/alertrule/{rule.pk}/change/", form)
    html = response.content.decode()
    assert response.status_code == 200 and "最低倍数不能小于 1" in html and "显著性阈值 p 必须大于 0 且小于 1" in html
    rule.refresh_from_db()
    assert (rule.window_hours, rule.min_ratio, rule.max_p) == (168, 1.5, 0.001)


def test_rules_change_what_is_raised(burst, now):
    AlertRule.objects.filter(kind=Kind.BURST).update(min_count=7)
    assert trends.run(now)["created"] == 0
    AlertRule.objects.filter(kind=Kind.BURST).update(min_count=5, is_active=False)
    assert trends.run(now)["created"] == 0
    AlertRule.objects.filter(kind=Kind.BURST).update(is_active=True)
    assert trends.run(now)["created"] == 1


def test_a_slow_rise_raises_a_rise_alert(take, now):
    take(now - timedelta(weeks=6), area="T2")
    for week in range(1, 5):  # about two a week in the past four weeks
        for day in (1, 4):
            take(now - timedelta(weeks=week, days=day), area="T1-S1", category=leaf(HEATING).pk)
    for day in range(7):  # twelve this week, no more than two on any day
        for hours in (4, 9)[: 1 + (day < 5)]:
            take(now - timedelta(days=day, hours=hours), area="T1-S1", category=leaf(HEATING).pk)
    trends.run(now)
    alert = TrendAlert.objects.get()
    assert alert.kind == Kind.RISE and alert.observed == 12 and alert.expected == pytest.approx(2, abs=0.3)
    assert alert.window_end - alert.window_start == timedelta(days=7)


def test_the_job_is_scheduled_every_hour_and_runs_as_a_task(burst):
    job = JOBS["trends"]
    assert job.interval == timedelta(hours=1)
    result = import_string(job.task).call()
    assert result["created"] == 1 and TrendAlert.objects.count() == 1


def test_pages_by_role(burst, staff, city, now, client, make_user):
    trends.run(now)
    alert = TrendAlert.objects.get()
    url = f"/alerts/{alert.pk}/"
    for name in ("supervisor", "dispatcher", "leader", "admin", "h1"):
        client.force_login(staff[name])
        listing = client.get("/alerts/")
        assert listing.status_code == 200 and "一区 · 城乡建设 › 城市建设和市政管理" in listing.content.decode(), name
        assert client.get(url).status_code == 200, name
        assert "监测预警" in client.get("/").content.decode(), name
    for name in ("operator", "callback"):
        client.force_login(staff[name])
        assert client.get("/alerts/").status_code == 403 and client.get(url).status_code == 403, name
    # a handler of another district sees neither the alert nor its page
    client.force_login(staff["h2"])
    assert "城市建设和市政管理" not in client.get("/alerts/").content.decode()
    assert client.get(url).status_code == 404
    # a leader reads but does not act
    client.force_login(staff["leader"])
    html = client.get(url).content.decode()
    assert "转为督办单</h2>" not in html and "转为多人一诉</h2>" not in html and "6 件" in html
    assert client.post(url, {"action": "merge", "parent": burst[0].pk}).status_code == 403
    assert not WorkOrder.objects.filter(closure=Closure.MERGED).exists()
    client.logout()
    assert client.get("/alerts/").status_code == 302


def test_list_filters_pages_and_empty_state(staff, now, client):
    client.force_login(staff["supervisor"])
    assert "暂无监测预警" in client.get("/alerts/").content.decode()
    for i in range(25):
        TrendAlert.objects.create(
            kind=Kind.RISE if i % 5 == 0 else Kind.BURST, dimension=Dimension.UNIT, series_key=f"u:{i}",
            status=Status.CLOSED if i < 3 else Status.OPEN, observed=5, expected=1, ratio=5, p_value=1e-5,
            window_start=now - timedelta(hours=2), window_end=now, first_detected_at=now,
            last_detected_at=now - timedelta(minutes=25 - i),
        )  # fmt: skip
    first = client.get("/alerts/").content.decode()
    assert "第 1 / 2 页，共 25 条" in first and "已关闭" not in first.split("<tbody>")[1]  # open first
    second = client.get("/alerts/?page=2").content.decode()
    assert second.split("<tbody>")[1].count("已关闭") == 3
    closed = client.get("/alerts/?status=closed").content.decode()
    assert "共 3 条" in closed
    rises = client.get("/alerts/?kind=rise&status=open").content.decode()
    assert "共 4 条" in rises and "短时激增" not in rises.split("<tbody>")[1]
    assert "没有符合条件的预警" in client.get("/alerts/?kind=rise&status=handled").content.decode()
    assert client.get("/alerts/?page=x&status=<script>&kind=9").status_code == 200
    assert client.get("/alerts/999999/").status_code == 404


def race(*calls) -> list:
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int, call) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects whatever came back
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_schedulers_at_once_make_one_alert_and_one_message_each(burst, staff, now):
    for _ in range(3):
        results = race(lambda: trends.run(now), lambda: trends.run(now))
        assert all(isinstance(r, dict) for r in results), results
        assert TrendAlert.objects.count() == 1
        assert Notification.objects.filter(user=staff["supervisor"]).count() == 1
        assert TrendAlert.objects.get().orders.count() == 6
