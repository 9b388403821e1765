"""The work order (工单), its append-only timeline and the records its life cycle creates.

State is changed only by ``orders/transitions.py``; nothing else writes ``WorkOrder.state``.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from categories.models import Category, RequestType
from org.models import Unit


class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    WEB = "web", _("网站")
    APP = "app", _("微信/App")
    EMAIL = "email", _("邮件")
    WEIBO = "weibo", _("微博")
    MAILBOX = "mailbox", _("领导信箱")
    API = "api", _("API")


class Priority(models.TextChoices):
    NORMAL = "normal", _("普通")
    URGENT = "urgent", _("紧急")
    CRITICAL = "critical", _("特急")


class State(models.TextChoices):
    PENDING_DISPATCH = "pending_dispatch", _("待派发")
    PENDING_SIGN = "pending_sign", _("待签收")
    IN_PROGRESS = "in_progress", _("办理中")
    PENDING_CALLBACK = "pending_callback", _("待回访")
    ARCHIVED = "archived", _("已归档")


OPEN_STATES = (State.PENDING_DISPATCH, State.PENDING_SIGN, State.IN_PROGRESS, State.PENDING_CALLBACK)


class Closure(models.TextChoices):
    """How an archived order ended."""

    HANDLED = "handled", _("承办办结")
    DIRECT = "direct", _("直接办结")
    TRANSFERRED = "transferred", _("转紧急热线")
    INVALID = "invalid", _("无效")
    WITHDRAWN = "withdrawn", _("撤回")
    MERGED = "merged", _("并单")
    NOT_ACCEPTED = "not_accepted", _("不予受理")


class EmergencyLine(models.TextChoices):
    POLICE = "110", _("110 报警")
    FIRE = "119", _("119 火警")
    AMBULANCE = "120", _("120 急救")
    TRAFFIC = "122", _("122 交通事故")


class ReplyResult(models.TextChoices):
    RESOLVED = "resolved", _("已解决")
    PARTLY = "partly", _("部分解决")
    UNRESOLVED = "unresolved", _("未解决")
    EXPLAINED = "explained", _("已解释说明")


class ContactResult(models.TextChoices):
    REACHED = "reached", _("已联系")
    UNREACHABLE = "unreachable", _("无法联系")
    REFUSED = "refused", _("拒绝回访")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class Warning(models.IntegerChoices):
    """赋色预警 of an open order, computed by ``supervision/warnings.py``; higher is worse."""

    GREEN = 0, _("绿色")
    YELLOW = 1, _("黄色")
    ORANGE = 2, _("橙色")
    RED = 3, _("红色")


class Tag(models.Model):
    code = models.SlugField(_("标签编码"), max_length=30, unique=True)
    name = models.CharField(_("标签名称"), max_length=30, unique=True)

    class Meta:
        verbose_name = _("工单标签")
        verbose_name_plural = _("工单标签")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class WorkOrder(models.Model):
    number = models.CharField(_("工单编号"), max_length=20, unique=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    caller_name = models.CharField(_("诉求人"), max_length=50, blank=True)
    caller_phone = models.CharField(_("联系电话"), max_length=20)
    is_enterprise = models.BooleanField(_("涉企"), default=False)
    enterprise_name = models.CharField(_("企业名称"), max_length=100, blank=True)
    enterprise_credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    request_type = models.ForeignKey(RequestType, verbose_name=_("诉求类型"), on_delete=models.PROTECT)
    category = models.ForeignKey(Category, verbose_name=_("诉求分类"), on_delete=models.PROTECT)
    title = models.CharField(_("标题"), max_length=200)
    content = models.TextField(_("诉求内容"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    area = models.ForeignKey(
        Unit, verbose_name=_("所属区域"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    priority = models.CharField(_("紧急程度"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    tags = models.ManyToManyField(Tag, verbose_name=_("标签"), blank=True)
    related = models.ManyToManyField("self", verbose_name=_("关联工单"), blank=True)

    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.PENDING_DISPATCH)
    closure = models.CharField(_("办结方式"), max_length=12, choices=Closure.choices, blank=True)
    lead_unit = models.ForeignKey(
        Unit, verbose_name=_("主办单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="lead_orders"
    )
    co_units = models.ManyToManyField(
        Unit, verbose_name=_("协办单位"), blank=True, related_name="co_orders", through="CoAssignment"
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("并入工单"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    received_at = models.DateTimeField(_("受理时间"), db_index=True)
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    sign_due_at = models.DateTimeField(_("签收时限"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("办结时限"), null=True, blank=True)
    replied_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    callback_due_at = models.DateTimeField(_("回访时限"), null=True, blank=True)
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)

    reply_result = models.CharField(_("办理结果"), max_length=12, choices=ReplyResult.choices, blank=True)
    reply_content = models.TextField(_("答复内容"), blank=True)
    answered_article = models.ForeignKey(
        "knowledge.Article", null=True, blank=True, on_delete=models.PROTECT, related_name="direct_answers",
        verbose_name=_("引用知识"), help_text=_("直接办结时引用的知识条目"),
    )  # fmt: skip
    reply_measures = models.TextField(_("办理措施"), blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=12, choices=Satisfaction.choices, blank=True)
    resolved = models.BooleanField(_("是否解决"), null=True, blank=True)

    limit_started_at = models.DateTimeField(
        _("时限起算"), null=True, blank=True, help_text=_("本轮办理时限的起点：派单或重办的时间。")
    )
    warning = models.PositiveSmallIntegerField(_("预警"), choices=Warning.choices, null=True, blank=True)
    warning_due = models.FloatField(
        _("预警复核时间"), null=True, blank=True, editable=False,
        help_text=_("预警颜色下次可能变化的时刻（Unix 秒）；为空表示待重算。每次状态变化都会清空它。"),
    )  # fmt: skip
    warned = models.PositiveSmallIntegerField(
        _("已催办级别"), default=Warning.GREEN, help_text=_("本轮办理已发出催办的最高预警级别。")
    )

    return_count = models.PositiveSmallIntegerField(_("退单次数"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("延期次数"), default=0)

    idempotency_key = models.CharField(_("幂等键"), max_length=64, unique=True, null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(_("版本"), default=0, editable=False)  # bumped by every transition
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("受理人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["state", "received_at"]),
            models.Index(fields=["lead_unit", "state"]),
            models.Index(fields=["due_at"]),
            models.Index(fields=["warning_due"], name="orders_warning_due_idx"),
            models.Index(fields=["area", "received_at"]),
            models.Index(fields=["caller_phone", "received_at"]),
            # 已办结 tab, newest reply first: read backwards until a page of the unit's orders is found
            models.Index(fields=["replied_at"], name="orders_replied_at_idx"),
            # the roll-up's every-minute refresh finds the orders changed since its last run
            models.Index(fields=["updated_at"], name="orders_updated_at_idx"),
            # 回访 queue: only the orders waiting for a callback are in it
            models.Index(
                fields=["callback_due_at"],
                condition=models.Q(state="pending_callback"),
                name="orders_callback_queue_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def outcome_order(self) -> "WorkOrder":
        """Merged orders follow the parent's outcome."""
        return self.parent.outcome_order if self.parent_id else self


