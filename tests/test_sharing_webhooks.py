"""信息共享 webhooks against a real HTTP receiver: signed, every event once, retried, dead-lettered, replayed."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.roles import Role
from orders import transitions as t
from orders.models import Action, OrderEvent
from sharing import delivery, horizon
from sharing.delivery import DEAD, DELIVERED, RETRY
from sharing.kinds import Kind
from sharing.models import Delivery, DeliveryStatus, Subscription
from sharing.signing import verify_signature
from sharing.tasks import deliver_events
from system.schedule import JOBS


class Receiver:
    """A unit's system on 127.0.0.1: records every POST; ``status`` sets its answer, ``stop()`` refuses connections."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 200
        self.port = 0
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        # The same port again after stop(): the subscription's URL stays valid across an outage.
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/12345?source=hotline"

    def event_ids(self) -> list[int]:
        return [json.loads(body)["id"] for _, _, body in self.requests]


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def subscription(city, receiver) -> Subscription:
    return Subscription.objects.create(name="一区网格化平台", unit=city["d1"], url=receiver.url)


def handled_order(staff, order_data, unit):
    """An order taken, dispatched to ``unit``, signed and answered: four shared events."""
    order, _ = t.intake(staff["operator"], order_data)
    order = t.dispatch(order, staff["dispatcher"], lead_unit=unit)
    handler = staff["h1"] if unit.code == "T1" else staff["h2"]
    order = t.sign(order, handler)
    return t.reply(order, handler, result="resolved", content="路灯已修复。", measures="更换灯泡。")


def settle_and_run(now):
    """Two runs a settle period apart: the first notes the event log as it is, the second may pass it."""
    delivery.run(now)
    return delivery.run(now + horizon.SETTLE)


def test_each_event_is_posted_once_signed_and_without_personal_data(subscription, receiver, staff, order_data, city):
    replies_only = Subscription.objects.create(
        name="只要答复", unit=city["d1"], url=receiver.url.replace("12345", "replies"), kinds=[Kind.REPLIED]
    )
    other_district = Subscription.objects.create(name="二区平台", unit=city["d2"], url=receiver.url)
    order = handled_order(staff, order_data, city["d1"])
    now = timezone.now()

    result = settle_and_run(now)

    assert result == {"fanned_out": 5, DELIVERED: 5, RETRY: 0, DEAD: 0}
    mine = [r for r in receiver.requests if r[0] == "/hooks/12345?source=hotline"]
    bodies = [json.loads(body) for _, _, body in mine]
    assert [b["kind"] for b in bodies] == ["received", "dispatched", "signed", "replied"]
    assert [b["action"] for b in bodies] == ["intake", "dispatch", "sign", "reply"]
    assert all(b["order"]["number"] == order.number and b["order"]["lead_unit"] == "T1" for b in bodies)
    for _, headers, body in mine:
        assert headers["content-type"] == "application/json; charset=utf-8"
        assert headers["x-hotline-event-id"] == str(json.loads(body)["id"])
        assert verify_signature(
            subscription.secret, headers["x-hotline-timestamp"], body, headers["x-hotline-signature"], timezone.now()
        )
        assert not verify_signature(
            replies_only.secret, headers["x-hotline-timestamp"], body, headers["x-hotline-signature"], timezone.now()
        )
        text = body.decode()
        assert "13800138000" not in text and "张先生" not in text
    replies = [json.loads(body)["kind"] for path, _, body in receiver.requests if path.startswith("/hooks/replies")]
    assert replies == ["replied"]
    assert not other_district.deliveries.exists()
    # Nothing new: a third run sends nothing again.
    assert delivery.run(now + 2 * horizon.SETTLE) == {"fanned_out": 0, DELIVERED: 0, RETRY: 0, DEAD: 0}
    assert len(receiver.requests) == 5


def test_events_wait_until_the_log_has_settled(subscription, receiver, staff, order_data, city):
    order, _ = t.intake(staff["operator"], order_data)
    t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"])
    now = timezone.now()
    assert delivery.run(now)["fanned_out"] == 0
    assert delivery.run(now + horizon.SETTLE - timedelta(seconds=1))["fanned_out"] == 0
    assert receiver.requests == []
    assert delivery.run(now + horizon.SETTLE)[DELIVERED] == 2


