from django import template

register = template.Library()


@register.filter
def minutes(value: float | None) -> str:
    """37.4 → 37 分钟; 135 → 2 小时 15 分; 1600 → 1 天 2 小时; None → —."""
    if value is None:
        return "—"
    total = max(0, round(value))
    if total < 60:
        return f"{total} 分钟"
    hours, rest = divmod(total, 60)
    if hours < 24:
        return f"{hours} 小时 {rest} 分"
    days, hours = divmod(hours, 24)
    return f"{days} 天 {hours} 小时"


@register.filter
def share(value: float | None) -> str:
    """0.875 → 87.5%; no items → —."""
    return "—" if value is None else f"{value * 100:.1f}%"
