"""How fast urgent items were answered over a period: push→claim and push→first action.

Over the items pushed in the period (whatever their status now):
- claimed, and of those the average and median minutes from push to claim;
- acted on, and the average and median minutes from push to the unit's first action;
- within target: items claimed within the target (60 minutes unless the overview asks for another: the seeds'
  city answers within the hour) divided by all items pushed in the period; an unclaimed item counts against it.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import mean, median

from django.db.models import QuerySet
from django.utils import timezone

from urgent.models import UrgentItem


@dataclass
class Summary:
    pushed: int
    claimed: int
    acted: int
    claim_avg: float | None
    claim_median: float | None
    action_avg: float | None
    action_median: float | None
    within_target: int
    target_minutes: int

    @property
    def share_within_target(self) -> float | None:
        return self.within_target / self.pushed if self.pushed else None


def period_items(start: date, end: date) -> QuerySet[UrgentItem]:
    """Items pushed from ``start`` to ``end`` (both days included, local time)."""
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tz)
    return UrgentItem.objects.filter(pushed_at__gte=since, pushed_at__lt=until)


def summarise(items: QuerySet[UrgentItem], target_minutes: int) -> Summary:
    rows = list(items.values_list("pushed_at", "claimed_at", "first_action_at"))
    claims = [(claimed - pushed).total_seconds() / 60 for pushed, claimed, _ in rows if claimed is not None]
    actions = [(acted - pushed).total_seconds() / 60 for pushed, _, acted in rows if acted is not None]
    return Summary(
        pushed=len(rows),
        claimed=len(claims),
        acted=len(actions),
        claim_avg=mean(claims) if claims else None,
        claim_median=median(claims) if claims else None,
        action_avg=mean(actions) if actions else None,
        action_median=median(actions) if actions else None,
        within_target=sum(1 for minutes in claims if minutes <= target_minutes),
        target_minutes=target_minutes,
    )