def test_a_receiver_that_is_down_gets_every_event_once_it_is_back(subscription, receiver, staff, order_data, city):
    receiver.stop()
    handled_order(staff, order_data, city["d1"])
    handled_order(staff, {**order_data, "title": "第二张"}, city["d1"])
    now = timezone.now()

    first = settle_and_run(now)

    assert first["fanned_out"] == 8 and first[RETRY] == 1  # one refused connection holds back the other seven
    expected = sorted(subscription.deliveries.values_list("event_id", flat=True))
    assert Delivery.objects.filter(attempts=1).count() == 1
    later = now + horizon.SETTLE
    for minutes in (1, 3, 7):  # still down: one failed request per run, not one per event
        outcome = delivery.run(later + timedelta(minutes=minutes))
        assert outcome[DELIVERED] == 0 and outcome[RETRY] == 1
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 8

    receiver.start()
    back = later + timedelta(hours=2)
    outcome = delivery.run(back)

    assert outcome[DELIVERED] == 8
    assert sorted(receiver.event_ids()) == expected
    assert len(set(receiver.event_ids())) == 8
    assert not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()
    assert delivery.run(back + timedelta(hours=1))[DELIVERED] == 0


def test_failures_back_off_1_2_4_minutes_up_to_an_hour_then_dead_letter(
    subscription, receiver, staff, order_data, city
):
    order, _ = t.intake(staff["operator"], order_data)
    t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"])
    Subscription.objects.filter(pk=subscription.pk).update(kinds=[Kind.DISPATCHED])
    receiver.status = 500
    now = timezone.now()
    settle_and_run(now)
    item = Delivery.objects.get()
    gaps = [item.next_attempt_at - item.last_attempt_at]
    while True:
        delivery.run(item.next_attempt_at)
        item.refresh_from_db()
        if item.status != DeliveryStatus.PENDING:
            break
        gaps.append(item.next_attempt_at - item.last_attempt_at)

    assert [gap.total_seconds() / 60 for gap in gaps] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert item.attempts == 10 == subscription.max_attempts
    assert item.status == DeliveryStatus.DEAD and item.last_error == "HTTP 500 Internal Server Error"
    assert len(receiver.requests) == 10
    assert delivery.run(item.last_attempt_at + timedelta(days=1))[RETRY] == 0
    assert len(receiver.requests) == 10


def test_retry_delay_doubles_from_a_minute_and_stops_at_an_hour():
    assert [delivery.retry_delay(n) for n in (1, 2, 3, 4, 6, 7, 8, 20)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 32, 60, 60, 60)
    ]


