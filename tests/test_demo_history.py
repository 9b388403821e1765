"""The demo history (demo/history.py): orders in every state, replayed in time order, once, reproducibly."""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from demo.history import load_history
from demo.loader import DEMO_PASSWORD
from orders import queries
from orders.models import Action, Closure, OrderEvent, RequestStatus, State, WorkOrder
from orders.validators import credit_code_error

pytestmark = pytest.mark.django_db

COUNT = 200


def load_demo(**options) -> str:
    out = StringIO()
    call_command("load_demo", stdout=out, **{"cases": 20, **options})
    return out.getvalue()


def test_demo_history_fills_every_state_queue_and_inbox_tab(client):
    before = timezone.now()
    out = load_demo(orders=COUNT)
    now = timezone.now()

    orders = WorkOrder.objects.all()
    assert orders.count() == COUNT
    assert f"演示工单：+{COUNT}（待派发 " in out
    assert "h_<编码>" in out
    assert set(orders.values_list("state", flat=True)) == set(State.values)
    assert set(orders.exclude(closure="").values_list("closure", flat=True)) == set(Closure.values)
    assert not orders.filter(received_at__lt=before - timezone.timedelta(days=91)).exists()

    # timelines: start with the intake, follow the clock, chain the states, end in the order's state
    events = list(
        OrderEvent.objects.order_by("pk").values_list("order_id", "action", "from_state", "to_state", "created_at")
    )
    assert max(e[4] for e in events) <= now
    assert [e[4] for e in events] == sorted(e[4] for e in events)  # replayed in global time order
    by_order: dict[int, list] = {}
    for event in events:
        by_order.setdefault(event[0], []).append(event)
    states = dict(orders.values_list("pk", "state"))
    for pk, timeline in by_order.items():
        assert timeline[0][1] == Action.INTAKE, pk
        state = timeline[0][3]
        for _, action, from_state, to_state, _ in timeline[1:]:
            assert from_state == state, (pk, action)
            state = to_state
        assert state == states[pk], pk
    assert set(by_order) == set(states)

    # the desks have work
    assert queries.dispatcher_queue().exists()
    assert queries.callback_queue().exists()
    assert queries.pending_decisions().exists()
    handlers = list(User.objects.filter(username__startswith="h_"))
    assert handlers
    for tab in ("to_sign", "in_progress", "overdue", "done"):
        assert any(queries.inbox(user, tab, now).exists() for user in handlers), tab
    user = next(u for u in handlers if queries.inbox(u, "in_progress", now).exists())
    assert user.username == "h_" + user.unit.code.lower()
    assert client.login(username=user.username, password=DEMO_PASSWORD)

    # the mix
    assert orders.filter(return_requests__status=RequestStatus.APPROVED).exists()
    assert orders.filter(extension_requests__status=RequestStatus.APPROVED).exists()
    assert orders.filter(co_assignments__opinion__gt="").exists()
    assert orders.filter(reopen_count__gt=0).exists()
    assert orders.filter(tags__code="jinan").exists()
    enterprise = orders.filter(is_enterprise=True)
    assert enterprise.exists()
    assert not any(credit_code_error(code) for code in enterprise.values_list("enterprise_credit_code", flat=True))
    phones = list(orders.values_list("caller_phone", flat=True))
    assert any(phones.count(p) > 1 for p in set(phones))

    # once only: a second run, with or without --if-empty, adds nothing
    assert "演示工单" not in load_demo(orders=COUNT)
    load_demo(if_empty=True, orders=COUNT)
    assert WorkOrder.objects.count() == COUNT
    assert OrderEvent.objects.count() == len(events)


def test_demo_history_is_reproducible():
    load_demo(orders=0)
    assert not WorkOrder.objects.exists()
    now = datetime(2026, 3, 18, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))

    def replay(seed: int) -> tuple[dict, list]:
        with transaction.atomic():
            summary = load_history(count=80, now=now, seed=seed)
            rows = list(
                WorkOrder.objects.order_by("number").values_list(
                    "number", "title", "state", "closure", "lead_unit__code", "received_at", "version"
                )
            )
            transaction.set_rollback(True)
        return summary, rows

    first, rows = replay(7)
    assert first["orders"] == 80 and not first["errors"]
    assert max(r[5] for r in rows) <= now
    assert replay(7) == (first, rows)
    assert replay(8)[1] != rows
