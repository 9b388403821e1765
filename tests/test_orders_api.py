"""The work-order REST API: intake, lists, detail, every action through transitions, token auth."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from accounts.roles import Role
from accounts.tokens import create_token
from categories.loader import load_categories
from categories.models import Category
from demo.loader import CATEGORIES_CSV
from orders import transitions
from orders.models import Closure, State, WorkOrder

API = "/api/orders"


@pytest.fixture
def leaf(city) -> Category:
    load_categories(CATEGORIES_CSV)
    return Category.objects.leaves().first()


@pytest.fixture
def people(city, make_user) -> dict:
    return {
        "operator": make_user(Role.OPERATOR),
        "dispatcher": make_user(Role.DISPATCHER),
        "callback": make_user(Role.CALLBACK),
        "leader": make_user(Role.LEADER, city["city"]),
        "h1": make_user(Role.HANDLER, city["d1"], username="h1"),
        "h2": make_user(Role.HANDLER, city["d2"], username="h2"),
        "hdept": make_user(Role.HANDLER, city["dept"], username="hdept"),
    }


def order_body(leaf: Category, **changes) -> dict:
    body = {
        "channel": "web",
        "caller_name": "张先生",
        "caller_phone": "13800138000",
        "request_type": "complaint",
        "category": leaf.pk,
        "title": "小区门口路灯不亮",
        "content": "一区一街道幸福小区门口的路灯坏了半个月，晚上很黑。",
        "address": "一区一街道幸福小区",
        "tags": ["media"],
    }
    return {**body, **changes}


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, url: str, data: dict | None = None, **headers):
    return client.post(url, data or {}, content_type="application/json", headers=headers)


def new_order(people, leaf, **changes) -> WorkOrder:
    order, _ = transitions.intake(people["operator"], order_body(leaf, **changes))
    return order


def dispatched(people, leaf, unit: str = "T1", **changes) -> WorkOrder:
    return transitions.dispatch(new_order(people, leaf, **changes), people["dispatcher"], lead_unit=unit)


def fields(response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


# ---------------------------------------------------------------- intake


def test_intake_creates_once_per_idempotency_key(people, leaf):
    client = as_user(people["operator"])
    first = post(client, API, order_body(leaf), **{"Idempotency-Key": "crm-0001"})
    assert first.status_code == 201, first.content
    order = first.json()
    assert order["state"] == State.PENDING_DISPATCH and order["state_label"] == "待派发"
    assert order["channel"] == "web" and order["category"] == leaf.pk and order["tags"] == ["media"]
    assert order["request_type"] == "complaint" and order["version"] == 0
    assert [e["action"] for e in order["events"]] == ["intake"]
    assert order["events"][0]["action_label"] == "受理" and order["events"][0]["actor"] == "operator-T-12345"

    again = post(client, API, order_body(leaf, title="换了标题也算同一次"), **{"Idempotency-Key": "crm-0001"})
    assert again.status_code == 200
    assert again.json()["number"] == order["number"] and again.json()["title"] == "小区门口路灯不亮"
    assert WorkOrder.objects.count() == 1

    assert post(client, API, order_body(leaf), **{"Idempotency-Key": "crm-0002"}).status_code == 201
    assert post(client, API, order_body(leaf)).status_code == 201
    assert WorkOrder.objects.count() == 3


def test_intake_names_every_bad_field_and_creates_nothing(people, leaf):
    client = as_user(people["operator"])
    response = post(client, API, order_body(leaf, caller_phone="12345", content="  ", category=999999))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert fields(response) == {"caller_phone", "content", "category"}
    assert all(name in body["message"] for name in ("caller_phone", "content", "category"))
    assert {e["field"]: e["message"] for e in body["errors"]}["category"] == "诉求分类不存在"

    top = Category.objects.filter(level=1).first()
    response = post(client, API, order_body(leaf, category=top.pk))
    assert response.status_code == 422 and fields(response) == {"category"}
    assert response.json()["errors"][0]["message"] == "请选择到三级诉求分类"

    response = post(client, API, order_body(leaf, category="abc"))
    assert response.status_code == 422 and fields(response) == {"category"}
    assert WorkOrder.objects.count() == 0


def test_intake_needs_an_intake_role(people, leaf):
    response = post(as_user(people["h1"]), API, order_body(leaf))
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert WorkOrder.objects.count() == 0


# ---------------------------------------------------------------- token auth


def test_bearer_token_works_without_a_session(people, leaf):
    token, key = create_token(people["operator"], "市长信箱")
    assert key.startswith("hl_") and token.key_prefix == key[:8]
    assert key not in (token.key_hash, token.key_prefix) and len(token.key_hash) == 64

    client = Client(enforce_csrf_checks=True)  # a token needs no CSRF cookie
    auth = {"Authorization": f"Bearer {key}"}
    response = post(client, API, order_body(leaf), **auth)
    assert response.status_code == 201, response.content
    assert client.get(API, headers=auth).json()["count"] == 1
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize("problem", ["expired", "revoked", "inactive_user", "garbage", "wrong_key", "no_scheme"])
def test_bad_tokens_get_json_401(people, problem):
    user = people["operator"]
    token, key = create_token(user, "对接系统", expires_at=timezone.now() + timedelta(days=1))
    header = f"Bearer {key}"
    if problem == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif problem == "revoked":
        ApiToken.objects.filter(pk=token.pk).update(is_active=False)
    elif problem == "inactive_user":
        user.is_active = False
        user.save()
    elif problem == "garbage":
        header = "Bearer not-a-token"
    elif problem == "wrong_key":
        header = f"Bearer {key[:-2]}xx"
    elif problem == "no_scheme":
        header = key
    response = Client().get(API, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json() == {"code": "unauthenticated", "message": "请先登录"}


def test_api_token_command_prints_a_working_key(people):
    out = StringIO()
    call_command("api_token", "create", "h1", "区网格系统", "--days", "30", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    token = ApiToken.objects.get()
    assert token.user == people["h1"] and token.name == "区网格系统"
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    me = Client().get("/api/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200 and me.json()["unit_name"] == "一区"

    out = StringIO()
    call_command("api_token", "list", stdout=out)
    assert "区网格系统" in out.getvalue() and key not in out.getvalue()
    call_command("api_token", "revoke", str(token.pk), stdout=StringIO())
    assert Client().get("/api/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401

    with pytest.raises(CommandError, match="用户不存在"):
        call_command("api_token", "create", "nobody", "x", stdout=StringIO())
    with pytest.raises(CommandError, match="令牌不存在"):
        call_command("api_token", "revoke", "999", stdout=StringIO())


# ---------------------------------------------------------------- lists and visibility


def test_list_filters_and_unit_scoping(people, leaf):
    mine = dispatched(people, leaf, "T1", title="一区的路灯", priority="urgent")
    theirs = dispatched(people, leaf, "T2", title="二区的井盖")
    waiting = new_order(people, leaf, title="还没派的工单", is_enterprise=True, enterprise_name="某公司",
                        enterprise_credit_code="91430100MA4L12345A")  # fmt: skip

    def numbers(client, query=""):
        response = client.get(f"{API}?{query}")
        assert response.status_code == 200, response.content
        return [o["number"] for o in response.json()["items"]]

    dispatcher = as_user(people["dispatcher"])
    assert numbers(dispatcher) == [waiting.number, theirs.number, mine.number]  # newest first
    assert numbers(dispatcher, "state=pending_sign") == [theirs.number, mine.number]
    assert numbers(dispatcher, "unit=T1") == [mine.number]
    assert numbers(dispatcher, "priority=urgent") == [mine.number]
    assert numbers(dispatcher, "enterprise=true") == [waiting.number]
    assert numbers(dispatcher, "q=井盖") == [theirs.number]
    assert numbers(dispatcher, f"q={mine.number}") == [mine.number]
    assert numbers(dispatcher, f"category={leaf.parent.parent_id}&request_type=complaint&channel=web") == [
        waiting.number, theirs.number, mine.number,
    ]  # fmt: skip
    assert numbers(dispatcher, "date_from=2000-01-01&date_to=2000-01-02") == []
    assert numbers(dispatcher, "limit=1&offset=1") == [theirs.number]
    assert dispatcher.get(f"{API}?state=lost").status_code == 422

    h1 = as_user(people["h1"])
    assert numbers(h1) == [mine.number]
    response = h1.get(f"{API}/{theirs.number}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert post(h1, f"{API}/{theirs.number}/sign").status_code == 404
    allowed = h1.get(f"{API}/{mine.number}").json()["allowed_actions"]
    assert allowed == ["sign", "return_request", "non_accept_request", "link", "attach"]
    assert dispatcher.get(f"{API}/19990101000001").status_code == 404


def test_caller_phone_is_masked_for_a_leader_but_not_for_a_dispatcher(people, leaf):
    order = new_order(people, leaf)
    leader, dispatcher = as_user(people["leader"]), as_user(people["dispatcher"])
    assert leader.get(f"{API}/{order.number}").json()["caller_phone"] == "138****8000"
    assert leader.get(API).json()["items"][0]["caller_phone"] == "138****8000"
    assert dispatcher.get(f"{API}/{order.number}").json()["caller_phone"] == "13800138000"
    assert dispatcher.get(API).json()["items"][0]["caller_phone"] == "13800138000"


# ---------------------------------------------------------------- actions


def test_full_path_dispatch_sign_reply_callback(people, leaf):
    number = post(as_user(people["operator"]), API, order_body(leaf)).json()["number"]
    url = f"{API}/{number}"

    response = post(as_user(people["dispatcher"]), f"{url}/dispatch", {"lead_unit": "T1", "co_units": ["T-ZJJ"]})
    assert response.status_code == 200, response.content
    order = response.json()
    assert order["state"] == State.PENDING_SIGN and order["lead_unit"] == "T1" and order["lead_unit_name"] == "一区"
    assert order["co_units"] == [{"unit": "T-ZJJ", "unit_name": "住建局", "opinion": "", "opinion_at": None}]
    assert order["due_at"] and order["sign_due_at"] and order["version"] == 1

    h1 = as_user(people["h1"])
    order = post(h1, f"{url}/sign", {"version": 1}).json()
    assert order["state"] == State.IN_PROGRESS and order["signed_at"]
    assert "reply" in order["allowed_actions"] and "sign" not in order["allowed_actions"]

    order = post(as_user(people["hdept"]), f"{url}/co-opinion", {"opinion": "已安排巡查"}).json()
    assert order["co_units"][0]["opinion"] == "已安排巡查"

    assert post(h1, f"{url}/interim-reply", {"content": "已联系路灯所"}).status_code == 200
    reply = {"result": "resolved", "content": "路灯已修复", "measures": "更换灯泡和线路"}
    order = post(h1, f"{url}/reply", reply).json()
    assert order["state"] == State.PENDING_CALLBACK and order["reply_result"] == "resolved"

    callback = {"contact_result": "reached", "satisfaction": "satisfied", "resolved": True, "note": "市民满意"}
    response = post(as_user(people["callback"]), f"{url}/callback", callback)
    assert response.status_code == 200, response.content
    order = response.json()
    assert order["state"] == State.ARCHIVED and order["closure"] == Closure.HANDLED
    assert order["satisfaction"] == "satisfied" and order["resolved"] is True
    assert order["allowed_actions"] == ["link", "attach"]
    assert [e["action"] for e in order["events"]] == [
        "intake", "dispatch", "sign", "co_opinion", "interim_reply", "reply", "callback",
    ]  # fmt: skip
    dispatch_event = order["events"][1]
    assert dispatch_event["from_state"] == "pending_dispatch" and dispatch_event["to_state_label"] == "待签收"
    assert dispatch_event["unit"] == "T-12345" and dispatch_event["data"]["co_units"] == ["T-ZJJ"]


def test_return_and_extension_requests_and_decisions(people, leaf):
    order = transitions.sign(dispatched(people, leaf), people["h1"])
    url = f"{API}/{order.number}"
    h1, dispatcher = as_user(people["h1"]), as_user(people["dispatcher"])

    new_due = (order.due_at + timedelta(days=3)).isoformat()
    assert post(h1, f"{url}/extension-request", {"new_due_at": new_due, "reason": "需协调供电"}).status_code == 200
    response = post(dispatcher, f"{url}/extension-decision", {"approve": False})
    assert response.status_code == 422 and fields(response) == {"note"}
    order_json = post(dispatcher, f"{url}/extension-decision", {"approve": True}).json()
    assert order_json["extension_count"] == 1 and order_json["events"][-1]["action"] == "extension_approve"

    assert post(h1, f"{url}/return-request", {"reason": "不属于本单位职责"}).status_code == 200
    order_json = post(dispatcher, f"{url}/return-decision", {"approve": True, "note": "改派"}).json()
    assert order_json["state"] == State.PENDING_DISPATCH and order_json["lead_unit"] is None
    assert order_json["return_count"] == 1


def test_front_desk_closures_merge_and_link(people, leaf):
    operator = as_user(people["operator"])
    parent, dup, other, silent = (new_order(people, leaf) for _ in range(4))

    response = post(operator, f"{API}/{dup.number}/merge", {"parent": "20000101000001"})
    assert response.status_code == 422 and fields(response) == {"parent"}
    order = post(operator, f"{API}/{dup.number}/merge", {"parent": parent.number}).json()
    assert order["closure"] == Closure.MERGED and order["parent"] == parent.number

    order = post(operator, f"{API}/{parent.number}/link", {"other": other.number}).json()
    assert order["related"] == [other.number] and order["state"] == State.PENDING_DISPATCH

    order = post(operator, f"{API}/{silent.number}/invalidate", {"reason": "无声电话"}).json()
    assert order["closure"] == Closure.INVALID
    order = post(operator, f"{API}/{other.number}/transfer", {"line": "120", "note": "有人晕倒"}).json()
    assert order["closure"] == Closure.TRANSFERRED and order["events"][-1]["data"] == {"line": "120"}
    order = post(operator, f"{API}/{parent.number}/answer-directly", {"answer": "按政策解释"}).json()
    assert order["closure"] == Closure.DIRECT and order["reply_content"] == "按政策解释"


def test_forbidden_wrong_state_and_bad_input(people, leaf):
    order = dispatched(people, leaf)
    url = f"{API}/{order.number}"

    response = post(as_user(people["operator"]), f"{url}/sign")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "forbidden" and "签收" in body["message"] and body["errors"] == []

    response = post(as_user(people["dispatcher"]), f"{url}/dispatch", {"lead_unit": "T2"})
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    assert "待签收" in response.json()["message"]

    h1 = as_user(people["h1"])
    post(h1, f"{url}/sign")
    response = post(h1, f"{url}/reply", {"result": "resolved", "content": "", "measures": " "})
    assert response.status_code == 422 and fields(response) == {"content", "measures"}
    response = post(h1, f"{url}/reply", {"result": "maybe", "content": "x", "measures": "y"})
    assert response.status_code == 422 and fields(response) == {"result"}
    assert WorkOrder.objects.get(pk=order.pk).state == State.IN_PROGRESS


def test_stale_version_is_a_conflict(people, leaf):
    order = new_order(people, leaf)
    url = f"{API}/{order.number}"
    dispatcher = as_user(people["dispatcher"])
    seen = dispatcher.get(url).json()["version"]
    assert post(dispatcher, f"{url}/dispatch", {"lead_unit": "T1", "version": seen}).status_code == 200

    response = post(as_user(people["h1"]), f"{url}/sign", {"version": seen})
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    assert WorkOrder.objects.get(pk=order.pk).state == State.PENDING_SIGN
    assert post(as_user(people["h1"]), f"{url}/sign", {"version": seen + 1}).status_code == 200


def test_openapi_lists_the_order_endpoints(client, db):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/orders" in paths and {"get", "post"} <= set(paths["/api/orders"])
    for action in ("answer-directly", "dispatch", "sign", "reply", "callback", "reopen", "archive", "link"):
        assert f"/api/orders/{{number}}/{action}" in paths
    assert paths["/api/orders/{number}/sign"]["post"]["summary"] == "签收"


def test_attachment_upload_checks_the_file(people, leaf):
    from django.core.files.uploadedfile import SimpleUploadedFile

    order = new_order(people, leaf)
    operator = as_user(people["operator"])
    fake = SimpleUploadedFile("scan.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    response = operator.post(f"{API}/{order.number}/attachments", {"file": fake})
    assert response.status_code == 422 and fields(response) == {"file"}
    pdf = SimpleUploadedFile("scan.pdf", b"%PDF-1.7\n%test\n", content_type="application/pdf")
    response = operator.post(f"{API}/{order.number}/attachments", {"file": pdf, "version": 0})
    assert response.status_code == 200
    assert response.json()["events"][-1]["data"]["name"] == "scan.pdf"
    (saved,) = response.json()["attachments"]
    assert (saved["name"], saved["size"]) == ("scan.pdf", 15)
    download = operator.get(f"{API}/{order.number}/attachments/{saved['id']}")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.7\n%test\n"
    assert operator.get(f"{API}/{order.number}/attachments/999999").status_code == 404
    stale = SimpleUploadedFile("scan2.pdf", b"%PDF-1.7\n", content_type="application/pdf")
    assert operator.post(f"{API}/{order.number}/attachments", {"file": stale, "version": 0}).status_code == 409
    assert as_user(people["leader"]).post(f"{API}/{order.number}/attachments", {"file": pdf}).status_code == 403
