"""Open311 GeoReport v2 at /open311/v2/: every resource in JSON and XML, filters, intake by form POST, refusals."""

import xml.etree.ElementTree as ET
from datetime import UTC, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from accounts.roles import Role
from categories.models import Category
from open311 import georeport
from open311.keys import create_key
from open311.models import Open311Key, Submission
from orders import transitions
from orders.models import Action, Channel, Closure, State, WorkOrder

BASE = "/open311/v2"
JURISDICTION = "a-city.12345.gov.cn"
LEAF = "城乡建设 › 城市建设和市政管理 › 城市公共设施"


@pytest.fixture
def leaf(categories) -> Category:
    return Category.objects.get(full_name=LEAF)


@pytest.fixture
def api_key(city, categories) -> str:
    return create_key("市民通 App")[1]


@pytest.fixture
def form(api_key, leaf) -> dict[str, str]:
    """A complete form-encoded POST, as a citizen app sends it."""
    return {
        "jurisdiction_id": JURISDICTION,
        "api_key": api_key,
        "service_code": str(leaf.pk),
        "lat": "28.194100",
        "long": "112.982300",
        "address_string": "一区一街道幸福小区东门",
        "address_id": "T1-S1-C1",
        "description": "幸福小区东门的路灯已经坏了半个月，晚上出行很不方便，请尽快维修。",
        "email": "wang@example.com",
        "device_id": "device-42",
        "account_id": "acct-7",
        "first_name": "小明",
        "last_name": "王",
        "phone": "13900139000",
        "media_url": "https://img.example.com/lamp.jpg",
    }


def post(client: Client, fields: dict, fmt: str = "json", **headers):
    return client.post(f"{BASE}/requests.{fmt}", fields, headers=headers)  # form-encoded, as the spec says


def xml(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 - this server's own answer


def xml_errors(response) -> list[tuple[str, str]]:
    root = xml(response)
    assert root.tag == "errors"
    return [(e.findtext("code"), e.findtext("description")) for e in root.findall("error")]


def new_order(operator, leaf, at=None, **fields) -> WorkOrder:
    data = {
        "channel": "phone",
        "caller_name": "张先生",
        "caller_phone": "13800138000",
        "request_type": "complaint",
        "category": leaf.pk,
        "title": "路灯不亮",
        "content": "张先生反映幸福小区门口路灯不亮，联系电话13800138000。",
        "address": "一区一街道幸福小区",
    }
    return transitions.intake(operator, {**data, **fields}, at=at)[0]


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [r["service_request_id"] for r in response.json()]


# ---------------------------------------------------------------- discovery and services


def test_discovery_names_this_endpoint_and_its_formats(client, db):
    body = client.get(f"{BASE}/discovery.json").json()
    assert body["endpoints"] == [
        {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": "http://testserver/open311/v2",
            "changeset": georeport.CHANGESET,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }
    ]
    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery" and root.findtext("changeset") == georeport.CHANGESET
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("url") == "http://testserver/open311/v2"
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]


def test_services_are_the_active_leaf_categories_grouped_by_top_level(client, leaf):
    retired = Category.objects.leaves().exclude(pk=leaf.pk).first()
    retired.is_active = False
    retired.save()
    response = client.get(f"{BASE}/services.json")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    services = response.json()
    assert len(services) == Category.objects.leaves().active().count() == Category.objects.leaves().count() - 1
    assert str(retired.pk) not in {s["service_code"] for s in services}
    assert next(s for s in services if s["service_code"] == str(leaf.pk)) == {
        "service_code": str(leaf.pk),
        "service_name": "城市公共设施",
        "description": LEAF,
        "metadata": True,
        "type": "realtime",
        "keywords": "城乡建设, 城市建设和市政管理, 城市公共设施",
        "group": "城乡建设",
    }

    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and len(root.findall("service")) == len(services)
    mine = next(s for s in root.findall("service") if s.findtext("service_code") == str(leaf.pk))
    assert [child.tag for child in mine] == list(services[0])
    assert mine.findtext("metadata") == "true" and mine.findtext("group") == "城乡建设"


