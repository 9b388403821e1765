"""专员抽查: the population, a reproducible sample, validation, the checklist review, the unit's one answer."""

import random
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from notifications.models import Notification
from orders import transitions as t
from orders.errors import Conflict, Forbidden, InvalidInput
from supervision import spotchecks
from supervision.models import SpotCheck, SpotCheckItem, SpotCheckStatus

SH = ZoneInfo("Asia/Shanghai")
SEPT = (date(2025, 9, 1), date(2025, 9, 30))

pytestmark = pytest.mark.django_db


@pytest.fixture
def replied(staff, order_data, city):
    """An order of ``unit_key`` replied at ``at`` (received, dispatched and signed an hour before)."""

    def make(unit_key: str, handler_key: str, at: datetime):
        order, _ = t.intake(staff["operator"], order_data, at=at - timedelta(hours=1))
        order = t.dispatch(order, staff["dispatcher"], lead_unit=city[unit_key], at=at - timedelta(hours=1))
        order = t.sign(order, staff[handler_key], at=at - timedelta(minutes=30))
        return t.reply(order, staff[handler_key], result="resolved", content="已处理。", measures="已维修。", at=at)

    return make


@pytest.fixture
def september(replied, staff):
    """一区 replied twelve orders in September 2025, plus orders that must stay out of its population."""
    inside = [replied("d1", "h1", datetime(2025, 9, day, 10, 0, tzinfo=SH)) for day in range(2, 14)]
    late_evening = replied("d1", "h1", datetime(2025, 9, 30, 23, 30, tzinfo=SH))  # 15:30 UTC: still September here
    august = replied("d1", "h1", datetime(2025, 8, 28, 10, 0, tzinfo=SH))
    archived_in_sept = t.callback(august, staff["callback"], contact_result="reached", satisfaction="satisfied",
                                  resolved=True, at=datetime(2025, 9, 1, 0, 5, tzinfo=SH))  # fmt: skip
    outside = {
        "october": replied("d1", "h1", datetime(2025, 10, 1, 0, 10, tzinfo=SH)),
        "street": replied("s1", "hs1", datetime(2025, 9, 10, 10, 0, tzinfo=SH)),  # a sub-unit of 一区
        "other_unit": replied("d2", "h2", datetime(2025, 9, 10, 10, 0, tzinfo=SH)),
        "august": replied("d1", "h1", datetime(2025, 8, 20, 10, 0, tzinfo=SH)),
    }
    return {"inside": inside + [late_evening, archived_in_sept], "outside": outside}


def test_population_is_the_units_own_orders_replied_or_archived_in_the_period(september, city):
    ids = list(spotchecks.population(city["d1"], *SEPT).values_list("pk", flat=True))
    assert ids == sorted(o.pk for o in september["inside"])
    assert not set(ids) & {o.pk for o in september["outside"].values()}
    one_day = spotchecks.population(city["d1"], date(2025, 9, 30), date(2025, 9, 30))
    assert [o.pk for o in one_day] == [september["inside"][12].pk]  # 23:30 Beijing is 30 September


