"""The call centre's endpoint: POST /api/calls/events, one call event at a time."""

from datetime import datetime

from ninja import Router, Schema

from calls import events
from hotline.api import require_roles
from orders.transitions import INTAKE_ROLES

router = Router(tags=["来电（CTI）"])


class CallEventIn(Schema):
    call_id: str
    event: str
    caller: str = ""
    agent: str = ""
    recording_url: str = ""
    at: datetime | None = None


class CallOut(Schema):
    call_id: str
    caller: str
    state: str
    agent: str | None = None
    order: str | None = None
    recording_url: str

    @staticmethod
    def resolve_agent(obj) -> str | None:
        return obj.agent.username if obj.agent_id else None

    @staticmethod
    def resolve_order(obj) -> str | None:
        return obj.order.number if obj.order_id else None


@router.post("/events", response=CallOut, summary="呼叫中心上报来电事件（振铃、接听、挂机、录音）")
def call_event(request, payload: CallEventIn):
    """The switch's account (a 话务员 or 管理员 token) reports what happened to a call; repeats are harmless."""
    require_roles(request, *INTAKE_ROLES)
    return events.apply(
        payload.call_id, payload.event, caller=payload.caller, agent=payload.agent,
        recording_url=payload.recording_url, at=payload.at,
    )  # fmt: skip
