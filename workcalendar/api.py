from datetime import date, datetime, timedelta

from django.utils import timezone
from ninja import Query, Router, Schema

from hotline.api import ApiError
from hotline.error_codes import ErrorCode
from workcalendar.worktime import get_calendar

router = Router(tags=["工作日历"])

# Deadlines are for requests the hotline receives, so ``start`` is kept to this century: before 1901 the
# zone's local mean time has an offset in seconds, which no RFC 3339 date-time can carry, and near year
# 9999 the deadline would run off the end of the calendar.
DEADLINE_YEARS = range(2000, 2100)


class DayOut(Schema):
    date: date
    is_working_day: bool


class DeadlineOut(Schema):
    start: datetime
    deadline: datetime


@router.get("/days", response=list[DayOut], summary="日期区间内每天是否工作日（最多 366 天）")
def days(request, start: date, end: date):
    if end < start or (end - start).days > 365:
        raise ApiError(422, ErrorCode.INVALID, "end 必须不早于 start，且区间不超过 366 天", field="end")
    cal = get_calendar()
    return [
        DayOut(date=d, is_working_day=cal.is_working_day(d))
        for d in (start + timedelta(days=i) for i in range((end - start).days + 1))
    ]


@router.get("/deadline", response=DeadlineOut, summary="从某时刻起若干工作日或工作小时后的期限")
def deadline(
    request,
    start: datetime,
    working_days: int | None = Query(None, ge=0, le=365),
    working_hours: float | None = Query(None, ge=0, le=2920),
):
    if (working_days is None) == (working_hours is None):
        raise ApiError(422, ErrorCode.INVALID, "working_days 和 working_hours 必须且只能给出一个", field="working_days")
    if start.year not in DEADLINE_YEARS:
        message = f"start 须在 {DEADLINE_YEARS[0]}–{DEADLINE_YEARS[-1]} 年之间"
        raise ApiError(422, ErrorCode.INVALID, message, field="start")
    if timezone.is_naive(start):
        start = timezone.make_aware(start)
    cal = get_calendar()
    end = (
        cal.add_working_days(start, working_days)
        if working_days is not None
        else cal.add_working_hours(start, working_hours)
    )
    return DeadlineOut(start=start, deadline=timezone.localtime(end))
