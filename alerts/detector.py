"""监测预警的异常判定：纯函数，不读数据库。

A series is a count of orders per window (category × area, a unit, 涉企 orders …). Each check compares the
count observed in the most recent window with the same window in past weeks.

Windows (``windows``). A kind of check is a window length and a number of baseline weeks:
- 短时激增 (burst): the last 2 hours against the same 2 hours of the same weekday in each of the previous 8 weeks.
  The same weekday and hour absorb the daily and weekly rhythm, so an ordinary Monday-morning peak is compared
  with earlier Monday mornings, not with the night.
- 持续上升 (rise): the last 7 days against each of the previous 4 weeks. It catches what grows over days, such as
  heating complaints in November, that no 2-hour window shows.
Only history windows that start after the first order the system holds count (a new system has no past).

Expected value and score (``detect``), a Gamma–Poisson model:
1. The rate λ of the window has a Gamma prior centred on the series' recent level (its mean count per window over
   the baseline weeks, whatever the hour) and worth ``prior_weight`` windows: shape = level × w, rate = w.
2. The n history windows (sum S) update it: shape += S, rate += n. The posterior mean shape / rate is the
   expected count: mostly the same-hour history, pulled towards the level when the history is short or empty.
3. Overdispersion: when the history varies more than a Poisson count would (sample variance v > mean m, n ≥ 3),
   shape and rate are both divided by v / m: same expected value, less certainty.
4. The expected value is at least ``min_expected``, so a series never seen before does not make every count
   infinitely unlikely.
5. The next window's count then follows a negative binomial (shape, rate / (rate + 1)); the score is its upper
   tail p = P(X ≥ observed), summed from the log-pmf.
It is an alert when observed ≥ min_count, observed / expected ≥ min_ratio and p ≤ max_p. The minimum count
keeps tiny series quiet (1 → 3 is a tripling, but not a signal); the ratio keeps huge series from alerting on
a statistically certain but small rise; the p-value keeps noisy series quiet.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean, variance

PRIOR_WEIGHT = 1.0
MIN_EXPECTED = 0.1


@dataclass(frozen=True)
class Thresholds:
    min_count: int
    min_ratio: float
    max_p: float


@dataclass(frozen=True)
class Spec:
    """A kind of check: the window length and how many past weeks give its baseline."""

    window_hours: int
    weeks: int


BURST = Spec(window_hours=2, weeks=8)
RISE = Spec(window_hours=7 * 24, weeks=4)
BURST_THRESHOLDS = Thresholds(min_count=5, min_ratio=3.0, max_p=0.0001)
RISE_THRESHOLDS = Thresholds(min_count=10, min_ratio=1.5, max_p=0.001)


@dataclass(frozen=True)
class Score:
    observed: int
    expected: float
    ratio: float
    p_value: float
    alert: bool


@dataclass(frozen=True)
class Windows:
    current: tuple[datetime, datetime]
    history: list[tuple[datetime, datetime]]  # most recent week first
    level: tuple[datetime, datetime]  # the span the level is averaged over

    @property
    def level_windows(self) -> float:
        """How many windows of the current length fit in the level span."""
        return (self.level[1] - self.level[0]) / (self.current[1] - self.current[0])


def windows(now: datetime, spec: Spec, since: datetime | None = None) -> Windows:
    """The current window ending at ``now``, the same window 1…weeks weeks earlier, and the level span.

    History windows starting before ``since`` (the first order on record) are left out; the level span is cut
    to the same start."""
    length, week = timedelta(hours=spec.window_hours), timedelta(days=7)
    history = [(now - w * week - length, now - w * week) for w in range(1, spec.weeks + 1)]
    if since is not None:
        history = [h for h in history if h[0] >= since]
    start = history[-1][0] if history else now - length
    return Windows(current=(now - length, now), history=history, level=(start, now - length))


def nb_upper_tail(x: int, shape: float, rate: float) -> float:
    """P(X ≥ x) for the negative binomial with Gamma(shape, rate) mixing a Poisson."""
    if x <= 0:
        return 1.0
    log_q, log_1q = math.log(rate / (rate + 1)), math.log(1 / (rate + 1))
    base = shape * log_q - math.lgamma(shape)

    def pmf(k: int) -> float:
        return math.exp(base + math.lgamma(k + shape) - math.lgamma(k + 1) + k * log_1q)

    mean = shape / rate
    if x <= mean:
        return max(0.0, min(1.0, 1.0 - sum(pmf(k) for k in range(x))))
    total, k = 0.0, x
    while True:  # terms fall beyond the mean: stop when they no longer change the sum
        term = pmf(k)
        total += term
        k += 1
        if term <= total * 1e-12 or k - x > 100_000:
            return min(1.0, total)


def expected_count(
    history: Sequence[int], level: float, prior_weight: float = PRIOR_WEIGHT, min_expected: float = MIN_EXPECTED
) -> tuple[float, float]:
    """The Gamma posterior (shape, rate) of the window's rate; its mean shape / rate is the expected count."""
    n, total = len(history), float(sum(history))
    shape, rate = max(level, 0.0) * prior_weight + total, prior_weight + n
    if n >= 3:
        mean, var = fmean(history), variance(history)
        if mean > 0 and var > mean:
            shape, rate = shape * mean / var, rate * mean / var
    if shape / rate < min_expected:
        shape = min_expected * rate
    return shape, rate


def detect(observed: int, history: Sequence[int], level: float, thresholds: Thresholds) -> Score:
    """Score ``observed`` against the same window's ``history`` and the series' ``level`` (count per window)."""
    shape, rate = expected_count(history, level)
    expected = shape / rate
    p_value = nb_upper_tail(observed, shape, rate)
    ratio = observed / expected
    alert = observed >= thresholds.min_count and ratio >= thresholds.min_ratio and p_value <= thresholds.max_p
    return Score(observed=observed, expected=expected, ratio=ratio, p_value=p_value, alert=alert)


def detect_hourly(hourly: Sequence[int], end: int, spec: Spec, thresholds: Thresholds) -> Score:
    """``detect`` on a series of counts per hour, for the window ending before hour index ``end``.

    The same windows as ``windows`` on a clock where hour 0 is the first hour on record."""
    length, week = spec.window_hours, 7 * 24

    def total(start: int, stop: int) -> int:
        return sum(hourly[max(start, 0) : max(stop, 0)])

    starts = [end - w * week - length for w in range(1, spec.weeks + 1)]
    history = [total(s, s + length) for s in starts if s >= 0]
    start = (starts[: len(history)] or [end - length])[-1]
    level = total(start, end - length) * length / (end - length - start) if end - length > start else 0.0
    return detect(total(end - length, end), history, level, thresholds)