@pytest.fixture
def dead_letter(subscription, receiver, staff, order_data, city) -> Delivery:
    Subscription.objects.filter(pk=subscription.pk).update(max_attempts=2, kinds=[Kind.SIGNED])
    order, _ = t.intake(staff["operator"], order_data)
    t.sign(t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"]), staff["h1"])
    receiver.status = 503
    now = timezone.now()
    settle_and_run(now)
    delivery.run(now + horizon.SETTLE + timedelta(minutes=1))
    item = Delivery.objects.get()
    assert item.status == DeliveryStatus.DEAD and item.attempts == 2
    receiver.status = 200
    return item


def test_a_dead_letter_replayed_from_the_admin_is_delivered(dead_letter, receiver, client, make_user):
    client.force_login(make_user(Role.ADMIN, username="admin1"))
    changelist = client.get("/admin/sharing/delivery/?status=dead")
    assert changelist.status_code == 200 and "重新投递所选死信" in changelist.content.decode()

    response = client.post(
        "/admin/sharing/delivery/", {"action": "replay_dead", "_selected_action": [dead_letter.pk]}, follow=True
    )

    assert "已重新排队 1 条死信" in response.content.decode()
    dead_letter.refresh_from_db()
    assert dead_letter.status == DeliveryStatus.PENDING and dead_letter.attempts == 0
    assert delivery.run()[DELIVERED] == 1
    assert receiver.event_ids()[-1] == dead_letter.event_id
    dead_letter.refresh_from_db()
    assert dead_letter.status == DeliveryStatus.DELIVERED


def test_a_dead_letter_replayed_by_the_command_is_delivered(dead_letter, receiver, capsys):
    call_command("replay_deliveries", "--subscription", str(dead_letter.subscription_id))
    assert "已重新排队 1 条死信" in capsys.readouterr().out
    call_command("replay_deliveries")
    assert "已重新排队 0 条死信" in capsys.readouterr().out
    assert delivery.run()[DELIVERED] == 1
    assert receiver.event_ids()[-1] == dead_letter.event_id


def test_two_runs_reading_the_same_due_deliveries_send_each_once(subscription, receiver, staff, order_data, city):
    handled_order(staff, order_data, city["d1"])
    now = timezone.now()
    delivery.run(now)
    delivery.fan_out(now + horizon.SETTLE)
    first, second = delivery.due(now + horizon.SETTLE), delivery.due(now + horizon.SETTLE)
    assert len(first) == len(second) == 4

    sent_first = [delivery.attempt(item, now + horizon.SETTLE) for item in first]
    sent_second = [delivery.attempt(item, now + horizon.SETTLE) for item in second]

    assert sent_first == [DELIVERED] * 4 and sent_second == [None] * 4
    assert len(receiver.requests) == 4 and len(set(receiver.event_ids())) == 4


def test_a_delivery_whose_sender_died_is_sent_again_after_its_lease(subscription, receiver, staff, order_data, city):
    order, _ = t.intake(staff["operator"], order_data)
    t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"])
    now = timezone.now()
    delivery.run(now)
    later = now + horizon.SETTLE
    delivery.fan_out(later)
    item = delivery.due(later)[0]
    assert delivery.claim(item, later)  # …and the process dies before sending

    assert delivery.run(later + timedelta(minutes=1))[DELIVERED] == 1  # the other event only
    assert delivery.run(later + delivery.LEASE)[DELIVERED] == 1
    assert sorted(receiver.event_ids()) == sorted(OrderEvent.objects.filter(order=order).values_list("pk", flat=True))
    item.refresh_from_db()
    assert item.attempts == 2 and item.status == DeliveryStatus.DELIVERED


def test_supervision_and_warnings_reach_the_unit(subscription, receiver, staff, order_data, city):
    order, _ = t.intake(staff["operator"], order_data)
    order = t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"])
    t.record(order, None, Action.URGE, note="【黄色预警】剩余办理时间不足", data={"warning": 1})
    t.record(order, staff["supervisor"], Action.SUPERVISE, note="督办单 DB1 发给一区")
    settle_and_run(timezone.now())
    kinds = [json.loads(body)["kind"] for _, _, body in receiver.requests]
    assert kinds == ["received", "dispatched", "warning", "supervision"]


def test_an_inactive_subscription_holds_its_events_and_resumes_where_it_stopped(
    subscription, receiver, staff, order_data, city
):
    Subscription.objects.filter(pk=subscription.pk).update(is_active=False)
    handled_order(staff, order_data, city["d1"])
    now = timezone.now()
    settle_and_run(now)
    assert receiver.requests == []
    Subscription.objects.filter(pk=subscription.pk).update(is_active=True)
    assert delivery.run(now + 2 * horizon.SETTLE)[DELIVERED] == 4


def test_the_scheduler_runs_deliveries_as_a_periodic_job(subscription, receiver, staff, order_data, city):
    assert import_string(JOBS["sharing"].task) is deliver_events
    order, _ = t.intake(staff["operator"], order_data)
    t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"])
    horizon.observe(timezone.now() - horizon.SETTLE)  # the previous run read the log half a minute ago
    assert deliver_events.call() == {"fanned_out": 2, DELIVERED: 2, RETRY: 0, DEAD: 0}
    assert len(receiver.requests) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_once_deliver_each_event_once(receiver, staff, order_data, city):
    subscription = Subscription.objects.create(name="一区网格化平台", unit=city["d1"], url=receiver.url)
    for i in range(6):
        handled_order(staff, {**order_data, "title": f"第 {i} 张"}, city["d1"])
    now = timezone.now()
    delivery.run(now)
    later = now + horizon.SETTLE
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = delivery.run(later)
        except Exception as exc:  # noqa: BLE001 - the test inspects whatever came back
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert all(isinstance(r, dict) for r in results), results
    assert sum(r["fanned_out"] for r in results) == 24
    assert sum(r[DELIVERED] for r in results) == 24
    assert len(receiver.requests) == 24 and len(set(receiver.event_ids())) == 24
    assert subscription.deliveries.filter(status=DeliveryStatus.DELIVERED).count() == 24
