"""信息共享: subscriptions, the signature receivers check, the event JSON, and the settled-log rule."""

import json
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.roles import Role
from orders import transitions as t
from orders.models import Action, OrderEvent, WorkOrder
from sharing import delivery, events, horizon
from sharing.kinds import KIND_OF_ACTION, Kind, actions_of
from sharing.models import Delivery, Subscription
from sharing.signing import sign, verify_signature

SECRET = "3f1c" * 16


# ---------------------------------------------------------------- kinds


def test_every_kind_names_its_timeline_actions():
    assert {kind: actions_of([kind]) for kind in Kind} == {
        Kind.RECEIVED: ["intake"],
        Kind.DISPATCHED: ["dispatch", "reassign", "escalate"],
        Kind.SIGNED: ["sign"],
        Kind.REPLIED: ["reply", "interim_reply"],
        Kind.CALLBACK: ["callback"],
        Kind.WARNING: ["urge"],
        Kind.SUPERVISION: ["supervise"],
    }
    assert set(KIND_OF_ACTION) <= set(Action.values)
    assert Action.RETURN_REQUEST not in KIND_OF_ACTION  # internal steps stay inside the hotline


# ---------------------------------------------------------------- subscriptions


def test_a_subscription_gets_a_secret_and_starts_after_the_events_already_written(city, staff, order_data):
    order, _ = t.intake(staff["operator"], order_data)
    first = Subscription.objects.create(name="一区平台", unit=city["d1"], url="https://grid.t1.example/hook")
    second = Subscription.objects.create(name="二区平台", unit=city["d2"], url="http://10.0.0.8:8080/")
    assert len(first.secret) == 64 and first.secret != second.secret
    assert first.cursor == OrderEvent.objects.get(order=order).pk
    assert first.kinds == Kind.values and first.max_attempts == 10 and first.is_active


@pytest.mark.parametrize(
    "url", ["", "not a url", "ftp://files.example/hook", "javascript:alert(1)", "http://", "https://a b.example/"]
)
def test_a_subscription_with_a_bad_url_is_refused_naming_the_field(city, url):
    with pytest.raises(ValidationError) as refused:
        Subscription.objects.create(name="坏地址", unit=city["d1"], url=url)
    assert set(refused.value.message_dict) == {"url"}
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("kinds", [[], ["received", "gossip"], "received", None])
def test_a_subscription_with_bad_kinds_is_refused_naming_the_field(city, kinds):
    with pytest.raises(ValidationError) as refused:
        Subscription.objects.create(name="坏类型", unit=city["d1"], url="https://x.example/", kinds=kinds)
    assert "kinds" in refused.value.message_dict
    assert "received（受理）" in " ".join(refused.value.message_dict["kinds"])


def test_the_admin_form_names_the_bad_field_and_saves_a_good_subscription(client, city, make_user):
    client.force_login(make_user(Role.ADMIN, username="admin1"))
    form = {"name": "一区平台", "unit": city["d1"].pk, "url": "ftp://grid.example/", "kinds": ["signed"],
            "max_attempts": 10, "is_active": "on"}  # fmt: skip
    refused = client.post("/admin/sharing/subscription/add/", form)
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert list(errors) == ["url"]
    assert not Subscription.objects.exists()

    saved = client.post("/admin/sharing/subscription/add/", {**form, "url": "https://grid.example/hook"})
    assert saved.status_code == 302
    subscription = Subscription.objects.get()
    assert subscription.kinds == ["signed"]
    page = client.get(f"/admin/sharing/subscription/{subscription.pk}/change/").content.decode()
    assert subscription.secret in page  # the admin hands the secret to the receiving system
    assert client.get("/admin/sharing/delivery/").status_code == 200


# ---------------------------------------------------------------- signature