def test_service_definition_lists_the_work_order_attributes(client, leaf):
    body = client.get(f"{BASE}/services/{leaf.pk}.json").json()
    assert body["service_code"] == str(leaf.pk)
    codes = [a["code"] for a in body["attributes"]]
    assert codes == ["request_type", "enterprise_name", "enterprise_credit_code"]
    request_type = body["attributes"][0]
    assert request_type["datatype"] == "singlevaluelist" and request_type["required"] is False
    assert {"key": "help", "name": "求助"} in request_type["values"]
    assert request_type["datatype_description"] == "不填为“求助”"

    root = xml(client.get(f"{BASE}/services/{leaf.pk}.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == str(leaf.pk)
    attributes = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attributes] == codes
    assert attributes[0].findtext("variable") == "true" and attributes[0].findtext("order") == "1"
    assert ("complaint", "投诉") in [(v.findtext("key"), v.findtext("name")) for v in attributes[0].find("values")]


@pytest.mark.parametrize("code", ["999999", "abc", "-1", "9" * 40, "top-level"])
def test_unknown_service_definition_is_a_404_in_spec_format(client, leaf, code):
    if code == "top-level":
        code = str(Category.objects.get(full_name="城乡建设").pk)  # only leaves are services
    response = client.get(f"{BASE}/services/{code}.json")
    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": f"service_code 不存在或已停用：{code}"}]
    response = client.get(f"{BASE}/services/{code}.xml")
    assert response.status_code == 404
    assert xml_errors(response) == [("404", f"service_code 不存在或已停用：{code}")]


def test_jurisdiction_id_must_be_the_configured_one(client, leaf, settings):
    assert client.get(f"{BASE}/services.json?jurisdiction_id={JURISDICTION}").status_code == 200
    response = client.get(f"{BASE}/services.json?jurisdiction_id=b-city.gov.cn")
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404 and "b-city.gov.cn" in response.json()[0]["description"]
    settings.OPEN311_JURISDICTION = "b-city.gov.cn"
    assert client.get(f"{BASE}/services.json?jurisdiction_id=b-city.gov.cn").status_code == 200
    assert xml_errors(client.get(f"{BASE}/services/{leaf.pk}.xml?jurisdiction_id={JURISDICTION}"))[0][0] == "404"


# ---------------------------------------------------------------- POST requests


def test_form_post_takes_an_order_in_through_intake(client, form, leaf, city):
    response = post(client, form)
    assert response.status_code == 201, response.content
    [item] = response.json()
    order = WorkOrder.objects.get()
    submission = Submission.objects.get()
    assert item == {
        "service_request_id": order.number,
        "token": submission.token,
        "service_notice": "已受理，等待派至承办单位",
        "account_id": None,
    }
    assert order.channel == Channel.API and order.request_type.code == "help" and order.category == leaf
    assert order.title == form["description"][:30] and order.content == form["description"]
    assert (order.caller_phone, order.caller_name) == ("13900139000", "王小明")
    assert order.address == "一区一街道幸福小区东门" and order.area == city["c1"]
    assert (str(order.latitude), str(order.longitude)) == ("28.194100", "112.982300")
    assert order.state == State.PENDING_DISPATCH

    key = Open311Key.objects.get()
    assert order.created_by == key.user and key.user.role == Role.OPERATOR and key.user.unit == city["center"]
    assert str(key.user) == "Open311：市民通 App" and key.last_used_at is not None
    event = order.events.get()
    assert event.action == Action.INTAKE and event.actor == key.user and event.data == {"channel": "api"}
    assert (submission.order, submission.key) == (order, key)
    assert (submission.email, submission.device_id) == ("wang@example.com", "device-42")
    assert submission.account_id == "acct-7"
    assert submission.media_url == "https://img.example.com/lamp.jpg"


def test_form_post_answers_in_xml(client, form):
    response = post(client, form, "xml")
    assert response.status_code == 201
    root = xml(response)
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert [child.tag for child in request] == ["service_request_id", "token", "service_notice", "account_id"]
    assert request.findtext("service_request_id") == WorkOrder.objects.get().number
    assert request.find("account_id").text is None


def test_post_with_address_only_and_attributes_sets_type_and_enterprise(client, form):
    for name in ("lat", "long", "address_id", "first_name", "last_name", "email", "media_url"):
        del form[name]
    form.update(
        {
            "attribute[request_type]": "complaint",
            "attribute[enterprise_name]": "某某科技有限公司",
            "attribute[enterprise_credit_code]": "91430100MA4L8XYM38",
        }
    )
    assert post(client, form).status_code == 201
    order = WorkOrder.objects.get()
    assert order.request_type.code == "complaint" and order.is_enterprise
    assert (order.enterprise_name, order.enterprise_credit_code) == ("某某科技有限公司", "91430100MA4L8XYM38")
    assert order.latitude is None and order.area is None and order.caller_name == ""


def test_latin_names_keep_first_name_first(client, form):
    form.update(first_name="Anna", last_name="Schmidt")
    post(client, form)
    assert WorkOrder.objects.get().caller_name == "Anna Schmidt"


def test_a_repeated_idempotency_key_returns_the_first_order(client, form):
    first = post(client, form, **{"Idempotency-Key": "app-1"})
    again = post(client, form, **{"Idempotency-Key": "app-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert WorkOrder.objects.count() == Submission.objects.count() == 1
    assert post(client, form, **{"Idempotency-Key": "app-2"}).status_code == 201
    assert WorkOrder.objects.count() == 2


def test_post_is_csrf_exempt(form):
    assert post(Client(enforce_csrf_checks=True), form).status_code == 201


BAD_POSTS = [
    # (what changes in the form, HTTP status, error code)
    ({"api_key": None}, 403, 403),
    ({"api_key": "o311_not-a-real-key"}, 403, 403),
    ({"api_key": "x" * 500}, 403, 403),
    ({"jurisdiction_id": "b-city.gov.cn"}, 404, 404),
    ({"service_code": None}, 400, "service_code"),
    ({"service_code": "999999"}, 400, "service_code"),
    ({"service_code": "1 OR 1=1"}, 400, "service_code"),
    ({"phone": None}, 400, "phone"),
    ({"phone": "12345"}, 400, "phone"),
    ({"description": None}, 400, "description"),
    ({"description": "   "}, 400, "description"),
    ({"description": "长" * 4001}, 400, "description"),
    ({"description": "路灯\x00坏了"}, 400, "description"),
    ({"lat": None, "long": None, "address_string": None, "address_id": None}, 400, "lat"),
    ({"long": None}, 400, "long"),
    ({"lat": "abc"}, 400, "lat"),
    ({"lat": "91"}, 400, "lat"),
    ({"long": "NaN"}, 400, "long"),
    ({"long": "-Infinity"}, 400, "long"),
    ({"lat": "1e999"}, 400, "lat"),
    ({"address_id": "T-ZJJ"}, 400, "address_id"),
    ({"address_id": "NO-SUCH-PLACE"}, 400, "address_id"),
    ({"address_string": "路" * 201}, 400, "address_string"),
    ({"first_name": "名" * 60}, 400, "first_name"),
    ({"attribute[color]": "red"}, 400, "attribute[color]"),
    ({"attribute[request_type]": "gossip"}, 400, "attribute[request_type]"),
    ({"attribute[enterprise_name]": "某某科技有限公司"}, 400, "attribute[enterprise_credit_code]"),
    ({"attribute[enterprise_credit_code]": "91430100MA4L8XYM38"}, 400, "attribute[enterprise_name]"),
    ({"email": "not-an-email"}, 400, "email"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"media_url": "https://img.example.com/" + "a" * 500}, 400, "media_url"),
    ({"device_id": "d" * 101}, 400, "device_id"),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(("change", "status", "code"), BAD_POSTS)
def test_bad_post_is_refused_in_spec_format_and_creates_nothing(client, form, fmt, change, status, code):
    for name, value in change.items():
        if value is None:
            del form[name]
        else:
            form[name] = value
    response = post(client, form, fmt)
    assert response.status_code == status, response.content
    if fmt == "json":
        errors = [(e["code"], e["description"]) for e in response.json()]
    else:
        errors = [(int(c) if c.isdigit() else c, d) for c, d in xml_errors(response)]
    assert code in [c for c, _ in errors], errors
    assert all(description for _, description in errors)
    assert WorkOrder.objects.count() == Submission.objects.count() == 0


def test_oversized_post_is_a_400_in_spec_format(client, form):
    form.update({f"extra{i}": "x" for i in range(1100)})
    response = post(client, form)
    assert response.status_code == 400 and response.json()[0]["code"] == 400
    assert WorkOrder.objects.count() == 0


def test_intake_messages_come_back_in_chinese_under_the_parameter_names(client, form):
    form.update(phone="", lat="95")
    response = post(client, form)
    assert response.status_code == 400
    assert response.json() == [
        {"code": "phone", "description": "请填写联系电话"},
        {"code": "lat", "description": "纬度应在 -90 到 90 之间"},
    ]


def test_every_missing_parameter_is_named_at_once(client, api_key):
    response = post(client, {"api_key": api_key})
    assert response.status_code == 400
    assert [e["code"] for e in response.json()] == ["service_code", "description", "lat"]


def test_revoked_key_and_inactive_user_are_refused(client, form):
    key = Open311Key.objects.get()
    key.user.is_active = False
    key.user.save()
    assert post(client, form).status_code == 403
    key.user.is_active = True
    key.user.save()
    Open311Key.objects.update(is_active=False)
    assert post(client, form).status_code == 403
    assert WorkOrder.objects.count() == 0


def test_key_acting_as_a_user_who_may_not_take_orders_is_refused_by_intake(client, form, staff):
    form["api_key"] = create_key("区网格系统", staff["h1"])[1]
    response = post(client, form)
    assert response.status_code == 403
    assert response.json()[0]["code"] == 403 and "受理" in response.json()[0]["description"]
    assert WorkOrder.objects.count() == 0


# ---------------------------------------------------------------- GET requests


def test_request_fields_in_json_and_xml_without_personal_data(client, form, staff, city, leaf):
    number = post(client, form).json()[0]["service_request_id"]
    transitions.dispatch(WorkOrder.objects.get(number=number), staff["dispatcher"], lead_unit=city["s1"])
    order = WorkOrder.objects.get(number=number)
    local = timezone.localtime

    response = client.get(f"{BASE}/requests/{number}.json?jurisdiction_id={JURISDICTION}")
    assert response.status_code == 200
    assert response.json() == [
        {
            "service_request_id": number,
            "status": "open",
            "status_notes": "待签收",
            "service_name": "城市公共设施",
            "service_code": str(leaf.pk),
            "description": form["description"],
            "agency_responsible": "一街道",
            "service_notice": f"由一街道办理，{local(order.due_at):%Y-%m-%d %H:%M} 前办结",
            "requested_datetime": local(order.received_at).isoformat(timespec="seconds"),
            "updated_datetime": local(order.updated_at).isoformat(timespec="seconds"),
            "expected_datetime": local(order.due_at).isoformat(timespec="seconds"),
            "address": "一区一街道幸福小区东门",
            "address_id": "T1-S1-C1",
            "zipcode": None,
            "lat": 28.1941,
            "long": 112.9823,
            "media_url": "https://img.example.com/lamp.jpg",
        }
    ]
    assert response.json()[0]["requested_datetime"].endswith("+08:00")

    root = xml(client.get(f"{BASE}/requests/{number}.xml"))
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert [child.tag for child in request] == list(response.json()[0])
    assert request.findtext("status") == "open" and request.findtext("lat") == "28.1941"
    assert request.find("zipcode").text is None

    for body in (client.get(f"{BASE}/requests.json").content, client.get(f"{BASE}/requests.xml").content):
        text = body.decode()
        assert number in text and "13900139000" not in text and "王小明" not in text and "wang@example" not in text


def test_callers_numbers_and_name_in_the_text_are_masked(client, staff, leaf):
    order = new_order(staff["operator"], leaf)
    transitions.answer_directly(order, staff["operator"], answer="已告知张先生报修电话0731-88886666。")
    [item] = client.get(f"{BASE}/requests/{order.number}.json").json()
    assert item["description"] == "***反映幸福小区门口路灯不亮，联系电话138********。"
    assert item["status"] == "closed"
    assert item["status_notes"] == "直接办结：已告知***报修电话0731-888*****。"
    assert item["agency_responsible"] is None and item["expected_datetime"] is None
    assert item["service_notice"] is None and item["media_url"] is None


def test_requests_filters(client, staff, leaf):
    operator = staff["operator"]
    other_leaf = Category.objects.leaves().exclude(pk=leaf.pk).first()
    now = timezone.now()
    recent = new_order(operator, leaf, at=now - timedelta(days=2))
    closed = new_order(operator, other_leaf, at=now - timedelta(days=1))
    transitions.answer_directly(closed, operator, answer="已答复")
    old = new_order(operator, leaf, at=now - timedelta(days=120))
    invalid = new_order(operator, leaf, at=now - timedelta(hours=1))
    transitions.invalidate(invalid, operator, reason="测试电话")
    url = f"{BASE}/requests.json"

    assert numbers(client.get(url)) == [closed.number, recent.number]  # the last 90 days, newest first, no 无效
    assert numbers(client.get(url, {"status": "open"})) == [recent.number]
    assert numbers(client.get(url, {"status": "closed"})) == [closed.number]
    assert numbers(client.get(url, {"status": "open,closed"})) == [closed.number, recent.number]
    assert numbers(client.get(url, {"service_code": str(leaf.pk)})) == [recent.number]
    assert numbers(client.get(url, {"service_code": f"{leaf.pk},{other_leaf.pk}"})) == [closed.number, recent.number]
    old_day = timezone.localtime(old.received_at).date()
    assert numbers(client.get(url, {"start_date": f"{old_day:%Y-%m-%d}", "end_date": f"{old_day:%Y-%m-%d}"})) == [
        old.number
    ]
    start = (now - timedelta(days=3)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = timezone.localtime(now - timedelta(days=1, hours=12)).isoformat()
    assert numbers(client.get(url, {"start_date": start, "end_date": end})) == [recent.number]
    assert numbers(client.get(url, {"start_date": start})) == [closed.number, recent.number]
    assert numbers(client.get(url, {"end_date": f"{old_day + timedelta(days=1):%Y-%m-%d}"})) == [old.number]
    # service_request_id overrides every other filter; the 无效 order is never published
    ids = f"{old.number}, {recent.number},{invalid.number},nonexistent"
    assert numbers(client.get(url, {"service_request_id": ids, "status": "closed"})) == [recent.number, old.number]

    root = xml(client.get(f"{BASE}/requests.xml", {"status": "closed"}))
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [closed.number]


def test_requests_are_capped(client, staff, leaf, monkeypatch):
    monkeypatch.setattr(georeport, "MAX_REQUESTS", 2)
    made = [new_order(staff["operator"], leaf) for _ in range(3)]
    assert numbers(client.get(f"{BASE}/requests.json")) == [made[2].number, made[1].number]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"start_date": "2026-13-01"}, "start_date"),
        ({"end_date": "2026-02-30T10:00:00Z"}, "end_date"),
        ({"start_date": "0001-01-01T00:00:00+08:00"}, "start_date"),
        ({"end_date": "9999-12-31"}, "end_date"),
        ({"start_date": "2026-03-01", "end_date": "2026-02-01"}, "end_date"),
        ({"start_date": "2026-01-01", "end_date": "2026-06-01"}, "end_date"),
        ({"status": "pending"}, "status"),
        ({"service_code": "abc"}, "service_code"),
        ({"service_code": "999999"}, "service_code"),
        ({"service_code": "9" * 18}, "service_code"),
        ({"service_code": "9" * 40}, "service_code"),
        ({"service_request_id": "2026\x00"}, "service_request_id"),
    ],
)
def test_bad_request_filters_are_400(client, leaf, query, code):
    response = client.get(f"{BASE}/requests.json", query)
    assert response.status_code == 400
    assert [e["code"] for e in response.json()] == [code]
    assert xml_errors(client.get(f"{BASE}/requests.xml", query))[0][0] == code