def test_same_seed_same_sample_another_seed_another(september, staff, city):
    first = spotchecks.create(staff["supervisor"], city["d1"], *SEPT, 5, seed=20250901)
    again = spotchecks.create(staff["supervisor"], city["d1"], "2025-09-01", "2025-09-30", "5", seed="20250901")
    other = spotchecks.create(staff["supervisor"], city["d1"], *SEPT, 5, seed=7)

    def sample(check):
        return sorted(check.items.values_list("order_id", flat=True))

    assert first.population == 14 and first.sample_size == 5 and first.seed == 20250901
    assert sample(first) == sample(again) and len(sample(first)) == 5
    assert sample(other) != sample(first)
    population = sorted(o.pk for o in september["inside"])
    assert sample(first) == sorted(random.Random(20250901).sample(population, 5))
    assert set(sample(first)) <= set(population)

    drawn = spotchecks.create(staff["supervisor"], city["d1"], *SEPT, 5)  # no seed: one is drawn and stored
    replay = spotchecks.create(staff["supervisor"], city["d1"], *SEPT, 5, seed=drawn.seed)
    assert sample(drawn) == sample(replay)
    by_day = dict(first.items.values_list("order_id", "activity_date"))
    assert all(SEPT[0] <= day <= SEPT[1] for day in by_day.values())


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((None, "2025-09-01", "2025-09-30", 3), "unit"),
        (("center", "2025-09-01", "2025-09-30", 3), "unit"),
        (("d1", "2025-09-30", "2025-09-01", 3), "period_end"),
        (("d1", "2025-09-01", "2099-01-01", 3), "period_end"),
        (("d1", "2025-13-01", "2025-09-30", 3), "period_start"),
        (("d1", "2025-09-01", "", 3), "period_end"),
        (("d1", "2025-09-01", "2025-09-30", 0), "size"),
        (("d1", "2025-09-01", "2025-09-30", -2), "size"),
        (("d1", "2025-09-01", "2025-09-30", "三"), "size"),
        (("d1", "2025-09-01", "2025-09-30", 15), "size"),  # the population is 14
        (("d1", "2025-07-01", "2025-07-31", 1), "population"),
        (("d2", "2025-09-01", "2025-09-30", 2), "size"),  # 二区 has one order in September
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(september, staff, city, args, field):
    unit_key, start, end, size = args
    with pytest.raises(InvalidInput) as exc:
        spotchecks.create(staff["supervisor"], city.get(unit_key), start, end, size)
    assert field in exc.value.errors
    assert SpotCheck.objects.count() == 0 and SpotCheckItem.objects.count() == 0


def test_bad_seed_and_wrong_role(september, staff, city):
    for seed in ("-1", "abc", str(10**18)):
        with pytest.raises(InvalidInput) as exc:
            spotchecks.create(staff["supervisor"], city["d1"], *SEPT, 2, seed=seed)
        assert "seed" in exc.value.errors
    with pytest.raises(InvalidInput) as exc:
        spotchecks.create(staff["supervisor"], city["d1"], "2025-09-01\x00", "2025-09-30", 2)
    assert "period_start" in exc.value.errors
    for role in ("leader", "h1", "dispatcher", "admin"):
        with pytest.raises(Forbidden):
            spotchecks.create(staff[role], city["d1"], *SEPT, 2)
    assert SpotCheck.objects.count() == 0


