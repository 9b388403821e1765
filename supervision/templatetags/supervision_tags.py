from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def pct(value: Decimal | None) -> str:
    """0.9558 → 95.58%; no data → —."""
    return "—" if value is None else f"{value * 100:.2f}%"


@register.filter
def pct0(value: Decimal) -> str:
    return f"{value * 100:.0f}%"
