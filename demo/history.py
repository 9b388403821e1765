"""Demo history: about 2,000 work orders over the last 90 days, replayed through ``orders.transitions``.

Every order lives its life as a small script (a generator) that says when its next step happens;
the scripts of all orders run interleaved in global time order, each step calling the transition
with ``at=`` that instant. So order numbers, timelines and the database's row order all follow the
clock, a duplicate is merged into an earlier order as it stood at that moment, and every guard (sign
before the return window closes, extension before the deadline, …) sees the time it would have seen.

Messages come from ``demo/data/messages.csv`` (built by ``demo/data/build_messages.py``); the same
seed and ``now`` give the same history.
"""

import csv
import hashlib
import heapq
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.forms import ModelForm
from django.utils import timezone

from accounts.forms import UserCreateForm
from accounts.models import User
from accounts.roles import Role
from categories.models import Category, RequestType
from orders import escalation
from orders import transitions as tr
from orders.errors import TransitionError
from orders.models import (
    Closure,
    ContactResult,
    Priority,
    ReplyResult,
    Satisfaction,
    State,
    Tag,
    TimeLimitRule,
    WorkOrder,
)
from orders.validators import CREDIT_ALPHABET, credit_check_char
from org.models import Unit, UnitKind
from workcalendar.worktime import get_calendar

DATA = Path(__file__).resolve().parent / "data"
MESSAGES_CSV = DATA / "messages.csv"
DEFAULT_SEED = 12345
DAYS = 90  # history reaches this far back
RECENT_DAYS = 10  # younger orders are spread over the open states; older ones are mostly archived
HANDLER_PREFIX = "h_"

# front-desk endings (share of all orders, at least this many)
FRONT_DESK_FATES = [("direct", 0.08, 2), ("transfer", 0.01, 1), ("invalid", 0.01, 1), ("withdraw", 0.01, 1)]
MERGE_SHARE, MERGE_MIN = 0.02, 2

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅兰玉海燕波宇浩然子涵欣怡思远佳琪文博晓东立新志坚"
MOBILE_PREFIXES = (
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 173 176 177 "
    "180 181 182 183 185 186 187 188 189 191 198 199"
).split()
CHANNELS = [("phone", 58), ("web", 14), ("app", 16), ("mailbox", 5), ("weibo", 3), ("email", 2), ("api", 2)]
ENTERPRISE_WORDS = "华信 鑫源 恒泰 星城 湘江 麓山 金穗 博雅 中远 天润 宏达 利民 顺发 瑞丰 众诚 新桥 云帆 汇通".split()
ENTERPRISE_TRADES = "科技 建材 商贸 物流 餐饮管理 机械制造 食品 置业 电子 农业开发 物业管理 环保科技 汽车服务".split()
ENTERPRISE_HINTS = ("公司", "企业", "厂", "商户", "门店", "个体户", "经营")
URGENT_HINTS = ("紧急", "危险", "安全隐患", "停水", "停电", "坍塌", "塌方", "漏气", "燃气泄漏", "火灾")
JINAN_HINTS = ("欠薪", "工资", "停水", "停电", "学位", "入学", "看病", "就医", "养老", "住房", "物业", "噪音", "低保")

TRANSFERS = [
    ("110", "来电反映小区门口有人打架斗殴", "来电人称小区门口有多人发生肢体冲突，情况紧急，要求警方到场处置。"),
    ("110", "来电反映电动车刚被盗", "来电人称停放在楼下的电动车刚刚被人撬锁盗走，嫌疑人尚未走远。"),
    ("120", "来电称家中老人突发疾病", "来电人称家中老人突然晕倒、呼吸急促，需要急救。"),
    ("120", "来电反映路边有人受伤倒地", "来电人称路边有行人被车辆刮倒受伤，无法自行站立。"),
]
TRANSFER_LEAVES = {"110": ("政法", "社会治安", "治安案件"), "120": ("卫生计生", "公共卫生", "突发公共卫生事件处理")}
INVALIDS = [
    ("无效来电", "来电无声，坐席多次询问无应答。", "来电无声，多次询问无应答"),
    ("骚扰来电", "来电人无具体诉求，反复拨打热线。", "来电人无具体诉求，属骚扰来电"),
    ("误拨来电", "来电人表示拨错号码。", "来电人拨错号码，无诉求"),
]
INVALID_LEAF = ("城乡建设", "其他", "其他")

GREETING = re.compile(r"^[^！!。]{0,40}?(您好|你好)[！!，,：:]?\s*")
SENTENCE = re.compile(r"[^。！；]+[。！；]")
MEASURE_WORDS = ("已", "核实", "协调", "安排", "整改", "处理", "督促", "联系")
GENERIC_MEASURES = {
    ReplyResult.RESOLVED: "已安排工作人员现场核实并督促整改，问题已解决",
    ReplyResult.PARTLY: "已现场核实并部分整改，剩余问题纳入计划跟进处理",
    ReplyResult.UNRESOLVED: "已现场核实，因条件限制暂不能解决，已向诉求人说明",
    ReplyResult.EXPLAINED: "已电话联系诉求人，就相关政策作了解释说明",
}
CO_OPINIONS = [
    "{unit}已安排工作人员到现场核实，情况属实，将配合主办单位做好处置工作。",
    "{unit}已对相关情况进行排查，并将结果反馈主办单位。",
    "经{unit}核实，该事项涉及我单位的部分已处理完毕。",
]
INTERIMS = [
    "目前正在协调相关部门现场核实，已电话告知诉求人办理进度。",
    "已完成现场勘查，整改方案正在审批，已向诉求人说明阶段性进展。",
    "相关问题正在处理中，已与诉求人沟通，预计近期答复。",
]


