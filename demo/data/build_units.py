#!/usr/bin/env python3
"""Build the demo unit tree (units.json) and the default category routing (category_units.csv).

Usage:  python build_units.py [SOURCE_DIR]
SOURCE_DIR defaults to /work/shared/data/teddycup2020 (the Teddy Cup 2020 citizen messages).

Streets/towns and communities/villages are mined from the messages: a street is kept for the
district it co-occurs with (in messages naming exactly one district), a community for the street
whose name it directly follows ("…街道XX社区", "…镇XX村") or appears with. Where the data gives too
few, plausible names are invented from fixed pools. Output is deterministic (stdlib only, no
randomness; pseudo-random contact data comes from md5 of the unit code).
"""

import csv
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SRC = "/work/shared/data/teddycup2020"
MESSAGE_FILES = ["messages_with_replies.csv", "messages_with_votes.csv", "messages_labeled_sample.csv"]

HAN = re.compile(r"^[\u4e00-\u9fa5]+$")
# characters that never belong to a place name here (function words, numerals, admin words)
JUNK = set(
    "的在和是我你他她了于到等各个为及与跟就从们这那有把被对向给也都请该本此其所每几某"
    "多少两三四五六七八九十一二第将之而或并即还又但原市区县"
)
STREET_SUFFIX = r"街道|镇|乡"
COMM_SUFFIX = r"社区|村"
# generic words that look like "<2 chars>街道/镇/乡" but are not places
STREET_STOP = set("刚出 当时 曝光 经过 根据 月份 属地 希望 通过 找到 政府 社区 三大 沿街 城乡 乡镇".split())
# generic words that look like "<stem>社区/村"
COMM_STOP = set(
    "什么 影响 要求 召集 召开 干涉 历任 激起 建议 关注 周边 周围 附近 地方 任何 全体 普通 大型 "
    "城中 度假 新农 美丽 所在 当地 整个 行政 小康 癌症 安置 教师 失地 年代 弱势".split()
)

# NB: the demo city code is "A" (demo/loader.py also uses it), but org.models.code_validator
# requires 2-32 characters, so UnitForm rejects "A". Change it here (and wherever "A" is referenced).
CITY = "A"

STREETS_MIN, STREETS_MAX, STREET_MIN_SUPPORT = 3, 6, 3
COMMS_MIN, COMMS_MAX = 2, 3

# ---------------------------------------------------------------- fixed (non-mined) part

CITY_DEPARTMENTS = [  # code suffix, name
    ("ZJJ", "A市住房和城乡建设局"),
    ("CGJ", "A市城市管理和综合执法局"),
    ("ZGJ", "A市自然资源和规划局"),
    ("SHJ", "A市生态环境局"),
    ("JTJ", "A市交通运输局"),
    ("JYJ", "A市教育局"),
    ("WLJ", "A市文化旅游广电局"),
    ("RSJ", "A市人力资源和社会保障局"),
    ("WJW", "A市卫生健康委员会"),
    ("SJJ", "A市市场监督管理局"),
    ("GAJ", "A市公安局"),
    ("MZJ", "A市民政局"),
    ("SWJ", "A市商务局"),
    ("NYJ", "A市农业农村局"),
    ("FGW", "A市发展和改革委员会"),
    ("YJJ", "A市应急管理局"),
    ("JW", "A市纪委监委"),
]
DISTRICT_DEPARTMENTS = [("ZJJ", "住房和城乡建设局"), ("CGJ", "城市管理和综合执法局"), ("SJJ", "市场监督管理局")]
DISTRICTS_WITH_DEPARTMENTS = ["A1", "A2"]
UTILITIES = [
    ("A-POWER", "国网A市供电公司"),
    ("A-WATER", "A市供水有限公司"),
    ("A-GAS", "A市燃气有限公司"),
    ("A-TELECOM", "中国电信A市分公司"),
]

