"""The authorisation matrix, generated: every role × every work-order API operation and page action × an order of
its own unit or of another unit. A unit never reads or changes another unit's orders, a leader never changes any,
and no combination ends in a server error. The operations are read from the OpenAPI schema and the page actions
from the forms, so a new endpoint or action is covered without touching this file."""

import json
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from accounts.tokens import create_token
from hotline.api import api
from orders import transitions
from orders.forms import ACTION_FORMS
from orders.models import OrderEvent, WorkOrder

ORDER_PATH = re.compile(r"^/api/orders/\{number\}")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in node:
        node = next((n for n in node["anyOf"] if n.get("type") != "null"), node["anyOf"][0])
        return _resolve(schema, node)
    return node


def _value(schema: dict, name: str, node: dict, order: WorkOrder, other_unit: str):
    """A plausible value for a field, so that a refusal comes from the rules and not from the input's shape."""
    node = _resolve(schema, node)
    if "enum" in node:
        return node["enum"][0]
    kind, fmt = node.get("type"), node.get("format", "")
    if name == "version":
        return order.version
    if name in ("lead_unit", "unit", "co_units"):
        return other_unit if kind != "array" else [other_unit]
    if kind == "integer":
        return 1
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if fmt == "date-time":
        return (timezone.now() + timedelta(days=10)).isoformat()
    if fmt == "date":
        return (timezone.localdate() + timedelta(days=10)).isoformat()
    return "测试内容"


def _body(schema: dict, operation: dict, order: WorkOrder, other_unit: str) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    node = _resolve(schema, content["application/json"]["schema"])
    props = node.get("properties", {})
    return {name: _value(schema, name, props[name], order, other_unit) for name in node.get("required", props)}


def operations() -> list[tuple[str, str, dict]]:
    schema = api.get_openapi_schema()
    return [
        (method.upper(), path, operation)
        for path, methods in schema["paths"].items()
        if ORDER_PATH.match(path)
        for method, operation in methods.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _fingerprint(order: WorkOrder) -> tuple:
    order.refresh_from_db()
    return order.version, order.state, OrderEvent.objects.filter(order=order).count(), order.attachments.count()


@pytest.fixture
def orders(staff, order_data, city):
    """An order of each district, dispatched and signed, so that most actions are possible in principle."""
    made = {}
    for key, unit, handler in (("d1", city["d1"], staff["h1"]), ("d2", city["d2"], staff["h2"])):
        order, _ = transitions.intake(staff["operator"], order_data)
        made[key] = transitions.sign(transitions.dispatch(order, staff["dispatcher"], lead_unit=unit), handler)
    return made


def test_api_matrix(client, staff, orders, city):
    schema = api.get_openapi_schema()
    ops = operations()
    assert len(ops) >= 15  # every life-cycle action has an endpoint
    tokens = {name: create_token(user, "matrix")[1] for name, user in staff.items()}
    checked = 0
    for name, user in staff.items():
        for method, path, operation in ops:
            for order in orders.values():
                own = user.role != Role.HANDLER or user.visible_units.filter(pk=order.lead_unit_id).exists()
                url = re.sub(r"\{[^}]+\}", "1", path.replace("{number}", order.number))
                body = _body(schema, operation, order, city["s1"].code)
                before = _fingerprint(order)
                auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens[name]}"}
                if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
                    response = client.post(url, {"file": SimpleUploadedFile("现场.png", PNG, "image/png")}, **auth)
                else:
                    data = json.dumps(body) if body is not None else ""
                    response = client.generic(method, url, data, content_type="application/json", **auth)
                where = (name, method, url)
                assert response.status_code < 500, where
                if not own:  # another unit's order: neither read nor changed
                    assert response.status_code in (403, 404), where
                    assert _fingerprint(order) == before, where
                if user.role == Role.LEADER and method != "GET":
                    assert response.status_code in (403, 404, 422) and _fingerprint(order) == before, where
                checked += 1
    assert checked == len(staff) * len(ops) * len(orders)


def test_page_matrix(client, staff, orders):
    for name, user in staff.items():
        client.force_login(user)
        for key, order in orders.items():
            own = user.role != Role.HANDLER or user.visible_units.filter(pk=order.lead_unit_id).exists()
            detail = client.get(reverse("orders:detail", args=[order.number]))
            assert detail.status_code == (200 if own else 404), (name, key)
            for action in ACTION_FORMS:
                before = _fingerprint(order)
                response = client.post(
                    reverse("orders:act", args=[order.number, action]), {f"{action}-version": order.version}
                )
                where = (name, action, key)
                assert response.status_code < 500, where
                if not own:
                    assert response.status_code == 404 and _fingerprint(order) == before, where
                if user.role == Role.LEADER:
                    assert _fingerprint(order) == before, where


def test_a_citizen_reads_only_their_own_submission(client, db):
    from portal.models import Submission

    mine = Submission.objects.create(phone="13912345678", title="我的", content="我的诉求内容")
    theirs = Submission.objects.create(phone="13700000000", title="别人的", content="别人的诉求内容")
    client.post(reverse("portal:track"), {"code": mine.code, "phone_tail": "5678"})
    assert client.get(reverse("portal:status", args=[mine.code])).status_code == 200
    assert client.get(reverse("portal:status", args=[theirs.code])).status_code == 404
    assert client.post(reverse("portal:status", args=[theirs.code]), {"rating": "satisfied"}).status_code == 404
    for page in ("orders:list", "portal:queue"):
        assert client.get(reverse(page)).status_code == 302  # staff pages send a citizen to the login
