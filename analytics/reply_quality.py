"""答复质量: how well a unit's reply answers the citizen's request, on four dimensions and one score.

Texts are normalised (HTML, full-width forms, lower case) and segmented with jieba. *Content words* are the
words of two characters or more that are neither stop words (``nlp.text.STOP_WORDS``) nor the hotline's generic
vocabulary (``GENERIC_WORDS``: 领导, 反映, 问题, 希望, 调查 …), digits or anonymised place codes (A7, K).

1. Body. The reply is cut at punctuation into fragments. A fragment is boilerplate when it is a greeting,
   acknowledgement, transfer notice, thanks, closing, date or signature (``BOILERPLATE``: 您好, 留言已收悉,
   已转交…, 感谢您…, 特此回复, 2019年4月29日, 市长热线办公室 …). Quoted echoes of the request (“…” spans
   the request contains or that mostly repeat the title) are left out of that test and of the count:
   您反映的“…”问题已转交 is a transfer notice whatever it quotes. The other fragments are the reply's *body*;
   the boilerplate share is the boilerplate's share of the reply's characters.
2. relevance = Ochiai similarity |Q ∩ A| / √(|Q|·|A|) of the distinct content words of the request Q (title
   and detail) and of the body A, divided by ``RELEVANT_SIMILARITY`` (0.2) and capped at 1.
3. completeness = mean over the request's points of the share of each point's content words the body
   contains, divided by ``POINT_COVERAGE`` (0.4) and capped at 1. A point is a sentence of the detail that asks or
   requests (``ASKING``: ？, 请, 要求, 希望, 能否, 是否, 为什么, 何时, 建议 …); without one, the title is the
   single point. Points with no content word, or whose words an earlier point already has, are skipped; at
   most ``MAX_POINTS`` are kept.
4. substance = (M + B + R + P) / 3, capped at 1, over four kinds of evidence in the body, each 0, ½ (one cue)
   or 1 (two different cues): M measures (已/经/立即 … + 安排/督促/责令/约谈/整改/维修/查处/拆除/处罚 …,
   经查, 现场核实), B basis (《…》, 根据/依据/按照 … 规定/条例/办法/文件, 第…条, 〔2014〕…号), R result
   (已完成/已解决/已恢复/整改到位, 属实/不属实, 符合…规定) and P progress (目前, 下一步, 预计, 正在,
   …前完成, a date). Three kinds of evidence give full marks.
5. timeliness = 1 when the reply came within the limit: ``due_at`` when given, otherwise ``limit_days``
   working days (default 15) after the request, counted on the official calendar (workcalendar.worktime).
   Late replies lose marks in proportion: 0 when the overrun equals the whole allowed time. None when a time
   is missing or the reply predates the request.
6. score = 100 × weighted mean of the dimensions (``WEIGHTS``: relevance 0.2, completeness 0.3, substance 0.35,
   timeliness 0.15; timeliness left out when None), 0 for an empty reply.
Flags: empty (no reply text); template_only (boilerplate share ≥ ``TEMPLATE_SHARE`` and substance below
``TEMPLATE_SUBSTANCE``: it replaces off_topic and the no_* flags, which would only repeat it); off_topic
(relevance < ``OFF_TOPIC``); no_measures, no_basis, no_result (that kind of evidence absent); late
(timeliness < 1).
The constants were set on the 2,816 seed replies without the hand-labelled sample (bench/reply_quality.py):
RELEVANT_SIMILARITY and OFF_TOPIC by scoring each reply against its own request and against a random other one
(off_topic then fires on about 4 % of own pairs and three quarters of the others); POINT_COVERAGE, where that
comparison was equally good from 0.2 to 0.5, so that a place named in passing earns part of a point, not all;
the boilerplate patterns and TEMPLATE_SHARE by reading replies.

``score_order`` scores a work order (答复内容 with 办理措施, against its 办结时限); ``unit_summary`` aggregates
the orders it is given per lead unit.
"""

import html
import logging
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

import jieba
from django.db import models
from django.utils.translation import gettext_lazy as _

from nlp.text import STOP_WORDS
from system.defaults import SETTINGS
from workcalendar.worktime import WorkCalendar, parse_working_hours

