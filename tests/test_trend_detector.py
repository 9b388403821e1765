"""监测预警's detector on synthetic hourly series: bursts and slow rises are caught, ordinary rhythms are not."""

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from scipy.stats import nbinom

from alerts import detector
from alerts.detector import BURST, BURST_THRESHOLDS, RISE, RISE_THRESHOLDS, detect, detect_hourly

WEEK = 7 * 24
MONDAY = 0  # hour index 0 is a Monday 00:00


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method: exact for the small rates used here."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def office_rate(hour: int, monday_peak: float = 1.0) -> float:
    """Calls per hour: quiet at night, busy in office hours, Monday morning ``monday_peak`` times busier."""
    weekday, clock = divmod(hour % WEEK, 24)
    rate = 0.2 if clock < 7 or clock >= 22 else 2.0 if 8 <= clock < 18 else 0.8
    if weekday >= 5:
        rate *= 0.5
    if weekday == MONDAY and 8 <= clock < 12:
        rate *= monday_peak
    return rate


def series(weeks: int, rate=office_rate, seed: int = 1) -> list[int]:
    rng = random.Random(seed)
    return [poisson(rng, rate(h)) for h in range(weeks * WEEK)]


def at(week: int, weekday: int, clock: int) -> int:
    """The hour index of a weekday's hour in a given week."""
    return week * WEEK + weekday * 24 + clock


def test_a_burst_is_detected_against_the_same_hours_of_past_weeks():
    hourly = series(10)
    end = at(9, 2, 11)  # Wednesday 11:00 of week 10
    quiet = detect_hourly(hourly, end, BURST, BURST_THRESHOLDS)
    assert not quiet.alert
    hourly[end - 2] += 7  # water cut: 13 extra calls between 09:00 and 11:00
    hourly[end - 1] += 6
    burst = detect_hourly(hourly, end, BURST, BURST_THRESHOLDS)
    assert burst.alert
    assert burst.observed == quiet.observed + 13
    assert 2 <= burst.expected <= 6  # about 2 calls an hour at that time
    assert burst.ratio >= 3 and burst.p_value < 1e-4
    # the hour after the 2-hour window has passed, nothing is left to see
    assert not detect_hourly(hourly, end + 3, BURST, BURST_THRESHOLDS).alert


def test_a_steady_series_stays_quiet_every_hour_for_two_weeks():
    hourly = series(12, seed=7)
    start = at(10, 0, 0)
    bursts = [h for h in range(start, start + 2 * WEEK) if detect_hourly(hourly, h, BURST, BURST_THRESHOLDS).alert]
    rises = [h for h in range(start, start + 2 * WEEK, 24) if detect_hourly(hourly, h, RISE, RISE_THRESHOLDS).alert]
    assert bursts == [] and rises == []


def test_a_normal_monday_morning_peak_stays_quiet():
    def monday_rate(hour: int) -> float:
        return office_rate(hour, monday_peak=4.0)  # 8 an hour on Monday mornings, 2 on other mornings

    hourly = series(10, monday_rate, seed=3)
    monday = at(9, MONDAY, 11)
    score = detect_hourly(hourly, monday, BURST, BURST_THRESHOLDS)
    assert score.observed >= 10  # a real peak …
    assert not score.alert and score.expected > 10  # … that earlier Mondays predict
    # A Monday morning's usual count on a Tuesday morning, whose past Tuesdays were ordinary, is an alert: the
    # weekday baseline is what absorbs the Monday peak, not a loose threshold.
    tuesday = at(9, 1, 11)
    usual_monday = round(score.expected)
    hourly[tuesday - 2], hourly[tuesday - 1] = usual_monday // 2, usual_monday - usual_monday // 2
    assert detect_hourly(hourly, tuesday, BURST, BURST_THRESHOLDS).alert


