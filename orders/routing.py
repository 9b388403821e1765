"""Which unit should lead a new order: the top three candidates, each with its reasons (分得更准).

Evidence, each adding to a candidate's score:
- 直派 rule for the category (decisive);
- 属地: the most specific place in the address and text that is a unit (community → street → district);
- the category's default unit (the leaf's, else its parent's);
- history: units that finished orders of the same category (and, when known, in the same district)
  without a return or a reopening — the outcome of the dispatchers' past choices, so the ranking
  learns from every order that is dispatched and finished well.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count

from categories.models import Category
from nlp.places import Places
from orders.models import Closure, DirectDispatchRule, WorkOrder
from org.models import Unit, UnitKind

W_DIRECT, W_PLACE, W_DEFAULT, W_HISTORY = 100.0, 3.0, 2.0, 4.0
HISTORY_SIZE = 400  # the most recent well-finished orders of the category that are looked at


@dataclass
class Candidate:
    unit: Unit
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)


def _direct_rule(category: Category) -> DirectDispatchRule | None:
    node = category
    while node is not None:
        rule = DirectDispatchRule.objects.filter(category=node, is_active=True).select_related("unit").first()
        if rule:
            return rule
        node = node.parent
    return None


def history_counts(
    category: Category, district: Unit | None, exclude_pk: int | None = None, before: datetime | None = None
) -> tuple[Counter, Counter]:
    """Lead units of recent orders of ``category`` archived after handling with no return and no reopening:
    (weighted counts, where an order in the same district counts twice; plain counts)."""
    done = WorkOrder.objects.filter(
        category=category, closure=Closure.HANDLED, return_count=0, reopen_count=0, lead_unit__isnull=False
    )
    if exclude_pk:
        done = done.exclude(pk=exclude_pk)
    if before:  # measuring on the past: only what was known then
        done = done.filter(archived_at__lt=before)
    counts, plain = Counter(), Counter()
    recent = done.order_by("-received_at").values_list("pk", flat=True)[:HISTORY_SIZE]
    rows = WorkOrder.objects.filter(pk__in=list(recent)).values("lead_unit", "area__path").annotate(n=Count("pk"))
    for row in rows:
        same_place = district is not None and (row["area__path"] or "").startswith(district.path)
        counts[row["lead_unit"]] += row["n"] * (2 if same_place else 1)
        plain[row["lead_unit"]] += row["n"]
    return counts, plain


def recommend(
    category: Category, places: Places, exclude_pk: int | None = None, limit: int = 3, before: datetime | None = None
) -> list[Candidate]:
    candidates: dict[int, Candidate] = {}

    def add(unit: Unit | None, score: float, reason: str) -> None:
        if unit is None or not unit.is_active or unit.kind in (UnitKind.CITY, UnitKind.CENTER):
            return
        c = candidates.setdefault(unit.pk, Candidate(unit))
        c.score += score
        c.reasons.append(reason)

    rule = _direct_rule(category)
    if rule:
        add(rule.unit, W_DIRECT, f"直派规则：{rule.category}")
    place = places.most_specific
    if place is not None:
        # the street handles what happens in its communities; a community alone rarely leads
        lead_place = places.street or places.district if place.kind == UnitKind.COMMUNITY else place
        add(lead_place, W_PLACE, f"属地：诉求发生在{place.name}")
    default = category.default_unit or (category.parent.default_unit if category.parent_id else None)
    add(default, W_DEFAULT, f"“{category.parent.name if category.parent_id else category.name}”的默认承办单位")
    counts, plain = history_counts(category, places.district, exclude_pk, before)
    total = sum(counts.values())
    if total:
        units = Unit.objects.in_bulk(list(counts))
        for unit_id, weight in counts.most_common(5):
            add(
                units.get(unit_id),
                W_HISTORY * weight / total,
                f"同类工单中 {plain[unit_id]} 张由其办结且未退单、未重办",
            )
    return sorted(candidates.values(), key=lambda c: -c.score)[:limit]
