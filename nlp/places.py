"""Place extraction: 区/县, 街道/乡镇, 社区/村 from the unit tree, and 小区 / 路 by their suffixes.

The gazetteer is the unit tree itself (the authoritative list of the city's districts, streets and
communities, kept by the admin), matched longest name first. A name may appear without its suffix
("泉塘" for 泉塘街道) only when it is at least two characters and is followed by a place word, so that
common words are not taken for streets. A street found alone implies its district.
"""

import re
import time
from dataclasses import dataclass, field

from nlp.plain import plain
from org.models import Unit, UnitKind

PLACE_KINDS = (UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY)
SUFFIXES = ("街道办事处", "街道", "社区", "县", "区", "镇", "乡", "村")
# a name character: Chinese, Latin or digit, but not the little words that end the name before it
NAME_CHAR = r"(?:(?![的在住是了和与到从向对把被我你他她们门口旁边附近里内外前后号])[\u4e00-\u9fa5A-Za-z0-9])"
ESTATE = re.compile(f"({NAME_CHAR}{{2,8}}(?:小区|花园|家园|公寓|新村|苑|大厦|广场|山庄|华府|公馆|雅居)(?:小区)?)")
ROAD = re.compile(f"({NAME_CHAR}{{1,6}}?(?:大道|路|街|巷))")  # the shortest: 建设路, not 建设路88号路灯
NOT_ROAD = ("道路", "马路", "出路", "走路", "线路", "思路", "网路", "上路", "一路", "这条路", "街道")
GAZETTEER_TTL = 60.0  # seconds: units change rarely, and a new one is picked up within a minute


@dataclass
class Places:
    district: Unit | None = None
    street: Unit | None = None
    community: Unit | None = None
    estates: list[str] = field(default_factory=list)
    roads: list[str] = field(default_factory=list)

    @property
    def most_specific(self) -> Unit | None:
        return self.community or self.street or self.district

    def as_dict(self) -> dict:
        return {
            "district": self.district.name if self.district else "",
            "street": self.street.name if self.street else "",
            "community": self.community.name if self.community else "",
            "estates": self.estates,
            "roads": self.roads,
        }


class Gazetteer:
    def __init__(self, units: list[Unit]) -> None:
        self.by_id = {u.pk: u for u in units}
        names: dict[str, Unit] = {}
        for unit in units:
            names.setdefault(unit.name, unit)
            for suffix in SUFFIXES:
                if unit.name.endswith(suffix) and len(unit.name) - len(suffix) >= 2:
                    names.setdefault(unit.name[: -len(suffix)] + "@", unit)  # short form, needs context
                    break
        full = sorted((n for n in names if not n.endswith("@")), key=len, reverse=True)
        short = sorted((n[:-1] for n in names if n.endswith("@")), key=len, reverse=True)
        self.names = names
        self.full = re.compile("|".join(map(re.escape, full))) if full else None
        # a short form counts only before a place word: 泉塘一带, 泉塘附近, 泉塘的…小区 is too loose
        self.short = (
            re.compile(f"({'|'.join(map(re.escape, short))})(?=一带|附近|片区|辖区|地区|境内)") if short else None
        )

    def find(self, text: str) -> Places:
        found: dict[str, Unit] = {}
        for pattern, key in ((self.full, "{}"), (self.short, "{}@")):
            if pattern is None:
                continue
            for match in pattern.finditer(text):
                unit = self.names.get(key.format(match.group(1) if key.endswith("@") else match.group()))
                if unit is not None:
                    found.setdefault(unit.kind, unit)
        places = Places(
            district=found.get(UnitKind.DISTRICT), street=found.get(UnitKind.STREET),
            community=found.get(UnitKind.COMMUNITY),
        )  # fmt: skip
        if places.community and not places.street:
            places.street = self.by_id.get(places.community.parent_id)
        if places.street and not places.district:
            places.district = self.by_id.get(places.street.parent_id)
        return places


_cache: tuple[float, Gazetteer] | None = None


def gazetteer() -> Gazetteer:
    global _cache
    if _cache is None or time.monotonic() - _cache[0] > GAZETTEER_TTL:
        _cache = (time.monotonic(), Gazetteer(list(Unit.objects.active().filter(kind__in=PLACE_KINDS))))
    return _cache[1]


def reset_gazetteer() -> None:
    global _cache
    _cache = None


def extract(*texts: str) -> Places:
    """Places named in ``texts`` (e.g. the address first, then title and content)."""
    text = " ".join(plain(t) for t in texts if t)
    places = gazetteer().find(text)
    # the units' names are not estates or roads: blank them out before looking for those
    for unit in (places.district, places.street, places.community):
        if unit is not None:
            text = text.replace(unit.name, " ")
    places.estates = list(dict.fromkeys(m.group(1) for m in ESTATE.finditer(text)))[:3]
    roads = [m.group(1) for m in ROAD.finditer(text)]
    places.roads = list(dict.fromkeys(r for r in roads if r not in NOT_ROAD and not r.endswith("街道")))[:3]
    return places
