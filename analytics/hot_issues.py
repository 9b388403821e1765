"""热点问题 (hot issues): group a period's messages into issues by problem and place, and rank them by heat.

``find_issues`` works on plain ``Message`` objects, without the database, so that the same code serves a CSV
of citizen messages (``manage.py hot_issues``) and the work orders of a dashboard (``issues_from_orders``):

1. Places. Each message's 地点 is read from its place hint, title and the start of its detail by the way places
   are written (a CSV has no unit tree to match against): admin names (A市, A5区, K8县, 西地省), 街道/镇 by
   suffix, the spots that pin an issue down (小区/花园/新城… estates, schools, hospitals, 社区, 村) and roads.
   The crowd (人群: 学生家长, 外卖骑手, 铁路职工…) is read too, for issues that have no place.
2. Content. The title is segmented with jieba (``nlp.text``), the detail's head cut into character pairs, both
   with the place names blanked out, so that content similarity says "same problem" and the places alone say
   "same place". TF-IDF of each; the title weighs TITLE_WEIGHT; each message keeps its TERMS most telling
   terms, as a unit vector.
3. Candidates. Cosine similarities come from sparse matrix products, a block of rows at a time, thinned at
   once to the pairs that may group: ≥ SPOT_THRESHOLD for two messages at the same spot (their first spot, or
   a variant of its name), ≥ CONTENT_THRESHOLD for all others. No n×n matrix is ever built.
4. Grouping. The pairs, most similar first, join their groups (union-find) when the groups' places agree at
   the most specific level both name (spot, road, street; else the district must not differ): a message
   without a place can join one place's issue by content, but cannot chain two places' issues together, and
   messages without a place that already form an issue do not join a place's.
5. Heat (热度指数) of each issue, see ``heat()``: log-scaled distinct callers, messages, public votes and time
   span, times a recency factor relative to ``now`` and the length of the period.
6. Labels. 问题描述 is the issue's most central title (closest to the group's centroid) without the leading
   admin names and complaint verbs; 地点/人群 is the place a quarter of the members name, else their crowd.

Everything is deterministic: messages are ordered by (time, id) first and every tie is broken by that order.
"""

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import jieba
import jieba.posseg
import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize as normalize_rows

from nlp.text import normalize, tokenize

# Grouping thresholds (cosines, see steps 2 and 3). Read against the Teddy Cup messages: messages at one estate
# about one trouble score 0.1–0.3 even when worded differently (夜宵摊, 油烟 and 噪音 of the same ground-floor
# shops), different troubles there mostly under 0.05; without a shared spot much closer wording is needed, or
# every 噪音扰民 of the city would be one issue.
SPOT_THRESHOLD = 0.12
CONTENT_THRESHOLD = 0.4
# Only the head of a long detail is read: it restates the title and names the place; the rest is the story.
DETAIL_CHARS = 100
PLACE_CHARS = 200
# Terms in more than this share of the messages say little about the problem ("业主", "我们") and cost the most
# in the similarity products; they are left out.
MAX_DF = 0.05
# The title names the problem in a few words; the detail's head confirms it in many.
TITLE_WEIGHT = 0.6
# Terms kept per message. At 60,000 messages a day almost every pair of messages shares some character pair;
# with the 16 most telling terms a message meets a few thousand others instead of tens of thousands, and the
# similarities of the pairs that matter hardly change.
TERMS = 16
BLOCK_ROWS = 500
MIN_HALF_LIFE = timedelta(hours=1)

# Words of every complaint, not of any one problem.
CONTENT_STOP_WORDS = frozenset(
    """
    问题 反映 反应 投诉 举报 咨询 请问 建议 希望 恳请 请求 要求 相关 部门 领导 政府 解决 处理 情况 目前 现在 已经
    一直 进行 市民 您好 你好 谢谢 感谢 尊敬 百忙之中 市长 书记 关注 尽快 严重 影响 没有人 有没有 是否 合理 合法
    """.split()
)

# --- places -------------------------------------------------------------------------------------------------