if TYPE_CHECKING:
    from orders.models import WorkOrder

jieba.setLogLevel(logging.WARNING)

DEFAULT_LIMIT_DAYS = 15
WEIGHTS = {"relevance": 0.2, "completeness": 0.3, "substance": 0.35, "timeliness": 0.15}
RELEVANT_SIMILARITY = 0.2
POINT_COVERAGE = 0.4
MAX_POINTS = 8
OFF_TOPIC = 0.15
TEMPLATE_SHARE = 0.6
TEMPLATE_SUBSTANCE = 0.2
# A quoted span sharing this share of its character pairs with the title is the title repeated.
ECHO_OVERLAP = 0.6
# jieba reads about 250,000 characters a second; the rest of a very long text rarely changes the verdict.
MAX_REQUEST_CHARS = 3000
MAX_REPLY_CHARS = 5000


class Flag(models.TextChoices):
    EMPTY = "empty", _("无答复")
    TEMPLATE_ONLY = "template_only", _("套话答复")
    OFF_TOPIC = "off_topic", _("答非所问")
    NO_MEASURES = "no_measures", _("无办理措施")
    NO_BASIS = "no_basis", _("无政策依据")
    NO_RESULT = "no_result", _("无办理结果")
    LATE = "late", _("超期答复")


@dataclass
class Quality:
    relevance: float
    completeness: float
    substance: float
    timeliness: float | None
    score: int
    flags: list[Flag] = field(default_factory=list)

    @property
    def flag_labels(self) -> list[str]:
        return [str(flag.label) for flag in self.flags]


# Words every request or reply uses whatever it is about: they say nothing about the topic.
GENERIC_WORDS = frozenset(
    """
    领导 书记 市长 县长 区长 局长 镇长 主任 尊敬 您好 你好 政府 人民政府 有关部门 相关部门 部门 单位 问题 情况 反映
    投诉 举报 咨询 建议 希望 请求 要求 请问 恳请 呼吁 解决 处理 办理 谢谢 感谢 网友 留言 回复 答复 收悉 来信 帖文
    网帖 市民 群众 百姓 老百姓 已经 一直 今年 去年 现在 重视 高度重视 关注 关心 支持 监督 理解 工作 我局 我办 我委
    我县 我市 我区 我镇 相关 有关 进行 帮助 能够 是否 能否 为什么 何时 怎么 多少 哪里 之后 以后 以来 存在 一下
    严重 现将 如下 特此 调查 核实 核查 了解 具体 及时 立即 已 经查 目前 下一步 予以 实际 部分 方面 给予
    百忙 百忙中 百忙之中 打扰 打搅 麻烦 辛苦 认真 考虑 过问 尽快 早日 帮忙 万分 感激 期待 期盼 盼望 回应 回音 非常
    """.split()
)

_TAG = re.compile(r"<[^>]{0,200}>")
_EXCEL_CR = re.compile(r"_x000[dD]_")
_CONTENT = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,}|[a-z]{3,}")
_PLACE_CODE = re.compile(r"^[a-z]{1,2}\d{0,3}$|^uu\d+$")
_FRAGMENT_SPLIT = re.compile(r"[。！？!?；;:：，,\n]+|\s{2,}")
_SENTENCE_SPLIT = re.compile(r"[。！？!?；;\n]+|\s{2,}|(?=(?:[（(]?[一二三四五六七八九十\d]{1,2}[)）、.．]))")
_QUOTED = re.compile(r"[“\"《「『]([^”\"》」』]{4,200})[”\"》」』]")
_DATE = re.compile(
    r"\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}\s*月\s*\d{1,2}\s*日"
)

ASKING = re.compile(
    r"[？?]|请|要求|希望|能否|能不能|可否|可不可以|是否|是不是|有没有|为什么|为何|何时|什么时候|怎么|怎样|如何|"
    r"建议|呼吁|盼|吗|多少|哪里|哪些|哪个|几时"
)

