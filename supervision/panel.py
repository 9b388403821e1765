"""The supervision part of an order's page: what this user may do about it (flag, review, whistle)."""

from accounts.models import User
from accounts.roles import Role
from orders.models import OPEN_STATES, State, WorkOrder
from org.models import UnitKind
from supervision.forms import FlagForm, WhistleForm


def for_order(user: User, order: WorkOrder) -> dict:
    case = getattr(order, "difficult", None)  # the reverse one-to-one raises AttributeError when absent
    panel = {"case": case, "whistles": list(order.whistles.select_related("street"))}
    if user.has_role(Role.SUPERVISOR) and case is None and order.state in OPEN_STATES:
        panel["flag_form"] = FlagForm()
    at_unit = order.state in (State.PENDING_SIGN, State.IN_PROGRESS)
    if (
        user.has_role(Role.HANDLER)
        and user.unit.kind == UnitKind.STREET
        and order.lead_unit_id == user.unit_id
        and at_unit
    ):
        panel["whistle_form"] = WhistleForm()
    return panel