# default handler per (level1, level2); "" = no default department; level1 default under "*"
ROUTING = {
    "城乡建设": {
        "*": "A-ZJJ",
        "安全生产": "A-YJJ",
        "城市建设和市政管理": "A-CGJ",
        "城乡规划": "A-ZGJ",
        "集体土地上房屋拆迁与补偿": "A-ZGJ",
    },
    "党务政务": {"*": "", "党的建设": "A-JW", "民族宗教": "A-MZJ", "宣传舆论": "A-WLJ"},
    "国土资源": {"*": "A-ZGJ"},
    "环境保护": {"*": "A-SHJ"},
    "纪检监察": {"*": "A-JW"},
    "交通运输": {"*": "A-JTJ"},
    "经济管理": {
        "*": "",
        "安全生产": "A-YJJ",
        "宏观调控": "A-FGW",
        "国资监管": "A-FGW",
        "其他": "A-FGW",
        "能源管理": "A-POWER",
    },
    "科技与信息产业": {"*": "", "电信": "A-TELECOM", "知识产权": "A-SJJ", "信息化建设": "A-FGW", "科学技术": "A-FGW"},
    "民政": {"*": "A-MZJ"},
    "农村农业": {"*": "A-NYJ"},
    "商贸旅游": {"*": "A-SWJ", "旅游管理": "A-WLJ", "市场监管": "A-SJJ", "质监检验检疫": "A-SJJ"},
    "卫生计生": {"*": "A-WJW", "食品药品监管": "A-SJJ"},
    "政法": {
        "*": "A-GAJ",
        "法律服务": "",
        "法制建设": "",
        "行政复议": "",
        "诉讼": "",
        "刑罚执行": "",
        "仲裁与调解": "",
    },
    "教育文体": {"*": "A-JYJ", "体育": "A-WLJ", "文化": "A-WLJ", "文物管理": "A-WLJ"},
    "劳动和社会保障": {"*": "A-RSJ"},
}

# fallbacks when the messages give too few names (never used if the data suffices)
STREET_POOL = [
    "城东街道",
    "城西街道",
    "城南街道",
    "城北街道",
    "新城街道",
    "东湖街道",
    "桃源街道",
    "白沙街道",
    "花桥镇",
    "龙泉镇",
    "石门镇",
    "清水乡",
]
COMMUNITY_POOL = [
    "和平社区",
    "建设社区",
    "幸福社区",
    "新华社区",
    "东风社区",
    "光明社区",
    "胜利社区",
    "阳光社区",
    "育才社区",
    "文苑社区",
    "友谊社区",
    "团结社区",
    "长青社区",
    "锦绣社区",
    "春晖社区",
    "滨江社区",
    "金桂社区",
    "紫荆社区",
    "书香社区",
    "湘园社区",
    "东湖社区",
    "西园社区",
    "南苑社区",
    "北辰社区",
    "翠微社区",
    "映月社区",
    "晨曦社区",
    "嘉和社区",
    "康宁社区",
    "清风社区",
]
VILLAGE_POOL = [
    "丰收村",
    "红星村",
    "五星村",
    "新民村",
    "金桥村",
    "石桥村",
    "桃花村",
    "荷塘村",
    "枫树村",
    "柳塘村",
    "龙泉村",
    "白沙村",
    "檀木村",
    "双桥村",
    "清水村",
    "杉木村",
    "团山村",
    "花果村",
    "长塘村",
    "樟树村",
]

SURNAMES = (
    "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高罗郑梁谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁"
    "余叶蒋杜苏魏程吕丁沈任姚卢钟姜谭廖范汪陆金石戴贺龙易"
)
GIVEN = [
    "建华",
    "志强",
    "丽娟",
    "海燕",
    "卫东",
    "晓明",
    "红梅",
    "国庆",
    "文军",
    "秀英",
    "伟",
    "敏",
    "静",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
    "桂英",
    "玉兰",
    "建军",
    "春生",
    "湘平",
    "立新",
    "小燕",
    "志刚",
    "红霞",
    "德华",
    "振宇",
    "思远",
    "雅琴",
    "子豪",
    "佳怡",
    "浩然",
    "俊杰",
    "美玲",
]


# ---------------------------------------------------------------- helpers