# Each pattern is tried on one fragment of the reply; the fragment is boilerplate when one matches it whole,
# apart from punctuation, names in quotes and whitespace.
BOILERPLATE = [
    re.compile(p)
    for p in (
        r"^(?:尊敬的|亲爱的)?(?:网友|市民|来信人|来信者|朋友|先生|女士|同志|用户|群众)?(?:朋友|们)?[^，。]{0,12}(?:您好|你好)$",
        r"^(?:尊敬的|亲爱的)?(?:网友|市民|来信人|朋友|群众)(?:朋友)?$",
        r"^(?:uu\d+|网友uu\d+|[^ ]{0,12}网友)$",
        r"^(?:您|你)?(?:好)?(?:的|所)?(?:留言|来信|来电|来件|帖文|网帖|帖子|来帖|来函|来邮|信件|诉求|投诉件|投诉|咨询|反映的?问题|反映的?情况|问题|建议)?"
        r"(?:及?[^，。]{0,30})?(?:已|我们已|我局已|我办已)?(?:收悉|收到|已阅|阅悉|收到了|获悉)(?:后)?$",
        r"^(?:收到|收悉|接到)[^，。]{0,40}(?:后|留言|来信|问题|网帖|帖文|建议)$",
        r"^(?:关于)?(?:您|你)(?:所|在[^，。]{0,20})?(?:反映|提出|咨询|投诉|举报|提及|留言)[^，。]{0,30}(?:问题|情况|建议|事项|诉求|的)$",
        r"^(?:对于|针对|关于|就)(?:您|你)[^，。]{0,30}$",
        r"^(?:一|二|三|四|五|六|七|八|九|十|\d)?(?:关于|对于|针对)?[^，。]{0,6}(?:问题|情况|建议|事项)(?:的)?(?:回复|答复|核实情况|处理情况)?$",
        r"^(?:您|你)?(?:还|也)?(?:可以|可|可直接|也可|可以直接|请|详情请|具体请|敬请|请您|请直接)(?:询|咨询|致电|拨打|联系|向|与|到)[^，。]{0,36}$",
        r"^(?:咨询|了解)?(?:了解)?(?:有关|相关)?具体(?:情况|事宜)?$",
        r"^(?:联系|咨询|举报|投诉)?(?:电话|热线)?[\d\-－.]{5,}$",
        r"^(?:现|现将|现就|现对|特|我们|我局|我办)?[^，。]{0,24}(?:回复|答复|说明|告知|反馈)(?:如下)?$",
        r"^(?:我|我们|我局|我办|我委|我单位|已|并|我们已|经)?[^，。]{0,20}(?:转交|转至|转给|转办|转到|转送|移交|交由|转相关|转有关|批转|交办|交有关|交相关|交给|已转|并转|均转)"
        r"(?:[^，。]{0,40}(?:办理|处理|核处|调查|处置|办复|核实|参考|研究|关注|部门|单位|局|办|政府|中心|公司))?(?:中)?$",
        r"^[^，。]{0,20}(?:高度重视|非常重视|十分重视)[^，。]{0,10}$",
        r"^(?:如|若)?(?:有|您有|你有|还有)?[^，。]{0,16}(?:疑问|疑义|问题|相关情况|情况|进展|意见|需要)[^，。]{0,20}(?:及时|随时|可|请|再|将|欢迎|联系|咨询|反馈|回复|致电)[^，。]{0,40}$",
        r"^(?:敬请|请您|请你|请)?(?:留意|关注|耐心等待)[^，。]{0,20}$",
        r"^[^，。]{0,20}(?:感谢|谢谢|多谢|致谢|欢迎)[^，。]{0,40}$",
        r"^(?:再次)?(?:感谢|谢谢)$",
        r"^(?:特此|专此)(?:回复|答复|函复|说明)$",
        r"^(?:祝|顺祝|此致|敬礼|祝您|祝你)[^，。]{0,20}$",
        r"^[^，。]{0,8}(?:支持|理解|监督|关心|关注)(?:和|与|、)?(?:支持|理解|监督|关心|关注)?[^，。]{0,4}$",
        r"^(?:此复|谢谢|再见|好的|您好|你好|以上|以上回复|望理解|敬请谅解|请谅解|请予以理解)$",
        r"^(?!.*(?:要求|进行|已|将|对|向|是|为|在|和|与|由|、))[^，。]{0,16}(?:办公室|热线|政府|委员会|局|科|处|中心|街道|镇|乡|公司|大队|支队|所)$",
        r"^[^，。]{0,30}(?:职权范围|职责范围|管辖范围|受理范围)[^，。]{0,20}$",
        r"^[^，。]{0,20}(?:无效信件|视为无效|不再进入处理程序|无法通过本栏目)[^，。]{0,20}$",
        r"^\d{4}年\d{1,2}月\d{1,2}日$",
        r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$",
        r"^(?:您好|你好)?[^，。]{0,10}(?:在平台|通过平台|在《问政西地省》|问政西地省)[^，。]{0,20}$",
    )
]
# A fragment this long says something, whatever words it contains.
_BOILERPLATE_MAX_CHARS = 40

