"""热线要情: urgent orders pushed once to the responsible leaders (in-app, email, robots), claimed, timed, closed."""

import base64
import hashlib
import hmac
import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils.module_loading import import_string

from accounts.roles import Role
from notifications.models import Notification
from orders import transitions as t
from orders.errors import Conflict, Forbidden
from orders.models import Warning, WorkOrder
from supervision import warnings
from system.schedule import JOBS
from urgent import claims, matching, push, stats
from urgent.leaders import responsible_leaders
from urgent.models import (
    DeliveryStatus,
    ItemStatus,
    LeaderWebhook,
    RobotKind,
    RuleKind,
    UrgentItem,
    UrgentRule,
    WebhookDelivery,
)
from urgent.tasks import push_urgent

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 9, 15, 9, 0, tzinfo=SH)  # a Monday
FIRE = "一区幸福小区3号楼着火了，浓烟很大，楼上还有老人。"
INSPECTION = "咨询消防安全检查的要求，小区楼道有火灾隐患需要整改。"
ENTERPRISE = {
    "is_enterprise": True,
    "enterprise_name": "测试科技有限公司",
    "enterprise_credit_code": "91430100MA4L8XYM38",
}


def take(staff, order_data, at=T0, **changes) -> WorkOrder:
    order, _ = t.intake(staff["operator"], {**order_data, **changes}, at=at)
    return order


def fresh(order: WorkOrder) -> WorkOrder:
    return WorkOrder.objects.get(pk=order.pk)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# ---------------------------------------------------------------- rule kinds


def test_each_rule_kind_matches_and_a_near_miss_does_not(staff, order_data, city):
    emergency = UrgentRule(name="紧急", kind=RuleKind.EMERGENCY)
    assert "火情（119）" in matching.reason(emergency, take(staff, order_data, content=FIRE))
    assert matching.reason(emergency, take(staff, order_data, content=INSPECTION)) is None

    media = UrgentRule(name="媒体", kind=RuleKind.MEDIA, keywords="媒体、记者、曝光")
    assert matching.reason(media, take(staff, order_data, content="再不修我就找记者来曝光。")) == "媒体关注：含“记者”"
    assert matching.reason(media, take(staff, order_data)) is None

    enterprise = UrgentRule(name="涉企", kind=RuleKind.ENTERPRISE, keywords="停产、欠薪")
    urgent = take(staff, order_data, priority="urgent", **ENTERPRISE)
    stopped = take(staff, order_data, content="工厂被断电，已经停产两天。", **ENTERPRISE)
    assert matching.reason(enterprise, urgent) == "涉企紧急诉求"
    assert matching.reason(enterprise, stopped) == "涉企诉求：含“停产”"
    assert matching.reason(enterprise, take(staff, order_data, **ENTERPRISE)) is None  # 涉企, normal, no keyword
    assert matching.reason(enterprise, take(staff, order_data, priority="critical")) is None  # urgent, not 涉企

    red = UrgentRule(name="红色", kind=RuleKind.RED_TAG, tags=["jinan"])
    tagged = t.dispatch(take(staff, order_data, tags=["jinan"]), staff["dispatcher"], lead_unit=city["d1"], at=T0)
    untagged = t.dispatch(take(staff, order_data), staff["dispatcher"], lead_unit=city["d1"], at=T0)
    later = T0 + timedelta(hours=20)
    tagged_orange = t.dispatch(take(staff, order_data, tags=["jinan"]), staff["dispatcher"], lead_unit=city["d1"],
                               at=later)  # fmt: skip
    warnings.recompute(T0 + timedelta(hours=49))
    assert [fresh(o).warning for o in (tagged, untagged, tagged_orange)] == [Warning.RED, Warning.RED, Warning.ORANGE]
    assert matching.reason(red, fresh(tagged)) == "六类急难愁盼工单红色预警"
    assert matching.reason(red, fresh(untagged)) is None
    assert matching.reason(red, fresh(tagged_orange)) is None

    callers = UrgentRule(name="多人", kind=RuleKind.CALLERS, threshold=3)
    hub = take(staff, order_data)
    t.merge(take(staff, order_data, caller_phone="13900139001"), staff["operator"], parent=hub)
    assert matching.reason(callers, hub) is None  # two callers
    t.merge(take(staff, order_data, caller_phone="13900139001"), staff["operator"], parent=hub)
    assert matching.distinct_callers(hub) == 2  # the same person calling again is one caller
    assert matching.reason(callers, hub) is None
    t.link(hub, staff["operator"], other=take(staff, order_data, caller_phone="13700137002"))
    assert matching.reason(callers, fresh(hub)) == "3 位诉求人反映同一问题"


