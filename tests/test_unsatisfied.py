"""不满意工单动态清零: each follow-up status from real transitions, the per-unit counts, who sees what."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts.roles import Role
from orders import transitions as t
from supervision.unsatisfied import FollowUp, unit_counts, unsatisfied_orders

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 9, 15, 9, 0, tzinfo=SH)

pytestmark = pytest.mark.django_db


class Clock:
    """Strictly increasing instants, so that every event of a story has its own time."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=10)
        return self.now


@pytest.fixture
def story(staff, order_data, city):
    """An order of ``unit_key`` dispatched, signed and replied; returns (order, clock)."""

    def make(unit_key: str = "d1", handler_key: str = "h1"):
        clock = Clock()
        order, _ = t.intake(staff["operator"], order_data, at=clock())
        order = t.dispatch(order, staff["dispatcher"], lead_unit=city[unit_key], at=clock())
        order = t.sign(order, staff[handler_key], at=clock())
        order = t.reply(
            order, staff[handler_key], result="resolved", content="已处理。", measures="已维修。", at=clock()
        )
        return order, clock

    return make


def _status(order) -> str | None:
    row = unsatisfied_orders().filter(pk=order.pk).first()
    return None if row is None else row.follow_up


def _reply(order, handler, clock):
    return t.reply(order, handler, result="resolved", content="重新处理。", measures="更换灯泡。", at=clock())


def test_each_follow_up_status_through_the_life_cycle(story, staff):
    order, clock = story()
    assert _status(order) is None  # replied, not yet called back
    order = t.callback(order, staff["callback"], contact_result="reached", satisfaction="unsatisfied", resolved=True,
                       note="灯还是不亮", at=clock())  # fmt: skip
    assert _status(order) == FollowUp.PENDING
    order = t.reopen(order, staff["callback"], reason="市民反映仍未修好", at=clock())
    assert _status(order) == FollowUp.REOPENED
    order = _reply(order, staff["h1"], clock)
    assert _status(order) == FollowUp.REPLIED
    order = t.callback(order, staff["callback"], contact_result="unreachable", at=clock())
    assert _status(order) == FollowUp.REPLIED  # an unanswered call changes nothing
    order = t.callback(order, staff["callback"], contact_result="reached", satisfaction="basic", resolved=False,
                       at=clock())  # fmt: skip
    assert _status(order) == FollowUp.PENDING  # unresolved again: a new round
    order = t.reopen(order, staff["supervisor"], reason="再次重办", at=clock())
    order = _reply(order, staff["h1"], clock)
    order = t.callback(order, staff["callback"], contact_result="reached", satisfaction="satisfied", resolved=True,
                       at=clock())  # fmt: skip
    assert order.state == "archived"
    assert _status(order) == FollowUp.CLEARED
    row = unsatisfied_orders().get(pk=order.pk)
    assert row.last_good_at > row.last_bad_at


def test_archived_with_an_explanation(story, staff):
    order, clock = story()
    order = t.callback(order, staff["callback"], contact_result="reached", satisfaction="unsatisfied", resolved=False,
                       at=clock())  # fmt: skip
    order = t.archive(order, staff["dispatcher"], note="诉求超出政策范围，已向市民解释", at=clock())
    assert _status(order) == FollowUp.EXPLAINED


def test_satisfied_or_unreached_orders_are_not_listed(story, staff):
    satisfied, clock = story()
    t.callback(satisfied, staff["callback"], contact_result="reached", satisfaction="satisfied", resolved=True,
               at=clock())  # fmt: skip
    unreached, clock = story()
    t.callback(unreached, staff["callback"], contact_result="unreachable", at=clock())
    assert not unsatisfied_orders().exists()


@pytest.fixture
def mixed(story, staff):
    """一区: one pending, one reopened, one cleared; 二区: one explained; 一街道 (under 一区): one pending."""
    cb = staff["callback"]

    def unsatisfied(unit_key="d1", handler_key="h1"):
        order, clock = story(unit_key, handler_key)
        order = t.callback(order, cb, contact_result="reached", satisfaction="unsatisfied", resolved=False, at=clock())
        return order, clock

    pending, _ = unsatisfied()
    reopened, clock = unsatisfied()
    reopened = t.reopen(reopened, cb, reason="重办", at=clock())
    cleared, clock = unsatisfied()
    cleared = _reply(t.reopen(cleared, cb, reason="重办", at=clock()), staff["h1"], clock)
    cleared = t.callback(cleared, cb, contact_result="reached", satisfaction="satisfied", resolved=True, at=clock())
    explained, clock = unsatisfied("d2", "h2")
    explained = t.archive(explained, cb, note="已解释", at=clock())
    street, _ = unsatisfied("s1", "hs1")
    return {"pending": pending, "reopened": reopened, "cleared": cleared, "explained": explained, "street": street}