class CoAssignment(models.Model):
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="co_assignments")
    unit = models.ForeignKey(Unit, verbose_name=_("协办单位"), on_delete=models.PROTECT)
    opinion = models.TextField(_("协办意见"), blank=True)
    opinion_at = models.DateTimeField(_("意见时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("协办单位")
        verbose_name_plural = _("协办单位")
        constraints = [models.UniqueConstraint(fields=["order", "unit"], name="co_assignment_unique")]


class Action(models.TextChoices):
    """Every kind of event on an order's timeline (transitions and records)."""

    INTAKE = "intake", _("受理")
    ANSWER_DIRECTLY = "answer_directly", _("直接办结")
    TRANSFER = "transfer", _("转紧急热线")
    INVALIDATE = "invalidate", _("无效工单")
    WITHDRAW = "withdraw", _("撤回")
    DISPATCH = "dispatch", _("派单")
    SIGN = "sign", _("签收")
    RETURN_REQUEST = "return_request", _("退单申请")
    RETURN_APPROVE = "return_approve", _("同意退单")
    RETURN_REJECT = "return_reject", _("驳回退单")
    EXTENSION_REQUEST = "extension_request", _("延期申请")
    EXTENSION_APPROVE = "extension_approve", _("同意延期")
    EXTENSION_REJECT = "extension_reject", _("驳回延期")
    CO_OPINION = "co_opinion", _("协办意见")
    INTERIM_REPLY = "interim_reply", _("阶段性答复")
    REPLY = "reply", _("办结")
    CALLBACK = "callback", _("回访")
    REOPEN = "reopen", _("重办")
    ARCHIVE = "archive", _("归档")
    MERGE = "merge", _("并单")
    REASSIGN = "reassign", _("研判改派")
    URGE = "urge", _("催办")
    SUPERVISE = "supervise", _("督办")
    LINK = "link", _("关联工单")
    ATTACH = "attach", _("上传附件")
    RATE = "rate", _("市民评价")
    ESCALATE = "escalate", _("提级办理")
    NON_ACCEPTANCE_REQUEST = "non_accept_request", _("不予受理申请")
    NON_ACCEPTANCE_APPROVE = "non_accept_approve", _("同意不予受理")
    NON_ACCEPTANCE_REJECT = "non_accept_reject", _("驳回不予受理")


class OrderEvent(models.Model):
    """One line of the order's timeline. Append-only: rows are never changed or deleted."""

    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("动作"), max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.PROTECT
    )
    actor_unit = models.ForeignKey(
        Unit, verbose_name=_("操作单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_state = models.CharField(_("原状态"), max_length=20, choices=State.choices, blank=True)
    to_state = models.CharField(_("新状态"), max_length=20, choices=State.choices, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("工单事件")
        verbose_name_plural = _("工单事件")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.get_action_display()}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("工单事件只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("工单事件不能删除")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已同意")
    REJECTED = "rejected", _("已驳回")


class ReturnRequest(models.Model):
    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="return_requests")
    unit = models.ForeignKey(Unit, verbose_name=_("申请单位"), on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("退单理由"))
    status = models.CharField(
        _("审核状态"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(_("审核意见"), blank=True)
    created_at = models.DateTimeField(_("申请时间"))
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("退单申请")
        verbose_name_plural = _("退单申请")
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(status="pending"), name="one_pending_return_per_order"
            )
        ]


class ExtensionRequest(models.Model):
    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="extension_requests")
    unit = models.ForeignKey(Unit, verbose_name=_("申请单位"), on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("延期理由"))
    old_due_at = models.DateTimeField(_("原办结时限"))
    new_due_at = models.DateTimeField(_("申请办结时限"))
    status = models.CharField(
        _("审核状态"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(_("审核意见"), blank=True)
    created_at = models.DateTimeField(_("申请时间"))
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(status="pending"), name="one_pending_extension_per_order"
            )
        ]


class NonAcceptanceGround(models.TextChoices):
    """申请不予受理: the standard grounds a unit may invoke, as codes so that the reasons can be audited."""

    LITIGATION = "litigation", _("已进入诉讼、仲裁、行政复议等法定程序")
    NOT_GOVERNMENT = "not_government", _("不属于政府职责范围")
    DUPLICATE = "duplicate", _("重复诉求")
    INSUFFICIENT = "insufficient", _("诉求信息不全无法办理")


class NonAcceptanceRequest(models.Model):
    """申请不予受理: the lead unit asks not to handle the order on a standard ground; the dispatcher decides."""

    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="non_acceptance_requests")
    unit = models.ForeignKey(Unit, verbose_name=_("申请单位"), on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ground = models.CharField(_("不予受理理由"), max_length=20, choices=NonAcceptanceGround.choices)
    basis = models.TextField(_("依据"))
    duplicate_of = models.ForeignKey(
        WorkOrder, verbose_name=_("重复的工单"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("审核状态"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(_("审核意见"), blank=True)
    created_at = models.DateTimeField(_("申请时间"))
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("不予受理申请")
        verbose_name_plural = _("不予受理申请")
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(status="pending"), name="one_pending_non_acceptance_per_order"
            )
        ]


class Callback(models.Model):
    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="callbacks")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("回访员"), on_delete=models.PROTECT)
    contact_result = models.CharField(_("联系结果"), max_length=12, choices=ContactResult.choices)
    satisfaction = models.CharField(_("满意度"), max_length=12, choices=Satisfaction.choices, blank=True)
    resolved = models.BooleanField(_("是否解决"), null=True, blank=True)
    note = models.TextField(_("回访记录"), blank=True)
    created_at = models.DateTimeField(_("回访时间"))

    class Meta:
        verbose_name = _("回访记录")
        verbose_name_plural = _("回访记录")
        ordering = ["created_at"]

    @property
    def is_valid(self) -> bool:
        """A callback counts for the satisfaction and resolution rates only when the citizen answered."""
        return self.contact_result == ContactResult.REACHED


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"attachments/{instance.order.received_at:%Y/%m}/{instance.order.number}/{filename}"