def test_the_job_finds_each_kind_pushes_it_once_and_leaves_near_misses(staff, order_data, city):
    UrgentRule.objects.filter(kind=RuleKind.CALLERS).update(threshold=3)
    fire = take(staff, order_data, content=FIRE)
    media = take(staff, order_data, content="已经向电视台反映，准备让记者曝光。")
    enterprise = take(staff, order_data, priority="urgent", **ENTERPRISE)
    misses = [
        take(staff, order_data, content=INSPECTION),
        take(staff, order_data, **ENTERPRISE),
        take(staff, order_data),
    ]
    hub = take(staff, order_data)
    red = t.dispatch(take(staff, order_data, tags=["jinan"]), staff["dispatcher"], lead_unit=city["d1"], at=T0)

    first = push.run(T0 + minutes(1))
    assert first["pushed"] == 3
    pushed = dict(UrgentItem.objects.values_list("order__number", "reasons"))
    assert pushed == {
        fire.number: ["紧急警情：火情（119）"],
        media.number: ["媒体关注：含“记者”"],
        enterprise.number: ["涉企紧急诉求"],
    }
    assert push.run(T0 + minutes(1))["pushed"] == 0  # the same run again pushes nothing twice
    assert push.run(T0 + minutes(10))["pushed"] == 0

    # callers: merges and a link half an hour later, when the hub is long before the watermark
    for phone in ("13900139001", "13900139002"):
        dup = take(staff, order_data, at=T0 + minutes(29), caller_phone=phone)
        t.merge(dup, staff["operator"], parent=hub, at=T0 + minutes(30))
    assert push.run(T0 + minutes(31))["pushed"] == 1
    assert UrgentItem.objects.get(order=hub).reasons == ["3 位诉求人反映同一问题"]

    # red: two days later the tagged order, never signed, turns red
    warnings.recompute(T0 + timedelta(hours=49))
    assert push.run(T0 + timedelta(hours=49, minutes=1))["pushed"] == 1
    assert UrgentItem.objects.get(order=red).reasons == ["六类急难愁盼工单红色预警"]
    assert push.run(T0 + timedelta(hours=49, minutes=2))["pushed"] == 0

    assert not UrgentItem.objects.filter(order__in=misses).exists()
    assert UrgentItem.objects.count() == 5
    assert UrgentItem.objects.get(order=fire).rules.get().kind == RuleKind.EMERGENCY


def test_an_inactive_rule_pushes_nothing(staff, order_data):
    UrgentRule.objects.filter(kind=RuleKind.EMERGENCY).update(is_active=False)
    take(staff, order_data, content=FIRE)
    assert push.run(T0 + minutes(1))["pushed"] == 0
    assert not UrgentItem.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_schedulers_at_once_push_each_order_exactly_once(staff, order_data):
    orders = [take(staff, order_data, content=FIRE) for _ in range(15)]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def scheduler() -> None:
        try:
            barrier.wait()
            results.append(push.run(T0 + minutes(1)))
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(result["pushed"] for result in results) == len(orders)
    assert UrgentItem.objects.count() == len(orders)
    assert Notification.objects.filter(user=staff["leader"]).count() == len(orders)


# ---------------------------------------------------------------- who is told, and how