def test_review_records_a_finding_and_the_unit_answers_once(september, staff, city):
    check = spotchecks.create(staff["supervisor"], city["d1"], *SEPT, 3, seed=1)
    good, bad, flagged = check.items.order_by("order_id")
    yes = {"substance": "yes", "contact": "yes", "result_true": "yes"}

    with pytest.raises(InvalidInput) as exc:
        spotchecks.review(staff["supervisor"], good, {"substance": "yes", "contact": "maybe"})
    assert set(exc.value.errors) == {"contact", "result_true"}
    with pytest.raises(Forbidden):
        spotchecks.review(staff["leader"], good, yes)
    good = spotchecks.review(staff["supervisor"], good, yes)
    assert not good.finding and good.reviewed_by == staff["supervisor"]

    bad = spotchecks.review(staff["supervisor"], bad, {**yes, "contact": "no", "note": "市民称从未接到电话"})
    assert bad.finding and bad.finding_text == "确实联系了市民：否"
    assert Notification.objects.filter(user=staff["h1"], title__contains="专员抽查发现问题").count() == 1
    assert not Notification.objects.filter(user=staff["h2"]).exists()

    with pytest.raises(InvalidInput) as exc:
        spotchecks.review(staff["supervisor"], flagged, {**yes, "result_true": "unknown", "finding": True})
    assert "finding_text" in exc.value.errors
    flagged = spotchecks.review(staff["supervisor"], flagged, {**yes, "finding": True, "finding_text": "答复套话"})
    assert flagged.finding and flagged.finding_text == "答复套话"

    with pytest.raises(Forbidden):
        spotchecks.answer(staff["h2"], bad, "不是我们的")
    with pytest.raises(Forbidden):
        spotchecks.answer(staff["supervisor"], bad, "督办员不能代答")
    with pytest.raises(InvalidInput) as exc:
        spotchecks.answer(staff["h1"], bad, "   ")
    assert "answer" in exc.value.errors
    with pytest.raises(InvalidInput) as exc:
        spotchecks.answer(staff["h1"], bad, "已处理\x00")
    assert "answer" in exc.value.errors
    with pytest.raises(InvalidInput) as exc:
        spotchecks.review(staff["supervisor"], good, {**yes, "note": "x" * 5001})
    assert "note" in exc.value.errors
    with pytest.raises(Conflict):
        spotchecks.answer(staff["h1"], good, "没有问题也想说明")
    answered = spotchecks.answer(staff["h1"], bad, "已补打电话并记录通话。")
    assert answered.answer == "已补打电话并记录通话。" and answered.answered_by == staff["h1"]
    assert Notification.objects.filter(user=staff["supervisor"], title__contains="已说明抽查问题").exists()
    with pytest.raises(Conflict):
        spotchecks.answer(staff["h1"], bad, "再说明一次")
    assert SpotCheckItem.objects.get(pk=bad.pk).answer == "已补打电话并记录通话。"
    with pytest.raises(Conflict):
        spotchecks.review(staff["supervisor"], bad, yes)  # answered: the review stands

    spotchecks.close(staff["supervisor"], check)
    assert SpotCheck.objects.get(pk=check.pk).status == SpotCheckStatus.CLOSED
    with pytest.raises(Conflict):
        spotchecks.review(staff["supervisor"], flagged, yes)
    assert spotchecks.answer(staff["h1"], flagged, "已重新答复市民。").answered_at is not None


def test_close_waits_for_every_review(september, staff, city):
    check = spotchecks.create(staff["supervisor"], city["d1"], *SEPT, 2, seed=3)
    with pytest.raises(Conflict):
        spotchecks.close(staff["supervisor"], check)
    assert SpotCheck.objects.get(pk=check.pk).status == SpotCheckStatus.OPEN


def test_penalty_setting_is_validated_when_saved():
    from django.core.exceptions import ValidationError

    from system.config import get_setting
    from system.models import Setting

    assert spotchecks.parse_penalty("1.5") == spotchecks.parse_penalty(" 1.50 ")
    for bad in ("-1", "abc", "101", "NaN", "Infinity", ""):
        with pytest.raises(ValueError):
            spotchecks.parse_penalty(bad)
        with pytest.raises(ValidationError) as exc:
            Setting(key="spot_check_penalty", value=bad).full_clean()
        assert "value" in exc.value.message_dict
    assert get_setting("spot_check_penalty") == 2


# ---------------------------------------------------------------- pages


