import calendar as month_calendar
from datetime import date, datetime, timedelta

from django.shortcuts import render
from django.utils import timezone

from accounts.permissions import role_required
from workcalendar.worktime import get_calendar

WEEKDAYS = ["一", "二", "三", "四", "五", "六", "日"]


def _month(request) -> date:
    today = timezone.localdate()
    try:
        return date(int(request.GET.get("year", today.year)), int(request.GET.get("month", today.month)), 1)
    except (TypeError, ValueError):
        return today.replace(day=1)


@role_required()
def month(request):
    """One month of the working-day calendar, plus a deadline calculator."""
    first = _month(request)
    cal = get_calendar()
    weeks = []
    for week in month_calendar.Calendar().monthdatescalendar(first.year, first.month):
        weeks.append(
            [
                {
                    "date": d,
                    "in_month": d.month == first.month,
                    "working": cal.is_working_day(d),
                    "weekend": d.weekday() >= 5,
                    "override": d in cal.overrides,
                }
                for d in week
            ]
        )
    prev_month = (first - timedelta(days=1)).replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    return render(
        request,
        "workcalendar/month.html",
        {
            "first": first,
            "weeks": weeks,
            "weekdays": WEEKDAYS,
            "prev_month": prev_month,
            "next_month": next_month,
            "periods": cal.periods,
            "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )


@role_required()
def deadline(request):
    """htmx fragment: the deadline for a start instant plus N working days or hours."""
    error = result = None
    try:
        start = timezone.make_aware(datetime.strptime(request.GET.get("start", ""), "%Y-%m-%dT%H:%M"))
    except ValueError:
        error = "开始时间格式不对"
    amount_text = request.GET.get("amount", "")
    unit = request.GET.get("unit", "days")
    if error is None:
        try:
            amount = float(amount_text)
            if not 0 <= amount <= 365 or (unit == "days" and amount != int(amount)):
                raise ValueError
        except ValueError:
            error = "时长必须是 0–365 之间的数（工作日须为整数）"
    if error is None:
        cal = get_calendar()
        end = cal.add_working_days(start, int(amount)) if unit == "days" else cal.add_working_hours(start, amount)
        result = timezone.localtime(end)
    return render(request, "workcalendar/_deadline.html", {"error": error, "result": result})
