import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from system.models import Setting
from workcalendar import worktime
from workcalendar.models import CalendarDay
from workcalendar.worktime import WorkCalendar, parse_working_hours

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_national_day_2025_and_its_make_up_days():
    assert worktime.is_working_day(date(2025, 9, 28))  # Sunday, 调休上班
    assert worktime.is_working_day(date(2025, 10, 11))  # Saturday, 调休上班
    for day in range(1, 9):
        assert not worktime.is_working_day(date(2025, 10, day))
    assert worktime.is_working_day(date(2025, 10, 9))


def test_spring_festival_2026():
    for day in range(15, 24):
        assert not worktime.is_working_day(date(2026, 2, day)), day
    assert worktime.is_working_day(date(2026, 2, 14))  # Saturday make-up day
    assert worktime.is_working_day(date(2026, 2, 28))  # Saturday make-up day
    # Five working days from the Friday before the holiday: 14, 24, 25, 26, 27 February.
    assert worktime.add_working_days(date(2026, 2, 13), 5) == date(2026, 2, 27)


def test_deadline_across_the_national_day_holiday():
    # Tuesday 30 Sept 2025 15:00 + 1 working day (7 working hours): 2.5 h left that day,
    # 1–8 October are holidays, so the other 4.5 h are Thursday 9 October 09:00–12:00 and 13:30–15:00.
    assert worktime.add_working_days(at(2025, 9, 30, 15, 0), 1) == at(2025, 10, 9, 15, 0)


def test_deadline_across_the_year_end_into_a_year_without_official_data(caplog):
    worktime._warned_years.discard(2027)
    with caplog.at_level(logging.WARNING, logger="workcalendar.worktime"):
        # Thursday 31 Dec 2026 10:00 + 5 working days. 1 Jan 2027 falls back to Mon–Fri: a working day.
        deadline = worktime.add_working_days(at(2026, 12, 31, 10, 0), 5)
    assert deadline == at(2027, 1, 7, 10, 0)
    assert "2027" in caplog.text


def test_admin_entries_fill_a_year_without_official_data():
    worktime._warned_years.discard(2027)
    CalendarDay.objects.create(date=date(2027, 1, 1), is_working_day=False, note="元旦")
    assert not worktime.is_working_day(date(2027, 1, 1))
    assert worktime.add_working_days(at(2026, 12, 31, 10, 0), 5) == at(2027, 1, 8, 10, 0)


def test_admin_entry_overrides_the_official_calendar():
    CalendarDay.objects.create(date=date(2025, 10, 9), is_working_day=False, note="防汛停工")
    assert not worktime.is_working_day(date(2025, 10, 9))
    CalendarDay.objects.create(date=date(2025, 10, 3), is_working_day=True)
    assert worktime.is_working_day(date(2025, 10, 3))


def test_working_hours_skip_lunch_and_nights():
    assert worktime.add_working_hours(at(2025, 10, 9, 11, 0), 2) == at(2025, 10, 9, 14, 30)
    assert worktime.add_working_hours(at(2025, 10, 9, 17, 0), 1) == at(2025, 10, 10, 9, 30)
    # Saturday evening intake: the clock starts on the next working day (Sunday 12 Oct is a rest day).
    assert worktime.add_working_hours(at(2025, 10, 11, 20, 0), 0.5) == at(2025, 10, 13, 9, 30)


def test_working_time_between_two_instants():
    assert worktime.working_time_between(at(2025, 9, 30, 9, 0), at(2025, 10, 9, 9, 0)) == timedelta(hours=7)
    assert worktime.working_time_between(at(2025, 10, 9, 12, 0), at(2025, 10, 9, 13, 30)) == timedelta(0)
    assert worktime.working_time_between(at(2025, 10, 9, 10, 0), at(2025, 10, 9, 9, 0)) == -timedelta(hours=1)


def test_utc_input_gives_the_same_instant():
    utc = datetime(2025, 10, 9, 1, 0, tzinfo=ZoneInfo("UTC"))  # 09:00 in Shanghai
    assert worktime.add_working_hours(utc, 1) == at(2025, 10, 9, 10, 0)


def test_working_hours_come_from_the_setting():
    Setting.objects.create(key="working_hours", value="08:30-12:00,14:00-18:00")
    assert worktime.add_working_hours(at(2025, 10, 9, 8, 30), 4) == at(2025, 10, 9, 14, 30)


@pytest.mark.parametrize("text", ["9-12", "12:00-09:00", "09:00-12:00,11:00-13:00", "25:00-26:00", ""])
def test_bad_working_hours_are_rejected_by_field(text):
    with pytest.raises(ValueError):
        parse_working_hours(text)
    setting = Setting(key="working_hours", value=text)
    with pytest.raises(ValidationError) as exc:
        setting.full_clean()
    assert "value" in exc.value.message_dict


def test_naive_and_negative_inputs_raise_clear_errors():
    cal = WorkCalendar(parse_working_hours("09:00-17:00"))
    with pytest.raises(ValueError, match="时区"):
        cal.add_working_hours(datetime(2025, 10, 9, 9, 0), 1)
    with pytest.raises(ValueError, match="负"):
        cal.add_working_days(date(2025, 10, 9), -1)


def test_day_length_follows_working_hours():
    assert WorkCalendar(parse_working_hours("09:00-12:00,13:30-17:30")).day_length == timedelta(hours=7)