def test_pages_create_review_and_answer(september, staff, city, client):
    client.force_login(staff["supervisor"])
    assert client.get("/supervision/spotchecks/").status_code == 200
    assert "没有抽查记录" in client.get("/supervision/spotchecks/").content.decode()
    form = {"unit": "T1", "period_start": "2025-09-01", "period_end": "2025-09-30", "size": "99", "seed": ""}
    refused = client.post("/supervision/spotchecks/new/", form)
    assert refused.status_code == 422 and "抽样数量不能超过总体工单数 14" in refused.content.decode()
    assert 'data-field="size"' in refused.content.decode()
    refused = client.post("/supervision/spotchecks/new/", {**form, "size": "2", "period_start": "2025-07-01",
                                                           "period_end": "2025-07-31"})  # fmt: skip
    assert refused.status_code == 422 and "没有已答复或已归档的工单" in refused.content.decode()
    assert SpotCheck.objects.count() == 0

    created = client.post("/supervision/spotchecks/new/", {**form, "size": "3", "seed": "42"})
    check = SpotCheck.objects.get()
    assert created.status_code == 302 and created.url == f"/supervision/spotchecks/sample/?id={check.pk}"
    page = client.get(created.url).content.decode()
    assert '<code id="seed">42</code>' in page and "总体 14 张" in page
    items = list(check.items.order_by("order_id").select_related("order"))
    for item in items:
        assert f'href="/orders/{item.order.number}/"' in page

    prefix = f"item-{items[0].pk}"
    missing = client.post(created.url, {"item": items[0].pk, f"{prefix}-substance": "yes"})
    assert missing.status_code == 422 and "请选择“确实联系了市民”" in missing.content.decode()
    saved = client.post(created.url, {"item": items[0].pk, f"{prefix}-substance": "no", f"{prefix}-contact": "yes",
                                      f"{prefix}-result_true": "yes", f"{prefix}-note": "只写了“已处理”"})  # fmt: skip
    assert saved.status_code == 302
    assert SpotCheckItem.objects.get(pk=items[0].pk).finding_text == "答复有实质内容：否"
    unstorable = client.post(created.url, {"item": items[1].pk, f"item-{items[1].pk}-substance": "yes",
                                           f"item-{items[1].pk}-contact": "yes", f"item-{items[1].pk}-result_true":
                                           "yes", f"item-{items[1].pk}-note": "a\x00b"})  # fmt: skip
    assert unstorable.status_code == 422 and SpotCheckItem.objects.get(pk=items[1].pk).reviewed_at is None
    # the text the checklist implied is not kept as if typed: a corrected review states the new point
    page = client.get(created.url).content.decode()
    assert re.search(rf'id="id_{prefix}-finding_text">\s*</textarea>', page)
    assert re.search(rf'id="id_{prefix}-substance_1" checked>', page)  # 否 is kept
    corrected = {"item": items[0].pk, f"{prefix}-substance": "yes", f"{prefix}-contact": "no",
                 f"{prefix}-result_true": "yes", f"{prefix}-finding_text": ""}  # fmt: skip
    assert client.post(created.url, corrected).status_code == 302
    assert SpotCheckItem.objects.get(pk=items[0].pk).finding_text == "确实联系了市民：否"
    assert client.post("/supervision/spotchecks/findings/", {"item": items[0].pk}).status_code == 403
    assert client.post(created.url, {"close": "1"}).status_code == 409  # two samples not reviewed yet
    assert client.get("/supervision/spotchecks/sample/", {"id": "x"}).status_code == 404
    assert client.get("/supervision/spotchecks/sample/", {"id": str(10**30)}).status_code == 404
    assert client.post(created.url, {"item": "999999"}).status_code == 404

    client.force_login(staff["leader"])
    assert client.get(created.url).status_code == 200
    assert client.post(created.url, {"item": items[1].pk, f"item-{items[1].pk}-substance": "yes"}).status_code == 403
    assert client.get("/supervision/spotchecks/new/").status_code == 403

    client.force_login(staff["h2"])  # another unit: no finding, no sample, no answer
    assert items[0].order.number not in client.get("/supervision/spotchecks/findings/").content.decode()
    assert "一区" not in client.get("/supervision/spotchecks/").content.decode()
    assert client.get(created.url).status_code == 403
    answer = {"item": items[0].pk, f"{prefix}-answer": "不是我们的"}
    assert client.post("/supervision/spotchecks/findings/", answer).status_code == 404

    client.force_login(staff["h1"])
    assert client.get(created.url).status_code == 403
    assert "一区" in client.get("/supervision/spotchecks/").content.decode()
    findings = client.get("/supervision/spotchecks/findings/").content.decode()
    assert items[0].order.number in findings and "确实联系了市民：否" in findings
    assert items[1].order.number not in findings  # not reviewed: no finding
    empty = client.post("/supervision/spotchecks/findings/", {"item": items[0].pk, f"{prefix}-answer": ""})
    assert empty.status_code == 422 and "请填写说明" in empty.content.decode()
    done = client.post("/supervision/spotchecks/findings/", {"item": items[0].pk, f"{prefix}-answer": "已补充答复"})
    assert done.status_code == 302
    again = client.post("/supervision/spotchecks/findings/", {"item": items[0].pk, f"{prefix}-answer": "再说一次"})
    assert again.status_code == 409 and "该问题已说明，不能重复说明" in again.content.decode()
    assert SpotCheckItem.objects.get(pk=items[0].pk).answer == "已补充答复"

    for role in ("dispatcher", "operator", "callback", "admin"):
        client.force_login(staff[role])
        assert client.get("/supervision/spotchecks/").status_code == 403, role
        assert client.get("/supervision/spotchecks/findings/").status_code == 403, role