# Characters that end a name going backwards from its suffix: the little words around names (as in nlp.places).
_NOT_IN_NAMES = frozenset("的在住是了和与到从向对把被我你他她们门口旁边附近里内外前后号这那个")
_PROVINCES = (
    "西地 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 海南 四川 贵州 云南 陕西 甘肃 "
    "青海 台湾"
).split()
PROVINCE = re.compile(f"(?:{'|'.join(_PROVINCES)})省")
# The anonymised codes of the Teddy Cup data (A市, A9市, A5区, K8县) and the zones named right after a city.
CITY = re.compile(r"(?<![A-Za-z0-9])[A-Z]\d{0,2}市")
DISTRICT = re.compile(r"(?<![A-Za-z0-9])[A-Z]\d{0,2}[区县]|(?<=市)(?:经开|高新|[\u4e00-\u9fa5]{2}新)区")
STREET_SUFFIX = re.compile("(?:街道|镇)(?!政府|长)")
SPOT_SUFFIX = re.compile(
    "(?:小区|花园|家园|公寓|新村|新城|小镇|苑|园|城(?![市区际乡镇管])|府|湾|郡|庭|大厦|广场|山庄|公馆|雅居|国际|社区|村(?!民)|学院|大学"
    "|中学|小学|学校|幼儿园|医院|卫生院|火车站|地铁站|高铁站)(?:小区|社区)?"
)
ROAD_SUFFIX = re.compile("大道|路|街|巷")
CROWD = re.compile(
    "(?:中小学|小学|初中|高中|大学|在校|农村|外地|外来|外卖|快递|网约车|出租车|公交|铁路|环卫|退休|离退休|失业|残疾|低保"
    "|留守|随迁|进城)?(?:学生家长|家长|学生|教师|老师|骑手|快递员|司机|农民工|职工|员工|退休人员|退役军人|考生|患者"
    "|老人|残疾人|工人|商户|租户|购房者|乘客|村民)"
)
# A name is the run of words right before its suffix after the last verb, adverb, number… (jieba's tags of its
# dictionary words): "导致小区", "包括星沙街道" and "骗入股以太国际" lose their front.
_BOUNDARY_TAGS = frozenset("v vd vn d p c r u uv ud uj ul uz ug t m q y e o f zg".split())
# Words that come right before a name ("商品房伊景园", "辖区泉塘街道", "但麓谷小镇"). Single characters count only
# from this list: a name unknown to jieba falls apart into single characters whose tags mean nothing (丽/发 v).
_BEFORE_NAMES = frozenset(
    """
    商品房 楼盘 项目 定向 小区 社区 街道 政府 当地 辖区 配套 片区 位于 距离
    但 谁 给 来 去 往 下 靠 及 条 地 让 经 请 找 说 问 至 为 即 就 也 都 又 还 才 再 却 而 并 或 等 各 每 该 本 其
    此 栋 楼 多 有 修 建 现 站 近 挨 临 走 线
    """.split()
)
# Names that the suffix patterns catch but that name no place of their own.
_GENERIC = frozenset(
    """
    安置 住宅 老旧 居民 周边 商品房 高档 城中 新农 回迁 拆迁 保障房 廉租房 公租房 开放式 封闭式 物业 城市 幼儿 农贸
    购物 文化 体育 产业 工业 科技 物流 动物 植物 游乐 主题 湿地 生态 老城 公交线 高速公 水泥 一条 十字 泥巴 配套 普惠性
    普惠 公办 民办 中小 小区 社区 街道 政府 当地 辖区 各中小 城镇 国际 文明 全国文明
    """.split()
)
_NOT_SPOT = ("政府", "学府", "港湾", "法庭", "家庭", "中心城", "县城", "省城")
_NOT_STREET = ("小镇", "城镇", "乡镇", "集镇")
_NOT_ROAD = ("线路", "道路", "马路", "公路", "铁路", "一路", "出路", "思路", "网路", "上路", "走路", "步行街", "大街")
_ROAD_INSIDE = re.compile(r".*(?:大道|路|街|巷)(?=.)")
_PHASE = re.compile(r"[0-9一二三四五六七八九十]+期$")
_RUNS = re.compile(r"[0-9a-z\u4e00-\u9fa5]+")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Place:
    """Where one message is, as written: admin names, then the spots and roads that pin it down."""

    province: str = ""
    city: str = ""
    districts: tuple[str, ...] = ()
    streets: tuple[str, ...] = ()  # 街道, 镇
    spots: tuple[str, ...] = ()  # estates, schools, hospitals, communities, villages: the first is the most telling
    roads: tuple[str, ...] = ()
    crowd: str = ""

    @property
    def names(self) -> list[str]:
        return [n for n in (self.province, self.city, *self.districts, *self.streets, *self.spots, *self.roads) if n]