MEASURE_VERBS = (
    "要求|询问|研究|踏勘|安排|督促|责令|约谈|整改|维修|修复|抢修|查处|拆除|处罚|罚款|清理|清运|清除|疏通|更换|安装|调查|核查|核实|查看|勘察|勘查|"
    "执法|整治|协调|召开|检查|走访|约见|告知|通报|立案|下达|取缔|关停|暂扣|没收|查封|补发|发放|退还|办理|调解|批评|"
    "教育|处分|问责|劝导|制止|拆|修建|修缮|硬化|铺设|增设|增加|调整|派出|部署|开展|督办|落实|报送|申报|纳入|启动|联系"
)
EVIDENCE = {
    "measures": [
        re.compile(
            rf"(?:已|经|立即|及时|随即|马上|迅速|第一时间|当即|先后|多次|专门|派|组织|积极)[^，。；]{{0,12}}?(?:{MEASURE_VERBS})"
        ),
        re.compile(r"经(?:查|核实|核查|调查|了解|现场|实地|走访|检查|排查|勘察|调取)"),
        re.compile(r"已(?:经)?(?:向|与|和)[^，。]{0,12}(?:反映|反馈|汇报|报告|沟通|协商|对接)"),
        re.compile(r"现场(?:核实|查看|勘察|勘查|检查|调查|处置|处理|执法)|实地(?:查看|调查|核查|勘察|走访)"),
        re.compile(r"(?:责令|督促|要求)[^，。；]{0,20}(?:整改|拆除|停止|恢复|限期|立即|规范|降低|改正)"),
    ],
    "basis": [
        re.compile(r"《[^》]{2,60}》"),
        re.compile(
            r"(?:根据|依据|按照|依照|遵照|参照)[^。；]{0,40}(?:规定|条例|办法|文件|通知|意见|标准|政策|法|细则|规范|精神|方案|规划|要求|计划|部署|铺排)"
        ),
        re.compile(r"按(?:照)?(?:国标|国家标准|行业标准|技术规范|相关标准|有关标准|规定|标准|程序)"),
        re.compile(r"第[一二三四五六七八九十百零〇\d]+条"),
        re.compile(r"[〔\[【(（]\s*\d{4}\s*[〕\]】)）]\s*\d*\s*号|\d{4}〕\d+号|\d+号文"),
        re.compile(r"(?:法律|法规|政策|相关|有关|国家|省|文件)(?:的)?(?:明确)?规定"),
        re.compile(r"(?:条例|实施办法|管理办法|规定)(?:第|明确|要求)"),
    ],
    "result": [
        re.compile(
            r"已(?:经)?(?:全部|基本|顺利)?(?:完成|解决|恢复|整改|修复|疏通|拆除|清理|清除|办结|发放|退还|补发|安装|开通|落实|到位|处理完毕|"
            r"更换|修好|建成|竣工|投入使用|通车|关停|取缔|停止|撤除|纠正|兑现|支付|结清|补缴|办理|缴纳|制止|处罚|立案)"
        ),
        re.compile(r"(?:整改|处理|清理|拆除|维修|疏通|施工|修复)(?:已)?(?:完毕|到位|完成|结束)"),
        re.compile(r"恢复(?:正常|供水|供电|供气|通行|通车|营业|原状|原貌)|问题(?:已|已经)?(?:得到)?(?:解决|落实|整改)"),
        re.compile(r"(?:基本)?(?:不)?属实|未发现|不存在|确实存在|确有"),
        re.compile(r"符合(?:国家|相关|有关)?[^，。]{0,10}(?:规定|标准|要求|条件|程序|规范)"),
        re.compile(r"(?:得到|取得)(?:了)?(?:有效)?(?:解决|改善|遏制|控制|落实)"),
    ],
    "progress": [
        re.compile(
            r"目前|当前|现阶段|下一步|下步|预计|计划(?:于|在)?|拟(?:于|在|将)?|将于|正在|进度|已启动|已列入|纳入[^，。]{0,10}计划"
        ),
        re.compile(
            r"(?:\d{1,2}月|年底|月底|年内|年前|近期|近日|本周|本月|今年)(?:\d{1,2}日)?(?:前|之前|以前|内)?(?:完成|完工|实施|开工|建成|到位|出台|解决|启动|投入)"
        ),
        re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月|\d{1,2}\s*月\s*\d{1,2}\s*日"),
    ],
}