def test_responsible_leaders_are_the_nearest_up_the_tree_else_the_citys(staff, order_data, city, make_user):
    city_leader = staff["leader"]
    d1_leader = make_user(Role.LEADER, city["d1"], username="leader-d1")
    d2_leader = make_user(Role.LEADER, city["d2"], username="leader-d2")
    gone = make_user(Role.LEADER, city["s1"], username="leader-s1")
    gone.is_active = False
    gone.save()

    assert responsible_leaders(take(staff, order_data, area="T1-S1")) == [d1_leader]  # s1's only leader left
    assert responsible_leaders(take(staff, order_data, area="T1-S1-C1")) == [d1_leader]
    assert responsible_leaders(take(staff, order_data)) == [city_leader]  # neither dispatched nor placed
    to_dept = t.dispatch(take(staff, order_data), staff["dispatcher"], lead_unit=city["dept"], at=T0)
    assert responsible_leaders(to_dept) == [city_leader]  # the department has none: the city's
    both = t.dispatch(take(staff, order_data, area="T1"), staff["dispatcher"], lead_unit=city["d2"], at=T0)
    assert responsible_leaders(both) == [d1_leader, d2_leader]

    order = take(staff, order_data, area="T1-S1", content=FIRE)
    push.run(T0 + minutes(1))
    assert list(UrgentItem.objects.get(order=order).leaders.all()) == [d1_leader]
    assert Notification.objects.filter(user=d1_leader).count() == 1
    assert not Notification.objects.filter(user__in=[city_leader, d2_leader, gone]).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the worker closes its connection
def test_leaders_get_an_in_app_message_and_an_email_from_the_scheduled_task(staff, order_data, city, make_user,
                                                                          settings):  # fmt: skip
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    leader = staff["leader"]
    leader.email = "leader@city.example"
    leader.save()
    other = make_user(Role.LEADER, city["d2"], username="leader-d2")
    other.email = "d2@city.example"
    other.save()
    order, _ = t.intake(staff["operator"], {**order_data, "content": FIRE})  # now: the task runs at the real time
    assert JOBS["urgent"].interval <= timedelta(seconds=60)
    assert import_string(JOBS["urgent"].task) is push_urgent

    push_urgent.enqueue()
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)

    item = UrgentItem.objects.get()
    assert item.order == order and list(item.leaders.all()) == [leader]
    note = Notification.objects.get(user=leader)
    assert note.link == f"/urgent/#item-{item.pk}"
    assert order.number in note.title and "紧急警情：火情（119）" in note.body
    assert not Notification.objects.filter(user=other).exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["leader@city.example"] and "热线要情" in mail.outbox[0].subject
    assert "13800138000" not in mail.outbox[0].body + mail.outbox[0].subject