def core(name: str) -> str:
    """A spot's name without the words people add or leave out: 魅力之城小区 → 魅力之城, 丽发新城社区 → 丽发新城."""
    for suffix in ("小区", "社区"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            name = name[: -len(suffix)]
            break
    return _PHASE.sub("", name) or name


def names_match(a: Iterable[str], b: Iterable[str]) -> bool:
    """Whether two sets of names share one: equal, or the longer contains the shorter (万科魅力之城 ⊃ 魅力之城)."""
    for x in a:
        for y in b:
            short, long = (x, y) if len(x) <= len(y) else (y, x)
            if short == long or (len(short) >= 3 and short in long):
                return True
    return False


@functools.lru_cache(maxsize=65536)
def _clean_stem(stem: str, road: bool = False) -> str:
    """The name part of a stem: what follows the last verb, adverb, number… and the road named in front of it.

    Roads are often named with a verbal noun (劳动东路, 建设路): for a road such a word only ends the name when
    at least two characters of name follow it (会启动凉塘路 → 凉塘路); for an estate it always does (严重影响小区).
    """
    stem = _ROAD_INSIDE.sub("", stem)  # 劳动东路魅力之城 → 魅力之城 (the road is found as a road)
    words = jieba.lcut(stem, HMM=False)
    tags = jieba.posseg.dt.word_tag_tab
    for k in range(len(words) - 1, -1, -1):
        word, rest = words[k], "".join(words[k + 1 :])
        tag = tags.get(word) if len(word) > 1 else None
        if tag in _BOUNDARY_TAGS or word in _BEFORE_NAMES or word.isdigit():
            if road and tag == "vn" and len(rest) < 2:
                continue
            return rest
    return stem.lstrip("市区县省镇乡")


def _is_name_char(char: str) -> bool:
    return char not in _NOT_IN_NAMES and ("\u4e00" <= char <= "\u9fa5" or (char.isascii() and char.isalnum()))


def _names(suffix: re.Pattern, text: str, longest: int, limit: int, reject: tuple[str, ...] = ()) -> list[str]:
    """Names ending in ``suffix``: the name characters before it (at most ``longest``), cut to the name proper.

    The suffixes are found first and the names read backwards from them, which is several times faster than a
    pattern that tries every start. A name does not reach back into the previous one, so "青山新村社区青青家园小区"
    is two names, but an estate and its part written together (伊景园滨河苑, 伊景园·滨河苑) are one again.
    """
    road, spot = suffix is ROAD_SUFFIX, suffix is SPOT_SUFFIX
    names: list[str] = []
    end = 0
    for match in suffix.finditer(text):
        start = first = match.start()
        while first > max(end, start - longest) and _is_name_char(text[first - 1]):
            first -= 1
        stem = text[first:start]
        name_stem = _clean_stem(stem, road) if stem else ""
        name = name_stem + match.group()
        if len(name_stem) < 2 or name_stem in _GENERIC or _PHASE.fullmatch(name_stem) or name.endswith(reject):
            continue
        if spot and names and names[-1].endswith("园") and name_stem == stem and text[end:first] in ("", "·", "."):
            names[-1] += name
        elif len(names) < limit and name not in names:
            names.append(name)
        end = match.end()
    return names


def extract_place(*texts: str) -> Place:
    """The place named in the texts (hint, title, detail, in that order: the first mention counts most).

    Steps: 1. admin names (province, city, district) are found and blanked, so that "A5区魅力之城" is not read
    as one estate; 2. streets and towns, blanked too; 3. spots (estates, schools, communities), blanked, then
    roads, each cut to its name (``_clean_stem``) and without generic nouns ("安置小区"); 4. the crowd.
    """
    text = " ".join(t[:PLACE_CHARS] for t in texts if t)
    province = PROVINCE.search(text)
    city = CITY.search(text)
    districts = list(dict.fromkeys(m.group() for m in DISTRICT.finditer(text)))[:2]
    blank = PROVINCE.sub("|", CITY.sub("|", DISTRICT.sub("|", text)))
    streets = _names(STREET_SUFFIX, blank, 4, 2, _NOT_STREET)
    for street in streets:
        blank = blank.replace(street, "|")
    spots = _names(SPOT_SUFFIX, blank, 8, 3, _NOT_SPOT)
    for spot in spots:
        blank = blank.replace(spot, "|")
    crowd = CROWD.search(text)
    return Place(
        province=province.group() if province else "",
        city=city.group() if city else "",
        districts=tuple(districts),
        streets=tuple(streets),
        spots=tuple(spots),
        roads=tuple(_names(ROAD_SUFFIX, blank, 6, 2, _NOT_ROAD)),
        crowd=crowd.group() if crowd else "",
    )


# --- messages and issues ----------------------------------------------------------------------------------


@dataclass
class Message:
    """One citizen message (留言) or work order, as hot-issue mining sees it."""

    id: str
    user: str
    title: str
    detail: str
    time: datetime
    likes: int = 0
    dislikes: int = 0
    # Where the system already placed it (a work order's area name and address), read before the title.
    place_hint: str = ""
    # The work order's area as a unit path ("/1/4/17/"): orders in unrelated areas never group.
    area_path: str = ""


@dataclass
class Issue:
    """A hot issue: messages about the same problem at the same place, with its heat and rank."""

    rank: int
    id: int
    heat: float
    start: datetime
    end: datetime
    place: str
    description: str
    messages: list[Message] = field(default_factory=list)

    @property
    def time_range(self) -> str:
        return f"{self.start:%Y/%m/%d} 至 {self.end:%Y/%m/%d}"


def heat(messages: Sequence[Message], now: datetime, half_life: timedelta) -> float:
    """热度指数 of a group of messages.

        heat = (2·ln(1+callers) + ln(1+messages) + 0.5·ln(1+votes) + 0.5·ln(1+span in days)) × recency
        votes = likes + dislikes / 2
        recency = 0.5 + 0.5 · 2^(−(now − last message) / half_life)

    Distinct callers weigh most: many people raising one issue (多人一诉) is what makes it hot, one person
    writing ten times (一人多诉) much less. Votes are clicks, cheaper than a message, so they weigh less; a
    dislike still shows attention, half as much. The logarithms keep one message with 2,000 likes from
    outweighing fifty callers. A long span means the problem persists. Recency at most halves the heat of an
    issue that went quiet, so that a large issue of the period's start still shows.
    """
    callers = len({m.user for m in messages})
    votes = sum(max(m.likes, 0) + max(m.dislikes, 0) / 2 for m in messages)
    start, end = min(m.time for m in messages), max(m.time for m in messages)
    span_days = (end - start) / timedelta(days=1)
    quiet = max(now - end, timedelta(0))
    base = 2 * math.log1p(callers) + math.log1p(len(messages)) + 0.5 * math.log1p(votes) + 0.5 * math.log1p(span_days)
    return base * (0.5 + 0.5 * 2 ** (-(quiet / half_life)))


def _content(message: Message, place: Place) -> tuple[list[str], list[str]]:
    """The message's title words (jieba) and detail character pairs, without its place names.

    Character pairs, not words, for the detail: segmenting it would cost several times the rest of the work at
    60,000 messages a day, and pairs match the same problem as well once the title has given its words.
    """
    title, detail = message.title, message.detail[:DETAIL_CHARS]
    for name in sorted(place.names, key=len, reverse=True):
        title, detail = title.replace(name, " "), detail.replace(name, " ")
    words = [w for w in tokenize(title) if w not in CONTENT_STOP_WORDS]
    pairs = [run[k : k + 2] for run in _RUNS.findall(_DIGITS.sub("0", normalize(detail))) for k in range(len(run) - 1)]
    return words, pairs


def _tfidf(docs: list[list[str]]) -> sparse.csr_matrix:
    # A term of one message links nothing; in a handful of messages no term is too common to matter.
    vectorizer = TfidfVectorizer(
        analyzer=lambda doc: doc, sublinear_tf=True, min_df=2, max_df=MAX_DF if len(docs) >= 100 else 1.0
    )
    try:
        return vectorizer.fit_transform(docs).tocsr()
    except ValueError:  # no term appears twice: nothing is similar
        return sparse.csr_matrix((len(docs), 1))


def _vectors(contents: list[tuple[list[str], list[str]]]) -> sparse.csr_matrix:
    """Unit vectors of each message's TERMS most telling terms; the title's terms weigh TITLE_WEIGHT in all."""
    titles = _tfidf([words for words, _ in contents])
    details = _tfidf([pairs for _, pairs in contents])
    x = sparse.hstack([titles * math.sqrt(TITLE_WEIGHT), details * math.sqrt(1 - TITLE_WEIGHT)]).tocsr()
    row = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    order = np.lexsort((-x.data, row))  # by row, largest weight first
    keep = order[np.arange(len(order)) - x.indptr[row[order]] < TERMS]
    x = sparse.csr_matrix((x.data[keep], (row[keep], x.indices[keep])), shape=x.shape)
    # a message with an empty title or detail is compared on the other part alone
    return normalize_rows(x, copy=False)


def _spot_ids(places: list[Place]) -> np.ndarray:
    """For each message, a number for its first spot (−1 without one); variants (万科魅力之城) share the number.

    A spot's number is that of the shortest other first spot it contains (魅力之城), if any.
    """
    cores = sorted({core(p.spots[0]) for p in places if p.spots}, key=lambda c: (len(c), c))
    number = {c: k for k, c in enumerate(cores)}
    canonical = {}
    for c in cores:
        inside = (c[a:b] for a in range(len(c)) for b in range(a + 3, len(c) + 1) if (a, b) != (0, len(c)))
        canonical[c] = min((number[s] for s in inside if s in number), default=number[c])
    return np.array([canonical[core(p.spots[0])] if p.spots else -1 for p in places])


def _candidate_pairs(x: sparse.csr_matrix, spot: np.ndarray) -> tuple[list[int], list[int]]:
    """Pairs (i < j) similar enough to group (step 3), most similar first, ties by i, then j."""
    xt = x.T.tocsr()
    rows, cols, sims = [], [], []
    for start in range(0, x.shape[0], BLOCK_ROWS):
        block = (x[start : start + BLOCK_ROWS] @ xt).tocoo()
        i, j, s = block.row + start, block.col, block.data
        same_spot = (spot[i] == spot[j]) & (spot[i] >= 0)
        keep = (j > i) & ((s >= CONTENT_THRESHOLD) | (same_spot & (s >= SPOT_THRESHOLD)))
        rows.append(i[keep])
        cols.append(j[keep])
        sims.append(s[keep])
    i, j, s = np.concatenate(rows), np.concatenate(cols), np.concatenate(sims)
    # rounded, so that float noise in the last bits cannot reorder equal similarities between runs
    order = np.lexsort((j, i, -np.round(s, 6)))
    return i[order].tolist(), j[order].tolist()


@dataclass
class _Places:
    """What union-find keeps of a group's places, to check a merge against the whole group."""

    spots: set[str]
    roads: set[str]
    streets: set[str]
    districts: set[str]
    paths: set[str]
    size: int = 1

    @classmethod
    def of(cls, message: Message, place: Place) -> "_Places":
        return cls(
            {core(s) for s in place.spots[:1]}, set(place.roads[:1]), set(place.streets), set(place.districts),
            {message.area_path} if message.area_path else set(),
        )  # fmt: skip

    @property
    def placed(self) -> bool:
        return bool(self.spots or self.roads or self.streets)

    def agrees(self, other: "_Places") -> bool:
        """Same area subtree (when known), and the same name at the most specific level both name.

        A spot on one side and only a road on the other are two places too: which estate is on which road is
        not known here. One message without a place may join a place's issue; several that already form an
        issue of their own stay one (they are about something, most likely a place not recognised).
        """
        if self.paths and other.paths:
            if not any(p.startswith(q) or q.startswith(p) for p in self.paths for q in other.paths):
                return False
        if self.placed != other.placed and (other.size if self.placed else self.size) > 1:
            return False
        if self.spots and other.spots:
            return names_match(self.spots, other.spots)
        if self.roads and other.roads:
            return names_match(self.roads, other.roads)
        if (self.spots or self.roads) and (other.spots or other.roads):
            return False
        if self.streets and other.streets:
            return names_match(self.streets, other.streets)
        return not (self.districts and other.districts) or bool(self.districts & other.districts)

    def absorb(self, other: "_Places") -> None:
        self.spots |= other.spots
        self.roads |= other.roads
        self.streets |= other.streets
        self.districts |= other.districts
        self.paths |= other.paths
        self.size += other.size


def _group(messages: list[Message], places: list[Place], x: sparse.csr_matrix) -> list[list[int]]:
    """Union-find over the candidate pairs, most similar first, merging only groups whose places agree."""
    parent = list(range(len(messages)))
    groups = [_Places.of(m, p) for m, p in zip(messages, places, strict=True)]

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*_candidate_pairs(x, _spot_ids(places)), strict=True):
        ri, rj = root(i), root(j)
        if ri == rj or not groups[ri].agrees(groups[rj]):
            continue
        # the earlier message stays the root, so that the result does not depend on the order of the pairs
        ri, rj = min(ri, rj), max(ri, rj)
        parent[rj] = ri
        groups[ri].absorb(groups[rj])
    members: dict[int, list[int]] = {}
    for i in range(len(messages)):
        members.setdefault(root(i), []).append(i)
    return list(members.values())


