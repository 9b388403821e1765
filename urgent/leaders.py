"""Who an urgent item is pushed to: the responsible leaders (role 领导) of the order.

From each of the order's lead unit (主办单位) and area (所属区域), when set, walk up the unit tree and take the
active leaders of the first unit that has any: a street without a leader of its own reaches its district's
leaders, a city department without one the city's. The two walks may find two groups (the department's leader
and the district's, say); the item goes to both. When neither finds anyone — an order not yet dispatched and
without an area, or a tree without leaders below the top — it goes to the leaders of the city units (kind 市).
No leader at all leaves the item unpushed in-app, but it is still created, listed in the overview and sent
to the robots.
"""

from accounts.models import User
from accounts.roles import Role
from orders.models import WorkOrder
from org.models import Unit, UnitKind


def _active_leaders():
    return User.objects.filter(role=Role.LEADER, is_active=True)


def nearest_leaders(unit: Unit) -> list[User]:
    """The leaders of ``unit`` or of its nearest ancestor having any; empty when none up to the top."""
    chain = [unit, *reversed(unit.ancestors())]
    by_unit: dict[int, list[User]] = {}
    for leader in _active_leaders().filter(unit_id__in=[u.pk for u in chain]).order_by("pk"):
        by_unit.setdefault(leader.unit_id, []).append(leader)
    return next((by_unit[u.pk] for u in chain if u.pk in by_unit), [])


def responsible_leaders(order: WorkOrder) -> list[User]:
    """The leaders an item on ``order`` is pushed to (see the module's description)."""
    chosen: dict[int, User] = {}
    for start in (order.lead_unit, order.area):
        if start is not None:
            chosen.update((leader.pk, leader) for leader in nearest_leaders(start))
    if not chosen:
        chosen.update((leader.pk, leader) for leader in _active_leaders().filter(unit__kind=UnitKind.CITY))
    return sorted(chosen.values(), key=lambda leader: leader.pk)
