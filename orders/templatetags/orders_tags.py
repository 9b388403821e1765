"""Small display helpers for order lists; the rules behind them live in ``orders.queries``."""

from django import template

from orders import queries
from orders.models import WorkOrder

register = template.Library()


@register.simple_tag(takes_context=True)
def caller_phone(context, order: WorkOrder) -> str:
    """The caller's phone, masked for roles that do not call citizens."""
    return queries.caller_phone_for(context["request"].user, order)


@register.filter
def overdue(order: WorkOrder) -> bool:
    return queries.is_overdue(order)