def _most_common(values: Iterable[str]) -> str:
    """The most frequent non-empty value; ties go to the one seen first."""
    counts = Counter(v for v in values if v)
    return max(counts, key=lambda v: counts[v]) if counts else ""


def _shared_name(named: list[tuple[str, ...]], quorum: int, key=lambda name: name) -> str:
    """The name most members give (variants count for each other), as most often written; "" below quorum."""
    written = Counter(n for names in named for n in dict.fromkeys(names))
    if not written:
        return ""
    keys = list(dict.fromkeys(key(n) for n in written))
    support = {k: sum(names_match([k], [key(n) for n in names]) for names in named) for k in keys}
    best = max(keys, key=lambda k: (support[k], sum(c for n, c in written.items() if key(n) == k)))
    if support[best] < quorum:
        return ""
    return _most_common(n for names in named for n in names if key(n) == best)


def _place_label(places: list[Place]) -> str:
    """地点/人群: city, district and the spot (or road, or street) the members share; else their crowd.

    A name counts when a quarter of the members give it (at least two, unless the issue is one message).
    """
    quorum = 1 if len(places) == 1 else max(2, math.ceil(len(places) / 4))
    city = _most_common(p.city for p in places)
    district = _most_common(d for p in places for d in p.districts[:1])
    if sum(district in p.districts for p in places) < quorum:
        district = ""
    admin = f"{city}{district}"
    where = (
        _shared_name([p.spots[:2] for p in places], quorum, core)
        or _shared_name([p.roads for p in places], quorum)
        or _shared_name([p.streets for p in places], quorum)
    )
    if where:
        return f"{admin}{where}"
    crowd = _most_common(p.crowd for p in places)
    if crowd and sum(p.crowd == crowd for p in places) < quorum:
        crowd = ""
    return f"{admin or _most_common(p.province for p in places)}{crowd}" or "未注明地点"