def test_a_signature_verifies_within_five_minutes_and_not_after():
    body = b'{"id":7,"kind":"signed"}'
    now = timezone.now().replace(microsecond=0)
    stamp = str(int(now.timestamp()))
    header = sign(SECRET, stamp, body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify_signature(SECRET, stamp, body, header, now)
    assert verify_signature(SECRET, stamp, body, header, now + timedelta(minutes=5))
    # Replayed later: the same request, untouched, is refused once it is older than 5 minutes …
    assert not verify_signature(SECRET, stamp, body, header, now + timedelta(minutes=5, seconds=1))
    # … and a request claiming to come from the future as well.
    assert not verify_signature(SECRET, stamp, body, header, now - timedelta(minutes=6))


def test_a_tampered_request_fails_the_signature():
    body = '{"id":7,"kind":"signed","note":"已签收"}'.encode()
    now = timezone.now()
    stamp = str(int(now.timestamp()))
    header = sign(SECRET, stamp, body)
    assert not verify_signature(SECRET, stamp, body.replace(b"7", b"8"), header, now)  # changed body
    fresh = str(int(now.timestamp()) + 60)
    assert not verify_signature(SECRET, fresh, body, header, now)  # an old request given a fresh timestamp
    assert not verify_signature("0" * 64, stamp, body, header, now)  # another subscription's secret
    assert not verify_signature(SECRET, stamp, body, header.replace("sha256=", "sha1="), now)
    assert not verify_signature(SECRET, stamp, body, "", now)
    assert not verify_signature(SECRET, "yesterday", body, header, now)
    assert not verify_signature(SECRET, stamp, body, "sha256=签名", now)


def test_a_receiver_ignores_a_replay_inside_the_window_by_its_event_id():
    """What signing.py asks of receivers, written out: signature, then freshness, then the id not seen before."""
    seen: set[int] = set()

    def accept(stamp: str, body: bytes, header: str, now) -> bool:
        if not verify_signature(SECRET, stamp, body, header, now):
            return False
        event_id = json.loads(body)["id"]
        if event_id in seen:
            return False
        seen.add(event_id)
        return True

    now = timezone.now()
    body = b'{"id":41}'
    stamp = str(int(now.timestamp()))
    header = sign(SECRET, stamp, body)
    assert accept(stamp, body, header, now)
    assert not accept(stamp, body, header, now + timedelta(minutes=1))  # captured and sent again
    retry = str(int(now.timestamp()) + 90)
    assert not accept(retry, body, sign(SECRET, retry, body), now + timedelta(minutes=2))  # our own retry


# ---------------------------------------------------------------- the event JSON


def test_shared_events_carry_no_caller_name_or_phone(staff, order_data, city):
    order, _ = t.intake(staff["operator"], {**order_data, "title": "路灯不亮 请回电13800138000"})
    order = t.sign(t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"], co_units=[city["dept"]]), staff["h1"])
    t.interim_reply(order, staff["h1"], content="已联系诉求人13800138000及物业0731-84567890，明日维修。")
    shared = list(events.with_payload(events.shared_events(WorkOrder.objects.all())))
    text = "".join(events.body(event).decode() for event in shared)
    assert "13800138000" not in text and "84567890" not in text and "张先生" not in text
    assert "138****8000" in text and "0731-****7890" in text
    interim = events.payload(shared[-1])
    assert interim["kind"] == "replied" and interim["action"] == "interim_reply"
    assert interim["order"]["co_units"] == ["T-ZJJ"] and interim["order"]["lead_unit"] == "T1"
    assert interim["unit"] == "T1" and interim["cursor"] == str(interim["id"])
    assert "caller_phone" not in text and "caller_name" not in text


def test_a_unit_sees_the_events_of_orders_it_or_its_sub_units_lead_or_co_handle(staff, order_data, city):
    led_by_street, _ = t.intake(staff["operator"], order_data)
    t.dispatch(led_by_street, staff["dispatcher"], lead_unit=city["s1"])
    co_handled, _ = t.intake(staff["operator"], order_data)
    t.dispatch(co_handled, staff["dispatcher"], lead_unit=city["dept"], co_units=[city["d1"]])
    elsewhere, _ = t.intake(staff["operator"], order_data)
    t.dispatch(elsewhere, staff["dispatcher"], lead_unit=city["d2"])

    def numbers(unit) -> set[str]:
        return set(events.shared_events(events.unit_orders(unit)).values_list("order__number", flat=True))

    assert numbers(city["d1"]) == {led_by_street.number, co_handled.number}
    assert numbers(city["s1"]) == {led_by_street.number}
    assert numbers(city["d2"]) == {elsewhere.number}
    assert numbers(city["c1"]) == set()


# ---------------------------------------------------------------- the settled log


def test_the_log_settles_a_settle_period_after_it_was_read(staff, order_data):
    order, _ = t.intake(staff["operator"], order_data)
    now = timezone.now()
    assert horizon.settled_event_id(now) == 0
    assert horizon.settled_event_id(now + horizon.SETTLE - timedelta(seconds=1)) == 0
    assert horizon.settled_event_id(now + horizon.SETTLE) == OrderEvent.objects.get(order=order).pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_event_committed_after_a_higher_one_is_still_delivered(staff, order_data, city):
    """PostgreSQL: event N+1 commits while N's transaction is still open; neither is lost nor sent early."""
    from sharing.models import DeliveryStatus

    subscription = Subscription.objects.create(name="一区平台", unit=city["d1"], url="http://127.0.0.1:9/")
    slow, _ = t.intake(staff["operator"], order_data)
    slow = t.dispatch(slow, staff["dispatcher"], lead_unit=city["d1"])
    fast, _ = t.intake(staff["operator"], order_data)
    fast = t.dispatch(fast, staff["dispatcher"], lead_unit=city["d1"])
    written, release = threading.Event(), threading.Event()
    held: list[int] = []

    def open_transaction() -> None:
        try:
            with transaction.atomic():
                held.append(t.record(slow, staff["supervisor"], Action.SUPERVISE, note="督办").pk)
                written.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=open_transaction)
    thread.start()
    written.wait(30)
    later = t.record(fast, staff["supervisor"], Action.SUPERVISE, note="督办")  # commits first, with a higher id
    assert later.pk > held[0]
    now = timezone.now()
    delivery.fan_out(now)  # reads the log while the lower id is still uncommitted
    delivery.fan_out(now + timedelta(seconds=10))
    assert not Delivery.objects.filter(event_id=later.pk).exists()  # not yet settled: the cursor stays put

    release.set()
    thread.join(30)
    delivery.fan_out(now + horizon.SETTLE)

    owed = set(subscription.deliveries.filter(status=DeliveryStatus.PENDING).values_list("event_id", flat=True))
    assert {held[0], later.pk} <= owed
