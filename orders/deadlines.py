"""Time limits (限时办理): which rule applies to an order and the deadlines it gives, in working time."""

from datetime import datetime, timedelta
from decimal import Decimal

from orders.models import LimitUnit, TimeLimitRule, WorkOrder
from system.config import get_setting
from workcalendar.worktime import WorkCalendar, get_calendar


def rule_for(order: WorkOrder) -> TimeLimitRule:
    """The active rule with the highest precedence whose every condition matches the order."""
    categories = set(order.category.lineage_ids())
    for rule in TimeLimitRule.objects.filter(is_active=True).order_by("-precedence", "pk"):
        if rule.request_type_id and rule.request_type_id != order.request_type_id:
            continue
        if rule.category_id and rule.category_id not in categories:
            continue
        if rule.priority and rule.priority != order.priority:
            continue
        if rule.is_enterprise is not None and rule.is_enterprise != order.is_enterprise:
            continue
        return rule
    raise LookupError("没有可用的时限规则：请在“时限规则”中保留一条不带条件的默认规则")


def add_limit(start: datetime, amount: Decimal, unit: str, calendar: WorkCalendar | None = None) -> datetime:
    calendar = calendar or get_calendar()
    if unit == LimitUnit.CALENDAR_HOURS:
        return start + timedelta(hours=float(amount))
    if unit == LimitUnit.WORKING_HOURS:
        return calendar.add_working_hours(start, float(amount))
    return calendar.add_working_hours(start, calendar.day_length * float(amount))


def dispatch_dues(order: WorkOrder, start: datetime) -> tuple[datetime, datetime]:
    """(sign deadline, finish deadline) of an order dispatched at ``start``: one rule and one calendar for both."""
    rule, calendar = rule_for(order), get_calendar()
    return (
        add_limit(start, rule.sign_limit, rule.sign_unit, calendar),
        add_limit(start, rule.finish_limit, rule.finish_unit, calendar),
    )


def sign_due(order: WorkOrder, start: datetime) -> datetime:
    rule = rule_for(order)
    return add_limit(start, rule.sign_limit, rule.sign_unit)


def finish_due(order: WorkOrder, start: datetime) -> datetime:
    rule = rule_for(order)
    return add_limit(start, rule.finish_limit, rule.finish_unit)


def callback_due(start: datetime) -> datetime:
    calendar = get_calendar()
    return calendar.add_working_days(start, get_setting("callback_working_days"))


def return_window_closes(signed_at: datetime) -> datetime:
    return get_calendar().add_working_hours(signed_at, get_setting("return_window_working_hours"))
