"""红黑榜: units ranked by the composite score of ``analytics.indicators`` over a period, and the 通报 text.

Each 专员抽查 finding on an order the unit handled in the period (``supervision.spotchecks.findings_per_unit``)
takes ``spot_check_penalty`` points off the unit's composite score (never below 0) before ranking."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from analytics import rollup
from analytics.indicators import UnitScore, unit_scores, weights
from supervision.spotchecks import findings_per_unit
from system.config import get_setting

LIST_SIZE = 5


@dataclass
class RankedUnit:
    rank: int
    score: UnitScore
    composite: Decimal  # after the spot-check penalty
    findings: int = 0
    base: Decimal | None = None  # the composite before the penalty


@dataclass
class Ranking:
    start: date
    end: date  # inclusive
    weights: tuple[Decimal, Decimal, Decimal]
    ranked: list[RankedUnit]
    unranked: list[UnitScore]  # too few orders dispatched, or a rate has no data
    penalty: Decimal = Decimal(0)  # points per spot-check finding

    @property
    def red(self) -> list[RankedUnit]:
        return self.ranked[: min(LIST_SIZE, len(self.ranked) // 2 or len(self.ranked))]

    @property
    def black(self) -> list[RankedUnit]:
        red = {r.score.unit_id for r in self.red}
        return [r for r in reversed(self.ranked[-LIST_SIZE:]) if r.score.unit_id not in red]


def rank_units(start: date, end: date) -> Ranking:
    """Rank over the days ``start`` … ``end`` (Beijing time, both included); equal scores share a rank.
    Units with fewer than ``ranking_min_orders`` orders dispatched in the period are listed but not ranked."""
    rollup.refresh()  # a ranking is published: it must include the last minute's work
    scores = unit_scores(start, end + timedelta(days=1))
    w, minimum, penalty = weights(), get_setting("ranking_min_orders"), get_setting("spot_check_penalty")
    findings = findings_per_unit(start, end)
    with_score = [(s, s.composite(w) if s.dispatched >= minimum else None) for s in scores]
    candidates = []
    for score, base in with_score:
        if base is not None:
            n = findings.get(score.unit_id, 0)
            candidates.append((score, base, n, max(Decimal(0), base - penalty * n).quantize(Decimal("0.01"))))
    ordered = sorted(candidates, key=lambda c: (-c[3], c[0].unit_name))
    ranked, previous = [], None
    for position, (score, base, n, composite) in enumerate(ordered, start=1):
        rank = ranked[-1].rank if previous == composite else position
        ranked.append(RankedUnit(rank, score, composite, n, base))
        previous = composite
    unranked = sorted((s for s, c in with_score if c is None), key=lambda s: s.unit_name)
    return Ranking(start, end, w, ranked, unranked, penalty)


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def _findings(r: RankedUnit) -> str:
    return f"，抽查问题 {r.findings} 个" if r.findings else ""


def notice_text(ranking: Ranking) -> str:
    """通报: the formal notice of the period's red and black lists, as plain text to paste or file."""
    w = [f"{x * 100:.0f}%" for x in ranking.weights]
    lines = [
        "12345 政务服务便民热线承办单位办理情况通报",
        "",
        f"统计期间：{ranking.start:%Y年%m月%d日}至{ranking.end:%Y年%m月%d日}",
        f"考核方法：综合得分 = 响应率×{w[0]} + 解决率×{w[1]} + 满意率×{w[2]}（满分 100 分），"
        f"专员抽查每发现一个问题扣 {ranking.penalty} 分。",
        f"参与排名单位 {len(ranking.ranked)} 个。",
        "",
        "一、红榜（综合得分靠前）",
    ]
    for r in ranking.red:
        s = r.score
        lines.append(
            f"  第{r.rank}名 {s.unit_name}：综合得分 {r.composite}，响应率 {_pct(s.response_rate)}，"
            f"解决率 {_pct(s.resolution_rate)}，满意率 {_pct(s.satisfaction_rate)}{_findings(r)}"
        )
    lines += ["", "二、黑榜（综合得分靠后）"]
    for r in ranking.black:
        s = r.score
        lines.append(
            f"  第{r.rank}名 {s.unit_name}：综合得分 {r.composite}，响应率 {_pct(s.response_rate)}，"
            f"解决率 {_pct(s.resolution_rate)}，满意率 {_pct(s.satisfaction_rate)}{_findings(r)}"
        )
    lines += ["", "请黑榜单位对照问题认真整改，切实提高诉求办理质效。", ""]
    return "\n".join(lines)
