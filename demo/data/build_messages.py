#!/usr/bin/env python3
"""Build the demo citizen messages (messages.csv) that demo/history.py replays as work orders.

Usage:  python build_messages.py [SOURCE]
SOURCE is messages_with_replies.csv or the folder holding it (default /work/shared/data/teddycup2020,
the Teddy Cup 2020 citizen messages with the official replies).

For each message the script picks a leaf of the category tree (categories/data/categories.csv) from
its title when the title names one (else from title and detail), a request type, and the district and
street of A市 (demo/data/units.json) the text names, if any.
Messages about A市 come first; the rest is filled in a fixed pseudo-random order (md5 of the
message id). Output is deterministic; stdlib only.

Columns: title, detail (≤ 1000 chars), reply (≤ 1500 chars), level1, level2, level3, request_type,
district (unit code A1…A9 or empty), street (unit code or empty).
"""

import csv
import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SRC = "/work/shared/data/teddycup2020"
SOURCE_FILE = "messages_with_replies.csv"
CATEGORIES_CSV = HERE.parent.parent / "categories" / "data" / "categories.csv"
UNITS_JSON = HERE / "units.json"
OUT = HERE / "messages.csv"

COUNT = 2000
MAX_TITLE, MAX_DETAIL, MAX_REPLY = 200, 1000, 1500
COLUMNS = ["title", "detail", "reply", "level1", "level2", "level3", "request_type", "district", "street"]
GENERIC = {"其他"}

# Fallback when no category name occurs in the text: first rule whose keyword occurs wins.
KEYWORD_LEAVES: list[tuple[tuple[str, ...], tuple[str, str, str]]] = [
    (("幼儿园",), ("教育文体", "教育体制", "教育资源配置")),
    (("招生", "学位", "入学", "升学", "读书"), ("教育文体", "考试招生", "招生录取")),
    (("教师", "老师"), ("教育文体", "教师队伍和待遇", "师资力量")),
    (("学校", "学生", "小学", "中学", "学院", "教育"), ("教育文体", "教育行政管理", "教学管理")),
    (("网吧", "电玩", "娱乐场所"), ("教育文体", "文化", "文化市场与文化执法")),
    (("生育津贴", "产假", "产检", "产前检查"), ("劳动和社会保障", "城镇职工社会保险", "职工生育保险")),
    (("独生子女",), ("卫生计生", "人口计生", "独生子女父母奖励政策")),
    (("计划生育", "计生", "二胎"), ("卫生计生", "人口计生", "计划生育服务管理")),
    (("医院", "医生", "医疗", "看病", "就医", "患者"), ("卫生计生", "医政监管", "医疗技术和服务")),
    (("疫苗", "防疫", "传染"), ("卫生计生", "公共卫生", "疾病预防控制")),
    (("食品", "餐馆", "饭店"), ("卫生计生", "食品药品监管", "食品安全")),
    (("医保",), ("劳动和社会保障", "城镇职工社会保险", "职工医疗保险")),
    (("社保", "养老保险", "参保"), ("劳动和社会保障", "城镇职工社会保险", "职工养老保险")),
    (("工资", "欠薪", "薪酬"), ("劳动和社会保障", "工资福利", "工资发放")),
    (("退休",), ("劳动和社会保障", "退休政策及待遇", "退休人员待遇")),
    (("就业", "招聘", "失业", "人才引进"), ("劳动和社会保障", "就业培训", "就业和再就业")),
    (("低保",), ("民政", "社会救助", "城镇低保")),
    (("残疾", "孤寡", "老人", "老年", "养老"), ("民政", "福利慈善", "福利事业")),
    (("退伍", "军人", "优抚"), ("民政", "优抚", "其他")),
    (("户口", "户籍", "上户", "落户"), ("政法", "户籍证件", "户籍管理")),
    (("身份证",), ("政法", "户籍证件", "身份证管理")),
    (("驾校", "驾照", "驾驶证", "上牌", "年检", "科目"), ("政法", "交通管理", "机动车和驾驶员管理")),
    (("偷", "盗", "诈骗", "赌博", "黑恶"), ("政法", "社会治安", "治安案件")),
    (("辐射", "高压线", "基站"), ("环境保护", "环境污染", "电磁污染")),
    (("噪音", "噪声", "扰民"), ("环境保护", "环境污染", "噪音污染")),
    (("污水", "排污", "河水"), ("环境保护", "环境污染", "水污染")),
    (("油烟", "废气", "粉尘", "烟尘", "臭气", "异味"), ("环境保护", "环境污染", "大气污染")),
    (("污染", "排放", "垃圾"), ("环境保护", "环境污染", "其他污染")),
    (("捕捞", "捕猎", "野生"), ("农村农业", "野生资源管理", "野生动植物保护")),
    (("补贴",), ("农村农业", "惠农补贴", "其他补贴")),
    (("地铁", "轨道", "磁浮"), ("城乡建设", "城市建设和市政管理", "地铁城铁")),
    (("公交", "站点", "班车", "坐车"), ("交通运输", "客货运输", "旅客运输")),
    (("出租车", "的士", "网约车"), ("交通运输", "出租车管理", "行业监管")),
    (("路灯",), ("城乡建设", "城市建设和市政管理", "城市公共设施")),
    (("停水", "自来水", "供水", "饮水", "喝水", "水管"), ("城乡建设", "城市建设和市政管理", "自来水供应")),
    (("停电", "供电", "电力"), ("城乡建设", "城市建设和市政管理", "电力供应")),
    (("燃气", "天然气", "煤气"), ("城乡建设", "城市建设和市政管理", "燃气供应")),
    (("下水道", "排水", "公厕"), ("城乡建设", "城市建设和市政管理", "基础设施")),
    (("占道", "摆摊", "摊贩", "烧烤", "广告"), ("城乡建设", "城市建设和市政管理", "城管执法")),
    (("公园", "广场", "绿化"), ("城乡建设", "城市建设和市政管理", "公园管理")),
    (("景区", "旅游", "导游"), ("商贸旅游", "旅游管理", "景区管理")),
    (("电梯", "锅炉"), ("商贸旅游", "质监检验检疫", "特种设备管理")),
    (("超市", "消费者", "虚假", "霸王条款", "商家", "质量问题"), ("商贸旅游", "市场监管", "商品质量")),
    (("收费", "扣费", "价格", "涨价"), ("商贸旅游", "市场监管", "物价监督")),
    (("信号", "宽带", "通信", "网络"), ("科技与信息产业", "电信", "通信保障")),
    (("道路", "修路", "路面", "公路", "马路", "路段"), ("交通运输", "建设管理", "设施维护")),
    (("交通", "车辆", "停车"), ("交通运输", "客货运输", "运输安全")),
    (("物业",), ("城乡建设", "住房保障与房地产", "物业服务")),
    (("小区",), ("城乡建设", "城市建设和市政管理", "小区管理")),
    (("规划",), ("城乡建设", "城乡规划", "规划方案")),
    (("集体土地", "宅基地"), ("城乡建设", "集体土地上房屋拆迁与补偿", "房屋拆迁")),
    (("拆迁", "征收", "征地"), ("城乡建设", "国有土地上房屋征收与补偿", "房屋拆迁")),
    (("楼盘", "烂尾", "工程", "施工"), ("城乡建设", "工程质量", "施工安全")),
    (("房", "住房", "开发商"), ("城乡建设", "住房保障与房地产", "房地产开发管理")),
]
FALLBACK_LEAF = ("城乡建设", "其他", "其他")