_TITLE_LEAD = re.compile(
    r"^(?:关于|反映|反应|投诉|举报|咨询|请问|建议|希望|恳请|请求|强烈要求|要求|再次|紧急|[A-Z]\d{0,2}[市区县])+"
)


def _description(members: list[int], messages: list[Message], x: sparse.csr_matrix) -> str:
    """The most central title (closest to the group's centroid; the earliest on ties), admin names cut off."""
    best = members[0]
    if len(members) > 1:
        vectors = x[members]
        scores = vectors @ np.asarray(vectors.sum(axis=0)).ravel()
        best = members[int(np.argmax(np.round(scores, 9)))]
    title = " ".join(messages[best].title.split()).strip("，。！？!?,. ")
    short = _TITLE_LEAD.sub("", title)
    return short if len(short) >= 4 else title


def find_issues(messages: Iterable[Message], *, now: datetime | None = None, top: int | None = None) -> list[Issue]:
    """The period's hot issues, hottest first (see the module docstring for the steps).

    ``now`` is the moment recency is measured from (the end of the period); by default the time of the latest
    message, so that the same file always gives the same table. ``top`` keeps only the hottest issues.
    """
    ordered = sorted(messages, key=lambda m: (m.time, str(m.id)))
    if not ordered:
        return []
    now = now or ordered[-1].time
    # Recency is relative to the period: an issue quiet for a quarter of it has lost a quarter of its heat.
    half_life = max((now - ordered[0].time) / 4, MIN_HALF_LIFE)
    places = [extract_place(m.place_hint, m.title, m.detail) for m in ordered]
    x = _vectors([_content(m, p) for m, p in zip(ordered, places, strict=True)])
    scored = [(heat([ordered[i] for i in g], now, half_life), g) for g in _group(ordered, places, x)]
    scored.sort(key=lambda hg: (-round(hg[0], 9), hg[1][0]))
    issues = []
    for rank, (value, members) in enumerate(scored[:top], start=1):
        group = [ordered[i] for i in members]
        issues.append(
            Issue(
                rank=rank,
                id=rank,
                heat=round(value, 2),
                start=group[0].time,
                end=group[-1].time,
                place=_place_label([places[i] for i in members]),
                description=_description(members, ordered, x),
                messages=group,
            )
        )
    return issues


