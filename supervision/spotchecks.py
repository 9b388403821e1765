"""专员抽查: draw a reproducible random sample of one unit's handled orders, review it, let the unit answer.

Population: the orders whose *lead unit is the unit itself* (sub-units are not included — the 红黑榜 ranks every
unit on the orders it leads, and a finding counts against the unit whose orders it concerns) and whose reply or
archiving falls on a day of the period (Beijing dates, both ends included), ordered by id.
Sample: ``random.Random(seed).sample(ids, size)``; the seed is stored with the check, so the same seed, unit,
period and population always give the same orders. Without a seed a random one is drawn and stored.

Review: a supervisor answers the checklist (答复有实质内容, 确实联系了市民, 办理结果属实: 是/否/无法核实) for each
sampled order; any “否”, or an explicit flag, makes the item a finding (问题), which lowers the unit in the
红黑榜 (``spot_check_penalty`` points per finding on an order handled in the ranking period) and is told to the
unit. A supervisor may correct a review while the check is open and the unit has not answered. The unit's handlers
answer each finding once (the answer is claimed with ``UPDATE … WHERE answered_at IS NULL``).
"""

import random
import re
import secrets
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from notifications.send import notify, notify_unit
from orders.errors import Conflict, Forbidden, InvalidInput
from orders.models import WorkOrder
from org.models import Unit, UnitKind
from supervision.models import SpotCheck, SpotCheckItem, SpotCheckStatus, Verdict

CHECKERS = (Role.SUPERVISOR,)
READERS = (Role.SUPERVISOR, Role.LEADER)
MAX_SEED = 10**18 - 1
MAX_TEXT = 5000
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # PostgreSQL refuses U+0000; no database stores a lone surrogate
CHECKLIST = (("substance", "答复有实质内容"), ("contact", "确实联系了市民"), ("result_true", "办理结果属实"))


def _text(value, field: str, label: str, required: bool = False) -> str:
    """Stripped text, refused (naming ``field``) when missing but required, too long, or not storable
    (U+0000 and lone surrogates, which PostgreSQL or both databases reject)."""
    text = str(value or "").strip()
    if required and not text:
        raise InvalidInput({field: f"请填写{label}"})
    if len(text) > MAX_TEXT:
        raise InvalidInput({field: f"{label}不能超过 {MAX_TEXT} 字"})
    if UNSTORABLE.search(text):
        raise InvalidInput({field: f"{label}含有无法保存的字符"})
    return text


def parse_penalty(text: str) -> Decimal:
    """The ``spot_check_penalty`` setting: points off the composite score per finding, 0 … 100."""
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError("必须是数字，如 2 或 1.5") from exc
    if not value.is_finite() or value < 0 or value > 100:
        raise ValueError("必须在 0 到 100 之间")
    return value


def _day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(start, time.min, tz), datetime.combine(end + timedelta(days=1), time.min, tz)


def population(unit: Unit, start: date, end: date) -> QuerySet[WorkOrder]:
    """The orders ``unit`` leads that were replied or archived on the days ``start`` … ``end``, by id."""
    lo, hi = _day_bounds(start, end)
    in_period = Q(replied_at__gte=lo, replied_at__lt=hi) | Q(archived_at__gte=lo, archived_at__lt=hi)
    return WorkOrder.objects.filter(in_period, lead_unit=unit).order_by("pk")


def draw(ids: list[int], size: int, seed: int) -> list[int]:
    """The sample: the same ids (in the same order), size and seed always give the same list."""
    return random.Random(seed).sample(ids, size)


def _activity_date(order: WorkOrder, start: date, end: date) -> date:
    """The Beijing day in the period on which the order was replied (else archived)."""
    for at in (order.replied_at, order.archived_at):
        if at is not None and start <= timezone.localdate(at) <= end:
            return timezone.localdate(at)
    return end


def _int(value, field: str, label: str) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput({field: f"{label}必须是整数"}) from None