def test_unknown_request_is_a_404(client, db):
    response = client.get(f"{BASE}/requests/20990101000001.json")
    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": "service_request_id 不存在：20990101000001"}]
    assert xml_errors(client.get(f"{BASE}/requests/nope.xml")) == [("404", "service_request_id 不存在：nope")]


def test_invalid_orders_are_not_published(client, staff, leaf):
    order = new_order(staff["operator"], leaf)
    transitions.invalidate(order, staff["operator"], reason="骚扰电话")
    assert WorkOrder.objects.get().closure == Closure.INVALID
    assert client.get(f"{BASE}/requests/{order.number}.json").status_code == 404


def test_token_resolves_to_the_service_request_id(client, form):
    token = post(client, form).json()[0]["token"]
    number = WorkOrder.objects.get().number
    assert client.get(f"{BASE}/tokens/{token}.json").json() == [{"service_request_id": number, "token": token}]
    request = xml(client.get(f"{BASE}/tokens/{token}.xml")).find("request")
    assert (request.findtext("service_request_id"), request.findtext("token")) == (number, token)
    response = client.get(f"{BASE}/tokens/unknown.json")
    assert response.status_code == 404 and response.json()[0]["code"] == 404


# ---------------------------------------------------------------- paths, formats, methods


@pytest.mark.parametrize(
    "path",
    ["services.html", "services.", "services.JSON", "services", "requests/1.yaml", "tokens/x.csv", "nothing", ""],
)
def test_unknown_format_or_path_is_a_spec_404(client, db, path):
    response = client.get(f"{BASE}/{path}")
    assert response.status_code == 404
    [(code, description)] = xml_errors(response)
    assert code == "404" and description


