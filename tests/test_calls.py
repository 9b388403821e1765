"""Telephony (CTI): the call centre reports calls; the agent's intake pops the caller up; the order keeps the call."""

import json

import pytest
from django.urls import reverse

from accounts.tokens import create_token
from calls.models import Call, CallState
from orders import transitions
from orders.models import WorkOrder

URL = "/api/calls/events"


@pytest.fixture
def switch(staff):
    """The call centre's account: a 话务员 token used by the switch."""
    _, key = create_token(staff["operator"], "CTI")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def event(client, headers, **body):
    return client.post(URL, json.dumps(body), content_type="application/json", **headers)


def test_a_call_goes_from_ringing_to_answered_to_ended_and_repeats_change_nothing(client, staff, switch):
    r = event(client, switch, call_id="c1", event="ringing", caller="139 1234 5678")
    assert r.status_code == 200 and r.json()["state"] == "ringing" and r.json()["caller"] == "13912345678"
    assert event(client, switch, call_id="c1", event="ringing", caller="13912345678").status_code == 200
    r = event(client, switch, call_id="c1", event="answered", agent=staff["operator"].username)
    assert r.json()["state"] == "answered" and r.json()["agent"] == staff["operator"].username
    assert event(client, switch, call_id="c1", event="ended").json()["state"] == "ended"
    # a late "answered" does not bring the call back
    assert (
        event(client, switch, call_id="c1", event="answered", agent=staff["operator"].username).json()["state"]
        == "ended"
    )
    call = Call.objects.get()
    assert call.answered_at and call.ended_at and call.ringing_at and Call.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"call_id": "", "event": "ringing", "caller": "13912345678"}, "call_id"),
        ({"call_id": "x" * 65, "event": "ringing", "caller": "13912345678"}, "call_id"),
        ({"call_id": "c2", "event": "hold", "caller": "13912345678"}, "event"),
        ({"call_id": "c2", "event": "ringing"}, "caller"),
        ({"call_id": "c2", "event": "answered", "caller": "13912345678"}, "agent"),
        ({"call_id": "c2", "event": "answered", "caller": "13912345678", "agent": "nobody"}, "agent"),
        ({"call_id": "c2", "event": "recording", "caller": "13912345678", "recording_url": "ftp://x"}, "recording_url"),
    ],
)
def test_bad_events_name_the_field_and_create_nothing(client, switch, body, field):
    r = event(client, switch, **body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == field
    assert not Call.objects.exists()


def test_malformed_json_and_missing_fields_are_refused(client, switch):
    r = client.post(URL, "{not json", content_type="application/json", **switch)
    assert r.status_code in (400, 422) and "code" in r.json()
    assert event(client, switch, caller="13912345678").status_code == 422
    assert not Call.objects.exists()


def test_only_intake_accounts_report_calls(client, staff):
    assert event(client, {}, call_id="c3", event="ringing", caller="13912345678").status_code == 401
    _, key = create_token(staff["h1"], "x")
    r = event(client, {"HTTP_AUTHORIZATION": f"Bearer {key}"}, call_id="c3", event="ringing", caller="13912345678")
    assert r.status_code == 403 and not Call.objects.exists()


def test_the_agent_sees_the_caller_and_the_history_and_no_one_else_does(client, staff, switch, order_data):
    transitions.intake(staff["operator"], {**order_data, "caller_phone": "13912345678", "caller_name": "周女士"})
    event(client, switch, call_id="c4", event="ringing", caller="13912345678", agent=staff["operator"].username)
    client.force_login(staff["operator"])
    pop = client.get(reverse("calls:current")).content.decode()
    assert "来电 13912345678" in pop and "周女士" in pop and "该号码已有 1 张工单" in pop
    client.force_login(staff["dispatcher"])
    assert "来电" not in client.get(reverse("calls:current")).content.decode()
    client.force_login(staff["operator"])
    event(client, switch, call_id="c4", event="ended")
    assert "来电" not in client.get(reverse("calls:current")).content.decode()
    client.force_login(staff["h1"])
    assert client.get(reverse("calls:current")).status_code == 403


def test_the_order_taken_during_the_call_keeps_the_call_and_its_recording(client, staff, switch, order_data):
    event(client, switch, call_id="c5", event="answered", caller="13912345678", agent=staff["operator"].username)
    client.force_login(staff["operator"])
    data = {**order_data, "caller_phone": "13912345678", "priority": "normal", "idempotency_key": "k", "call_id": "c5"}
    assert client.post(reverse("orders:intake"), data).status_code == 302
    order = WorkOrder.objects.get()
    assert Call.objects.get().order == order
    event(client, switch, call_id="c5", event="ended")
    event(client, switch, call_id="c5", event="recording", recording_url="https://cti.example/rec/c5.wav")
    page = client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert "https://cti.example/rec/c5.wav" in page and "通话录音" in page
    assert event(client, switch, call_id="c5", event="ringing").json()["order"] == order.number
    assert Call.objects.get().state == CallState.ENDED


def test_another_agents_call_is_not_linked(client, staff, switch, order_data, make_user):
    other = make_user("operator", username="op2")
    event(client, switch, call_id="c6", event="answered", caller="13912345678", agent=other.username)
    client.force_login(staff["operator"])
    data = {**order_data, "priority": "normal", "idempotency_key": "k", "call_id": "c6"}
    assert client.post(reverse("orders:intake"), data).status_code == 302
    assert Call.objects.get().order is None