class Attachment(models.Model):
    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("文件"), upload_to=attachment_path)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")


class DailyCounter(models.Model):
    """A per-day sequence behind a human-readable number; `next_in_day` takes the next one."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    @classmethod
    def next_in_day(cls, day) -> int:
        """The day's next number (1, 2, …). The row stays locked until the caller's transaction commits."""
        if not cls.objects.filter(day=day).update(last=F("last") + 1):  # the day's first number
            cls.objects.get_or_create(day=day)
            cls.objects.filter(day=day).update(last=F("last") + 1)
        return cls.objects.filter(day=day).values_list("last", flat=True).get()


class OrderCounter(DailyCounter):
    """The sequence of work-order numbers (20261122000123), for work orders only."""


class LimitUnit(models.TextChoices):
    WORKING_DAYS = "working_days", _("工作日")
    WORKING_HOURS = "working_hours", _("工作小时")
    CALENDAR_HOURS = "calendar_hours", _("自然小时")


class TimeLimitRule(models.Model):
    """限时办理: which limits apply to an order. The matching rule with the highest precedence wins."""

    name = models.CharField(_("规则名称"), max_length=50)
    precedence = models.IntegerField(_("优先级"), default=0, help_text=_("多条规则都匹配时，数值大的生效。"))
    request_type = models.ForeignKey(
        RequestType, verbose_name=_("诉求类型"), null=True, blank=True, on_delete=models.CASCADE
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("诉求分类"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("匹配该分类及其所有下级分类。"),
    )
    priority = models.CharField(_("紧急程度"), max_length=10, choices=Priority.choices, blank=True)
    is_enterprise = models.BooleanField(_("涉企"), null=True, blank=True)
    sign_limit = models.DecimalField(_("签收时限"), max_digits=6, decimal_places=2)
    sign_unit = models.CharField(
        _("签收时限单位"), max_length=16, choices=LimitUnit.choices, default=LimitUnit.WORKING_HOURS
    )
    finish_limit = models.DecimalField(_("办结时限"), max_digits=6, decimal_places=2)
    finish_unit = models.CharField(
        _("办结时限单位"), max_length=16, choices=LimitUnit.choices, default=LimitUnit.WORKING_DAYS
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("时限规则")
        verbose_name_plural = _("时限规则")
        ordering = ["-precedence", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.sign_limit is not None and self.sign_limit <= 0:
            raise ValidationError({"sign_limit": _("签收时限必须大于 0。")})
        if self.finish_limit is not None and self.finish_limit <= 0:
            raise ValidationError({"finish_limit": _("办结时限必须大于 0。")})


class DirectDispatchRule(models.Model):
    """工单直派: orders in a category (or below it) go straight to a unit, skipping the dispatcher queue."""

    category = models.ForeignKey(
        Category, verbose_name=_("诉求分类"), on_delete=models.CASCADE, help_text=_("匹配该分类及其所有下级分类。")
    )
    unit = models.ForeignKey(Unit, verbose_name=_("直派单位"), on_delete=models.CASCADE)
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("直派规则")
        verbose_name_plural = _("直派规则")
        constraints = [models.UniqueConstraint(fields=["category"], name="one_direct_rule_per_category")]

    def __str__(self) -> str:
        return f"{self.category} → {self.unit}"
