"""Working time on China's official calendar: the one place deadlines are counted.

A day is a working day when, in this order:
1. an administrator's ``CalendarDay`` entry says so (it overrides everything);
2. otherwise chinesecalendar knows the year (official holidays and 调休 make-up days);
3. otherwise Monday–Friday, with a warning logged once per year per process, so a year the
   library does not cover yet keeps working until the official schedule is entered.

Working hours come from the ``working_hours`` setting (default 09:00–12:00, 13:30–17:30) in the
project time zone (Asia/Shanghai). "N working days" from an instant is N times the length of a
working day counted in working hours, so a request taken at 10:00 on Monday with one working day
is due at 10:00 on Tuesday, and one taken on Saturday is due at the end of the next working day.
"""

import logging
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings

logger = logging.getLogger(__name__)

Periods = tuple[tuple[time, time], ...]
_PERIOD_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# A deadline search never looks further ahead than this; reaching it means no working time is configured.
_MAX_DAYS_AHEAD = 3660
_warned_years: set[int] = set()


def parse_working_hours(text: str) -> Periods:
    """Parse "09:00-12:00,13:30-17:30" into ordered, non-overlapping periods."""
    periods = []
    for part in str(text).split(","):
        match = _PERIOD_RE.match(part)
        if not match:
            raise ValueError(f"工作时段“{part.strip()}”格式不对，应为 HH:MM-HH:MM，多个时段用逗号分隔")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"工作时段“{part.strip()}”的时间无效")
        start, end = time(h1, m1), time(h2, m2)
        if start >= end:
            raise ValueError(f"工作时段“{part.strip()}”的开始时间必须早于结束时间")
        periods.append((start, end))
    periods.sort()
    for (_, end), (start, _) in zip(periods, periods[1:], strict=False):
        if start < end:
            raise ValueError("工作时段不能重叠")
    return tuple(periods)


def official_is_working_day(day: date) -> bool:
    """chinesecalendar's answer, or Mon–Fri (with a warning) for a year it does not cover."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            logger.warning(
                "No official holiday data for %s: counting Monday to Friday plus the administrator's calendar entries.",
                day.year,
            )
        return day.weekday() < 5


class WorkCalendar:
    """Working-time arithmetic over fixed overrides and working periods (no database access)."""

    def __init__(self, periods: Periods, overrides: dict[date, bool] | None = None, tz: str | None = None) -> None:
        if not periods:
            raise ValueError("至少需要一个工作时段")
        self.periods = periods
        self.overrides = overrides or {}
        self.tz = ZoneInfo(tz or settings.TIME_ZONE)
        self.day_length = sum(
            (datetime.combine(date.min, e) - datetime.combine(date.min, s) for s, e in periods), timedelta()
        )

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return official_is_working_day(day)

    def working_days(self, start: date, end: date) -> list[date]:
        """Working days from start to end, both included."""
        return [d for d in _days(start, (end - start).days + 1) if self.is_working_day(d)]

    def add_working_days(self, start: date | datetime, days: int) -> date | datetime:
        """For a date: the ``days``-th working day after it.

        For an instant: ``days`` times a working day's length of working hours later.
        """
        if days < 0:
            raise ValueError("工作日数不能为负")
        if isinstance(start, datetime):
            return self.add_working_hours(start, self.day_length * days)
        if days == 0:
            return start
        for day in _days(start + timedelta(days=1), _MAX_DAYS_AHEAD):
            if self.is_working_day(day):
                days -= 1
                if days == 0:
                    return day
        raise ValueError("在十年内找不到足够的工作日，请检查日历设置")

    def add_working_hours(self, start: datetime, amount: timedelta | float) -> datetime:
        """The instant ``amount`` of working time after ``start`` (hours when a number is given)."""
        remaining = amount if isinstance(amount, timedelta) else timedelta(hours=amount)
        if remaining < timedelta(0):
            raise ValueError("工作时长不能为负")
        start = _aware(start).astimezone(self.tz)
        if remaining == timedelta(0):
            return start
        for day in _days(start.date(), _MAX_DAYS_AHEAD):
            for seg_start, seg_end in self._segments(day):
                seg_start = max(seg_start, start)
                if seg_start >= seg_end:
                    continue
                available = seg_end - seg_start
                if remaining <= available:
                    return seg_start + remaining
                remaining -= available
        raise ValueError("在十年内找不到足够的工作时间，请检查日历设置")

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from start to end; negative when end is before start."""
        start, end = _aware(start).astimezone(self.tz), _aware(end).astimezone(self.tz)
        if end < start:
            return -self.working_time_between(end, start)
        total = timedelta()
        for day in _days(start.date(), (end.date() - start.date()).days + 1):
            for seg_start, seg_end in self._segments(day):
                lo, hi = max(seg_start, start), min(seg_end, end)
                if lo < hi:
                    total += hi - lo
        return total

    def _segments(self, day: date) -> Iterable[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return ()
        return [
            (datetime.combine(day, s, tzinfo=self.tz), datetime.combine(day, e, tzinfo=self.tz))
            for s, e in self.periods
        ]


def _days(start: date, count: int) -> Iterable[date]:
    return (start + timedelta(days=i) for i in range(count))


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("需要带时区的时间")
    return value


def get_calendar() -> WorkCalendar:
    """The calendar as configured now: working-hours setting plus every administrator entry."""
    from system.config import get_setting
    from workcalendar.models import CalendarDay

    overrides = dict(CalendarDay.objects.values_list("date", "is_working_day"))
    return WorkCalendar(get_setting("working_hours"), overrides)


def is_working_day(day: date) -> bool:
    return get_calendar().is_working_day(day)


def add_working_days(start: date | datetime, days: int) -> date | datetime:
    return get_calendar().add_working_days(start, days)


def add_working_hours(start: datetime, amount: timedelta | float) -> datetime:
    return get_calendar().add_working_hours(start, amount)


def working_time_between(start: datetime, end: datetime) -> timedelta:
    return get_calendar().working_time_between(start, end)