def test_unknown_path_answers_in_json_when_asked_for_json(client, db):
    response = client.post(f"{BASE}/nothing.json")
    assert response.status_code == 404 and response.json()[0]["code"] == 404


@pytest.mark.parametrize(("method", "path"), [("post", "services.json"), ("delete", "requests.json")])
def test_wrong_method_is_a_405_in_spec_format(db, method, path):
    response = getattr(Client(enforce_csrf_checks=True), method)(f"{BASE}/{path}")
    assert response.status_code == 405
    assert response.json()[0]["code"] == 405 and "GET" in response["Allow"]


def test_control_characters_are_dropped_from_xml(client, staff, leaf):
    order = new_order(staff["operator"], leaf, content="路灯\x07不亮\x1b")
    root = xml(client.get(f"{BASE}/requests/{order.number}.xml"))
    assert root.find("request").findtext("description") == "路灯不亮"


# ---------------------------------------------------------------- keys


def test_open311_key_command_creates_lists_and_revokes(client, form, city):
    out = StringIO()
    call_command("open311_key", "create", "市长信箱", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    record = Open311Key.objects.get(name="市长信箱")
    assert key.startswith("o311_") and record.key_prefix == key[:12] and key not in record.key_hash
    assert record.user.role == Role.OPERATOR and record.user.unit == city["center"]
    assert not record.user.has_usable_password()
    form["api_key"] = key
    assert post(client, form).status_code == 201

    out = StringIO()
    call_command("open311_key", "list", stdout=out)
    assert "市长信箱" in out.getvalue() and key not in out.getvalue()

    call_command("open311_key", "revoke", "市长信箱", stdout=StringIO())
    assert post(client, form).status_code == 403
    with pytest.raises(CommandError, match="没有名为"):
        call_command("open311_key", "revoke", "市长信箱", stdout=StringIO())
    out = StringIO()
    call_command("open311_key", "create", "市长信箱", stdout=out)  # a revoked name can be given a new key
    form["api_key"] = out.getvalue().strip().splitlines()[-1]
    assert post(client, form).status_code == 201


def test_open311_key_command_with_user_and_refusals(staff, city):
    out = StringIO()
    call_command("open311_key", "create", "派单系统", "--user", staff["dispatcher"].username, stdout=out)
    assert Open311Key.objects.get(name="派单系统").user == staff["dispatcher"]
    with pytest.raises(CommandError, match="已有名为"):
        call_command("open311_key", "create", "派单系统", stdout=StringIO())
    with pytest.raises(CommandError, match="不能受理工单"):
        call_command("open311_key", "create", "网格", "--user", "h1", stdout=StringIO())
    with pytest.raises(CommandError, match="用户不存在"):
        call_command("open311_key", "create", "网格", "--user", "nobody", stdout=StringIO())
    city["center"].is_active = False
    city["center"].save()
    with pytest.raises(CommandError, match="热线中心"):
        call_command("open311_key", "create", "网格", stdout=StringIO())


def test_admin_shows_keys_with_a_read_only_hash(client, staff, api_key):
    record = Open311Key.objects.get()
    client.force_login(staff["admin"])
    page = client.get(f"/admin/open311/open311key/{record.pk}/change/").content.decode()
    assert record.key_hash in page and 'name="key_hash"' not in page and api_key not in page
    assert client.get("/admin/open311/open311key/add/").status_code == 403
    assert client.get("/admin/open311/submission/").status_code == 200