def _normalize(text: object, limit: int) -> str:
    if text is None:
        return ""
    text = str(text)[: limit * 2]
    text = _EXCEL_CR.sub("\n", _TAG.sub(" ", html.unescape(text)))
    return unicodedata.normalize("NFKC", text).lower()[:limit]


@lru_cache(maxsize=4096)
def _content_words(text: str) -> frozenset[str]:
    words = set()
    for word in jieba.lcut(text, HMM=False):
        word = word.strip()
        if word in STOP_WORDS or word in GENERIC_WORDS or _PLACE_CODE.match(word) or not _CONTENT.search(word):
            continue
        words.add(word)
    return frozenset(words)


def _is_boilerplate(fragment: str) -> bool:
    plain = re.sub(r"[“”\"'《》「」『』（）()\[\]【】—\-~·…!！\s]", "", _DATE.sub("", fragment))
    if not plain:
        return True
    if len(plain) > _BOILERPLATE_MAX_CHARS:
        return False
    return any(p.match(plain) for p in BOILERPLATE)


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _drop_echoes(reply: str, request: str, title: str) -> str:
    """Remove quoted echoes of the request (您反映的“小区路灯不亮”问题): they repeat the citizen, not answer."""
    if not _QUOTED.search(reply):
        return reply
    title_pairs = _bigrams(title)

    def echo(match: re.Match) -> str:
        quoted = match.group(1).strip()
        pairs = _bigrams(quoted)
        if quoted in request or (pairs and len(pairs & title_pairs) >= ECHO_OVERLAP * len(pairs)):
            return ""
        return match.group(0)

    return _QUOTED.sub(echo, reply)


def split_reply(reply: str, request: str, title: str = "") -> tuple[str, float]:
    """The reply's body (its fragments that are not boilerplate) and the boilerplate's share of the reply.

    Quoted echoes of the request are left out when deciding whether a fragment is boilerplate (您反映的“…”问题
    已转交 is a transfer notice whatever it quotes) and do not count as characters of the reply.
    """
    total = boiler = 0
    body = []
    for fragment in _FRAGMENT_SPLIT.split(reply):
        own = _drop_echoes(fragment, request, title).strip()
        if not own:
            continue
        total += len(own)
        if _is_boilerplate(own):
            boiler += len(own)
        else:
            body.append(fragment)
    return "，".join(body), (boiler / total if total else 1.0)


def _sentences(detail: str) -> list[str]:
    return [s for s in _SENTENCE_SPLIT.split(detail) if s and s.strip()]


def request_points(title: str, sentences: list[str]) -> list[frozenset[str]]:
    """Content words of each asking sentence of the detail (the title alone when none asks)."""
    points: list[frozenset[str]] = []
    seen: set[str] = set()
    for sentence in sentences:
        if not ASKING.search(sentence):
            continue
        words = _content_words(sentence)
        if not words or words <= seen:
            continue
        seen |= words
        points.append(words)
        if len(points) == MAX_POINTS:
            break
    if not points:
        words = _content_words(title) or frozenset().union(*map(_content_words, sentences))
        if words:
            points.append(words)
    return points


