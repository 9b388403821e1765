"""The workbench pages: intake, queues, inbox tabs, lists, the order page and its actions."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from categories.models import Category
from orders import transitions as t
from orders.models import Action, Attachment, Closure, OrderEvent, State, WorkOrder
from supervision import warnings

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def intake_form(order_data: dict, **changes) -> dict:
    leaf = Category.objects.get(pk=order_data["category"])
    form = {**order_data, "category": leaf.full_name, "priority": "normal", "idempotency_key": "k-1", "create": "1"}
    return {**form, **changes}


@pytest.fixture
def new_order(staff, order_data):
    def make(**overrides) -> WorkOrder:
        return t.intake(staff["operator"], {**order_data, **overrides})[0]

    return make


def act(client: Client, order: WorkOrder, action: str, **fields):
    data = {f"{action}-{k}": v for k, v in {"version": order.version, **fields}.items()}
    return client.post(f"/orders/{order.number}/act/{action}/", data)


# ---------------------------------------------------------------- intake


def test_intake_form_creates_the_order_and_shows_it(staff, order_data):
    client = as_user(staff["operator"])
    page = client.get("/orders/new/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="category-options"' in html and "城乡建设 › 城市建设和市政管理 › 城市公共设施" in html
    assert "autofocus" in html
    response = client.post("/orders/new/", intake_form(order_data))
    order = WorkOrder.objects.get()
    assert response.status_code == 302 and response.url == f"/orders/{order.number}/"
    assert (order.title, order.state, order.created_by) == (
        order_data["title"],
        State.PENDING_DISPATCH,
        staff["operator"],
    )
    detail = client.get(response.url).content.decode()
    assert "已受理" in detail and order_data["title"] in detail and "受理" in detail


def test_intake_form_resubmitted_returns_the_first_order(staff, order_data):
    client = as_user(staff["operator"])
    first = client.post("/orders/new/", intake_form(order_data))
    again = client.post("/orders/new/", intake_form(order_data, title="重复提交"))
    assert first.url == again.url and WorkOrder.objects.count() == 1
    assert "已受理过" in client.get(again.url).content.decode()


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"caller_phone": "12345"}, "caller_phone"),
        ({"content": ""}, "content"),
        ({"category": "不存在的分类"}, "category"),
        ({"category": "城乡建设"}, "category"),
        (
            {"is_enterprise": "on", "enterprise_name": "某公司", "enterprise_credit_code": "123"},
            "enterprise_credit_code",
        ),
    ],
)
def test_intake_form_names_the_bad_field_and_creates_nothing(staff, order_data, changes, field):
    response = as_user(staff["operator"]).post("/orders/new/", intake_form(order_data, **changes))
    assert response.status_code == 422
    assert f'data-field="{field}"' in response.content.decode()
    assert WorkOrder.objects.count() == 0 and OrderEvent.objects.count() == 0


def test_intake_without_a_category_asks_for_one(staff, order_data):
    response = as_user(staff["operator"]).post("/orders/new/", intake_form(order_data, category=""))
    assert response.status_code == 422
    assert '<div class="error field-error" data-field="category">请选择诉求分类</div>' in response.content.decode()
    assert WorkOrder.objects.count() == 0


def test_intake_with_attachments_checks_them_first(staff, order_data):
    client = as_user(staff["operator"])
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not a picture", content_type="image/jpeg")
    response = client.post("/orders/new/", {**intake_form(order_data), "attachments": [fake]})
    assert response.status_code == 422 and "photo.jpg" in response.content.decode()
    assert WorkOrder.objects.count() == 0 and Attachment.objects.count() == 0
    good = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    response = client.post("/orders/new/", {**intake_form(order_data, idempotency_key="k-2"), "attachments": [good]})
    order = WorkOrder.objects.get()
    assert order.attachments.get().name == "photo.png"
    download = client.get(f"/orders/{order.number}/attachments/{order.attachments.get().pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG


def test_intake_answered_directly_needs_the_answer(staff, order_data):
    client = as_user(staff["operator"])
    empty = client.post("/orders/new/", intake_form(order_data, answer_directly="1", answer=""))
    assert empty.status_code == 422 and 'data-field="answer"' in empty.content.decode()
    assert WorkOrder.objects.count() == 0
    client.post("/orders/new/", intake_form(order_data, answer_directly="1", answer="路灯报修请拨打 12319。"))
    order = WorkOrder.objects.get()
    assert (order.state, order.closure, order.reply_content) == (
        State.ARCHIVED,
        Closure.DIRECT,
        "路灯报修请拨打 12319。",
    )


def test_caller_history_appears_as_the_number_is_typed(staff, new_order):
    earlier = new_order(title="上个月的噪音投诉")
    client = as_user(staff["operator"])
    fragment = client.get("/orders/caller-history/", {"caller_phone": "138 0013 8000"}).content.decode()
    assert earlier.number in fragment and "一人多诉" in fragment
    assert "没有历史工单" in client.get("/orders/caller-history/", {"caller_phone": "13900000000"}).content.decode()
    assert "完整电话号码" in client.get("/orders/caller-history/", {"caller_phone": "1380"}).content.decode()


def test_only_front_desk_roles_open_intake(staff):
    assert as_user(staff["h1"]).get("/orders/new/").status_code == 403
    assert as_user(staff["leader"]).get("/orders/new/").status_code == 403
    assert as_user(staff["callback"]).get("/orders/caller-history/", {"caller_phone": "13800138000"}).status_code == 403


# ---------------------------------------------------------------- queues and lists


def test_due_soon_is_the_last_quarter_of_the_allowed_time_in_the_list_and_in_the_count(staff, new_order, city):
    """即将超期 is worked out by the database (orders.queries.due_soon_q); a seeded grid of deadlines, starts and
    states around the edges must give what the rule says order by order."""
    import random

    from orders import queries

    rng, now = random.Random(7), timezone.now().replace(microsecond=0)
    hour = timedelta(hours=1)
    made = []
    for i in range(40):
        order = t.dispatch(new_order(title=f"期限{i}"), staff["dispatcher"], lead_unit=city["d1"])
        allowed = rng.choice([0, 1, 8, 40, 100, 300]) * hour
        left = allowed * rng.choice([-0.1, 0.05, 0.2, 0.24, 0.26, 0.3, 0.6, 0.9])
        due = now + left + rng.choice([-1, 0, 1]) * timedelta(seconds=30)
        start = due - allowed
        state = rng.choice([State.PENDING_SIGN, State.IN_PROGRESS, State.IN_PROGRESS, State.PENDING_CALLBACK])
        dispatched = None if i % 5 == 0 else start  # without a dispatch time the limit counts from receipt
        WorkOrder.objects.filter(pk=order.pk).update(
            due_at=due, dispatched_at=dispatched, received_at=start, state=state
        )
        made.append((order.pk, due, start, state))
    # the edges, to the second: a second more than a quarter left is not yet due soon, a second less is
    second = timedelta(seconds=1)
    edge = t.dispatch(new_order(title="多一秒"), staff["dispatcher"], lead_unit=city["d1"])
    WorkOrder.objects.filter(pk=edge.pk).update(dispatched_at=now - 30 * hour + second, due_at=now + 10 * hour + second)
    made.append((edge.pk, now + 10 * hour + second, now - 30 * hour + second, State.PENDING_SIGN))
    inside = t.dispatch(new_order(title="差一秒"), staff["dispatcher"], lead_unit=city["d1"])
    WorkOrder.objects.filter(pk=inside.pk).update(
        dispatched_at=now - 30 * hour, due_at=now + 10 * hour - timedelta(seconds=1)
    )
    made.append((inside.pk, now + 10 * hour - timedelta(seconds=1), now - 30 * hour, State.PENDING_SIGN))

    def rule(due, start, state) -> bool:
        allowed, left = (due - start).total_seconds(), (due - now).total_seconds()
        at_unit = state in (State.PENDING_SIGN, State.IN_PROGRESS)
        return at_unit and due >= now and allowed > 0 and left < allowed * queries.DUE_SOON_SHARE

    expected = {pk for pk, due, start, state in made if rule(due, start, state)}
    assert edge.pk not in expected and inside.pk in expected and 3 < len(expected) < len(made) - 3
    listed = set(queries.inbox(staff["h1"], "due_soon", now).values_list("pk", flat=True))
    assert listed == expected
    counts = queries.inbox_counts(staff["h1"], now)
    assert counts["due_soon"] == (len(expected), False)
    at_unit = [(pk, due, state) for pk, due, _start, state in made if state in (State.PENDING_SIGN, State.IN_PROGRESS)]
    assert counts["overdue"] == (sum(1 for _pk, due, _state in at_unit if due < now), False)
    assert counts["to_sign"][0] == sum(1 for *_x, state in at_unit if state == State.PENDING_SIGN)


def test_dispatcher_queue_lists_new_orders_and_pending_requests(staff, new_order, city):
    waiting = new_order(title="等待派单的工单")
    asked = t.sign(
        t.dispatch(new_order(title="申请退单的工单"), staff["dispatcher"], lead_unit=city["d1"]), staff["h1"]
    )
    t.request_return(asked, staff["h1"], reason="不属于本单位职责")
    html = as_user(staff["dispatcher"]).get("/orders/dispatch/").content.decode()
    assert waiting.number in html and asked.number in html and "不属于本单位职责" in html
    assert as_user(staff["operator"]).get("/orders/dispatch/").status_code == 403


def test_inbox_tabs(staff, new_order, city):
    to_sign = t.dispatch(new_order(title="待签收一"), staff["dispatcher"], lead_unit=city["d1"])
    doing = t.sign(t.dispatch(new_order(title="办理中一"), staff["dispatcher"], lead_unit=city["d1"]), staff["h1"])
    past = timezone.now() - timedelta(days=30)
    late = t.dispatch(new_order(title="超期一"), staff["dispatcher"], lead_unit=city["d1"], at=past)
    done = t.reply(
        t.sign(t.dispatch(new_order(title="已办结一"), staff["dispatcher"], lead_unit=city["d1"]), staff["h1"]),
        staff["h1"], result="resolved", content="已处理。", measures="已派人修复。",
    )  # fmt: skip
    other = t.dispatch(new_order(title="别的区的"), staff["dispatcher"], lead_unit=city["d2"])
    client = as_user(staff["h1"])
    expected = {"to_sign": {to_sign, late}, "in_progress": {doing}, "overdue": {late}, "done": {done}}
    for tab, orders in expected.items():
        html = client.get("/orders/inbox/", {"tab": tab}).content.decode()
        for order in orders:
            assert order.number in html, (tab, order.title)
        assert other.number not in html
    tabs = client.get("/orders/inbox/").content.decode()
    for label, count in (("待签收", 2), ("办理中", 1), ("即将超期", 0), ("已超期", 1), ("已办结", 1)):
        assert f'{label} <span class="count">{count}</span>' in tabs, label
    home = client.get("/").content.decode()
    assert '<div class="num">2</div><div class="label">待签收' in home
    assert client.get("/orders/inbox/", {"tab": "nope"}).status_code == 404
    assert as_user(staff["dispatcher"]).get("/orders/inbox/").status_code == 403


def test_callback_queue(staff, new_order, city):
    order = t.sign(t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"]), staff["h1"])
    order = t.reply(order, staff["h1"], result="resolved", content="已修复。", measures="更换灯泡。")
    html = as_user(staff["callback"]).get("/orders/callbacks/").content.decode()
    assert order.number in html and "超期" not in html
    assert as_user(staff["h1"]).get("/orders/callbacks/").status_code == 403
    # a callback past its time limit is marked, with its colour
    WorkOrder.objects.filter(pk=order.pk).update(callback_due_at=timezone.now() - timedelta(days=2))
    warnings.recompute(full=True)
    html = as_user(staff["callback"]).get("/orders/callbacks/").content.decode()
    row = next(r for r in html.split("<tr>") if order.number in r)
    assert '<span class="tag red">超期</span>' in row and 'title="红色预警"' in row


def test_list_filters_paginates_and_scopes_to_the_unit(staff, new_order, city):
    for i in range(23):
        new_order(title=f"路灯不亮 {i}")
    noise = t.dispatch(
        new_order(title="夜间施工噪音", request_type="consult"), staff["dispatcher"], lead_unit=city["d2"]
    )
    client = as_user(staff["supervisor"])
    first = client.get("/orders/").content.decode()
    assert "第 1 / 2 页，共 24 张" in first
    assert "第 2 / 2 页" in client.get("/orders/", {"page": 2}).content.decode()
    found = client.get("/orders/", {"q": "噪音"}).content.decode()
    assert noise.number in found and "路灯不亮" not in found
    by_state = client.get("/orders/", {"state": "pending_sign", "unit": "T2", "request_type": "consult"})
    assert noise.number in by_state.content.decode()
    assert "没有符合条件的工单" in client.get("/orders/", {"state": "archived"}).content.decode()
    bad = client.get("/orders/", {"date_from": "not-a-date", "page": "x"})
    assert bad.status_code == 200 and "受理日期从" in bad.content.decode()
    h1_list = as_user(staff["h1"]).get("/orders/").content.decode()
    assert noise.number not in h1_list and "没有符合条件的工单" in h1_list
    assert as_user(staff["h1"]).get(f"/orders/{noise.number}/").status_code == 404


def test_counts_stop_at_the_cap_in_lists_and_inbox_tabs(staff, new_order, city, monkeypatch):
    """A list of millions is not counted whole: past the cap the page says "N+" and pages up to the cap."""
    monkeypatch.setattr("orders.paging.COUNT_CAP", 25)
    for i in range(27):
        t.dispatch(new_order(title=f"路灯不亮 {i}"), staff["dispatcher"], lead_unit=city["d1"])
    first = as_user(staff["supervisor"]).get("/orders/").content.decode()
    assert "第 1 / 2 页，共 25+ 张" in first and "缩小筛选范围" in first
    monkeypatch.setattr("orders.paging.COUNT_CAP", 30)
    assert "第 1 / 2 页，共 27 张" in as_user(staff["supervisor"]).get("/orders/").content.decode()
    # the open tabs are a workload: counted exactly; 已办结 is a history: counted up to the tab cap
    monkeypatch.setattr("orders.paging.TAB_COUNT_CAP", 2)
    handler = as_user(staff["h1"])
    for order in WorkOrder.objects.filter(state=State.PENDING_SIGN).order_by("pk")[:3]:
        t.reply(t.sign(order, staff["h1"]), staff["h1"], result="resolved", content="已处理。", measures="已修复。")
    inbox = handler.get("/orders/inbox/").content.decode()
    assert '待签收 <span class="count">24</span>' in inbox and '办理中 <span class="count">0</span>' in inbox
    assert "第 1 / 2 页，共 24 张" in inbox
    assert '已办结 <span class="count">2+</span>' in inbox
    assert "共 2+ 张" in handler.get("/orders/inbox/", {"tab": "done"}).content.decode()


def test_home_page_counts_stop_at_the_cap(staff, new_order, city, monkeypatch):
    for i in range(3):
        t.sign(t.dispatch(new_order(title=f"办理中 {i}"), staff["dispatcher"], lead_unit=city["d1"]), staff["h1"])
    home = as_user(staff["supervisor"]).get("/").content.decode()
    assert '<div class="num">3</div><div class="label">办理中' in home
    monkeypatch.setattr("orders.paging.COUNT_CAP", 2)
    home = as_user(staff["supervisor"]).get("/").content.decode()
    assert '<div class="num">2+</div><div class="label">办理中' in home


def test_an_order_number_is_looked_up_not_searched_in_the_texts(staff, new_order):
    wanted = new_order(title="路灯不亮")
    mentions = new_order(title="再次反映", content=f"此前已反映过，工单号{wanted.number}，至今未处理。")
    client = as_user(staff["supervisor"])
    found = client.get("/orders/", {"q": wanted.number}).content.decode()
    assert wanted.number in found and mentions.number not in found
    by_text = client.get("/orders/", {"q": wanted.number[2:]}).content.decode()  # not a whole number: searched
    assert mentions.number in by_text


def test_text_search_without_dates_looks_at_the_recent_days(staff, order_data):
    from orders.queries import SEARCH_DAYS

    long_ago = timezone.now() - timedelta(days=SEARCH_DAYS + 10)
    old = t.intake(staff["operator"], {**order_data, "title": "井盖缺失"}, at=long_ago)[0]
    recent = t.intake(staff["operator"], {**order_data, "title": "井盖松动"})[0]
    client = as_user(staff["supervisor"])
    found = client.get("/orders/", {"q": "井盖"}).content.decode()
    assert recent.number in found and old.number not in found and f"近 {SEARCH_DAYS} 天" in found
    earlier = {"q": "井盖", "date_from": (long_ago - timedelta(days=1)).date().isoformat()}
    found = client.get("/orders/", earlier).content.decode()
    assert recent.number in found and old.number in found


def test_phone_is_masked_for_the_leader(staff, new_order):
    order = new_order()
    assert "138****8000" in as_user(staff["leader"]).get(f"/orders/{order.number}/").content.decode()
    assert "13800138000" in as_user(staff["dispatcher"]).get(f"/orders/{order.number}/").content.decode()


# ---------------------------------------------------------------- the order page and its actions


def test_order_page_offers_exactly_the_allowed_actions(staff, new_order, city):
    order = new_order()
    dispatcher_page = as_user(staff["dispatcher"]).get(f"/orders/{order.number}/").content.decode()
    for action in (Action.DISPATCH, Action.ANSWER_DIRECTLY, Action.MERGE):
        assert f'id="action-{action}"' in dispatcher_page
    leader_page = as_user(staff["leader"]).get(f"/orders/{order.number}/").content.decode()
    assert 'id="action-' not in leader_page and "没有您可以执行的操作" in leader_page


def test_order_page_puts_the_roles_main_action_first(staff, new_order, city):
    """派单 before the other ways out for the dispatcher; 办结 before 延期, 退单 and the rest for the unit."""
    order = new_order()
    cards = re.findall(
        r'id="action-(\w+)"', as_user(staff["dispatcher"]).get(f"/orders/{order.number}/").content.decode()
    )
    assert cards[0] == Action.DISPATCH and Action.ANSWER_DIRECTLY in cards[1:]
    order = t.sign(t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"]), staff["h1"])
    cards = re.findall(r'id="action-(\w+)"', as_user(staff["h1"]).get(f"/orders/{order.number}/").content.decode())
    assert cards[0] == Action.REPLY and {Action.RETURN_REQUEST, Action.EXTENSION_REQUEST} <= set(cards[1:])


def test_a_refused_form_is_named_at_the_top_and_keeps_its_help(staff, new_order, city):
    """An incomplete 派单 or 办结 says at the top of the page what is missing, each field by name, all at once; the
    form's address brings the browser back to the form; the recommended units are still there."""
    order = new_order()
    response = act(as_user(staff["dispatcher"]), order, "dispatch", lead_unit="")
    html = response.content.decode()
    assert response.status_code == 422
    assert '<li class="error">派单未完成：请选择主办单位</li>' in html
    assert "推荐主办单位" in html
    assert f'action="/orders/{order.number}/act/dispatch/#action-dispatch"' in html
    order = t.sign(t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"]), staff["h1"])
    response = act(as_user(staff["h1"]), order, "reply", content="  ")
    assert response.status_code == 422
    assert "办结未完成：请选择办理结果；请填写答复内容；请填写办理措施" in response.content.decode()
    order.refresh_from_db()
    assert order.state == State.IN_PROGRESS


def test_dispatch_sign_reply_through_the_page(staff, new_order, city):
    order = new_order()
    response = act(as_user(staff["dispatcher"]), order, "dispatch", lead_unit="T1", co_units="T-ZJJ", note="请尽快处理")
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.state, order.lead_unit, order.version) == (State.PENDING_SIGN, city["d1"], 1)
    h1 = as_user(staff["h1"])
    assert act(h1, order, "sign").status_code == 302
    order.refresh_from_db()
    reply = act(h1, order, "reply", result="resolved", content="已修复路灯。", measures="更换灯泡。")
    assert reply.status_code == 302
    order.refresh_from_db()
    assert order.state == State.PENDING_CALLBACK
    assert [e.action for e in order.events.all()] == [Action.INTAKE, Action.DISPATCH, Action.SIGN, Action.REPLY]
    opinion = act(as_user(staff["hdept"]), order, "co_opinion", opinion="已配合核实。")
    assert opinion.status_code == 409  # the order has left the unit