class Robot:
    """A group robot's server on 127.0.0.1: records every POST and answers ``answer`` as JSON."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, bytes]] = []
        self.answer: dict = {"errcode": 0, "errmsg": "ok"}
        self.port = 0
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                robot.requests.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
                payload = json.dumps(robot.answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def robot():
    robot = Robot()
    robot.start()
    yield robot
    robot.stop()


def test_robots_get_their_markdown_message_without_personal_data(staff, order_data, city, robot):
    wecom = LeaderWebhook.objects.create(
        name="市领导企业微信群", kind=RobotKind.WECOM, url=robot.url("/cgi-bin/webhook/send?key=abc")
    )
    dingtalk = LeaderWebhook.objects.create(
        name="一区钉钉群", kind=RobotKind.DINGTALK, url=robot.url("/robot/send?access_token=xyz"), secret="SECtest",
        unit=city["d1"],
    )  # fmt: skip
    LeaderWebhook.objects.create(name="二区钉钉群", kind=RobotKind.DINGTALK, url=robot.url("/d2"), unit=city["d2"])
    order = take(
        staff, order_data, area="T1-S1", caller_name="张先生", title="张先生13800138000反映3号楼着火",
        content=FIRE + "身份证430102199001011234，电话13800138000。",
    )  # fmt: skip

    result = push.run(T0 + minutes(1))

    assert result["delivered"] == 2 and result["retry"] == 0
    by_path = {urlsplit(path).path: (path, body) for path, body in robot.requests}
    assert set(by_path) == {"/cgi-bin/webhook/send", "/robot/send"}  # not the other district's robot
    wecom_body = json.loads(by_path["/cgi-bin/webhook/send"][1])
    assert wecom_body["msgtype"] == "markdown" and set(wecom_body["markdown"]) == {"content"}
    ding_path, ding_raw = by_path["/robot/send"]
    ding_body = json.loads(ding_raw)
    assert ding_body["msgtype"] == "markdown" and set(ding_body["markdown"]) == {"title", "text"}
    assert ding_body["markdown"]["title"] == f"热线要情：{order.number}"
    for text in (wecom_body["markdown"]["content"], ding_body["markdown"]["text"]):
        assert order.number in text and "紧急警情：火情（119）" in text and "一街道" in text
    for raw in (by_path["/cgi-bin/webhook/send"][1], ding_raw):
        decoded = raw.decode()
        assert "13800138000" not in decoded and "张先生" not in decoded and "430102199001011234" not in decoded
    assert "138****8000" in wecom_body["markdown"]["content"]
    query = parse_qs(urlsplit(ding_path).query)  # DingTalk 加签
    assert query["access_token"] == ["xyz"]
    expected = hmac.new(b"SECtest", f"{query['timestamp'][0]}\nSECtest".encode(), hashlib.sha256).digest()
    assert query["sign"] == [base64.b64encode(expected).decode()]
    assert set(WebhookDelivery.objects.values_list("hook__name", "status")) == {
        (wecom.name, DeliveryStatus.DELIVERED), (dingtalk.name, DeliveryStatus.DELIVERED),
    }  # fmt: skip


def test_a_robot_that_was_down_gets_the_item_later_and_the_item_is_never_lost(staff, order_data, robot):
    LeaderWebhook.objects.create(name="市领导群", kind=RobotKind.WECOM, url=robot.url("/send?key=k"))
    order = take(staff, order_data, content=FIRE)
    robot.stop()
    now = T0 + minutes(1)

    assert push.run(now)["retry"] == 1
    item = UrgentItem.objects.get()
    assert item.order == order and item.status == ItemStatus.OPEN
    assert Notification.objects.filter(user=staff["leader"]).count() == 1  # in-app went out anyway
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and delivery.next_attempt_at == now + minutes(1) and delivery.last_error

    robot.start()  # the same port again
    assert push.run(now + timedelta(seconds=30))["delivered"] == 0  # not due yet
    robot.answer = {"errcode": 93000, "errmsg": "invalid webhook url"}  # up, but refusing: still a failure
    assert push.run(now + minutes(1))["retry"] == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and "93000" in delivery.last_error
    assert delivery.next_attempt_at == now + minutes(3)  # then 2 minutes
    robot.answer = {"errcode": 0, "errmsg": "ok"}
    assert push.run(now + minutes(3))["delivered"] == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and len(robot.requests) == 2
    assert push.run(now + minutes(10))["delivered"] == 0  # once delivered, never again


def test_robots_are_set_up_in_the_admin_site_and_their_urls_must_be_http(client, staff):
    client.force_login(staff["admin"])
    assert client.get(reverse("admin:urgent_leaderwebhook_add")).status_code == 200
    assert client.get(reverse("admin:urgent_webhookdelivery_changelist")).status_code == 200
    with pytest.raises(ValidationError) as exc:
        LeaderWebhook.objects.create(name="坏地址", kind=RobotKind.WECOM, url="ftp://example.com/hook")
    assert "url" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        LeaderWebhook.objects.create(name="企微", kind=RobotKind.WECOM, url="https://example.com/h", secret="SECx")
    assert "secret" in exc.value.message_dict
    assert not LeaderWebhook.objects.exists()


# ---------------------------------------------------------------- claim and timing


def test_push_claim_and_first_action_times_are_recorded(staff, order_data, city):
    order = t.dispatch(take(staff, order_data, content=FIRE), staff["dispatcher"], lead_unit=city["d1"], at=T0)
    signed_before = t.dispatch(take(staff, order_data, content=FIRE), staff["dispatcher"], lead_unit=city["d1"],
                               at=T0)  # fmt: skip
    signed_before = t.sign(signed_before, staff["h1"], at=T0 + timedelta(seconds=30))
    t0 = T0 + minutes(1)
    push.run(t0)
    item = UrgentItem.objects.get(order=order)
    assert item.pushed_at == t0 and item.status == ItemStatus.OPEN and item.claimed_at is None

    claims.claim(staff["leader"], item, at=t0 + minutes(25))
    item.refresh_from_db()
    assert item.status == ItemStatus.CLAIMED and item.claimed_by == staff["leader"]
    assert item.claimed_at == t0 + minutes(25) and item.claim_minutes == 25
    with pytest.raises(Conflict, match="已由您于"):
        claims.claim(staff["leader"], item, at=t0 + minutes(30))
    item.refresh_from_db()
    assert item.claimed_at == t0 + minutes(25)  # the first claim stands

    t.sign(order, staff["h1"], at=t0 + minutes(40))
    t.interim_reply(signed_before, staff["h1"], content="已派人到场处置。", at=t0 + minutes(5))
    assert push.run(t0 + minutes(41))["first_actions"] == 2
    item.refresh_from_db()
    assert item.first_action_at == t0 + minutes(40) and item.action_minutes == 40
    # the sign before the push does not count: the interim reply after it does
    assert UrgentItem.objects.get(order=signed_before).first_action_at == t0 + minutes(5)
    t.interim_reply(fresh(order), staff["h1"], content="火已扑灭，正在清理。", at=t0 + minutes(50))
    assert push.run(t0 + minutes(51))["first_actions"] == 0
    item.refresh_from_db()
    assert item.first_action_at == t0 + minutes(40)


def test_overview_averages_medians_and_the_share_claimed_within_the_hour(staff, order_data, client):
    orders = [take(staff, order_data, content=FIRE) for _ in range(4)]
    t0 = T0 + minutes(1)
    push.run(t0)
    items = [UrgentItem.objects.get(order=o) for o in orders]
    for item, after in zip(items, (10, 30, 90), strict=False):  # the fourth stays unclaimed
        claims.claim(staff["leader"], item, at=t0 + minutes(after))

    summary = stats.summarise(UrgentItem.objects.all(), 60)
    assert (summary.pushed, summary.claimed, summary.within_target) == (4, 3, 2)
    assert summary.claim_median == 30 and round(summary.claim_avg, 2) == 43.33
    assert summary.share_within_target == 0.5
    assert summary.action_avg is None and summary.action_median is None

    client.force_login(staff["supervisor"])
    html = client.get(reverse("urgent:overview"), {"start": "2025-09-15", "end": "2025-09-15"}).content.decode()
    assert "50.0%" in html and "43 分钟" in html and "1 小时 30 分" in html
    assert all(o.number in html for o in orders)
    assert "75.0%" in client.get(
        reverse("urgent:overview"), {"start": "2025-09-15", "end": "2025-09-15", "target": "120"}
    ).content.decode()  # fmt: skip
    empty = client.get(reverse("urgent:overview"), {"start": "2025-09-16", "end": "2025-09-16"}).content.decode()
    assert "本期没有推送的热线要情" in empty


def test_an_item_closes_itself_when_its_order_is_merged_or_archived(staff, order_data, city):
    duplicate = take(staff, order_data, content=FIRE)
    main = take(staff, order_data)
    handled = t.dispatch(take(staff, order_data, content=FIRE), staff["dispatcher"], lead_unit=city["d1"], at=T0)
    push.run(T0 + minutes(1))
    assert UrgentItem.objects.filter(status=ItemStatus.OPEN).count() == 2

    t.merge(duplicate, staff["operator"], parent=main, at=T0 + minutes(5))
    handled = t.sign(handled, staff["h1"], at=T0 + minutes(10))
    handled = t.reply(handled, staff["h1"], result="resolved", content="火已扑灭。", measures="消防到场。",
                      at=T0 + minutes(60))  # fmt: skip
    t.callback(handled, staff["callback"], contact_result="reached", satisfaction="satisfied", resolved=True,
               at=T0 + minutes(90))  # fmt: skip
    assert push.run(T0 + minutes(91))["closed"] == 2

    merged, archived = UrgentItem.objects.get(order=duplicate), UrgentItem.objects.get(order=handled)
    assert (merged.status, merged.close_reason) == (ItemStatus.CLOSED, "工单已并单")
    assert (archived.status, archived.close_reason) == (ItemStatus.CLOSED, "工单已归档")
    assert archived.closed_at == T0 + minutes(91) and archived.first_action_at == T0 + minutes(10)
    with pytest.raises(Conflict, match="已关闭"):
        claims.claim(staff["leader"], merged, at=T0 + minutes(92))
    assert push.run(T0 + minutes(95))["closed"] == 0


# ---------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"kind": "callers", "threshold": 1}, "threshold", "人数阈值"),
        ({"kind": "callers"}, "threshold", "人数阈值"),
        ({"kind": "media", "keywords": " ，、 "}, "keywords", "关键词"),
        ({"kind": "media", "keywords": "媒体、记"}, "keywords", "“记”太短"),
        ({"kind": "enterprise", "keywords": "停"}, "keywords", "太短"),
        ({"kind": "red_tag", "tags": []}, "tags", "请至少选择一个标签"),
        ({"kind": "red_tag", "tags": ["nosuchtag"]}, "tags", "标签不存在：nosuchtag"),
        ({"kind": "bogus"}, "kind", ""),
    ],
)
def test_bad_rules_are_refused_naming_the_field(db, fields, field, words):
    with pytest.raises(ValidationError) as exc:
        UrgentRule.objects.create(name="坏规则", **fields)
    assert field in exc.value.message_dict
    assert words in " ".join(exc.value.message_dict[field])
    assert not UrgentRule.objects.filter(name="坏规则").exists()


def test_the_default_rules_are_seeded_and_valid(db):
    rules = {rule.kind: rule for rule in UrgentRule.objects.filter(is_active=True)}
    assert set(rules) == set(RuleKind.values)
    for rule in rules.values():
        rule.full_clean()
    assert rules[RuleKind.RED_TAG].tags == ["jinan"] and rules[RuleKind.CALLERS].threshold >= 2


def test_admin_creates_edits_and_deactivates_rules_on_the_page(client, staff):
    client.force_login(staff["admin"])
    url = reverse("urgent:rule_form")
    bad = client.post(url, {"name": "三人反映", "kind": "callers", "threshold": "1", "is_active": "on"})
    assert bad.status_code == 422 and "人数阈值必须是 2 到 1000 之间的整数" in bad.content.decode()
    bad = client.post(url, {"name": "涉媒", "kind": "media", "keywords": "", "is_active": "on"})
    assert bad.status_code == 422 and "请至少填写一个关键词" in bad.content.decode()
    bad = client.post(url, {"name": "标签", "kind": "red_tag", "tags": ["nosuch"], "is_active": "on"})
    assert bad.status_code == 422 and "标签不存在" in bad.content.decode()
    assert not UrgentRule.objects.filter(name__in=["三人反映", "涉媒", "标签"]).exists()

    assert client.post(url, {"name": "三人反映", "kind": "callers", "threshold": "3", "is_active": "on",
                             "keywords": "多余的参数"}).status_code == 302  # fmt: skip
    rule = UrgentRule.objects.get(name="三人反映")
    assert (rule.threshold, rule.keywords, rule.is_active) == (3, "", True)  # what the kind does not use is cleared
    edit = reverse("urgent:rule_form", args=[rule.pk])
    assert client.get(edit).status_code == 200
    changed = {"name": "三人反映", "kind": "callers", "threshold": "4", "is_active": "on"}
    assert client.post(edit, changed).status_code == 302
    rule.refresh_from_db()
    assert rule.threshold == 4
    assert client.post(reverse("urgent:rule_toggle"), {"rule": rule.pk}).status_code == 302
    rule.refresh_from_db()
    assert rule.is_active is False
    assert client.post(reverse("urgent:rule_toggle"), {"rule": rule.pk}).status_code == 302
    assert UrgentRule.objects.get(pk=rule.pk).is_active is True
    red = {"name": "媒体标签红色", "kind": "red_tag", "tags": ["media", "jinan"], "is_active": "on"}
    assert client.post(url, red).status_code == 302
    assert UrgentRule.objects.get(name="媒体标签红色").tags == ["media", "jinan"]
    html = client.get(reverse("urgent:rules")).content.decode()
    assert "三人反映" in html and "不同诉求人 ≥ 4" in html and "标签：媒体关注、六类急难愁盼" in html
    huge = "9" * 30
    assert client.get(reverse("urgent:rule_form", args=[huge])).status_code == 404
    assert client.post(reverse("urgent:rule_toggle"), {"rule": huge}).status_code == 404
    assert client.post(reverse("urgent:rule_toggle"), {"rule": "x"}).status_code == 404


# ---------------------------------------------------------------- pages and permissions


def test_inbox_and_claim_check_the_role_and_the_leader(client, staff, order_data, city, make_user):
    other = make_user(Role.LEADER, city["d2"], username="leader-d2")
    order = take(staff, order_data, content=FIRE)
    push.run(T0 + minutes(1))
    item = UrgentItem.objects.get()
    claim = reverse("urgent:claim")

    client.force_login(other)
    html = client.get(reverse("urgent:inbox")).content.decode()
    assert order.number not in html and "暂无推送给您的热线要情" in html
    assert client.post(claim, {"item": item.pk}).status_code == 403
    with pytest.raises(Forbidden):
        claims.claim(other, item)
    client.force_login(staff["h1"])
    assert client.get(reverse("urgent:inbox")).status_code == 403
    assert client.post(claim, {"item": item.pk}).status_code == 403
    client.force_login(staff["supervisor"])
    assert client.get(reverse("urgent:overview")).status_code == 200
    assert client.get(reverse("urgent:inbox")).status_code == 403
    assert client.get(reverse("urgent:rules")).status_code == 403
    assert client.post(reverse("urgent:rule_form"), {"name": "x", "kind": "emergency"}).status_code == 403
    item.refresh_from_db()
    assert item.status == ItemStatus.OPEN and item.claimed_by is None

    client.force_login(staff["leader"])
    html = client.get(reverse("urgent:inbox")).content.decode()
    assert order.number in html and f'id="item-{item.pk}"' in html and "认领</button>" in html
    assert client.get(reverse("urgent:overview")).status_code == 403
    response = client.post(claim, {"item": item.pk})
    assert response.status_code == 302 and response.url == f"/urgent/#item-{item.pk}"
    item.refresh_from_db()
    assert item.claimed_by == staff["leader"] and item.status == ItemStatus.CLAIMED
    again = client.post(claim, {"item": item.pk})
    assert again.status_code == 409 and "这条要情已由您于" in again.content.decode()
    assert client.post(claim, {"item": "abc"}).status_code == 404
    assert client.post(claim, {"item": item.pk + 1000}).status_code == 404
    assert client.post(claim, {"item": "9" * 30}).status_code == 404


def test_inbox_lists_open_items_first_with_pages(client, staff, order_data):
    orders = [take(staff, order_data, content=FIRE, at=T0 + minutes(i)) for i in range(23)]
    push.run(T0 + minutes(30))
    first = UrgentItem.objects.get(order=orders[0])
    claims.claim(staff["leader"], first, at=T0 + minutes(40))
    client.force_login(staff["leader"])
    page1 = client.get(reverse("urgent:inbox")).content.decode()
    assert "23 条待认领" not in page1 and "22 条待认领" in page1
    assert "第 1 / 2 页" in page1 and orders[0].number not in page1  # the claimed one comes after every open one
    page2 = client.get(reverse("urgent:inbox"), {"page": 2}).content.decode()
    assert orders[0].number in page2 and "已认领" in page2


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_leader_opens_the_inbox_from_the_menu_and_claims_in_chromium(live_server, page, staff, order_data):
    from tests.conftest import PASSWORD

    order, _ = t.intake(staff["operator"], {**order_data, "content": FIRE})
    push.run()
    item = UrgentItem.objects.get(order=order)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", staff["leader"].username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{live_server.url}/")
    page.click("nav.menu >> text=热线要情")
    page.wait_for_selector(f"#item-{item.pk} button.claim")
    assert "1 条待认领" in page.locator("h1").inner_text()
    page.screenshot(path="var/screenshot-urgent.png", full_page=True)
    page.click(f"#item-{item.pk} button.claim")
    page.wait_for_selector(".messages .success")
    assert page.locator(f"#item-{item.pk}").get_attribute("data-status") == ItemStatus.CLAIMED
    assert page.locator("#open-count").count() == 0
    item.refresh_from_db()
    assert item.claimed_by == staff["leader"]