def evidence(body: str) -> dict[str, float]:
    """0, ½ or 1 for each kind of evidence: no cue, one cue, two different cues."""
    found = {}
    for kind, patterns in EVIDENCE.items():
        cues = set()
        for pattern in patterns:
            cues.update(m.group(0) for m in pattern.finditer(body))
            if len(cues) >= 2:
                break
        found[kind] = min(len(cues), 2) / 2
    return found


@lru_cache(maxsize=1)
def default_calendar() -> WorkCalendar:
    """The built-in calendar (official holidays, default working hours) without database overrides."""
    return WorkCalendar(parse_working_hours(SETTINGS["working_hours"].default))


def timeliness(
    asked_at: datetime | None,
    replied_at: datetime | None,
    *,
    due_at: datetime | None = None,
    limit_days: float = DEFAULT_LIMIT_DAYS,
    calendar: WorkCalendar | None = None,
) -> float | None:
    if asked_at is None or replied_at is None:
        return None
    calendar = calendar or default_calendar()
    asked_at, replied_at = _aware(asked_at, calendar), _aware(replied_at, calendar)
    if replied_at < asked_at:
        return None
    if due_at is None:
        allowed = calendar.day_length * limit_days
        used = calendar.working_time_between(asked_at, replied_at)
        overrun = used - allowed
    else:
        due_at = _aware(due_at, calendar)
        if replied_at <= due_at:
            return 1.0
        allowed = calendar.working_time_between(asked_at, due_at)
        # A deadline inside non-working time still allows something: at least one working day.
        allowed = max(allowed, calendar.day_length)
        overrun = calendar.working_time_between(due_at, replied_at)
    if overrun <= timedelta(0):
        return 1.0
    return round(max(0.0, 1 - overrun / allowed), 2)


def _aware(value: datetime, calendar: WorkCalendar) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=calendar.tz)


def score(
    title: object,
    detail: object,
    reply: object,
    asked_at: datetime | None,
    replied_at: datetime | None,
    *,
    due_at: datetime | None = None,
    limit_days: float = DEFAULT_LIMIT_DAYS,
    calendar: WorkCalendar | None = None,
) -> Quality:
    """The quality of one reply to one request; see the module docstring for each dimension."""
    title, detail = _normalize(title, 200), _normalize(detail, MAX_REQUEST_CHARS)
    reply = _normalize(reply, MAX_REPLY_CHARS)
    timely = timeliness(asked_at, replied_at, due_at=due_at, limit_days=limit_days, calendar=calendar)
    late = [Flag.LATE] if timely is not None and timely < 1 else []
    if not re.search(r"[a-z\u3400-\u9fff]", reply):
        return Quality(0.0, 0.0, 0.0, timely, 0, [Flag.EMPTY, *late])

    sentences = _sentences(detail)
    body, boiler_share = split_reply(reply, f"{title}\n{detail}", title)
    body_words = _content_words(body) if body else frozenset()
    request_words = _content_words(title).union(*map(_content_words, sentences))

    relevance = 0.0
    if body_words and request_words:
        similarity = len(body_words & request_words) / math.sqrt(len(body_words) * len(request_words))
        relevance = min(1.0, similarity / RELEVANT_SIMILARITY)

    points = request_points(title, sentences)
    completeness = 0.0
    if points:
        covered = [len(p & body_words) / len(p) for p in points]
        completeness = sum(min(1.0, c / POINT_COVERAGE) for c in covered) / len(points)

    found = evidence(body)
    substance = min(1.0, sum(found.values()) / 3)

    dims = {"relevance": relevance, "completeness": completeness, "substance": substance, "timeliness": timely}
    weighted = [(WEIGHTS[k], v) for k, v in dims.items() if v is not None]
    total = 100 * sum(w * v for w, v in weighted) / sum(w for w, _ in weighted)

    flags: list[Flag] = []
    if boiler_share >= TEMPLATE_SHARE and substance < TEMPLATE_SUBSTANCE:
        flags.append(Flag.TEMPLATE_ONLY)
    else:
        if relevance < OFF_TOPIC:
            flags.append(Flag.OFF_TOPIC)
        flags += [
            flag
            for flag, kind in ((Flag.NO_MEASURES, "measures"), (Flag.NO_BASIS, "basis"), (Flag.NO_RESULT, "result"))
            if not found[kind]
        ]
    flags += late
    return Quality(round(relevance, 2), round(completeness, 2), round(substance, 2), timely, round(total), flags)