def issues_from_orders(orders: Iterable, *, now: datetime | None = None, top: int | None = None) -> list[Issue]:
    """Hot issues of work orders (``orders.models.WorkOrder``, or anything with the same attributes).

    The caller is the caller's phone (the order itself when there is none); the order's area name and address
    are the place hint, and orders in unrelated areas of the unit tree never group. Orders carry no votes.
    """
    messages = []
    for order in orders:
        area = order.area
        messages.append(
            Message(
                id=order.number,
                user=order.caller_phone or order.number,
                title=order.title,
                detail=order.content,
                time=order.received_at,
                place_hint=" ".join(filter(None, (area.name if area else "", order.address or ""))),
                area_path=area.path if area else "",
            )
        )
    return find_issues(messages, now=now, top=top)


# --- snapshots of the work orders' hot issues (dashboard, daily report) ----------------------------------------

SNAPSHOT_TOP = 20
SNAPSHOT_KEEP = timedelta(days=90)


def take_snapshot(now: datetime | None = None, days: int | None = None) -> int:
    """Group the orders received in the last ``days`` days (setting ``hot_issue_days``) into hot issues and store
    the top ones as one snapshot (``analytics.HotIssue`` rows sharing ``computed_at``); returns how many.

    Merged orders (并单) are left out: their main order stands for them. Snapshots older than 90 days are removed.
    """
    from django.db import transaction
    from django.utils import timezone

    from analytics.models import HotIssue
    from orders.models import WorkOrder
    from system.config import get_setting

    now = now or timezone.now()
    days = days or get_setting("hot_issue_days")
    window_start = now - timedelta(days=days)
    orders = list(
        WorkOrder.objects.filter(received_at__gte=window_start, received_at__lt=now, parent__isnull=True)
        .select_related("area")
        .only("number", "caller_phone", "title", "content", "received_at", "address", "area__name", "area__path")
    )
    by_number = {order.number: order for order in orders}
    issues = issues_from_orders(orders, now=now, top=SNAPSHOT_TOP)
    with transaction.atomic():
        for issue in issues:
            row = HotIssue.objects.create(
                computed_at=now, window_start=window_start, window_end=now, rank=issue.rank, heat=issue.heat,
                first_at=issue.start, last_at=issue.end, place=issue.place[:200],
                description=issue.description[:300], order_count=len(issue.messages),
                caller_count=len({m.user for m in issue.messages}),
            )  # fmt: skip
            row.orders.set([by_number[m.id] for m in issue.messages])
        HotIssue.objects.filter(computed_at__lt=now - SNAPSHOT_KEEP).delete()
    return len(issues)


def latest_snapshot():
    """The issues of the latest snapshot, hottest first (an empty queryset before the first run)."""
    from analytics.models import HotIssue

    return HotIssue.latest()