def load_texts(src):
    texts = set()
    for name in MESSAGE_FILES:
        with open(Path(src) / name, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                texts.add(f"{row.get('title') or ''} {row.get('detail') or ''}")
    return sorted(texts)


def raw_candidates(text, suffix_re):
    """Every <2..4 Han chars><suffix> ending at each suffix occurrence."""
    out = set()
    for m in re.finditer(suffix_re, text):
        s = m.start()
        for n in (2, 3, 4):
            stem = text[s - n : s] if s - n >= 0 else ""
            if not stem or not HAN.match(stem):
                break
            out.add(stem + m.group(0))
    return out


def street_stem(name):
    return re.sub(r"(街道|镇|乡)$", "", name)


def comm_core(name):
    return re.sub(r"(社区|村)$", "", name)


def street_bad(stem):
    return stem in STREET_STOP or stem[-1] in "乡城小古家老返下回故镇" or "街道" in stem


def extract_streets(text, global_count):
    """Resolve each 街道/镇/乡 occurrence to one name: start from the 2-char stem and extend left while
    the longer form is clean and at least half as frequent corpus-wide (so 观沙岭街道 beats 沙岭街道,
    but 区暮云街道 / 我是暮云街道 lose to 暮云街道)."""
    out = set()
    for m in re.finditer(STREET_SUFFIX, text):
        s, suf, best = m.start(), m.group(0), None
        for n in (2, 3, 4):
            if s - n < 0:
                break
            stem = text[s - n : s]
            if not HAN.match(stem) or set(stem) & JUNK or street_bad(stem):
                break
            name = stem + suf
            if best is None or global_count[name] >= 0.5 * global_count[best]:
                best = name
            else:
                break
        if best:
            out.add(best)
    return out


def comm_bad(stem, suf):
    if stem[0] == "村" or "组" in stem or "街道" in stem or stem[-1] in "街镇乡区县市邻全农":
        return True
    if suf == "村" and (stem[-1] == "村" or stem.endswith(("城中", "度假"))):
        return True
    return stem in COMM_STOP or any(len(w) >= 2 and (stem.startswith(w) or stem.endswith(w)) for w in COMM_STOP)


def near_duplicate(a, b):
    """True for 鄱阳村/鄱阳社区, 字港村/芝字港村, 杨凤社区/杨峰社区 (same length, one character apart)."""
    a, b = comm_core(a), comm_core(b)
    return a in b or b in a or (len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1)


def extract_communities(text, street_variants):
    """(strong, weak) community names in text. strong: directly after a street name ("黄花镇合心村");
    weak: preceded by a function word or an admin suffix ("A5区莲湖村", "及百宜社区")."""
    strong, weak = set(), set()
    for m in re.finditer(COMM_SUFFIX, text):
        s, suf = m.start(), m.group(0)
        for n in (2, 3, 4):
            if s - n < 0:
                break
            stem = text[s - n : s]
            if not HAN.match(stem) or set(stem) & JUNK or comm_bad(stem, suf):
                break
            pre = text[max(0, s - n - 12) : s - n]
            if any(pre.endswith(v) for v in street_variants):
                strong.add(stem + suf)
                break
            if pre and (pre[-1] in JUNK or pre.endswith(("街道", "镇", "乡", "办", "委"))):
                weak.add(stem + suf)
                break
    return strong, weak


def digest(code, salt):
    return int(hashlib.sha256(f"{salt}:{code}".encode()).hexdigest(), 16)


def contact(code, used_phones):
    h = digest(code, "person")
    person = SURNAMES[h % len(SURNAMES)] + GIVEN[(h // 97) % len(GIVEN)]
    i = 0
    while True:
        phone = f"0731-8{digest(code, f'phone{i}') % 10**7:07d}"
        if phone not in used_phones:
            used_phones.add(phone)
            return person, phone
        i += 1


def sort_items(counter):
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


# ---------------------------------------------------------------- mining


def mine(texts):
    report = {}
    dist_counts = Counter()
    for t in texts:
        for d in set(re.findall(r"A\d[区县市]", t)):
            dist_counts[d] += 1
    districts = []  # (code, name)
    for i in range(1, 10):
        forms = {f"A{i}{s}": dist_counts[f"A{i}{s}"] for s in "区县市"}
        name = max(sorted(forms), key=lambda k: forms[k]) if any(forms.values()) else f"A{i}区"
        districts.append((f"A{i}", name))
    report["district_forms"] = {c: n for c, n in districts}
    report["district_counts"] = {n: dist_counts[n] for _, n in districts}
    dnames = [n for _, n in districts]

    # --- streets
    gcount = Counter()
    for t in texts:
        gcount.update(raw_candidates(t, STREET_SUFFIX))
    co = defaultdict(Counter)
    for t in texts:
        ds = [d for d in dnames if d in t]
        if len(ds) != 1:
            continue
        for n in extract_streets(t, gcount):
            co[n][ds[0]] += 1
    per_district = defaultdict(list)
    for n, c in co.items():
        d, k = sort_items(c)[0]
        if k >= 2 and k >= 0.6 * sum(c.values()):
            per_district[d].append((k, n))
    all_stems = {street_stem(n) for lst in per_district.values() for _, n in lst}
    streets = {}
    used_stems = set()
    for _, d in districts:
        chosen = []
        for k, n in sorted(per_district[d], key=lambda x: (-x[0], x[1])):
            stem = street_stem(n)
            if stem in used_stems or (stem[0] == "镇" and stem[1:] in all_stems):
                continue  # 星沙镇 after 星沙街道; 镇罗巷集镇 (= 罗巷集镇 after a stray 镇)
            if len(chosen) >= STREETS_MIN and k < STREET_MIN_SUPPORT:
                continue
            used_stems.add(stem)
            chosen.append((n, k))
            if len(chosen) == STREETS_MAX:
                break
        streets[d] = chosen
    pool = iter(n for n in STREET_POOL if street_stem(n) not in used_stems)
    for _, d in districts:
        while len(streets[d]) < STREETS_MIN:
            n = next(pool)
            used_stems.add(street_stem(n))
            streets[d].append((n, 0))

    # --- communities
    order = [(d, n) for _, d in districts for n, _ in streets[d]]
    score = defaultdict(dict)  # comm -> {street: (strong, weak)}
    for idx, (_district, sname) in enumerate(order):
        stem = street_stem(sname)
        variants = [stem + s for s in ("街道", "镇", "乡")]
        strong, weak = Counter(), Counter()
        for t in texts:
            if any(v in t for v in variants):
                a, b = extract_communities(t, variants)
                strong.update(a)
                weak.update(a | b)
        for c in weak:
            score[c][idx] = (strong[c], weak[c])
    street_names = {n for _, n in order}
    assigned = defaultdict(list)
    for c, by in score.items():
        if c in street_names:
            continue
        idx, (st, wk) = sorted(by.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))[0]
        if st >= 1 or wk >= 2:
            assigned[idx].append((st, wk, c))
    comms = {}
    taken = set()
    for idx, (d, sname) in enumerate(order):
        chosen = []
        for st, wk, c in sorted(assigned[idx], key=lambda x: (-x[0], -x[1], x[2])):
            if c in taken or any(near_duplicate(c, o) for o, _, _ in chosen):
                continue
            chosen.append((c, st, wk))
            if len(chosen) == COMMS_MAX:
                break
        taken.update(c for c, _, _ in chosen)
        comms[(d, sname)] = chosen
    all_mined = {c for c in score}
    cpool = iter(n for n in COMMUNITY_POOL if n not in all_mined)
    vpool = iter(n for n in VILLAGE_POOL if n not in all_mined)
    for d, sname in order:
        lst = comms[(d, sname)]
        while len(lst) < COMMS_MIN:
            n = next(cpool) if sname.endswith("街道") else next(vpool)
            taken.add(n)
            lst.append((n, 0, 0))
    return districts, streets, comms, report


# ---------------------------------------------------------------- assembly


def build_units(districts, streets, comms):
    units, phones = [], set()

    def add(code, name, kind, parent, area):
        person, phone = contact(code, phones)
        units.append(
            {
                "code": code,
                "name": name,
                "kind": kind,
                "parent": parent,
                "area": area,
                "contact_person": person,
                "contact_phone": phone,
            }
        )

    add(CITY, "A市", "city", None, "A市")
    add("A-12345", "A市12345政务服务便民热线中心", "center", CITY, "A市")
    for suffix, name in CITY_DEPARTMENTS:
        add(f"A-{suffix}", name, "department", CITY, "A市")
    for code, name in UTILITIES:
        add(code, name, "utility", CITY, "A市")
    for dcode, dname in districts:
        darea = f"A市{dname}"
        add(dcode, dname, "district", CITY, darea)
        if dcode in DISTRICTS_WITH_DEPARTMENTS:
            for suffix, name in DISTRICT_DEPARTMENTS:
                add(f"{dcode}-{suffix}", dname + name, "department", dcode, darea)
        for i, (sname, _) in enumerate(streets[dname], 1):
            scode = f"{dcode}-S{i:02d}"
            add(scode, sname, "street", dcode, darea + sname)
            for j, (cname, _, _) in enumerate(comms[(dname, sname)], 1):
                add(f"{scode}-C{j:02d}", cname, "community", scode, darea + sname + cname)
    return units


def read_categories(src):
    pairs = []
    with open(Path(src) / "categories.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            p = (row["level1"].strip(), row["level2"].strip())
            if p not in pairs:
                pairs.append(p)
    return pairs


def build_routing(pairs):
    rows = []
    for l1, l2 in pairs:
        table = ROUTING.get(l1, {})
        rows.append((l1, l2, table.get(l2, table.get("*", ""))))
    return rows


# ---------------------------------------------------------------- checks

ALLOWED_PARENTS = {
    "city": {None},
    "district": {"city"},
    "street": {"district"},
    "community": {"street"},
    "department": {"city", "district", "department"},
    "utility": {"city", "utility"},
    "center": {"city"},
}


def check(units, rows, pairs):
    errors, warnings = [], []
    by_code, seen_sib = {}, set()
    for u in units:
        if set(u) != {"code", "name", "kind", "parent", "area", "contact_person", "contact_phone"}:
            errors.append(f"keys {u['code']}")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", u["code"]):
            errors.append(f"code {u['code']!r} does not match ^[A-Za-z0-9_-]{{1,32}}$ (org.models.code_validator)")
        if u["code"] in by_code:
            errors.append(f"duplicate code {u['code']}")
        if u["kind"] not in ALLOWED_PARENTS:
            errors.append(f"bad kind {u['code']}")
        if u["parent"] is not None and u["parent"] not in by_code:
            errors.append(f"parent after child / missing: {u['code']}")
        pkind = by_code[u["parent"]]["kind"] if u["parent"] in by_code else None
        if pkind not in ALLOWED_PARENTS.get(u["kind"], set()):
            errors.append(f"kind {u['kind']} under {pkind}: {u['code']}")
        if (u["parent"], u["name"]) in seen_sib:
            errors.append(f"sibling name clash {u['name']}")
        seen_sib.add((u["parent"], u["name"]))
        if not re.fullmatch(r"0\d{2,3}-\d{7,8}", u["contact_phone"]):
            errors.append(f"bad phone {u['code']}")
        if not HAN.match(
            u["name"].replace("A", "").replace("12345", "").translate(str.maketrans("", "", "0123456789"))
        ):
            errors.append(f"name not Chinese {u['name']}")
        if not u["contact_person"] or not HAN.match(u["contact_person"]):
            errors.append(f"bad person {u['code']}")
        if u["kind"] == "street" and not re.search(r"(街道|镇|乡)$", u["name"]):
            errors.append(f"street suffix {u['name']}")
        if u["kind"] == "community" and not re.search(r"(社区|村)$", u["name"]):
            errors.append(f"community suffix {u['name']}")
        by_code[u["code"]] = u
    kinds = Counter(u["kind"] for u in units)
    city_depts = sum(1 for u in units if u["kind"] == "department" and u["parent"] == CITY)
    dist_depts = kinds["department"] - city_depts
    streets = [u for u in units if u["kind"] == "street"]
    per_street = Counter(u["parent"] for u in units if u["kind"] == "community")
    per_district = Counter(u["parent"] for u in streets)
    expect = [
        (kinds["city"] == 1, "1 city"),
        (kinds["center"] == 1, "1 centre"),
        (kinds["district"] == 9, "9 districts"),
        (27 <= len(streets) <= 54, "27-54 streets"),
        (all(3 <= v <= 6 for v in per_district.values()) and len(per_district) == 9, "3-6 streets/district"),
        (all(2 <= per_street[s["code"]] <= 3 for s in streets), "2-3 communities/street"),
        (13 <= city_depts <= 18, "~15 city departments"),
        (dist_depts == 6, "6 district departments"),
        (kinds["utility"] == 4, "4 utilities"),
    ]
    errors += [f"count check failed: {msg}" for ok, msg in expect if not ok]
    names = Counter(u["name"] for u in units if u["kind"] in ("street", "community"))
    errors += [f"street/community name used twice: {n}" for n, c in names.items() if c > 1]
    # routing
    if [(a, b) for a, b, _ in rows] != pairs or len(set(pairs)) != len(pairs):
        errors.append("routing rows do not match category pairs")
    for l1, l2, code in rows:
        if code and (
            code not in by_code
            or by_code[code]["kind"] not in ("department", "utility")
            or by_code[code]["parent"] != CITY
        ):
            errors.append(f"routing {l1}/{l2} -> unknown or non city-level unit {code}")
    covered = {l1 for l1, _, code in rows if code}
    missing = {l1 for l1, _ in pairs} - covered
    if missing:
        errors.append(f"top categories without any handler: {sorted(missing)}")
    return errors, warnings, kinds, city_depts, dist_depts, len(streets)


# ---------------------------------------------------------------- main


def main(argv):
    src = argv[1] if len(argv) > 1 else DEFAULT_SRC
    texts = load_texts(src)
    districts, streets, comms, report = mine(texts)
    units = build_units(districts, streets, comms)
    pairs = read_categories(src)
    rows = build_routing(pairs)

    with open(HERE / "units.json", "w", encoding="utf-8", newline="\n") as f:
        json.dump(units, f, ensure_ascii=False, indent=2)
        f.write("\n")
    with open(HERE / "category_units.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["level1", "level2", "unit_code"])
        w.writerows(rows)

    # re-read what was written and verify it
    with open(HERE / "units.json", encoding="utf-8") as f:
        units_back = json.load(f)
    with open(HERE / "category_units.csv", encoding="utf-8", newline="") as f:
        rows_back = [(r["level1"], r["level2"], r["unit_code"]) for r in csv.DictReader(f)]
    errors, warnings, kinds, city_depts, dist_depts, n_streets = check(units_back, rows_back, pairs)

    print(f"messages (deduplicated): {len(texts)}")
    print("district name forms:", ", ".join(f"{n}={c}" for n, c in report["district_counts"].items()))
    for _, d in districts:
        print(f"{d}:")
        for sname, k in streets[d]:
            cs = ", ".join(f"{c}({st}/{wk})" if st or wk else f"{c}(invented)" for c, st, wk in comms[(d, sname)])
            print(f"  {sname} [{k if k else 'invented'}] -> {cs}")
    print(
        f"units: {len(units_back)}  kinds: {dict(sorted(kinds.items()))}  city departments: {city_depts}  "
        f"district departments: {dist_depts}  streets: {n_streets}"
    )
    print(
        f"category pairs: {len(rows_back)}  routed: {sum(1 for r in rows_back if r[2])}  "
        f"empty: {sum(1 for r in rows_back if not r[2])}"
    )
    for w in warnings:
        print("WARNING (kept as specified):", w)
    if errors:
        print("CHECK FAILED:\n  " + "\n  ".join(errors))
        return 1
    print("CHECK OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