@pytest.mark.parametrize(
    ("observed", "history"),
    [(3, [1] * 8), (3, [0] * 8), (4, [0, 1, 0, 0, 1, 0, 0, 0]), (2, [])],
)
def test_tiny_counts_stay_quiet(observed, history):
    score = detect(observed, history, level=sum(history) / 8, thresholds=BURST_THRESHOLDS)
    assert not score.alert


def test_the_minimum_count_is_what_keeps_tiny_counts_quiet():
    tiny = detect(3, [0] * 8, 0.0, BURST_THRESHOLDS)
    assert tiny.ratio >= 3 and tiny.p_value < 0.01 and not tiny.alert
    assert detect(5, [0] * 8, 0.0, BURST_THRESHOLDS).alert
    loose = detector.Thresholds(min_count=3, min_ratio=3.0, max_p=0.01)
    assert detect(3, [0] * 8, 0.0, loose).alert


def test_a_slow_rise_over_weeks_is_caught_by_the_weekly_check_before_the_burst_check():
    """Heating complaints in November: about 3 a day for two months, then 0.5 more each day."""
    rise_start = 8 * WEEK

    def heating(hour: int) -> float:
        days_in = max(0, hour - rise_start) / 24
        return (3 + 0.5 * days_in) * office_rate(hour) / 20  # office_rate sums to about 20 a weekday

    hourly = series(11, heating, seed=11)
    daily = range(5 * WEEK, 11 * WEEK, 24)
    rises = [h for h in daily if detect_hourly(hourly, h, RISE, RISE_THRESHOLDS).alert]
    bursts = [h for h in range(5 * WEEK, 11 * WEEK) if detect_hourly(hourly, h, BURST, BURST_THRESHOLDS).alert]
    assert rises, "the rise was not caught"
    assert rises[0] > rise_start  # nothing before it starts
    assert (rises[0] - rise_start) / 24 <= 14  # caught within two weeks
    # no 2-hour window shows it until the level has grown far beyond the same hours of past weeks
    assert not bursts or rises[0] < bursts[0]
    assert not [h for h in bursts if h < rise_start + WEEK]


def test_windows_are_the_same_hours_of_past_weeks_and_skip_time_before_the_first_order():
    now = datetime(2026, 11, 16, 11, tzinfo=UTC)  # a Monday
    w = detector.windows(now, BURST)
    assert w.current == (now - timedelta(hours=2), now)
    assert w.history[0] == (now - timedelta(days=7, hours=2), now - timedelta(days=7))
    assert len(w.history) == 8 and all(a.weekday() == 0 and a.hour == 9 for a, _ in w.history)
    assert w.level == (w.history[-1][0], now - timedelta(hours=2))
    short = detector.windows(now, BURST, since=now - timedelta(days=20))
    assert len(short.history) == 2 and short.level[0] == short.history[-1][0]
    weekly = detector.windows(now, RISE)
    assert weekly.history[0] == (now - timedelta(days=14), now - timedelta(days=7))
    assert weekly.level_windows == pytest.approx(4)


@pytest.mark.parametrize(("x", "shape", "rate"), [(1, 0.9, 9), (6, 7.2, 9), (12, 7.2, 9), (60, 50, 1000), (3, 88, 9)])
def test_tail_probability_is_the_negative_binomial_tail(x, shape, rate):
    expected = nbinom.sf(x - 1, shape, rate / (rate + 1))
    assert detector.nb_upper_tail(x, shape, rate) == pytest.approx(expected, rel=1e-6, abs=1e-300)


def test_an_overdispersed_history_gives_less_certainty_with_the_same_expectation():
    calm, noisy = [5, 5, 5, 5, 5, 5, 5, 5], [0, 10, 0, 10, 0, 10, 0, 10]
    a, b = detect(20, calm, 5, BURST_THRESHOLDS), detect(20, noisy, 5, BURST_THRESHOLDS)
    assert a.expected == pytest.approx(b.expected) == pytest.approx(5)
    assert a.alert and not b.alert  # 20 where it is always 5 is news; where it swings between 0 and 10, less so
    assert b.p_value > a.p_value * 10