def _date(value, field: str, label: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidInput({field: f"请填写{label}（年-月-日）"}) from None


def create(
    actor: User,
    unit: Unit | None,
    period_start,
    period_end,
    size,
    seed=None,
    at: datetime | None = None,
) -> SpotCheck:
    """抽查: a supervisor samples ``size`` orders of ``unit`` handled in the period. Bad input creates nothing
    and names the field: ``unit``, ``period_start``, ``period_end``, ``size``, ``seed`` or ``population``."""
    if not actor.has_role(*CHECKERS):
        raise Forbidden(f"{actor.get_role_display()}不能发起抽查")
    at = at or timezone.now()
    errors: dict[str, str] = {}
    if unit is None or not unit.is_active or unit.kind in (UnitKind.CENTER, UnitKind.CITY):
        errors["unit"] = "请选择具体的承办单位"
    dates: dict[str, date] = {}
    for field, label, value in (("period_start", "开始日期", period_start), ("period_end", "结束日期", period_end)):
        try:
            dates[field] = _date(value, field, label)
        except InvalidInput as exc:
            errors.update(exc.errors)
    start, end = dates.get("period_start"), dates.get("period_end")
    today = timezone.localdate(at)
    if start and end:
        if start > end:
            errors["period_end"] = "结束日期不能早于开始日期"
        elif end > today:
            errors["period_end"] = "抽查期间不能晚于今天"
    try:
        size = _int(size, "size", "抽样数量")
        if size < 1:
            errors["size"] = "抽样数量至少为 1"
    except InvalidInput as exc:
        errors.update(exc.errors)
    if seed in (None, ""):
        seed = secrets.randbelow(10**9)
    else:
        try:
            seed = _int(seed, "seed", "随机种子")
            if not 0 <= seed <= MAX_SEED:
                errors["seed"] = f"随机种子应在 0 到 {MAX_SEED} 之间"
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    orders = {o.pk: o for o in population(unit, start, end).only("pk", "replied_at", "archived_at")}
    if not orders:
        raise InvalidInput({"population": f"{unit.name}在{start}至{end}没有已答复或已归档的工单，无法抽查"})
    if size > len(orders):
        raise InvalidInput({"size": f"抽样数量不能超过总体工单数 {len(orders)}"})
    sample = draw(list(orders), size, seed)
    with transaction.atomic():
        check = SpotCheck.objects.create(
            unit=unit, period_start=start, period_end=end, population=len(orders), sample_size=size, seed=seed,
            created_by=actor, created_at=at,
        )  # fmt: skip
        SpotCheckItem.objects.bulk_create(
            SpotCheckItem(spot_check=check, order_id=pk, activity_date=_activity_date(orders[pk], start, end))
            for pk in sample
        )
    return check


def checklist_text(answers) -> str:
    """The finding text the checklist implies: the points answered “否” (empty when none); ``answers`` is a
    mapping or a reviewed item."""
    get = answers.get if isinstance(answers, Mapping) else lambda field: getattr(answers, field)
    return "；".join(f"{label}：否" for field, label in CHECKLIST if get(field) == Verdict.NO)


def review(actor: User, item: SpotCheckItem, data: Mapping, at: datetime | None = None) -> SpotCheckItem:
    """Record the checklist of one sampled order. ``data``: substance, contact, result_true (yes/no/unknown),
    note, finding (bool), finding_text. A “否” or ``finding`` makes a finding; its text defaults to the checklist
    points answered “否”."""
    if not actor.has_role(*CHECKERS):
        raise Forbidden("只有督办员可以审核抽查样本")
    at = at or timezone.now()
    errors, values = {}, {}
    for field, label in CHECKLIST:
        value = data.get(field) or ""
        if value not in Verdict.values:
            errors[field] = f"请选择“{label}”：是、否或无法核实"
        values[field] = value
    texts = {}
    for field, label in (("note", "审核意见"), ("finding_text", "问题描述")):
        try:
            texts[field] = _text(data.get(field), field, label)
        except InvalidInput as exc:
            errors.update(exc.errors)
    note, text = texts.get("note", ""), texts.get("finding_text", "")
    finding = bool(checklist_text(values)) or bool(data.get("finding"))
    if finding and not text:
        text = checklist_text(values)
        if not text:
            errors["finding_text"] = "标记发现问题时请填写问题描述"
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        was_finding = SpotCheckItem.objects.filter(pk=item.pk, finding=True).exists()
        done = SpotCheckItem.objects.filter(
            pk=item.pk, answered_at__isnull=True, spot_check__status=SpotCheckStatus.OPEN
        ).update(
            **values, note=note, finding=finding, finding_text=text if finding else "", reviewed_by=actor,
            reviewed_at=at,
        )  # fmt: skip
        if done != 1:
            raise Conflict("抽查已结束或单位已说明，不能再修改审核结果")
        item.refresh_from_db()
        if finding and not was_finding:
            check = item.spot_check
            notify_unit(
                check.unit, f"专员抽查发现问题：工单 {item.order.number}", item.finding_text, findings_link(check)
            )
    return item


def close(actor: User, check: SpotCheck, at: datetime | None = None) -> SpotCheck:
    """结束抽查 once every sampled order is reviewed."""
    if not actor.has_role(*CHECKERS):
        raise Forbidden("只有督办员可以结束抽查")
    at = at or timezone.now()
    with transaction.atomic():
        if check.items.filter(reviewed_at__isnull=True).exists():
            raise Conflict("还有样本未审核，不能结束抽查")
        done = SpotCheck.objects.filter(pk=check.pk, status=SpotCheckStatus.OPEN).update(
            status=SpotCheckStatus.CLOSED, closed_at=at
        )
        if done != 1:
            raise Conflict("抽查已结束")
        check.refresh_from_db()
    return check


def answer(actor: User, item: SpotCheckItem, text: str, at: datetime | None = None) -> SpotCheckItem:
    """The checked unit answers a finding, once; the text is mandatory."""
    at = at or timezone.now()
    unit_id = item.spot_check.unit_id
    if not actor.has_role(Role.HANDLER) or not actor.visible_units.filter(pk=unit_id).exists():
        raise Forbidden("只有被抽查单位可以说明抽查问题")
    if not item.finding:
        raise Conflict("该样本未发现问题，无需说明")
    text = _text(text, "answer", "说明", required=True)
    with transaction.atomic():
        done = SpotCheckItem.objects.filter(pk=item.pk, finding=True, answered_at__isnull=True).update(
            answer=text, answered_by=actor, answered_at=at
        )
        if done != 1:
            raise Conflict("该问题已说明，不能重复说明")
        item.refresh_from_db()
        check = item.spot_check
        title = f"{check.unit.name}已说明抽查问题：工单 {item.order.number}"
        notify([check.created_by], title, text, check_link(check))
    return item


def check_link(check: SpotCheck) -> str:
    return f"{reverse('supervision:spotcheck')}?id={check.pk}"


def findings_link(check: SpotCheck) -> str:
    return f"{reverse('supervision:findings')}?check={check.pk}"


def visible_checks(user: User) -> QuerySet[SpotCheck]:
    """Supervisors and leaders see every check; a handler those of its units; anyone else none."""
    checks = (
        SpotCheck.objects.select_related("unit", "created_by")
        .annotate(
            findings=Count("items", filter=Q(items__finding=True)),
            reviewed=Count("items", filter=Q(items__reviewed_at__isnull=False)),
            unanswered=Count("items", filter=Q(items__finding=True, items__answered_at__isnull=True)),
        )
        .order_by("-created_at", "-pk")
    )  # an aggregate query ignores Meta.ordering
    if user.has_role(*READERS):
        return checks
    if user.has_role(Role.HANDLER):
        return checks.filter(unit__in=user.visible_units)
    return checks.none()


def visible_findings(user: User) -> QuerySet[SpotCheckItem]:
    """Findings a user may read: all for supervisors and leaders, its units' for a handler."""
    items = SpotCheckItem.objects.filter(finding=True).select_related(
        "spot_check__unit", "order", "reviewed_by", "answered_by"
    )
    if user.has_role(*READERS):
        return items
    if user.has_role(Role.HANDLER):
        return items.filter(spot_check__unit__in=user.visible_units)
    return items.none()


def findings_per_unit(start: date, end: date) -> dict[int, int]:
    """Findings on orders handled on the days ``start`` … ``end``, per checked unit (for the 红黑榜)."""
    rows = (
        SpotCheckItem.objects.filter(finding=True, activity_date__gte=start, activity_date__lte=end)
        .values("spot_check__unit")
        .annotate(n=Count("pk"))
    )
    return {row["spot_check__unit"]: row["n"] for row in rows}