def test_list_filters_and_pagination(september, staff, city, client):
    for seed in range(21):
        spotchecks.create(staff["supervisor"], city["d1"], *SEPT, 1, seed=seed)
    spotchecks.create(staff["supervisor"], city["d2"], *SEPT, 1, seed=1)
    client.force_login(staff["leader"])
    page = client.get("/supervision/spotchecks/").content.decode()
    assert "第 1 / 2 页" in page
    only_two = client.get("/supervision/spotchecks/", {"unit": "T2"}).content.decode()
    assert "二区" in only_two and "一区" not in only_two
    assert "没有抽查记录" in client.get("/supervision/spotchecks/", {"status": "closed"}).content.decode()
    later = client.get("/supervision/spotchecks/", {"start": "2025-10-01"}).content.decode()
    assert "没有抽查记录" in later
    for odd in ({"start": "bad"}, {"page": "x"}, {"status": "nonsense"}):
        assert client.get("/supervision/spotchecks/", odd).status_code == 200


def test_checks_are_dated_by_beijing_days(september, staff, city):
    check = spotchecks.create(staff["supervisor"], city["d1"], date(2025, 9, 30), date(2025, 9, 30), 1, seed=0)
    (item,) = check.items.all()
    assert item.activity_date == date(2025, 9, 30)
    assert timezone.localdate(item.order.replied_at) == date(2025, 9, 30)


# ---------------------------------------------------------------- in Chromium


def _login(page, base: str, username: str) -> None:
    from tests.conftest import PASSWORD

    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{base}/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_spot_check_in_the_browser(live_server, page, replied, staff):
    orders = [replied("d1", "h1", datetime(2025, 9, day, 10, 0, tzinfo=SH)) for day in (2, 3, 4)]
    base = live_server.url

    _login(page, base, staff["supervisor"].username)
    page.click("nav.menu >> text=专员抽查")
    page.click("#new-spotcheck")
    page.select_option("#id_unit", "T1")
    page.fill("#id_period_start", "2025-09-01")
    page.fill("#id_period_end", "2025-09-30")
    page.fill("#id_size", "2")
    page.fill("#id_seed", "11")
    page.click("#spotcheck-form button[type=submit]")
    page.wait_for_selector("#seed")
    assert page.locator("#seed").inner_text() == "11"
    check = SpotCheck.objects.get()
    first = check.items.order_by("order_id").first()
    assert first.order_id in {o.pk for o in orders}
    card = f"#item-{first.pk}"
    page.check(f"{card} input[name='item-{first.pk}-substance'][value=yes]")
    page.check(f"{card} input[name='item-{first.pk}-contact'][value=no]")
    page.check(f"{card} input[name='item-{first.pk}-result_true'][value=unknown]")
    page.click(f"{card} button[type=submit]")
    page.wait_for_selector(f"{card} .tag.red")
    assert "确实联系了市民：否" in page.locator(card).inner_text()

    _login(page, base, staff["h1"].username)
    page.click("nav.menu >> text=专员抽查")
    page.click("text=抽查问题")
    page.wait_for_selector(f"#item-{first.pk} textarea")
    page.fill(f"#item-{first.pk} textarea", "已补打电话，市民确认问题已解决。")
    page.click(f"#item-{first.pk} button[type=submit]")
    page.wait_for_selector(".messages .success")
    assert "已说明" in page.locator(f"#item-{first.pk}").inner_text()
    assert SpotCheckItem.objects.get(pk=first.pk).answered_by == staff["h1"]