@dataclass
class Message:
    title: str
    detail: str
    reply: str
    level1: str
    level2: str
    level3: str
    request_type: str
    district: str
    street: str

    @property
    def text(self) -> str:
        return f"{self.title} {self.detail}"


@dataclass
class Plan:
    """Everything decided about one order before it is replayed."""

    index: int
    rng: random.Random
    message: Message
    received: datetime
    caller_name: str
    caller_phone: str
    channel: str
    fate: str = "handled"  # handled | direct | transfer | invalid | withdraw | merge
    stop: str | None = None  # the state the replay stops in (None: to the end)
    fit: bool = False  # squeeze the steps so the last one happens before now
    priority: str = Priority.NORMAL
    enterprise: tuple[str, str] | None = None
    tags: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    co: bool = False
    ret: str | None = None  # approve | reject | pending
    ret_after_sign: bool = False
    ext: str | None = None  # approve | reject | pending
    non_accept: str | None = None  # 申请不予受理 after signing: approve | reject
    escalate: bool = False  # 提级办理 by the dispatcher after signing
    late_sign: bool = False
    late_reply: bool = False
    interim: bool = False
    callback: str = "satisfied"  # satisfied | basic | reopen | unreachable | refused | unsatisfied
    line: str = ""  # transfer: the emergency line
    invalid_reason: str = ""
    merge_parent: WorkOrder | None = None


class DemoHistoryError(ValueError):
    pass


class MissingSetup(DemoHistoryError):
    """The default request types or time limits (seeded by the migrations) are gone; nothing is replayed."""


def read_messages(path: Path = MESSAGES_CSV) -> list[Message]:
    with path.open(encoding="utf-8") as f:
        return [Message(**{k: row[k] for k in Message.__dataclass_fields__}) for row in csv.DictReader(f)]


def credit_code(rng: random.Random, region: str) -> str:
    """A well-formed 统一社会信用代码 (GB 32100-2015, with its check character)."""
    body = "91" + region + "".join(rng.choice(CREDIT_ALPHABET) for _ in range(9))
    return body + credit_check_char(body)


def measures_from(reply: str, result: str) -> str:
    """The first sentence of the reply that says what was done, else a generic phrase."""
    for match in SENTENCE.finditer(GREETING.sub("", reply)):
        sentence = match.group().strip()
        if 8 <= len(sentence) <= 120 and "收悉" not in sentence and any(w in sentence for w in MEASURE_WORDS):
            return sentence
    return GENERIC_MEASURES[result]


def _seeded(seed: int, *parts: object) -> random.Random:
    key = ":".join(str(p) for p in (seed, *parts))
    return random.Random(int(hashlib.sha256(key.encode()).hexdigest()[:16], 16))