# Request type: the title decides first, then the detail; praise only from the title (the detail's
# "感谢" is mostly politeness).
TITLE_TYPES = [
    ("complaint", ("投诉",)),
    ("report", ("举报",)),
    ("praise", ("感谢", "表扬", "点赞")),
    ("consult", ("咨询", "请问", "问一下", "能否告知", "是否")),
    ("suggestion", ("建议", "希望", "呼吁")),
]
DETAIL_TYPES = [
    ("complaint", ("投诉",)),
    ("report", ("举报",)),
    ("consult", ("咨询", "请问")),
    ("suggestion", ("建议",)),
]

SPACE = re.compile(r"[\s\u00a0\u3000]+")
# "“UU…”您好！您通过平台《问政西地省》的留言收悉，已转有关部门答复反馈，谢谢！2019年11月4日" in front of the real reply
TRAILING_DATE = re.compile(r"\s*\d{4}(年\d{1,2}月\d{1,2}日|[.-]\d{1,2}[.-]\d{1,2})\s*$")
FORWARD_PREAMBLE = re.compile(
    r"^.{0,60}?(留言|帖文|来信)(已)?收悉，已(转|交)[^。]{0,40}?谢谢！\s*\d{4}年\d{1,2}月\d{1,2}日\s*"
)


def clean(text: str) -> str:
    text = SPACE.sub(" ", text or "").strip()
    return text.replace("《问政西地省》", "12345热线").replace("问政西地省", "12345热线")


