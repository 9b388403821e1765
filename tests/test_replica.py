"""Read replica: GETs of dashboards and reports read through the ``replica`` alias, every other request and every
write use the primary, and an unreachable replica is skipped (system/replica.py).

The replica here is a second connection to the test database, as Django makes of ``DATABASE_REPLICA_URL`` in tests
(a test mirror of default), so the rows a test writes on default are seen through it. The tests commit their data
(transactional) because the second connection cannot see another connection's open transaction.
"""

import contextlib
import runpy
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import rollup
from notifications.models import Notification
from orders import transitions as t
from system import replica as replica_module
from system.replica import REPLICA, ReplicaRouter, reads_from_replica

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", REPLICA])


@pytest.fixture(scope="module", autouse=True)
def replica_alias():
    """The ``replica`` alias as a test mirror of default, as settings make it from DATABASE_REPLICA_URL. Module
    scope: the alias must exist before the test case that lists it is set up. Kept if the run already has one."""
    added = REPLICA not in connections.settings
    if added:
        connections.settings[REPLICA] = {
            **connections["default"].settings_dict,
            "TEST": {**connections["default"].settings_dict["TEST"], "MIRROR": "default"},
        }
    yield
    if added:
        drop_connection()
        del connections.settings[REPLICA]


def drop_connection() -> None:
    with contextlib.suppress(AttributeError):
        connections[REPLICA].close()
        del connections[REPLICA]


@pytest.fixture
def replica(settings):
    """The replica connection, on the test database, with the router that settings add with it."""
    settings.DATABASE_ROUTERS = ["system.replica.ReplicaRouter"]
    if connections.settings[REPLICA]["NAME"] != connections["default"].settings_dict["NAME"]:
        drop_connection()  # the alias was added before the test database was created
        connections.settings[REPLICA]["NAME"] = connections["default"].settings_dict["NAME"]
    return connections[REPLICA]


@pytest.fixture
def unreachable_replica(settings, monkeypatch):
    """The ``replica`` alias pointing at a database that cannot be opened."""
    previous = connections.settings[REPLICA]
    drop_connection()
    connections.settings[REPLICA] = {
        **previous,
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/nonexistent-directory/replica.sqlite3",
        "OPTIONS": {},
    }
    settings.DATABASE_ROUTERS = ["system.replica.ReplicaRouter"]
    monkeypatch.setattr(replica_module, "_down_until", 0.0)
    yield
    drop_connection()
    connections.settings[REPLICA] = previous


def sql(queries) -> str:
    return "\n".join(q["sql"] for q in queries)


@pytest.fixture
def one_order(staff, order_data, city):
    order = t.intake(staff["operator"], order_data, at=timezone.now() - timedelta(hours=1))[0]
    t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"])
    rollup.refresh()
    return order


def test_dashboard_get_reads_through_the_replica(client, staff, one_order, replica):
    client.force_login(staff["leader"])
    with CaptureQueriesContext(connections["default"]) as primary, CaptureQueriesContext(replica) as read:
        page = client.get("/analytics/")
    assert page.status_code == 200
    card = next(c for c in page.context["cards"] if c["label"] == "受理量")
    assert card["value"] == 1  # the order written on default, read through the replica
    assert "analytics_" in sql(read)
    assert "analytics_" not in sql(primary)
    # the session and the signed-in user come from the primary, before the view's reads
    assert "django_session" in sql(primary) and "django_session" not in sql(read)


def test_other_dashboards_and_the_disclosure_read_through_the_replica(client, staff, one_order, replica, city):
    client.force_login(staff["leader"])
    for path in ("/analytics/unit/", "/analytics/category/", "/analytics/reports/", "/open/indicators/"):
        with CaptureQueriesContext(connections["default"]) as primary, CaptureQueriesContext(replica) as read:
            page = client.get(path)
        assert page.status_code == 200, path
        assert len(read) > 0, path
        assert "analytics_" not in sql(primary) and "orders_" not in sql(primary), path


