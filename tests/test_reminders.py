"""催办: one reminder per threshold crossed, to the unit, on the timeline, by email — exactly once."""

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection

from notifications.models import Notification
from orders import transitions as t
from orders.models import Action, OrderEvent, Warning, WorkOrder
from supervision import reminders, warnings

SH = ZoneInfo("Asia/Shanghai")
DISPATCHED = datetime(2025, 9, 15, 9, 0, tzinfo=SH)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def late_order(staff, order_data, city):
    staff["h1"].email = "h1@unit.example"
    staff["h1"].save()
    order, _ = t.intake(staff["operator"], order_data, at=DISPATCHED)
    return t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"], at=DISPATCHED)


def urges(order: WorkOrder) -> list[OrderEvent]:
    return list(order.events.filter(action=Action.URGE))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the worker closes its connection
def test_each_threshold_crossed_is_urged_once(late_order, staff, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    warnings.recompute(DISPATCHED + timedelta(hours=25))
    assert reminders.send_reminders() == 1
    assert reminders.send_reminders() == 0  # nothing new crossed
    (event,) = urges(late_order)
    assert "橙色预警" in event.note and event.actor is None
    note = Notification.objects.get(user=staff["h1"])
    assert note.link == f"/orders/{late_order.number}/" and "橙色" in note.title
    assert not Notification.objects.filter(user=staff["h2"]).exists()

    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["h1@unit.example"]

    warnings.recompute(DISPATCHED + timedelta(hours=49))
    assert reminders.send_reminders() == 1
    assert [e.data["warning"] for e in urges(late_order)] == [Warning.ORANGE, Warning.RED]


@pytest.mark.django_db
def test_a_stopped_worker_catches_up_and_a_new_cycle_urges_again(late_order, staff):
    # nothing ran for two days: on restart the order is red and its unit is urged once, for red
    warnings.recompute(DISPATCHED + timedelta(days=2, hours=1))
    assert reminders.send_reminders() == 1
    assert [e.data["warning"] for e in urges(late_order)] == [Warning.RED]
    # signing and replying late, then a reopen: a new handling cycle, reminders start again
    order = t.sign(WorkOrder.objects.get(pk=late_order.pk), staff["h1"], at=DISPATCHED + timedelta(days=2, hours=2))
    assert order.warned == Warning.RED  # same cycle: no new reminder for red
    warnings.recompute(DISPATCHED + timedelta(days=2, hours=3))
    assert reminders.send_reminders() == 0


def _reminder_process(database_url: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "hotline.settings"}
    code = "import django; django.setup();from supervision import reminders; print(reminders.send_reminders())"
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_schedulers_at_once_send_each_reminder_exactly_once(staff, order_data, city):
    orders = []
    for i in range(40):
        order, _ = t.intake(staff["operator"], {**order_data, "title": f"第 {i} 张"}, at=DISPATCHED)
        orders.append(t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"], at=DISPATCHED))
    warnings.recompute(DISPATCHED + timedelta(hours=30))
    s = connection.settings_dict
    url = f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    procs = [_reminder_process(url) for _ in range(2)]
    sent = [int(p.communicate(timeout=120)[0].strip()) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(sent) == 40
    for order in orders:
        assert len(urges(order)) == 1
    assert Notification.objects.filter(user=staff["h1"]).count() == 40