def test_refusals_come_back_with_403_409_422_and_change_nothing(staff, new_order, city):
    order = new_order()
    assert as_user(staff["h2"]).get(f"/orders/{order.number}/").status_code == 404  # not yet at any unit
    forbidden = act(as_user(staff["operator"]), order, "dispatch", lead_unit="T1")
    assert forbidden.status_code == 403 and "不能执行“派单”" in forbidden.content.decode()
    bad = act(as_user(staff["dispatcher"]), order, "dispatch", lead_unit="T-12345")
    assert bad.status_code == 422 and 'data-field="lead_unit"' in bad.content.decode()
    order.refresh_from_db()
    assert order.state == State.PENDING_DISPATCH and order.events.count() == 1
    wrong_state = act(as_user(staff["callback"]), order, "callback", contact_result="reached")
    assert wrong_state.status_code in (403, 409)
    t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"])
    stale = act(as_user(staff["dispatcher"]), order, "invalidate", reason="测试")  # version 0, order now at 1
    assert stale.status_code == 409
    other_unit = as_user(staff["h2"]).post(f"/orders/{order.number}/act/sign/", {"sign-version": 1})
    assert other_unit.status_code == 404
    order.refresh_from_db()
    assert order.state == State.PENDING_SIGN and order.events.count() == 2
    assert as_user(staff["h1"]).get(f"/orders/{order.number}/act/sign/").status_code == 405
    assert as_user(staff["h1"]).post(f"/orders/{order.number}/act/nope/", {}).status_code == 404


