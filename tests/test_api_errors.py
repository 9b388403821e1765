"""The API's refusals: declared in /api/openapi.json, shaped {code, message, errors}, and never a server error.

Each test pins down something tests/test_api_fuzz.py found.
"""

import json

import pytest

from accounts.roles import Role

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def error_schema(operation: dict, status: int) -> dict | None:
    declared = operation["responses"].get(str(status))
    return declared and declared["content"]["application/json"]["schema"]


def test_every_operation_declares_the_errors_every_endpoint_can_give(client):
    document = client.get("/api/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert error_schema(operation, 401) == ERROR_REF, where
            assert error_schema(operation, 403) == ERROR_REF, where
            if operation["parameters"] or "requestBody" in operation:
                assert error_schema(operation, 422) == ERROR_REF, where
            if "requestBody" in operation:
                assert error_schema(operation, 400) == ERROR_REF, where
    assert document["components"]["schemas"]["ErrorOut"]["additionalProperties"] is False


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/api/orders/{number}", "get", [404]),
        ("/api/orders/{number}/sign", "post", [404, 409]),
        ("/api/orders/{number}/attachments", "post", [404, 409]),
        ("/api/orders/{number}/attachments/{attachment_id}", "get", [404]),
        ("/api/units/{code}", "get", [404]),
        ("/api/knowledge/articles/{article_id}", "get", [404]),
    ],
)
def test_endpoints_declare_their_own_errors(client, path, method, statuses):
    operation = client.get("/api/openapi.json").json()["paths"][path][method]
    for status in statuses:
        assert error_schema(operation, status) == ERROR_REF, status


def test_an_endpoints_own_refusal_names_the_field_in_errors(client, make_user):
    client.force_login(make_user(Role.OPERATOR))

    response = client.get("/api/calendar/days?start=2025-10-02&end=2025-10-01")

    assert response.status_code == 422
    message = "end 必须不早于 start，且区间不超过 366 天"
    assert response.json() == {"code": "invalid", "message": message, "errors": [{"field": "end", "message": message}]}


@pytest.mark.parametrize("start", ["1796-04-05T06:06:03%2B08:00", "9999-12-30T09:00:00%2B08:00"])
def test_deadline_from_outside_this_century_is_refused(client, make_user, start):
    # 1796 came back with the zone's local mean time offset +08:05:43, not a valid date-time; 9999 overflowed.
    client.force_login(make_user(Role.OPERATOR))

    response = client.get(f"/api/calendar/deadline?start={start}&working_days=365")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "start"


@pytest.mark.parametrize(
    "query", ["limit=26396044900520632014134555508211712", "offset=9223372036854775808", "limit=1001", "limit=0"]
)
@pytest.mark.parametrize("path", ["/api/orders", "/api/units", "/api/categories"])
def test_pages_beyond_the_bounds_are_refused_before_the_database(client, make_user, path, query):
    # An enormous limit or offset overflowed the database's 64-bit integers: 500 on PostgreSQL and SQLite.
    client.force_login(make_user(Role.DISPATCHER))

    response = client.get(f"{path}?{query}")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == query.split("=")[0]


def test_the_largest_page_is_served(client, make_user):
    client.force_login(make_user(Role.DISPATCHER))

    assert client.get("/api/units?limit=1000&offset=1000000000").json() == {"items": [], "count": 9}


@pytest.fixture
def operator_client(client, make_user, order_data):
    client.force_login(make_user(Role.OPERATOR))
    return client


def post_json(client, path: str, body: dict):
    # json.dumps keeps "\u0000" and lone surrogates as escapes, as a client's JSON library would send them.
    return client.post(path, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("send", "field"),
    [
        (lambda c, data: c.get("/api/orders?q=%00"), "q"),
        (lambda c, data: c.get("/api/units/T1%00"), "code"),
        (lambda c, data: c.get("/api/knowledge/search?q=a%00b"), "q"),
        (lambda c, data: post_json(c, "/api/orders", {**data, "title": "路灯\x00不亮"}), "title"),
        (lambda c, data: post_json(c, "/api/orders", {**data, "content": "路灯\ud800不亮"}), "content"),
        (lambda c, data: post_json(c, "/api/orders", {**data, "tags": ["media", "\x00"]}), "tags.1"),
        (lambda c, data: post_json(c, "/api/orders/20250101000001/invalidate", {"reason": "\x00"}), "reason"),
        (lambda c, data: post_json(c, "/api/calls/events", {"call_id": "c\x00", "event": "ringing"}), "call_id"),
    ],
)
def test_text_the_database_cannot_store_is_refused_with_422(operator_client, order_data, send, field):
    # PostgreSQL refuses U+0000 in text and no database can encode a lone surrogate: both were server errors.
    response = send(operator_client, order_data)

    assert response.status_code == 422, response.content
    assert response.json()["errors"] == [{"field": field, "message": response.json()["message"]}]