def test_post_to_a_report_page_and_other_pages_read_from_the_primary(client, staff, one_order, replica):
    client.force_login(staff["leader"])
    with CaptureQueriesContext(connections["default"]) as primary, CaptureQueriesContext(replica) as read:
        response = client.post("/analytics/reports/", {"action": "subscribe", "kinds": ["daily"]})
    assert response.status_code == 302
    assert len(read) == 0
    assert "analytics_reportsubscription" in sql(primary)
    client.force_login(staff["operator"])
    for path in ("/", f"/orders/{one_order.number}/", "/orders/"):
        with CaptureQueriesContext(connections["default"]) as primary, CaptureQueriesContext(replica) as read:
            page = client.get(path)
        assert page.status_code == 200, path
        assert len(read) == 0, path
        assert len(primary) > 0, path


def test_api_intake_reads_and_writes_on_the_primary(client, staff, order_data, replica):
    from accounts.tokens import create_token

    token = create_token(staff["operator"], "replica")[1]
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "replica-test-1"}
    with CaptureQueriesContext(connections["default"]) as primary, CaptureQueriesContext(replica) as read:
        response = client.post("/api/orders", order_data, content_type="application/json", headers=headers)
    assert response.status_code == 201
    assert len(read) == 0 and "INSERT" in sql(primary)


def test_writes_go_to_the_primary_while_reads_use_the_replica(staff, replica):
    router = ReplicaRouter()
    assert router.db_for_read(Notification) is None
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(replica) as read,
        reads_from_replica(),
    ):
        assert router.db_for_read(Notification) == REPLICA and router.db_for_write(Notification) == "default"
        note = Notification.objects.create(user=staff["operator"], title="副本测试")
        assert Notification.objects.filter(pk=note.pk).exists()
    assert "INSERT" in sql(primary) and "INSERT" not in sql(read)
    assert "notifications_notification" in sql(read)  # the read after the write went to the replica
    assert router.db_for_read(Notification) is None
    assert router.allow_migrate("default", "orders") and not router.allow_migrate(REPLICA, "orders")


def test_an_unreachable_replica_is_skipped(client, staff, one_order, unreachable_replica):
    client.force_login(staff["leader"])
    with CaptureQueriesContext(connections["default"]) as primary:
        page = client.get("/analytics/")
    assert page.status_code == 200
    assert next(c for c in page.context["cards"] if c["label"] == "受理量")["value"] == 1
    assert "analytics_" in sql(primary)
    assert replica_module._down_until > 0  # not tried again for a while


def test_settings_add_the_replica_and_the_router(monkeypatch, tmp_path):
    settings_file = Path(__file__).resolve().parent.parent / "hotline" / "settings.py"
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@10.0.0.1:5432/hotline")
    monkeypatch.delenv("DATABASE_REPLICA_URL", raising=False)
    plain = runpy.run_path(str(settings_file))
    assert "replica" not in plain["DATABASES"] and "DATABASE_ROUTERS" not in plain
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://postgres@10.0.0.2:5432/hotline?connect_timeout=2")
    monkeypatch.setenv("DB_CONN_MAX_AGE", "60")
    configured = runpy.run_path(str(settings_file))
    replica = configured["DATABASES"]["replica"]
    assert (replica["HOST"], replica["PORT"], replica["NAME"]) == ("10.0.0.2", 5432, "hotline")
    assert replica["CONN_MAX_AGE"] == 60 and replica["OPTIONS"] == {"connect_timeout": 2}
    assert replica["TEST"] == {"MIRROR": "default"}
    assert configured["DATABASE_ROUTERS"] == ["system.replica.ReplicaRouter"]
    middleware = configured["MIDDLEWARE"]
    assert middleware.index("system.replica.ReplicaMiddleware") > middleware.index(
        "django.contrib.auth.middleware.AuthenticationMiddleware"
    )
