"""What the call centre reports about a call, applied to its `Call` row.

Events: ``ringing`` (caller number, and the agent's user name when the switch already routed it), ``answered``
(by which agent), ``ended``, ``recording`` (the recording's URL). The switch may repeat an event or deliver
them out of order: each one only fills what is still empty and never moves a call backwards, so applying the same
event twice changes nothing.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from calls.models import Call, CallState
from orders.errors import InvalidInput
from orders.models import WorkOrder
from orders.transitions import INTAKE_ROLES
from orders.validators import normalize_phone

EVENTS = ("ringing", "answered", "ended", "recording")
RANK = {CallState.RINGING: 0, CallState.ANSWERED: 1, CallState.ENDED: 2}


def _agent(username: str | None) -> User | None:
    if not username:
        return None
    agent = User.objects.filter(username=username, is_active=True).first()
    if agent is None or not agent.has_role(*INTAKE_ROLES):
        raise InvalidInput({"agent": f"没有话务员账号“{username[:50]}”"})
    return agent


def apply(
    call_id: str, event: str, *, caller: str = "", agent: str = "", recording_url: str = "", at: datetime | None = None
) -> Call:
    """Apply one CTI event; raises InvalidInput naming the field when the event cannot be understood."""
    call_id = (call_id or "").strip()
    if not call_id or len(call_id) > 64:
        raise InvalidInput({"call_id": "呼叫编号必填，不超过 64 个字符"})
    if event not in EVENTS:
        raise InvalidInput({"event": f"事件应为 {'、'.join(EVENTS)} 之一"})
    phone = normalize_phone(caller or "")[:20]
    if event == "recording" and not recording_url.startswith(("http://", "https://")):
        raise InvalidInput({"recording_url": "录音地址应为 http(s) 地址"})
    user = _agent(agent)
    if event == "answered" and user is None:
        raise InvalidInput({"agent": "接听事件须给出话务员账号"})
    at = at or timezone.now()
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(call_id=call_id).first()
        if call is None:
            if not phone:
                raise InvalidInput({"caller": "新呼叫须给出主叫号码"})
            try:
                with transaction.atomic():
                    call = Call.objects.create(
                        call_id=call_id, caller=phone, ringing_at=at if event == "ringing" else None
                    )
            except IntegrityError:  # the same call reported twice at once
                call = Call.objects.select_for_update().get(call_id=call_id)
        state = {"ringing": CallState.RINGING, "answered": CallState.ANSWERED, "ended": CallState.ENDED}.get(event)
        if state and RANK[state] > RANK[CallState(call.state)]:
            call.state = state
        if user and call.agent_id is None:
            call.agent = user
        if event == "answered" and call.answered_at is None:
            call.answered_at = at
        if event == "ended" and call.ended_at is None:
            call.ended_at = at
        if event == "recording":
            call.recording_url = recording_url[:500]
        call.save()
    return call


def current_call(agent: User, within_minutes: int = 60) -> Call | None:
    """The call this agent is on (or that rings at their seat) and that has no order yet: what the intake pops up."""
    since = timezone.now() - timezone.timedelta(minutes=within_minutes)
    return (
        Call.objects.filter(agent=agent, order__isnull=True, created_at__gte=since)
        .exclude(state=CallState.ENDED)
        .order_by("-created_at")
        .first()
    )


def link(call_id: str, agent: User, order: WorkOrder) -> bool:
    """Link the agent's call to the order taken during it (the recording then shows on the order)."""
    return bool(Call.objects.filter(call_id=call_id, agent=agent, order__isnull=True).update(order=order))
