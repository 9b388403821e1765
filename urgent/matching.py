"""Whether an order meets an urgent rule, and the sentence that says why (shown to leaders and in the robots).

Each kind is one function over one order; the push job (``urgent/push.py``) decides which orders to look at.
- 标签工单红色预警: the order's 赋色预警 is red and it carries one of the rule's tags;
- 紧急警情: ``nlp.emergency.detect`` finds an alarm in the title or content (talk *about* fire-safety inspections,
  hidden dangers or last year's accident is not one: that module leaves such sentences out);
- 多人反映同一问题: distinct caller phones among the order, the orders merged into it (``parent``) and the orders
  linked to it (``related``) reach the threshold. Distinct phones, not orders, so one person calling five times is
  one caller. An order whose linked order was already pushed is left out: the issue has been pushed once;
- 媒体关注: a keyword in the title or content;
- 涉企紧急: a 涉企 order of priority 紧急 or 特急, or with one of the rule's keywords in its text.
"""

from nlp.emergency import detect
from orders.models import Priority, Warning, WorkOrder
from urgent.models import RuleKind, UrgentItem, UrgentRule


def _keyword(order: WorkOrder, words: list[str]) -> str | None:
    text = f"{order.title}\n{order.content}"
    return next((word for word in words if word in text), None)


def distinct_callers(order: WorkOrder) -> int:
    """Distinct caller phones among the order, the orders merged into it and the orders linked to it."""
    phones = {order.caller_phone}
    phones.update(WorkOrder.objects.filter(parent=order).values_list("caller_phone", flat=True))
    phones.update(order.related.values_list("caller_phone", flat=True))
    return len({phone for phone in phones if phone})


def reason(rule: UrgentRule, order: WorkOrder) -> str | None:
    """Why ``order`` meets ``rule`` (a short Chinese sentence), or None when it does not."""
    if rule.kind == RuleKind.RED_TAG:
        if order.warning != Warning.RED:
            return None
        names = [tag.name for tag in order.tags.all() if tag.code in rule.tags]
        return f"{'、'.join(names)}工单红色预警" if names else None
    if rule.kind == RuleKind.EMERGENCY:
        alerts = detect(order.title, order.content)
        return "紧急警情：" + "、".join(f"{a.what}（{a.line}）" for a in alerts) if alerts else None
    if rule.kind == RuleKind.CALLERS:
        count = distinct_callers(order)
        if rule.threshold is None or count < rule.threshold:
            return None
        if UrgentItem.objects.filter(order__in=order.related.all()).exists():
            return None
        return f"{count} 位诉求人反映同一问题"
    if rule.kind == RuleKind.MEDIA:
        word = _keyword(order, rule.keyword_list)
        return f"媒体关注：含“{word}”" if word else None
    if rule.kind == RuleKind.ENTERPRISE:
        if not order.is_enterprise:
            return None
        if order.priority in (Priority.URGENT, Priority.CRITICAL):
            return f"涉企{Priority(order.priority).label}诉求"
        word = _keyword(order, rule.keyword_list)
        return f"涉企诉求：含“{word}”" if word else None
    return None


def reasons(rules: list[UrgentRule], order: WorkOrder) -> list[tuple[UrgentRule, str]]:
    """The rules among ``rules`` that ``order`` meets, each with its reason."""
    found = []
    for rule in rules:
        why = reason(rule, order)
        if why:
            found.append((rule, why))
    return found