def score_order(order: "WorkOrder", *, calendar: WorkCalendar | None = None) -> Quality | None:
    """The quality of a work order's reply (答复内容 and 办理措施), None while it has none."""
    reply = "\n".join(part for part in (order.reply_content, order.reply_measures) if part and part.strip())
    if not reply:
        return None
    started = order.limit_started_at or order.dispatched_at or order.received_at
    return score(order.title, order.content, reply, started, order.replied_at, due_at=order.due_at, calendar=calendar)


SCORE_STATE = "reply_scores"
SCORE_MARGIN = timedelta(minutes=5)


def store_scores(now: datetime | None = None, *, calendar: WorkCalendar | None = None) -> int | None:
    """Score the unit replies made or changed since the last run into ``ReplyScore``; None when another run holds
    the claim. Same claim as the roll-up: a conditional UPDATE moves the watermark, in the transaction that
    writes the scores. A reply cleared by 重办 loses its score until the unit replies again."""
    from django.db import transaction
    from django.utils import timezone

    from analytics.models import ReplyScore, RollupState
    from analytics.rollup import EPOCH
    from orders.models import WorkOrder

    if calendar is None:
        from workcalendar.worktime import get_calendar

        calendar = get_calendar()
    now = now or timezone.now()
    with transaction.atomic():
        state, _ = RollupState.objects.get_or_create(name=SCORE_STATE, defaults={"watermark": EPOCH})
        if RollupState.objects.filter(name=SCORE_STATE, watermark=state.watermark).update(watermark=now) != 1:
            return None
        changed = WorkOrder.objects.filter(updated_at__gte=state.watermark - SCORE_MARGIN).only(
            "title", "content", "reply_content", "reply_measures", "reply_result", "lead_unit", "received_at",
            "dispatched_at", "limit_started_at", "replied_at", "due_at",
        )  # fmt: skip
        stored = 0
        for order in changed.iterator(chunk_size=500):
            quality = None
            if order.dispatched_at and order.replied_at and order.reply_result and order.lead_unit_id:
                quality = score_order(order, calendar=calendar)
            if quality is None:
                ReplyScore.objects.filter(order=order).delete()
                continue
            ReplyScore.objects.update_or_create(order=order, defaults={
                "unit_id": order.lead_unit_id, "replied_at": order.replied_at, "relevance": quality.relevance,
                "completeness": quality.completeness, "substance": quality.substance,
                "timeliness": quality.timeliness, "score": quality.score,
                "flags": "".join(f",{flag.value}" for flag in quality.flags) + ("," if quality.flags else ""),
            })  # fmt: skip
            stored += 1
        return stored


def unit_summary(scores) -> list[dict]:
    """Per unit over stored ``ReplyScore`` rows: replies scored, average score and dimensions, share of replies
    with each flag; worst first. The caller chooses the rows (period, visible units)."""
    from django.db.models import Avg, Count, Q

    shares = {f"flag_{flag.value}": Count("pk", filter=Q(flags__contains=f",{flag.value},")) for flag in Flag}
    grouped = (
        scores.values("unit_id", "unit__name")
        .annotate(count=Count("pk"), score=Avg("score"), relevance=Avg("relevance"),
                  completeness=Avg("completeness"), substance=Avg("substance"), timeliness=Avg("timeliness"),
                  **shares)
        .order_by()
    )  # fmt: skip
    rows = []
    for row in grouped:
        count = row["count"]
        rows.append({
            "unit_id": row["unit_id"], "unit_name": row["unit__name"], "count": count,
            "score": round(row["score"], 1), "relevance": round(row["relevance"], 2),
            "completeness": round(row["completeness"], 2), "substance": round(row["substance"], 2),
            "timeliness": None if row["timeliness"] is None else round(row["timeliness"], 2),
            "flags": {flag.value: round(row[f"flag_{flag.value}"] / count, 3) for flag in Flag},
        })  # fmt: skip
    rows.sort(key=lambda row: (row["score"], row["unit_name"]))
    return rows