def test_per_unit_counts(mixed):
    counts = {row["lead_unit__name"]: (row["open"], row["cleared"], row["total"]) for row in unit_counts(
        unsatisfied_orders())}  # fmt: skip
    assert counts == {"一区": (2, 1, 3), "二区": (0, 1, 1), "一街道": (1, 0, 1)}
    assert unit_counts(unsatisfied_orders())[0]["lead_unit__name"] == "一区"  # most open first


def test_visibility(mixed, staff, make_user, city):
    assert set(unsatisfied_orders(staff["h1"]).values_list("pk", flat=True)) == {
        mixed["pending"].pk, mixed["reopened"].pk, mixed["cleared"].pk,
    }  # fmt: skip
    assert list(unsatisfied_orders(staff["h2"]).values_list("pk", flat=True)) == [mixed["explained"].pk]
    manager = make_user(Role.HANDLER, city["d1"], manager=True, username="m1")
    assert mixed["street"].pk in set(unsatisfied_orders(manager).values_list("pk", flat=True))
    assert unsatisfied_orders(staff["operator"]).count() == 0
    assert unsatisfied_orders(staff["supervisor"]).count() == 5


def test_page(mixed, staff, client):
    url = "/supervision/unsatisfied/"
    client.force_login(staff["supervisor"])
    page = client.get(url).content.decode()
    for key in ("pending", "reopened", "street"):
        assert f'href="/orders/{mixed[key].number}/"' in page
    assert mixed["cleared"].number not in page and mixed["explained"].number not in page
    assert "待处理" in page and "重办中" in page
    done = client.get(url, {"show": "done"}).content.decode()
    assert mixed["cleared"].number in done and mixed["explained"].number in done
    assert mixed["pending"].number not in done and "已清零" in done and "已解释归档" in done
    assert all(o.number in client.get(url, {"show": "all"}).content.decode() for o in mixed.values())
    only = client.get(url, {"show": "reopened"}).content.decode()
    assert mixed["reopened"].number in only and mixed["pending"].number not in only
    two = client.get(url, {"unit": "T2", "show": "all"}).content.decode()
    assert mixed["explained"].number in two and mixed["pending"].number not in two
    for odd in ({"show": "nonsense"}, {"page": "999"}, {"page": "x"}, {"unit": "\u0000"}):
        assert client.get(url, odd).status_code == 200
    dashboard = client.get("/supervision/").content.decode()
    kpi = r'href="/supervision/unsatisfied/"><div class="num">(\d+)</div><div class="label">不满意未清零'
    assert re.search(kpi, dashboard).group(1) == "3"

    client.force_login(staff["h2"])
    page = client.get(url).content.decode()
    assert mixed["pending"].number not in page and "二区" in page and "一区" not in page
    assert "不满意工单已全部清零" in page  # 二区's only one is explained

    for role in ("dispatcher", "callback", "leader", "h1"):
        client.force_login(staff[role])
        assert client.get(url).status_code == 200, role
    for role in ("operator", "admin"):
        client.force_login(staff[role])
        assert client.get(url).status_code == 403, role


def test_pagination(story, staff, client):
    for _ in range(21):
        order, clock = story()
        t.callback(order, staff["callback"], contact_result="reached", satisfaction="unsatisfied", resolved=False,
                   at=clock())  # fmt: skip
    client.force_login(staff["supervisor"])
    first = client.get("/supervision/unsatisfied/").content.decode()
    assert "第 1 / 2 页" in first and "page=2" in first
    assert client.get("/supervision/unsatisfied/", {"page": 2}).content.decode().count('href="/orders/2') == 1


@pytest.mark.parametrize("role", Role.values)
def test_menu_entries_match_the_pages_roles(role, make_user, client):
    from django.urls import reverse

    from accounts.navigation import MENU

    mine = [item for item in MENU if item.url_name in ("supervision:spotchecks", "supervision:unsatisfied")]
    assert len(mine) == 2
    for item in mine:
        assert client.get(reverse(item.url_name)).status_code == 302  # signed out
    client.force_login(make_user(role))
    menu = client.get("/").content.decode()
    for item in mine:
        expected = 200 if role in item.roles else 403
        assert client.get(reverse(item.url_name)).status_code == expected, (role, item.url_name)
        assert (f'href="{reverse(item.url_name)}"' in menu) == (role in item.roles)
