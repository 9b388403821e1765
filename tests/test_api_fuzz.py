"""Every REST operation under generated input: no server error, and every answer as /api/openapi.json declares it.

schemathesis reads the document the app serves and sends each operation valid and invalid input (derandomized,
so a run is reproducible) with a real user's bearer token. Some path parameters and body fields are sometimes
swapped for real values (an order number, a unit code, a category id …), so generated requests get past the
lookups into the life-cycle code instead of ending in 404 or 422. A failure prints a curl command that
reproduces it.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from accounts.tokens import create_token
from orders import transitions

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())

ROLES = ["admin", "operator", "dispatcher", "callback", "h1"]
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def connection_kept_open():
    """The WSGI handler closes the database connection after each request. Inside the test's transaction that
    would end the test itself (on PostgreSQL), so it is kept open, as Django's own test client does."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def world(staff, order_data, settings, tmp_path, connection_kept_open) -> dict:
    """A token per role; orders waiting for dispatch, for signing at T1, in progress there (with an attachment) and
    answered; and the real values a parameter or body field of that name may be swapped for."""
    settings.MEDIA_ROOT = tmp_path
    tokens = {role: create_token(staff[role], "fuzz")[1] for role in ROLES}
    new, _ = transitions.intake(staff["operator"], order_data)
    sent, _ = transitions.intake(staff["operator"], order_data)
    sent = transitions.dispatch(sent, staff["dispatcher"], lead_unit="T1")
    handling, _ = transitions.intake(staff["operator"], order_data)
    handling = transitions.sign(transitions.dispatch(handling, staff["dispatcher"], lead_unit="T1"), staff["h1"])
    handling = transitions.attach(handling, staff["h1"], name="说明.pdf", content=PDF)
    answered, _ = transitions.intake(staff["operator"], order_data)
    answered = transitions.sign(transitions.dispatch(answered, staff["dispatcher"], lead_unit="T1"), staff["h1"])
    answered = transitions.reply(answered, staff["h1"], result="resolved", content="已修复。", measures="更换灯具")
    numbers = [new.number, sent.number, handling.number, answered.number]
    known = {
        "number": numbers,
        "parent": numbers,
        "other": numbers,
        "code": ["T1", "T1-S1-C1", "T-ZJJ"],
        "lead_unit": ["T1", "T-ZJJ", "T2"],
        "attachment_id": [handling.attachments.get().pk],
        "category": [order_data["category"]],
        "request_type": ["complaint", "consult"],
        "caller_phone": ["13800138000", "0731-88888888"],
        # No version: a generated one almost never matches the order's and would end every action in 409.
        "version": [None, None, None],
    }
    return {"tokens": tokens, "known": known}


@schema.parametrize()
@schema.given(role=st.sampled_from(ROLES), pick=st.integers(0, 4))
@settings(max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_api(case, role, pick, world):
    for values in (case.path_parameters, case.body):
        if isinstance(values, dict):
            for name in values.keys() & world["known"].keys():
                if pick < len(world["known"][name]):
                    values[name] = world["known"][name][pick]
    case.call_and_validate(
        headers={"Authorization": f"Bearer {world['tokens'][role]}"},
        checks=[not_a_server_error, response_schema_conformance, status_code_conformance],
    )