def test_callback_unsatisfied_then_reopen_then_satisfied(staff, new_order, city):
    order = t.sign(t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"]), staff["h1"])
    order = t.reply(order, staff["h1"], result="resolved", content="已修复。", measures="更换灯泡。")
    agent = as_user(staff["callback"])
    missing = act(agent, order, "callback", contact_result="reached")
    assert missing.status_code == 422 and 'data-field="satisfaction"' in missing.content.decode()
    act(agent, order, "callback", contact_result="reached", satisfaction="unsatisfied", resolved="0", note="灯还是不亮")
    order.refresh_from_db()
    assert act(agent, order, "reopen", reason="市民反映路灯仍不亮").status_code == 302
    order.refresh_from_db()
    assert (order.state, order.reopen_count) == (State.IN_PROGRESS, 1)
    t.reply(order, staff["h1"], result="resolved", content="已更换线路。", measures="更换电缆。")
    order.refresh_from_db()
    act(agent, order, "callback", contact_result="reached", satisfaction="satisfied", resolved="1")
    order.refresh_from_db()
    assert (order.state, order.closure) == (State.ARCHIVED, Closure.HANDLED)


def test_extension_request_and_decision_through_the_page(staff, new_order, city):
    order = t.sign(t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"]), staff["h1"])
    new_due = timezone.localtime(order.due_at + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    assert (
        act(as_user(staff["h1"]), order, "extension_request", new_due_at=new_due, reason="需要采购配件").status_code
        == 302
    )
    order.refresh_from_db()
    page = as_user(staff["dispatcher"]).get(f"/orders/{order.number}/").content.decode()
    assert "需要采购配件" in page and 'id="action-extension_approve"' in page
    reject = act(as_user(staff["dispatcher"]), order, "extension_approve", decision="reject", note="")
    assert reject.status_code == 422
    act(as_user(staff["dispatcher"]), order, "extension_approve", decision="approve")
    order.refresh_from_db()
    assert order.extension_count == 1 and timezone.localtime(order.due_at).strftime("%Y-%m-%dT%H:%M") == new_due
