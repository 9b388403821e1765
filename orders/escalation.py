"""提级办理: which units are "higher" than an order's lead unit, so that the order may be lifted to them.

A unit's level is the tier of the administration it belongs to, and its seat is that administration:
- 市级 (1): the city's own 职能部门 (and departments under them) and the utilities;
- 区县级 (2): a district, and its departments (seat: the district);
- 街道级 (3): a street or town (seat: itself);
- 社区级 (4): a community or village (seat: itself).
A department's seat is its nearest ancestor that is not a department (the city or a district).

An order may be lifted from unit A to unit B when B is a government unit that handles orders (a street,
a district or a department: not the city itself, the hotline centre, a community or a utility), B's level
is strictly higher (a smaller number) than A's, and B's seat is A's seat or one of its ancestors, so B has
jurisdiction over A. Hence a community's order may go to its street, its district or that district's
departments, or to a city department; a street's to its district, the district's departments or a city
department; a district's or a district department's to a city department only; a city-level unit's
nowhere. Never sideways (same level), never down, never to another district.
"""

from collections.abc import Callable

from org.models import Unit, UnitKind

LEVEL_NAMES = {1: "市级", 2: "区县级", 3: "街道级", 4: "社区级"}
TARGET_KINDS = (UnitKind.STREET, UnitKind.DISTRICT, UnitKind.DEPARTMENT)
SeatOf = Callable[[Unit], Unit]


def seat(unit: Unit) -> Unit:
    """The administration a unit belongs to: itself, or for a department its nearest non-department ancestor."""
    if unit.kind != UnitKind.DEPARTMENT:
        return unit
    for ancestor in reversed(unit.ancestors()):
        if ancestor.kind != UnitKind.DEPARTMENT:
            return ancestor
    return unit


def level(unit: Unit, seat_of: SeatOf = seat) -> int:
    """1 市级 … 4 社区级; 0 for the city itself and the hotline centre."""
    if unit.kind in (UnitKind.UTILITY, UnitKind.DEPARTMENT):
        return {UnitKind.CITY: 1, UnitKind.DISTRICT: 2}.get(seat_of(unit).kind, 1)
    return {UnitKind.DISTRICT: 2, UnitKind.STREET: 3, UnitKind.COMMUNITY: 4}.get(unit.kind, 0)


def refusal(current: Unit, target: Unit, seat_of: SeatOf = seat) -> str | None:
    """Why ``target`` is not higher than ``current`` (in Chinese, for the field ``lead_unit``), or None if it is."""
    if target.pk == current.pk:
        return f"{target.name}已是当前主办单位"
    if target.kind not in TARGET_KINDS:
        return f"提级只能提到上级的街道、区县或职能部门，不能提给{target.get_kind_display()}"
    have, want = level(current, seat_of), level(target, seat_of)
    if want == have:
        return f"{target.name}与{current.name}同为{LEVEL_NAMES[have]}单位，提级须提到更高一级的单位"
    if want > have:
        return f"{target.name}是{LEVEL_NAMES[want]}单位，低于{current.name}（{LEVEL_NAMES[have]}），不能向下提级"
    if not seat_of(current).path.startswith(seat_of(target).path):
        return f"{target.name}不管辖{current.name}，只能提到本辖区的上级单位"
    return None


def higher_units(current: Unit) -> list[Unit]:
    """Every active unit the order of ``current`` may be lifted to, city level first, in tree order."""
    return [unit for _, unit in _higher(current)]


def higher_units_by_level(current: Unit) -> dict[str, list[Unit]]:
    """The same units grouped under their level's name (市级, 区县级, 街道级), for a <select> with optgroups."""
    groups: dict[str, list[Unit]] = {}
    for rank, unit in _higher(current):
        groups.setdefault(LEVEL_NAMES[rank], []).append(unit)
    return groups


def _higher(current: Unit) -> list[tuple[int, Unit]]:
    own_seat = seat(current)
    seats = [*own_seat.ancestors(), own_seat]
    known = {current.pk: own_seat, **{u.pk: u for u in seats}}
    candidates = [u for u in seats if u.kind in TARGET_KINDS]
    # departments hang under a seat directly or under another department of that seat
    for top in seats:
        parents = [top.pk]
        while parents:
            found = list(Unit.objects.filter(parent_id__in=parents, kind=UnitKind.DEPARTMENT))
            known.update((u.pk, top) for u in found)
            candidates += found
            parents = [u.pk for u in found]
    seat_of = lambda unit: known.get(unit.pk) or seat(unit)  # noqa: E731
    allowed = [(level(u, seat_of), u) for u in candidates if u.is_active and refusal(current, u, seat_of) is None]
    return sorted(allowed, key=lambda pair: (pair[0], pair[1].path))