def trim(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut after a sentence end when one is near the limit."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    cut = max(head.rfind(mark) for mark in "。！？；")
    if cut >= limit * 0.6:
        return head[: cut + 1]
    return head + "…"


def clean_reply(text: str) -> str:
    text = clean(text)
    rest = FORWARD_PREAMBLE.sub("", text, count=1)
    text = rest if len(rest) >= 30 else text
    return TRAILING_DATE.sub("", text).strip()  # the source's reply date would contradict the demo's


def load_leaves(path: Path) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8") as f:
        return [(r["level1"], r["level2"], r["level3"]) for r in csv.DictReader(f)]


def keyword_leaf(text: str) -> tuple[str, str, str]:
    for words, leaf in KEYWORD_LEAVES:
        if any(w in text for w in words):
            return leaf
    return FALLBACK_LEAF


def longest_match(text: str, names: list[str]) -> str | None:
    """The longest name occurring in text; among equally long ones the earliest occurrence."""
    best, best_key = None, None
    for name in names:
        pos = text.find(name)
        if pos < 0:
            continue
        key = (-len(name), pos)
        if best_key is None or key < best_key:
            best, best_key = name, key
    return best


def choose_leaf_for(title: str, detail: str, leaves: list[tuple[str, str, str]]) -> tuple[str, str, str]:
    """From the title when it names a category or a keyword, else from title and detail together: the title says
    what the message is about, while a detail mentions much else (the bus to school is not about schools)."""
    level_names = {l3 for _, _, l3 in leaves} | {l2 for _, l2, _ in leaves}
    names = sorted(n for n in level_names if n not in GENERIC and len(n) >= 2)
    if longest_match(title, names) or keyword_leaf(title) != FALLBACK_LEAF:
        return choose_leaf(title, leaves)
    return choose_leaf(f"{title} {detail}", leaves)


def choose_leaf(text: str, leaves: list[tuple[str, str, str]]) -> tuple[str, str, str]:
    guess = keyword_leaf(text)
    level3_names = sorted({l3 for _, _, l3 in leaves if l3 not in GENERIC and len(l3) >= 2})
    name = longest_match(text, level3_names)
    if name:
        options = [leaf for leaf in leaves if leaf[2] == name]
        return next((leaf for leaf in options if leaf[0] == guess[0]), options[0])
    level2_names = sorted({l2 for l1, l2, _ in leaves if l2 not in GENERIC and l2 != l1 and len(l2) >= 2})
    name = longest_match(text, level2_names)
    if name:
        options = [leaf for leaf in leaves if leaf[1] == name]
        preferred = [leaf for leaf in options if leaf[0] == guess[0]] or options
        return next((leaf for leaf in preferred if leaf[2] in GENERIC), preferred[0])
    return guess


def request_type(title: str, detail: str) -> str:
    for code, words in TITLE_TYPES:
        if any(w in title for w in words):
            return code
    for code, words in DETAIL_TYPES:
        if any(w in detail for w in words):
            return code
    return "help"


def first_place(text: str, names: dict[str, str]) -> str:
    """Code of the place named earliest in text (a name must not continue a longer code like "A12区")."""
    best, best_pos = "", None
    for name, code in names.items():
        for match in re.finditer(rf"(?<![A-Za-z0-9]){re.escape(name)}", text):
            if best_pos is None or match.start() < best_pos:
                best, best_pos = code, match.start()
            break
    return best


def load_places(path: Path) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    units = json.loads(path.read_text(encoding="utf-8"))
    districts = {u["name"]: u["code"] for u in units if u["kind"] == "district"}
    streets = {u["name"]: (u["code"], u["parent"]) for u in units if u["kind"] == "street"}
    return districts, streets


def locate(text: str, districts: dict[str, str], streets: dict[str, tuple[str, str]]) -> tuple[str, str]:
    district = first_place(text, districts)
    candidates = {name: code for name, (code, parent) in streets.items() if not district or parent == district}
    street = first_place(text, candidates)
    if street and not district:
        district = next(parent for code, parent in streets.values() if code == street)
    return district, street


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 - ordering only, not security


def build(source: Path) -> list[dict[str, str]]:
    leaves = load_leaves(CATEGORIES_CSV)
    districts, streets = load_places(UNITS_JSON)
    seen: set[tuple[str, str]] = set()
    rows = []
    with source.open(encoding="utf-8") as f:
        for raw in csv.DictReader(f):
            title, detail, reply = clean(raw["title"]), clean(raw["detail"]), clean_reply(raw["reply"])
            if not title or not detail or len(reply) < 10 or (title, detail) in seen:
                continue
            seen.add((title, detail))
            text = f"{title} {detail}"
            level1, level2, level3 = choose_leaf_for(title, detail, leaves)
            district, street = locate(text, districts, streets)
            rows.append(
                {
                    "title": trim(title, MAX_TITLE),
                    "detail": trim(detail, MAX_DETAIL),
                    "reply": trim(reply, MAX_REPLY),
                    "level1": level1,
                    "level2": level2,
                    "level3": level3,
                    "request_type": request_type(title, detail),
                    "district": district,
                    "street": street,
                    "_local": bool(district or "A市" in text),
                    "_key": md5(raw["id"]),
                }
            )
    chosen = sorted(rows, key=lambda r: (not r["_local"], r["_key"]))[:COUNT]
    chosen.sort(key=lambda r: r["_key"])
    return [{k: r[k] for k in COLUMNS} for r in chosen]


def main(argv: list[str]) -> int:
    source = Path(argv[1] if len(argv) > 1 else DEFAULT_SRC)
    if source.is_dir():
        source = source / SOURCE_FILE
    rows = build(source)
    with OUT.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    local = sum(1 for r in rows if r["district"])
    print(f"{OUT.name}: {len(rows)} messages, {local} naming a district of A市")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
