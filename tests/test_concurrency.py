"""Two people act on the same order at the same moment: exactly one succeeds, the other gets a clear conflict."""

import threading

import pytest
from django.db import connection

from orders import transitions as t
from orders.errors import Conflict
from orders.models import Action, OrderEvent, State, WorkOrder

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def race(*calls) -> list:
    """Run each call in its own thread and database connection, released together; returns results or errors."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int, call) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects whatever came back
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_dispatchers_dispatch_the_same_order_one_wins(staff, order_data, city, make_user):
    other_dispatcher = make_user("dispatcher", username="dispatcher2")
    order, _ = t.intake(staff["operator"], order_data)
    for round_ in range(1, 6):  # several rounds: the race must be decided by the database every time
        results = race(
            lambda: t.dispatch(WorkOrder.objects.get(pk=order.pk), staff["dispatcher"], lead_unit="T1"),
            lambda: t.dispatch(WorkOrder.objects.get(pk=order.pk), other_dispatcher, lead_unit="T2"),
        )
        wins = [r for r in results if isinstance(r, WorkOrder)]
        conflicts = [r for r in results if isinstance(r, Conflict)]
        assert len(wins) == 1 and len(conflicts) == 1, results
        assert "不能“派单”" in conflicts[0].message
        fresh = WorkOrder.objects.get(pk=order.pk)
        assert fresh.lead_unit == wins[0].lead_unit and fresh.state == State.PENDING_SIGN
        assert OrderEvent.objects.filter(order=order, action=Action.DISPATCH).count() == round_
        # back to the queue for the next round
        t.request_return(fresh, staff["h1"] if fresh.lead_unit == city["d1"] else staff["h2"], reason="再来一轮")
        t.decide_return(WorkOrder.objects.get(pk=order.pk), staff["dispatcher"], approve=True)


def test_same_version_seen_by_two_handlers_one_wins(staff, order_data, city, make_user):
    colleague = make_user("handler", city["d1"], username="h1b")
    order, _ = t.intake(staff["operator"], order_data)
    order = t.sign(t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"]), staff["h1"])
    seen = order.version
    results = race(
        lambda: t.reply(
            WorkOrder.objects.get(pk=order.pk), staff["h1"], result="resolved", content="甲的答复。",
            measures="甲的措施。", version=seen,
        ),
        lambda: t.interim_reply(
            WorkOrder.objects.get(pk=order.pk), colleague, content="乙的阶段性答复。", version=seen
        ),
    )  # fmt: skip
    wins = [r for r in results if isinstance(r, WorkOrder)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(conflicts) == 1, results
    assert "已被他人更新" in conflicts[0].message
    assert WorkOrder.objects.get(pk=order.pk).version == seen + 1
    assert OrderEvent.objects.filter(order=order, action__in=[Action.REPLY, Action.INTERIM_REPLY]).count() == 1


def test_concurrent_intake_with_one_idempotency_key_makes_one_order(staff, order_data, make_user):
    second_operator = make_user("operator", username="operator2")
    results = race(
        *[
            (lambda user=user: t.intake(user, order_data, idempotency_key="same-call-1"))
            for user in (staff["operator"], second_operator, staff["operator"], second_operator)
        ]
    )
    assert all(isinstance(r, tuple) for r in results), results
    assert len({order.pk for order, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert WorkOrder.objects.count() == 1