class Replay:
    def __init__(self, count: int, now: datetime, seed: int, messages: list[Message]) -> None:
        self.count, self.now, self.seed = count, now, seed
        self.limit = now - timedelta(seconds=30)  # squeezed steps end before this
        self.rng = _seeded(seed, "history")
        self.calendar = get_calendar()
        self.tz = self.calendar.tz
        self.day_hours = self.calendar.day_length.total_seconds() / 3600
        self.messages = messages
        users = {u.username: u for u in User.objects.filter(username__in=["operator", "dispatcher", "callback"])}
        if len(users) != 3:
            raise DemoHistoryError("请先导入演示城市（operator、dispatcher、callback 账号不存在）")
        self.operator, self.dispatcher, self.callback_agent = users["operator"], users["dispatcher"], users["callback"]
        self.units = {u.code: u for u in Unit.objects.filter(is_active=True)}
        self.districts = sorted((u for u in self.units.values() if u.kind == UnitKind.DISTRICT), key=lambda u: u.code)
        district_ids = {u.pk for u in self.districts}
        self.district_departments = sorted(
            (u for u in self.units.values() if u.kind == UnitKind.DEPARTMENT and u.parent_id in district_ids),
            key=lambda u: u.code,
        )
        self.leaves = {
            (c.parent.parent.name, c.parent.name, c.name): c
            for c in Category.objects.leaves().active().select_related("parent__parent", "parent__default_unit")
        }
        self.request_types = {rt.code: rt for rt in RequestType.objects.filter(is_active=True)}
        if not self.request_types:
            raise MissingSetup("没有启用的诉求类型")
        default_rule = TimeLimitRule.objects.filter(
            is_active=True, request_type=None, category=None, priority="", is_enterprise=None
        )
        if not default_rule.exists():
            raise MissingSetup("没有不带条件的默认时限规则")
        self.tag_codes = set(Tag.objects.values_list("code", flat=True))
        self.handlers: dict[str, User] = {
            u.unit.code: u
            for u in User.objects.filter(username__startswith=HANDLER_PREFIX, role=Role.HANDLER).select_related("unit")
        }
        self.handlers_created = 0
        self._password_hash: str | None = None
        self.created: list[tuple[Plan, WorkOrder]] = []  # in intake order
        self.errors: list[str] = []

    # ------------------------------------------------------------ planning

    def plans(self) -> list[Plan]:
        rng = self.rng
        times = self._received_times()
        order = list(range(len(self.messages)))
        rng.shuffle(order)
        callers = self._callers(len(times))
        plans = []
        for i, received in enumerate(times):
            message = self.messages[order[i % len(order)]]
            prng = _seeded(self.seed, "order", i)
            name, phone = callers[i]
            channel = prng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
            plans.append(Plan(i, prng, message, received, name, phone, channel))
        self._assign_fates(plans)
        for plan in plans:
            self._decorate(plan)
        self._relate_repeat_callers(plans)
        return plans

    def _received_times(self) -> list[datetime]:
        rng, today = self.rng, timezone.localtime(self.now, self.tz).date()
        times: list[datetime] = []
        while len(times) < self.count:
            day = today - timedelta(days=rng.randrange(DAYS))
            if not self.calendar.is_working_day(day) and rng.random() < 0.55:
                continue  # fewer calls at weekends and holidays
            r = rng.random()
            hours = rng.uniform(8.5, 18) if r < 0.82 else rng.uniform(18, 22.5) if r < 0.95 else rng.uniform(6.5, 8.5)
            at = datetime.combine(day, time(0), tzinfo=self.tz) + timedelta(seconds=int(hours * 3600))
            if at <= self.now - timedelta(minutes=20):
                times.append(at)
        return sorted(times)

    def _callers(self, n: int) -> list[tuple[str, str]]:
        """One caller per order; about 5% of callers call 2–4 times (一人多诉)."""
        rng, used, repeaters = self.rng, set(), []
        callers = []
        for _ in range(n):
            open_repeaters = [r for r in repeaters if r[2] > 0]
            if open_repeaters and rng.random() < 0.12:
                pick = rng.choice(open_repeaters)
                pick[2] -= 1
                callers.append((pick[0], pick[1]))
                continue
            while True:
                phone = (
                    rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
                    if rng.random() < 0.94
                    else f"0731-8{rng.randrange(10**7):07d}"
                )
                if phone not in used:
                    used.add(phone)
                    break
            name = self._person_name(rng)
            if rng.random() < 0.05:
                repeaters.append([name, phone, rng.randint(1, 3)])
            callers.append((name, phone))
        return callers

    @staticmethod
    def _person_name(rng: random.Random) -> str:
        surname, r = rng.choice(SURNAMES), rng.random()
        if r < 0.6:
            return surname + rng.choice(["先生", "女士"])
        if r < 0.9:
            return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
        return ""

    def _assign_fates(self, plans: list[Plan]) -> None:
        n, rng = len(plans), self.rng

        def quota(share: float, minimum: int) -> int:
            return max(minimum, round(share * n)) if n >= 20 else min(minimum, max(1, round(share * n)))

        free = list(range(n))
        rng.shuffle(free)
        # consultations are the ones the operator answers at once from the knowledge base
        free.sort(key=lambda i: plans[i].message.request_type != "consult")
        for fate, share, minimum in FRONT_DESK_FATES:
            k = quota(share, minimum)
            if fate != "direct":
                rng.shuffle(free)
            for i in free[:k]:
                plans[i].fate = fate
            free = free[k:]
        mergeable = [i for i in free if i >= n // 10]
        for i in mergeable[: quota(MERGE_SHARE, MERGE_MIN)]:
            plans[i].fate = "merge"
        handled = [p for p in plans if p.fate == "handled"]

        # the handling flow: co-units, returns, extensions, callbacks
        rng.shuffle(handled)
        k_ret, k_ext, k_co = quota(0.05, 3), quota(0.04, 3), quota(0.10, 3)
        for j, plan in enumerate(handled[:k_ret]):
            plan.ret = "reject" if j % 4 == 3 else "approve"
            plan.ret_after_sign = j % 3 == 2
        for j, plan in enumerate(handled[k_ret : k_ret + k_ext]):
            plan.ext = "reject" if j % 3 == 2 else "approve"
        plain = [p for p in handled if not p.ret and not p.ext]
        k_na, k_esc = quota(0.01, 2), quota(0.01, 2)
        for j, plan in enumerate(plain[:k_na]):
            plan.non_accept = "reject" if j % 3 == 2 else "approve"
        for plan in plain[k_na : k_na + k_esc]:
            plan.escalate = True
        rng.shuffle(handled)
        for plan in handled[:k_co]:
            plan.co = True
        for plan in handled:
            r = plan.rng.random()
            plan.callback = (
                "reopen"
                if r < 0.06
                else "unreachable"
                if r < 0.11
                else "unsatisfied"
                if r < 0.13
                else "refused"
                if r < 0.14
                else "basic"
                if r < 0.30
                else "satisfied"
            )
            plan.late_sign = plan.rng.random() < 0.10
            plan.late_reply = plan.rng.random() < 0.08

        # where the replay stops: recent orders are spread over the open states, a few old ones are stuck
        recent_from = self.now - timedelta(days=RECENT_DAYS)
        recent = sorted((p for p in handled if p.received >= recent_from), key=lambda p: p.received, reverse=True)
        n_dispatch, n_sign = max(2, round(0.012 * n)), max(3, round(0.022 * n))
        for plan in recent[:n_dispatch]:
            plan.stop = State.PENDING_DISPATCH
        for j, plan in enumerate(recent[n_dispatch : n_dispatch + n_sign]):
            plan.stop = State.PENDING_SIGN
            if j % 4 == 1:
                plan.ret, plan.ret_after_sign = "pending", False
        for j, plan in enumerate(recent[n_dispatch + n_sign :]):
            age = (self.now - plan.received).total_seconds() / 86400
            weights = (65, 35, 0) if age < 2 else (40, 35, 25) if age < 6 else (25, 25, 50)
            stop = plan.rng.choices([State.IN_PROGRESS, State.PENDING_CALLBACK, None], weights)[0]
            plan.stop = stop
            if stop == State.IN_PROGRESS and j % 5 == 0:
                plan.ext = "pending"
        for plan in recent:
            plan.fit = True
        for plan in plans:
            if plan.fate != "handled" and plan.received >= recent_from:
                plan.fit = True
        # stuck ones are old enough to be past any deadline (10 working days plus a long holiday)
        old = [p for p in handled if p.received < self.now - timedelta(days=3 * RECENT_DAYS)]
        for j, plan in enumerate(old):
            if j % 40 == 7:
                plan.stop, plan.interim = State.IN_PROGRESS, True  # overdue, still being worked on
            elif j % 90 == 31:
                plan.stop = State.PENDING_CALLBACK  # callback overdue

    def _decorate(self, plan: Plan) -> None:
        rng, text = plan.rng, plan.message.text
        if plan.fate in ("handled", "direct", "withdraw", "merge"):
            if rng.random() < (0.3 if any(h in text for h in ENTERPRISE_HINTS) else 0.07):
                region = f"4301{(self._district_index(plan) + 2):02d}"
                name = f"A市{rng.choice(ENTERPRISE_WORDS)}{rng.choice(ENTERPRISE_TRADES)}有限公司"
                plan.enterprise = (name, credit_code(rng, region))
            if rng.random() < (0.25 if any(h in text for h in URGENT_HINTS) else 0.015):
                plan.priority = Priority.URGENT
            if rng.random() < (0.3 if any(h in text for h in JINAN_HINTS) else 0.02):
                plan.tags.append("jinan")

    def _district_index(self, plan: Plan) -> int:
        code = plan.message.district
        return int(code[1:]) if code[1:].isdigit() else 0

    def _relate_repeat_callers(self, plans: list[Plan]) -> None:
        """Mark a repeat caller's later orders "repeat" (related numbers are added at intake)."""
        seen: set[str] = set()
        for plan in plans:
            if plan.caller_phone in seen and plan.fate in ("handled", "direct") and "repeat" not in plan.tags:
                plan.tags.append("repeat")
            seen.add(plan.caller_phone)

    # ------------------------------------------------------------ time

    def _work(self, start: datetime, hours: float) -> datetime:
        return self.calendar.add_working_hours(start, max(hours, 0.01))

    def _next(self, plan: Plan, prev: datetime, candidate: datetime) -> datetime:
        """The next step's instant: after ``prev``; for squeezed orders, before now."""
        candidate = max(candidate, prev + timedelta(seconds=20))
        if plan.fit and candidate > self.limit:
            candidate = prev + (self.limit - prev) * plan.rng.uniform(0.2, 0.5)
        return candidate.replace(microsecond=0) if candidate.replace(microsecond=0) > prev else candidate

    def _within(self, start: datetime, end: datetime, share: float) -> datetime:
        """The instant ``share`` of the working time from start to end has passed (calendar time if none)."""
        hours = self._working_left(start, end)
        return self._work(start, hours * share) if hours > 0.1 else start + (end - start) * share

    def _working_left(self, start: datetime, end: datetime | None) -> float:
        if end is None:
            return 0.0
        return self.calendar.working_time_between(start, end).total_seconds() / 3600

    # ------------------------------------------------------------ people and places

    def handler(self, unit: Unit) -> User:
        """The unit's demo handler h_<code>, created through the admin's user form when missing."""
        if unit.code in self.handlers:
            return self.handlers[unit.code]
        username = handler_username(unit)
        user = User.objects.filter(username=username).first()
        if user is None:
            from demo.loader import DEMO_PASSWORD

            form = UserCreateForm(
                data={
                    "username": username,
                    "full_name": f"{unit.name}承办人",
                    "role": Role.HANDLER,
                    "unit": unit.pk,
                    "is_unit_manager": False,
                    "email": f"{username}@hotline.local",
                    "password1": DEMO_PASSWORD,
                    "password2": DEMO_PASSWORD,
                }
            )
            if not form.is_valid():
                errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
                raise DemoHistoryError(f"承办人账号 {username}：{errors}")
            # The form checked everything; hashing the same password once for all accounts keeps the
            # replay fast (a PBKDF2 hash costs ~0.2 s).
            if self._password_hash is None:
                self._password_hash = make_password(DEMO_PASSWORD)
            user = ModelForm.save(form, commit=False)
            user.password = self._password_hash
            user.save()
            self.handlers_created += 1
        self.handlers[unit.code] = user
        return user

    def _leaf(self, key: tuple[str, str, str]) -> Category:
        leaf = self.leaves.get(key)
        if leaf is None:
            raise DemoHistoryError(f"诉求分类 {' › '.join(key)} 不存在")
        return leaf

    def _place(self, message: Message) -> Unit | None:
        return self.units.get(message.street) or self.units.get(message.district)

    def _lead_unit(self, plan: Plan, category: Category) -> Unit:
        """属地管理 first for a place the message names (most of the time), else the category's default unit."""
        default = category.parent.default_unit
        place = self._place(plan.message)
        usable = default is not None and default.is_active and default.code in self.units
        if place is not None and (not usable or (default.kind != UnitKind.UTILITY and plan.rng.random() < 0.6)):
            return place
        if usable:
            return default
        return plan.rng.choice(self.district_departments + self.districts)

    def _other_unit(self, plan: Plan, *exclude: Unit) -> Unit:
        place = self._place(plan.message)
        if place is not None and place not in exclude:
            return place
        district = self.units.get(plan.message.district)
        if district is not None and district not in exclude:
            return district
        return plan.rng.choice([u for u in self.district_departments + self.districts if u not in exclude])

    def _address(self, message: Message) -> tuple[str, Unit | None]:
        district, street = self.units.get(message.district), self.units.get(message.street)
        if street is not None:
            return f"{district.name if district else ''}{street.name}", street
        if district is not None:
            return district.name, district
        return "", None

    # ------------------------------------------------------------ one order's life

    def life(self, plan: Plan) -> Iterator[datetime]:
        """Yield the instant of each next step; the step runs when the replay reaches that instant."""
        rng, message = plan.rng, plan.message
        t = plan.received
        yield t
        order = self._intake(plan, t)
        if order is None:
            return
        if order.state == State.PENDING_SIGN:
            plan.fate = "handled"  # a 直派 rule sent it straight to its unit
            if plan.stop == State.PENDING_DISPATCH:
                plan.stop = State.PENDING_SIGN
        op, disp = self.operator, self.dispatcher

        if plan.fate == "direct":
            t = self._next(plan, t, t + timedelta(minutes=rng.uniform(2, 8)))
            yield t
            tr.answer_directly(order, op, answer=message.reply, source="热线知识库", at=t)
            return
        if plan.fate == "transfer":
            t = self._next(plan, t, t + timedelta(minutes=rng.uniform(1, 3)))
            yield t
            tr.transfer(order, op, line=plan.line, note=f"已转{plan.line}并三方通话确认接警", at=t)
            return
        if plan.fate == "invalid":
            t = self._next(plan, t, t + timedelta(minutes=rng.uniform(1, 4)))
            yield t
            tr.invalidate(order, op, reason=plan.invalid_reason, at=t)
            return
        if plan.fate == "withdraw":
            t = self._next(plan, t, self._work(t, rng.uniform(0.1, 1.2)))
            yield t
            tr.withdraw(order, op, reason="诉求人来电表示问题已自行解决，申请撤回诉求", at=t)
            return
        if plan.fate == "merge":
            t = self._next(plan, t, self._work(t, rng.uniform(0.1, 1.0)))
            yield t
            parent = plan.merge_parent
            tr.merge(order, disp, parent=parent, note=f"与工单 {parent.number} 反映同一问题，并单处理", at=t)
            return
        if plan.stop == State.PENDING_DISPATCH:
            return

        # dispatch, maybe a return before or just after signing
        urgent = plan.priority != Priority.NORMAL
        if order.state == State.PENDING_SIGN:
            lead = order.lead_unit
            self.handler(lead)
        else:
            lead = self._lead_unit(plan, order.category)
            co = [self._other_unit(plan, lead)] if plan.co else []
            wait = self._after_minutes(plan, t, 5, 25) if urgent else self._work(t, rng.uniform(0.1, 1.5))
            t = self._next(plan, t, wait)
            yield t
            order = self._dispatch(order, lead, co, t)
        if plan.ret and not plan.ret_after_sign:
            t = self._next(plan, t, self._work(t, rng.uniform(0.1, 1.5)))
            yield t
            t, order, lead = yield from self._return(plan, order, lead, t)
            if order is None:
                return
        if plan.stop == State.PENDING_SIGN:
            return

        if plan.late_sign and not urgent:
            sign_at = self._work(t, rng.uniform(2.2, 6))
        elif urgent:
            sign_at = self._after_minutes(plan, t, 5, 25)
        else:
            sign_at = self._work(t, rng.uniform(0.1, 1.8))
        t = self._next(plan, t, sign_at)
        yield t
        order = tr.sign(order, self.handler(lead), at=t)
        if plan.ret and plan.ret_after_sign:
            t = self._next(plan, t, self._work(t, rng.uniform(0.2, 1.5)))  # inside the return window
            yield t
            t, order, lead = yield from self._return(plan, order, lead, t)
            if order is None:
                return
            if order.state == State.PENDING_SIGN:
                t = self._next(plan, t, self._work(t, rng.uniform(0.1, 1.5)))
                yield t
                order = tr.sign(order, self.handler(lead), at=t)

        if plan.non_accept:
            t, order = yield from self._non_accept(plan, order, lead, t)
            if order.state == State.ARCHIVED:
                return
        if plan.escalate and (higher := escalation.higher_units(lead)):
            t = self._next(plan, t, self._work(t, rng.uniform(0.5, 4)))
            yield t
            lead = next((u for u in higher if u.kind != UnitKind.UTILITY), higher[0])
            self.handler(lead)
            reason = "问题涉及多个部门、基层协调不下，提级由上级单位牵头办理"
            order = tr.escalate(order, self.dispatcher, lead_unit=lead, reason=reason, at=t)
            t = self._next(plan, t, self._work(t, rng.uniform(0.1, 1.5)))
            yield t
            order = tr.sign(order, self.handler(lead), at=t)

        t, order = yield from self._handle(plan, order, lead, t)
        if order is None or plan.stop in (State.IN_PROGRESS, State.PENDING_CALLBACK):
            return
        yield from self._callbacks(plan, order, lead, t)

    @staticmethod
    def _after_minutes(plan: Plan, t: datetime, low: float, high: float) -> datetime:
        return t + timedelta(minutes=plan.rng.uniform(low, high))

    def _return(self, plan: Plan, order: WorkOrder, lead: Unit, t: datetime):
        """退单 at ``t`` (already reached); yields the decision and the new dispatch. Returns (t, order, lead)."""
        rng = plan.rng
        target = self._other_unit(plan, lead)
        reason = f"该诉求不属于{lead.name}职责范围，涉及属地管理事项，建议改派{target.name}办理。"
        order = tr.request_return(order, self.handler(lead), reason=reason, at=t)
        if plan.ret == "pending":
            return t, None, lead
        t = self._next(plan, t, self._work(t, rng.uniform(0.3, 3)))
        yield t
        if plan.ret == "reject":
            note = "经核实，该事项属于你单位职责，请按时办理。"
            order = tr.decide_return(order, self.dispatcher, approve=False, note=note, at=t)
            return t, order, lead
        order = tr.decide_return(order, self.dispatcher, approve=True, note=f"同意退单，改派{target.name}", at=t)
        t = self._next(plan, t, self._work(t, rng.uniform(0.1, 1.0)))
        yield t
        order = self._dispatch(order, target, [], t)
        return t, order, target

    def _non_accept(self, plan: Plan, order: WorkOrder, lead: Unit, t: datetime):
        """申请不予受理 after signing and the dispatcher's decision. Returns (t, order)."""
        rng = plan.rng
        t = self._next(plan, t, self._work(t, rng.uniform(0.2, 2)))
        yield t
        basis = "经核实，诉求人已就该纠纷向人民法院提起诉讼，案件正在审理中，依法应通过司法途径解决。"
        order = tr.request_non_acceptance(order, self.handler(lead), ground="litigation", basis=basis, at=t)
        t = self._next(plan, t, self._work(t, rng.uniform(0.3, 3)))
        yield t
        if plan.non_accept == "approve":
            note = "同意不予受理，已告知诉求人通过司法途径解决"
            return t, tr.decide_non_acceptance(order, self.dispatcher, approve=True, note=note, at=t)
        note = "诉讼只涉及其中一项诉求，其余事项仍属你单位职责，请继续办理"
        return t, tr.decide_non_acceptance(order, self.dispatcher, approve=False, note=note, at=t)

    def _dispatch(self, order: WorkOrder, lead: Unit, co: list[Unit], t: datetime) -> WorkOrder:
        self.handler(lead)
        for unit in co:
            self.handler(unit)
        return tr.dispatch(order, self.dispatcher, lead_unit=lead, co_units=co, at=t)

    def _handle(self, plan: Plan, order: WorkOrder, lead: Unit, t: datetime):
        """From signed to replied: co-opinion, interim reply, extension. Returns (t, order or None)."""
        rng, message = plan.rng, plan.message
        h = self.handler(lead)
        urgent = plan.priority != Priority.NORMAL
        left = self._working_left(t, order.due_at)
        if urgent:
            reply_at = t + timedelta(hours=rng.uniform(1.5, 30 if plan.late_reply else 18))
        elif left < 0.5:
            reply_at = self._work(t, rng.uniform(0.5, 6))
        elif plan.late_reply:
            reply_at = self._work(t, left * rng.uniform(1.1, 1.8))
        else:
            reply_at = self._work(t, left * rng.uniform(0.15, 0.9))
        ext_at = self._work(t, left * rng.uniform(0.45, 0.8)) if plan.ext and left >= 1 and not urgent else None
        first = ext_at or reply_at
        long = left >= 3 * self.day_hours or plan.ext == "approve"
        interim = plan.interim or (long and rng.random() < 0.35)

        assignment = order.co_assignments.select_related("unit").first()  # none after a re-dispatch
        if assignment is not None:
            at = self._next(plan, t, self._within(t, first, rng.uniform(0.1, 0.4)))
            yield at
            unit = assignment.unit
            opinion = rng.choice(CO_OPINIONS).format(unit=unit.name)
            order = tr.co_opinion(order, self.handler(unit), opinion=opinion, at=at)
            t = at
        if interim:
            at = self._next(plan, t, self._within(t, first, rng.uniform(0.4, 0.8)))
            if plan.stop != State.IN_PROGRESS or at <= self.limit:
                yield at
                order = tr.interim_reply(order, h, content=rng.choice(INTERIMS), at=at)
                t = at
        if ext_at is not None:
            at = self._next(plan, t, ext_at)
            yield at
            new_due = self.calendar.add_working_hours(order.due_at, self.calendar.day_length * rng.choice([2, 3, 5]))
            reason = f"需协调多个部门现场勘查、制定整改方案，申请延期至{timezone.localtime(new_due):%m月%d日}。"
            order = tr.request_extension(order, h, new_due_at=new_due, reason=reason, at=at)
            t = at
            if plan.ext == "pending":
                return t, None
            at = self._next(plan, t, self._work(t, rng.uniform(0.5, 4)))
            yield at
            approve = plan.ext == "approve"
            note = "同意延期，请按新的时限办结" if approve else "该事项可在原时限内办结，请抓紧办理"
            order = tr.decide_extension(order, self.dispatcher, approve=approve, note=note, at=at)
            t = at
            left = self._working_left(t, order.due_at)
            reply_at = self._work(t, left * rng.uniform(0.3, 0.9) if left >= 1 else rng.uniform(1, 12))
        if plan.stop == State.IN_PROGRESS:
            return t, None

        result = self._result(plan)
        at = self._next(plan, t, reply_at)
        yield at
        content = message.reply
        order = tr.reply(order, h, result=result, content=content, measures=measures_from(content, result), at=at)
        return at, order

    def _result(self, plan: Plan) -> str:
        kind, r = plan.message.request_type, plan.rng.random()
        if kind in ("consult", "praise"):
            return ReplyResult.EXPLAINED
        if kind == "suggestion":
            return ReplyResult.EXPLAINED if r < 0.6 else ReplyResult.RESOLVED
        return ReplyResult.RESOLVED if r < 0.75 else ReplyResult.PARTLY if r < 0.9 else ReplyResult.EXPLAINED

    def _callbacks(self, plan: Plan, order: WorkOrder, lead: Unit, t: datetime) -> Iterator[datetime]:
        rng, agent = plan.rng, self.callback_agent
        at = self._next(plan, t, self._work(t, rng.uniform(0.3, 12)))
        yield at
        outcome = plan.callback
        if order.reply_result == ReplyResult.PARTLY and outcome == "satisfied":
            outcome = "basic"
        if outcome in ("satisfied", "basic"):
            satisfaction = Satisfaction.SATISFIED if outcome == "satisfied" else Satisfaction.BASIC
            note = "诉求人对办理结果表示满意" if outcome == "satisfied" else "诉求人表示基本满意"
            tr.callback(order, agent, contact_result=ContactResult.REACHED, satisfaction=satisfaction, resolved=True,
                        note=note, at=at)  # fmt: skip
            return
        if outcome in ("unreachable", "refused"):
            contact = ContactResult.UNREACHABLE if outcome == "unreachable" else ContactResult.REFUSED
            note = "电话无人接听" if outcome == "unreachable" else "诉求人表示不接受回访"
            order = tr.callback(order, agent, contact_result=contact, note=note, at=at)
            if outcome == "unreachable":
                at = self._next(plan, at, self._work(at, rng.uniform(1, 6)))
                yield at
                order = tr.callback(order, agent, contact_result=contact, note="再次拨打仍无人接听", at=at)
            at = self._next(plan, at, at + timedelta(minutes=rng.uniform(5, 60)))
            yield at
            note = "多次回访均无法联系诉求人，按规定归档" if outcome == "unreachable" else "诉求人拒绝回访，按规定归档"
            tr.archive(order, agent, note=note, at=at)
            return
        note = "诉求人表示问题仍未解决，对办理结果不满意"
        order = tr.callback(order, agent, contact_result=ContactResult.REACHED, satisfaction=Satisfaction.UNSATISFIED,
                            resolved=False, note=note, at=at)  # fmt: skip
        if outcome == "unsatisfied":
            at = self._next(plan, at, self._work(at, rng.uniform(0.2, 3)))
            yield at
            note = "诉求超出政策规定，承办单位已解释到位，经中心审核不予重办，归档"
            tr.archive(order, agent, note=note, at=at)
            return
        at = self._next(plan, at, at + timedelta(minutes=rng.uniform(5, 40)))
        yield at
        order = tr.reopen(order, agent, reason="回访不满意：诉求人反映问题仍未解决，请重新核实处理", at=at)
        left = self._working_left(at, order.due_at)
        at = self._next(plan, at, self._work(at, max(left, 1) * rng.uniform(0.2, 0.8)))
        yield at
        measures = "再次到现场核实，督促责任单位完成整改，并与诉求人当面沟通"
        order = tr.reply(order, self.handler(lead), result=ReplyResult.RESOLVED, content=f"经重新办理：{measures}。",
                         measures=measures, at=at)  # fmt: skip
        at = self._next(plan, at, self._work(at, rng.uniform(0.3, 8)))
        yield at
        tr.callback(order, agent, contact_result=ContactResult.REACHED, satisfaction=Satisfaction.BASIC, resolved=True,
                    note="重办后诉求人表示基本满意", at=at)  # fmt: skip

    def _intake(self, plan: Plan, t: datetime) -> WorkOrder | None:
        message, rng = plan.message, plan.rng
        key = (message.level1, message.level2, message.level3)
        title, content = message.title, message.detail
        request_type = message.request_type
        if plan.fate == "transfer":
            line, title, content = rng.choice(TRANSFERS)
            plan.line, key, request_type = line, TRANSFER_LEAVES[line], "help"
        elif plan.fate == "invalid":
            title, content, plan.invalid_reason = rng.choice(INVALIDS)
            key, request_type = INVALID_LEAF, "other"
        elif plan.fate == "merge":
            parent = self._merge_parent(plan)
            if parent is None:
                plan.fate = "handled"
            else:
                plan.merge_parent = parent
                title, content = parent.title, f"再次反映：{parent.content}"[:5000]
                key = (parent.category.parent.parent.name, parent.category.parent.name, parent.category.name)
                request_type = parent.request_type.code
                calls = sum(1 for p, _ in self.created if p.caller_phone == parent.caller_phone)
                if rng.random() < 0.5 and calls < 4:  # the same caller again, at most 4 orders each
                    plan.caller_name, plan.caller_phone = parent.caller_name, parent.caller_phone
                plan.tags = ["repeat"]
        address, area = self._address(message) if plan.fate not in ("transfer", "invalid") else ("", None)
        if plan.fate == "merge":
            address, area = plan.merge_parent.address, plan.merge_parent.area
        related = []
        if "repeat" in plan.tags and plan.fate != "merge":
            earlier = [o for p, o in self.created if p.caller_phone == plan.caller_phone]
            related = [earlier[-1].number] if earlier else []
        data = {
            "channel": plan.channel,
            "caller_name": plan.caller_name,
            "caller_phone": plan.caller_phone,
            "is_enterprise": plan.enterprise is not None,
            "enterprise_name": plan.enterprise[0] if plan.enterprise else "",
            "enterprise_credit_code": plan.enterprise[1] if plan.enterprise else "",
            "request_type": self.request_types.get(request_type)
            or self.request_types.get("help")
            or next(iter(self.request_types.values())),
            "category": self._leaf(key),
            "title": title,
            "content": content,
            "address": address,
            "area": area,
            "priority": plan.priority,
            "tags": [code for code in plan.tags if code in self.tag_codes],
            "related": related,
        }
        order, _ = tr.intake(self.operator, data, at=t)
        self.created.append((plan, order))
        return order

    def _merge_parent(self, plan: Plan) -> WorkOrder | None:
        """An earlier order on the same matter (same level-2 category) that can take a duplicate."""
        since = plan.received - timedelta(days=20)
        candidates = [
            o
            for p, o in reversed(self.created)
            if p.fate in ("handled", "direct") and since <= o.received_at < plan.received
        ]
        level2 = self._leaf((plan.message.level1, plan.message.level2, plan.message.level3)).parent_id
        same = [o.pk for o in candidates if o.category.parent_id == level2] or [o.pk for o in candidates[:50]]
        if not same:
            return None
        found = WorkOrder.objects.select_related("category__parent__parent", "request_type", "area")
        # prefer one still open (the duplicate then follows its outcome), else the latest
        return found.filter(pk__in=same).exclude(state=State.ARCHIVED).order_by("-received_at").first() or (
            found.get(pk=same[0])
        )

    # ------------------------------------------------------------ the replay

    def run(self) -> dict:
        plans = self.plans()
        heap: list[tuple[datetime, int, Iterator[datetime], Plan]] = []
        for plan in plans:
            script = self.life(plan)
            heapq.heappush(heap, (next(script), plan.index, script, plan))
        while heap:
            at, index, script, plan = heapq.heappop(heap)
            try:
                following = next(script)
            except StopIteration:
                continue
            except TransitionError as exc:
                self.errors.append(f"#{index} {plan.message.title}: {exc}")
                continue
            if following <= at:
                raise DemoHistoryError(f"#{index}: 时间没有前进（{following} ≤ {at}）")
            if following <= self.now:
                heapq.heappush(heap, (following, index, script, plan))
        return self.summary()

    def summary(self) -> dict:
        ids = [o.pk for _, o in self.created]
        orders = WorkOrder.objects.filter(pk__in=ids)
        states = Counter(orders.values_list("state", flat=True))
        closures = Counter(orders.exclude(closure="").values_list("closure", flat=True))
        return {
            "orders": len(ids),
            "states": {s.value: states.get(s.value, 0) for s in State},
            "closures": {c.value: closures.get(c.value, 0) for c in Closure},
            "handlers_created": self.handlers_created,
            "errors": self.errors,
        }


def load_history(
    count: int = 2000, now: datetime | None = None, seed: int = DEFAULT_SEED, messages: list[Message] | None = None
) -> dict:
    """Replay ``count`` orders over the last 90 days before ``now``; returns counts per state and closure."""
    now = now or timezone.now()
    replay = Replay(count, now, seed, messages or read_messages())
    with transaction.atomic():
        return replay.run()


def state_line(summary: dict) -> str:
    """ "待派发 30，待签收 48，…" for the command's output."""
    return "，".join(f"{State(s).label} {n}" for s, n in summary["states"].items())


def handler_username(unit: Unit) -> str:
    return f"{HANDLER_PREFIX}{unit.code.lower()}"
