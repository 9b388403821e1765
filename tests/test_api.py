import pytest

from accounts.roles import Role
from categories.loader import load_categories
from demo.loader import CATEGORIES_CSV


def test_openapi_schema_is_served(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/units" in paths and "/api/calendar/deadline" in paths


def test_anonymous_call_gets_json_401_with_code(client, db):
    response = client.get("/api/units")
    assert response.status_code == 401
    assert response.json() == {"code": "unauthenticated", "message": "请先登录"}


def test_units_api_is_scoped_to_what_the_user_may_see(client, city, make_user):
    client.force_login(make_user(Role.HANDLER, city["d1"]))
    body = client.get("/api/units").json()
    assert [u["code"] for u in body["items"]] == ["T1"]
    assert client.get("/api/units/T2").json()["code"] == "not_found"
    client.force_login(make_user(Role.DISPATCHER))
    body = client.get("/api/units?kind=district").json()
    assert {u["code"] for u in body["items"]} == {"T1", "T2"}
    assert body["items"][0]["kind_label"] == "区/县"


def test_bad_query_parameter_is_named_in_the_error(client, make_user):
    client.force_login(make_user(Role.DISPATCHER))
    response = client.get("/api/units?kind=planet")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid" and "kind" in body["message"]
    assert body["errors"][0]["field"] == "kind"


def test_me(client, make_user, city):
    client.force_login(make_user(Role.HANDLER, city["power"], manager=False))
    assert client.get("/api/me").json()["unit_name"] == "供电公司"


def test_categories_and_types(client, make_user):
    load_categories(CATEGORIES_CSV)
    client.force_login(make_user(Role.OPERATOR))
    tops = client.get("/api/categories?level=1&limit=100").json()
    assert tops["count"] == 15
    assert [t["name"] for t in client.get("/api/categories/types").json()] == [
        "咨询",
        "求助",
        "投诉",
        "举报",
        "建议",
        "表扬",
        "其他",
    ]


@pytest.mark.parametrize(
    "query,expected",
    [
        ("start=2025-09-30T15:00:00%2B08:00&working_days=1", "2025-10-09T15:00:00+08:00"),
        ("start=2025-10-09T17:00:00%2B08:00&working_hours=1", "2025-10-10T09:30:00+08:00"),
    ],
)
def test_deadline_endpoint(client, make_user, query, expected):
    client.force_login(make_user(Role.OPERATOR))
    response = client.get(f"/api/calendar/deadline?{query}")
    assert response.status_code == 200, response.content
    assert response.json()["deadline"] == expected


def test_deadline_endpoint_rejects_ambiguous_input(client, make_user):
    client.force_login(make_user(Role.OPERATOR))
    response = client.get("/api/calendar/deadline?start=2025-10-09T09:00:00%2B08:00")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "working_days"
    response = client.get("/api/calendar/deadline?start=garbage&working_days=1")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "start"


def test_calendar_days(client, make_user):
    client.force_login(make_user(Role.LEADER))
    days = client.get("/api/calendar/days?start=2025-09-27&end=2025-10-01").json()
    assert [d["is_working_day"] for d in days] == [False, True, True, True, False]
    assert client.get("/api/calendar/days?start=2025-01-01&end=2027-01-01").status_code == 422
