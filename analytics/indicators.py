"""考核指标: every rate is defined here, once; rankings, dashboards, reports and exports call these functions.

Over a period [start, end), per unit (the order's lead unit):
- 派单量 dispatched     orders dispatched in the period;
- 响应率 response       of those, signed within the sign limit ÷ dispatched;
- 有效回访 valid         callbacks in the period in which the citizen was reached;
- 解决率 resolution     valid callbacks saying resolved ÷ valid callbacks;
- 满意率 satisfaction   valid callbacks 满意 or 基本满意 ÷ valid callbacks;
- 综合得分 composite    100 × (w₁·响应率 + w₂·解决率 + w₃·满意率), weights from the setting ``kpi_weights``.
Over orders received in a period, per request type (or any other column of the order):
- 直办率 direct answers  orders closed 直接办结 at intake ÷ orders received.
A rate with nothing to divide by is None (no data), never 0.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, F, Q

from orders.models import Callback, Closure, ContactResult, Satisfaction, WorkOrder
from system.config import get_setting


def parse_weights(text: str) -> tuple[Decimal, Decimal, Decimal]:
    try:
        weights = tuple(Decimal(part.strip()) for part in text.split(","))
    except ArithmeticError as exc:
        raise ValueError("权重必须是小数") from exc
    if len(weights) != 3 or any(w < 0 for w in weights) or sum(weights) != 1:
        raise ValueError("需要三个非负小数，且和为 1，如 0.10,0.45,0.45")
    return weights


def ratio(part: int, whole: int) -> Decimal | None:
    return None if not whole else Decimal(part) / Decimal(whole)


@dataclass
class UnitScore:
    unit_id: int
    unit_name: str
    dispatched: int = 0
    responded: int = 0
    valid_callbacks: int = 0
    resolved: int = 0
    satisfied: int = 0

    @property
    def response_rate(self) -> Decimal | None:
        return ratio(self.responded, self.dispatched)

    @property
    def resolution_rate(self) -> Decimal | None:
        return ratio(self.resolved, self.valid_callbacks)

    @property
    def satisfaction_rate(self) -> Decimal | None:
        return ratio(self.satisfied, self.valid_callbacks)

    def composite(self, weights: tuple[Decimal, Decimal, Decimal]) -> Decimal | None:
        """综合得分 out of 100; None unless all three rates have data."""
        rates = (self.response_rate, self.resolution_rate, self.satisfaction_rate)
        if any(r is None for r in rates):
            return None
        return (sum(w * r for w, r in zip(weights, rates, strict=True)) * 100).quantize(Decimal("0.01"))


def unit_scores(start: datetime, end: datetime) -> list[UnitScore]:
    """The three rates of every lead unit with orders dispatched or called back in [start, end)."""
    scores: dict[int, UnitScore] = {}

    def score(unit_id: int, name: str) -> UnitScore:
        return scores.setdefault(unit_id, UnitScore(unit_id, name))

    dispatched = (
        WorkOrder.objects.filter(dispatched_at__gte=start, dispatched_at__lt=end, lead_unit__isnull=False)
        .values("lead_unit", "lead_unit__name")
        .annotate(
            n=Count("pk"), on_time=Count("pk", filter=Q(signed_at__isnull=False, signed_at__lte=F("sign_due_at")))
        )
    )
    for row in dispatched:
        s = score(row["lead_unit"], row["lead_unit__name"])
        s.dispatched, s.responded = row["n"], row["on_time"]
    callbacks = (
        Callback.objects.filter(
            created_at__gte=start,
            created_at__lt=end,
            contact_result=ContactResult.REACHED,
            order__lead_unit__isnull=False,
        )  # fmt: skip
        .values("order__lead_unit", "order__lead_unit__name")
        .annotate(
            n=Count("pk"),
            resolved=Count("pk", filter=Q(resolved=True)),
            satisfied=Count("pk", filter=Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASIC])),
        )
    )
    for row in callbacks:
        s = score(row["order__lead_unit"], row["order__lead_unit__name"])
        s.valid_callbacks, s.resolved, s.satisfied = row["n"], row["resolved"], row["satisfied"]
    return list(scores.values())


def weights() -> tuple[Decimal, Decimal, Decimal]:
    return get_setting("kpi_weights")


@dataclass
class DirectRate:
    key: object
    received: int
    direct: int

    @property
    def rate(self) -> Decimal | None:
        return ratio(self.direct, self.received)


def direct_answer_rates(start: datetime, end: datetime, by: str = "request_type__name") -> list[DirectRate]:
    """直办率 of the orders received in [start, end), grouped by ``by`` (a field path of WorkOrder)."""
    rows = (
        WorkOrder.objects.filter(received_at__gte=start, received_at__lt=end)
        .values(by)
        .annotate(received=Count("id"), direct=Count("id", filter=Q(closure=Closure.DIRECT)))
        .order_by(by)
    )
    return [DirectRate(row[by], row["received"], row["direct"]) for row in rows]
