"""Hot issues (analytics/hot_issues.py) and ``manage.py hot_issues``.

Crafted messages in the style of the Teddy Cup data pin down the grouping (same problem at the same place
together, another place or another problem apart), the heat index and the command's tables and errors. They
are mixed into a few hundred real messages of that data, as in use: how telling a word is depends on the
other messages of the period. Nothing here needs the database.
"""

import csv
import random
import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command

from analytics.hot_issues import Issue, Message, extract_place, find_issues, heat, issues_from_orders
from analytics.management.commands.hot_issues import (
    ISSUE_HEADER,
    ISSUES_FILE,
    MESSAGE_HEADER,
    MESSAGES_FILE,
    read_messages,
    write_tables,
)

DATA = Path(__file__).resolve().parent.parent / "analytics" / "data" / "messages_with_votes.csv"

T0 = datetime(2019, 11, 2, 9, 0)

MIXING_PLANT = [  # one problem at 丽发新城, worded by different people
    ("A2区丽发新城附近修建搅拌站噪音扰民", "丽发新城小区旁边建了搅拌站，机器日夜轰鸣，噪音扰民，粉尘满天飞。"),
    ("投诉丽发新城小区旁搅拌站噪音太大", "搅拌站噪音太大，晚上无法睡觉，粉尘污染严重，请求取缔搅拌站。"),
    ("A市丽发新城搅拌站粉尘噪音污染严重", "丽发新城的业主深受搅拌站粉尘和噪音之苦，搅拌站离楼栋不到百米。"),
]
CRACKS = [  # another problem at the same estate
    ("A市丽发新城楼板墙面开裂", "丽发新城多户房屋楼板开裂、墙面开裂，开发商拒不维修，房屋质量堪忧。"),
    ("丽发新城房屋楼板严重开裂", "交房不到一年，丽发新城房屋楼板和墙面出现裂缝，质量问题严重。"),
]


def msg(n: int, title: str, detail: str = "", *, user: str = "", hours: float = 0, **votes: int) -> Message:
    return Message(str(n), user or f"U{n}", title, detail, T0 + timedelta(hours=hours), **votes)


def messages(pairs: list[tuple[str, str]], start: int = 1, **kwargs) -> list[Message]:
    return [msg(start + k, title, detail, hours=k, **kwargs) for k, (title, detail) in enumerate(pairs)]


@pytest.fixture(scope="module")
def background() -> list[Message]:
    """400 real messages about other things (none names the crafted places or problems)."""
    crafted = re.compile("丽发|魅力之城|搅拌|开裂|裂缝|路灯")
    return [m for m in read_messages(DATA) if not crafted.search(m.title + m.detail)][:400]


def groups(issues: list[Issue], ids: set[str] | None = None) -> set[frozenset[str]]:
    """The issues as sets of message ids, only those of ``ids`` (the crafted ones) when given."""
    found = {frozenset(m.id for m in issue.messages if ids is None or m.id in ids) for issue in issues}
    return found - {frozenset()}


def crafted_groups(pool: list[Message], background: list[Message]) -> set[frozenset[str]]:
    return groups(find_issues(background + pool), {m.id for m in pool})


def ranked(pool: list[Message], background: list[Message]) -> list[Issue]:
    """The issues of the crafted messages, hottest first, among the background's."""
    ids = {m.id for m in pool}
    return [i for i in find_issues(background + pool) if any(m.id in ids for m in i.messages)]


def at(place: str, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(t.replace("丽发新城", place), d.replace("丽发新城", place)) for t, d in pairs]


# --- places -------------------------------------------------------------------------------------------------


def test_place_is_read_from_the_anonymised_admin_names_and_the_estate():
    place = extract_place("A市A5区魅力之城小区临街门面油烟直排扰民", "")
    assert (place.city, place.districts, place.spots) == ("A市", ("A5区",), ("魅力之城小区",))


def test_street_and_town_are_read_by_their_suffix():
    assert extract_place("A7县星沙街道凉塘路旧城改造何时启动").streets == ("星沙街道",)
    assert extract_place("A7县春华镇金鼎村水泥路到户").streets == ("春华镇",)


def test_verbs_in_front_of_an_estate_are_not_part_of_its_name():
    assert extract_place("投诉A市伊景园滨河苑捆绑销售车位").spots == ("伊景园滨河苑",)
    assert extract_place("关于伊景园·滨河苑捆绑车位").spots == ("伊景园滨河苑",)
    assert extract_place("我是暮云街道丽发新城小区的业主，严重影响小区居民").spots == ("丽发新城小区",)


def test_a_road_in_front_of_an_estate_is_a_road_of_its_own():
    place = extract_place("A5区劳动东路魅力之城小区油烟扰民")
    assert place.spots == ("魅力之城小区",) and place.roads == ("劳动东路",)


def test_generic_nouns_are_no_place():
    assert extract_place("老旧小区加装电梯补贴标准", "安置小区和城中村的道路太差").spots == ()


def test_crowd_is_read_when_named():
    assert extract_place("外卖骑手在A市被随意罚款").crowd == "外卖骑手"


# --- grouping -----------------------------------------------------------------------------------------------


def test_same_problem_at_the_same_place_is_one_issue(background):
    pool = messages(MIXING_PLANT)
    assert crafted_groups(pool, background) == {frozenset({"1", "2", "3"})}
    (issue,) = ranked(pool, background)
    assert issue.place == "A市丽发新城" and "搅拌站" in issue.description
    assert [m.id for m in issue.messages] == ["1", "2", "3"]


def test_same_problem_at_another_place_is_another_issue(background):
    pool = messages(MIXING_PLANT) + messages(at("魅力之城", MIXING_PLANT), start=11)
    assert crafted_groups(pool, background) == {frozenset({"1", "2", "3"}), frozenset({"11", "12", "13"})}
    assert {i.place for i in ranked(pool, background)} == {"A市丽发新城", "A市魅力之城"}


def test_estate_and_road_are_two_places(background):
    lamps = [
        ("A3区枫林路路灯不亮", "枫林路一段路灯坏了半个月，晚上很黑，出行不便。"),
        ("丽发新城小区门口路灯不亮", "丽发新城小区门口的路灯坏了半个月，晚上很黑，出行不便。"),
        ("枫林路的路灯坏了", "枫林路路灯坏了半个月，晚上很黑。"),
    ]
    assert crafted_groups(messages(lamps), background) == {frozenset({"1", "3"}), frozenset({"2"})}


def test_another_problem_at_the_same_place_is_another_issue(background):
    pool = messages(MIXING_PLANT) + messages(CRACKS, start=11)
    assert crafted_groups(pool, background) == {frozenset({"1", "2", "3"}), frozenset({"11", "12"})}


def test_unrelated_messages_stay_apart(background):
    unrelated = [
        ("丽发新城小区门口路灯不亮", "丽发新城小区门口的路灯坏了，晚上出行不便。"),
        ("咨询A市公积金提取流程", "想了解公积金提取需要哪些材料，在哪里办理。"),
    ]
    pool = messages(MIXING_PLANT) + messages(unrelated, start=11)
    assert crafted_groups(pool, background) == {frozenset({"1", "2", "3"}), frozenset({"11"}), frozenset({"12"})}


def test_message_without_a_place_joins_by_close_wording_but_does_not_chain_two_places(background):
    placeless = msg(50, "投诉小区旁搅拌站噪音太大", "搅拌站噪音太大，晚上无法睡觉，粉尘污染严重，请求取缔搅拌站。")
    pool = messages(MIXING_PLANT) + [placeless]
    assert crafted_groups(pool, background) == {frozenset({"1", "2", "3", "50"})}
    pool += messages(at("魅力之城", MIXING_PLANT), start=11)
    found = crafted_groups(pool, background)
    assert not any({"1", "11"} <= g for g in found)
    assert {"1", "2", "3"} <= max(found, key=lambda g: "1" in g) and {"11", "12", "13"} <= max(
        found, key=lambda g: "11" in g
    )


def test_messages_without_a_place_that_form_an_issue_stay_their_own(background):
    text = ("投诉小区旁搅拌站噪音太大", "搅拌站噪音太大，晚上无法睡觉，粉尘污染严重，请求取缔搅拌站。")
    pool = messages(MIXING_PLANT) + [msg(50, *text), msg(51, *text)]
    assert crafted_groups(pool, background) == {frozenset({"1", "2", "3"}), frozenset({"50", "51"})}


def test_result_does_not_depend_on_the_order_of_the_messages(background):
    pool = background + messages(MIXING_PLANT) + messages(CRACKS, start=11)
    shuffled = pool[:]
    random.Random(3).shuffle(shuffled)

    def table(issues: list[Issue]) -> list[tuple]:
        return [(i.id, i.heat, i.place, i.description, [m.id for m in i.messages]) for i in issues]

    assert table(find_issues(pool)) == table(find_issues(shuffled))


def test_issues_are_ranked_and_numbered_and_top_keeps_the_hottest(background):
    issues = find_issues(background + messages(MIXING_PLANT))
    assert [(i.rank, i.id) for i in issues] == [(k, k) for k in range(1, len(issues) + 1)]
    assert all(a.heat >= b.heat for a, b in zip(issues, issues[1:], strict=False))
    top = find_issues(background + messages(MIXING_PLANT), top=3)
    assert [(i.id, i.heat) for i in top] == [(i.id, i.heat) for i in issues[:3]]
    assert find_issues([]) == []


def test_the_well_known_issues_of_the_teddy_cup_data_lead_its_table():
    top = find_issues(read_messages(DATA), top=3)
    assert [i.place for i in top] == ["A市A2区丽发新城小区", "A市伊景园滨河苑", "A市A5区魅力之城小区"]
    assert "搅拌站" in top[0].description and "车位" in top[1].description
    assert len(top[1].messages) >= 40 and top[1].time_range == "2019/07/05 至 2019/09/01"


def test_time_range_spans_the_issues_messages():
    (issue,) = find_issues(messages(MIXING_PLANT))
    assert issue.start == T0 and issue.end == T0 + timedelta(hours=2)
    late = replace(messages(MIXING_PLANT)[2], time=datetime(2020, 1, 26, 19, 47))
    (issue,) = find_issues(messages(MIXING_PLANT)[:2] + [late])
    assert issue.time_range == "2019/11/02 至 2020/01/26"


# --- heat ---------------------------------------------------------------------------------------------------


def test_heat_grows_with_callers_messages_votes_and_span_and_falls_with_quiet():
    now, half_life = T0 + timedelta(days=1), timedelta(days=7)
    base = [msg(1, "a"), msg(2, "b")]

    def h(group: list[Message], at: datetime = now) -> float:
        return heat(group, at, half_life)

    assert h(base + [msg(3, "c")]) > h(base)  # one more caller
    assert h(base + [msg(3, "c", user="U1")]) > h(base)  # one more message
    assert h([msg(1, "a"), msg(2, "b", user="U1")]) < h(base)  # the same caller twice counts less
    assert h([msg(1, "a", likes=10), msg(2, "b")]) > h([msg(1, "a", dislikes=10), msg(2, "b")]) > h(base)
    later = now + timedelta(days=20)
    assert h([msg(1, "a"), msg(2, "b", hours=24 * 20)], later) > h(base, later)  # a longer span
    assert h(base, T0 + half_life) == pytest.approx(h(base, T0) * 0.75)  # quiet for one half-life
    assert h(base, T0 + 100 * half_life) == pytest.approx(h(base, T0) / 2)  # never less than half


def test_more_callers_make_the_hotter_issue(background):
    issues = ranked(messages(MIXING_PLANT) + messages(CRACKS, start=11), background)
    assert [len(i.messages) for i in issues] == [3, 2]
    one_caller = messages(MIXING_PLANT, user="U9") + messages(CRACKS, start=11)
    assert [len(i.messages) for i in ranked(one_caller, background)] == [2, 3]


def test_votes_make_the_hotter_of_two_equal_issues(background):
    plant, cracks = messages(MIXING_PLANT[:2]), messages(CRACKS, start=11)
    assert "开裂" in ranked(plant + messages(CRACKS, start=11, likes=50), background)[0].description
    assert "搅拌站" in ranked(messages(MIXING_PLANT[:2], likes=50) + cracks, background)[0].description


def test_recent_issue_is_hotter_than_an_equal_old_one(background):
    plant, cracks = messages(MIXING_PLANT[:2]), messages(CRACKS, start=11)
    later = [replace(m, time=m.time + timedelta(days=60)) for m in cracks]
    assert "开裂" in ranked(plant + later, background)[0].description
    earlier = [replace(m, time=m.time - timedelta(days=60)) for m in cracks]
    assert "搅拌站" in ranked(plant + earlier, background)[0].description


# --- work orders --------------------------------------------------------------------------------------------


def order(n: int, title: str, content: str, area: SimpleNamespace | None) -> SimpleNamespace:
    """A work order as ``issues_from_orders`` reads it (the attributes of orders.models.WorkOrder)."""
    return SimpleNamespace(
        number=f"2026112200{n:04d}", caller_phone=f"1380000{n:04d}", title=title, content=content,
        received_at=T0 + timedelta(hours=n), area=area, address="",
    )  # fmt: skip


def test_orders_group_within_their_area_of_the_unit_tree():
    street1 = SimpleNamespace(name="一街道", path="/1/3/5/")
    street2 = SimpleNamespace(name="二街道", path="/1/4/7/")
    district1 = SimpleNamespace(name="一区", path="/1/3/")
    text = ("小区门口路灯不亮", "幸福小区门口的路灯坏了半个月，晚上很黑，老人出门容易摔倒。")
    orders = [order(1, *text, street1), order(2, *text, district1), order(3, *text, street2), order(4, *text, None)]
    issues = issues_from_orders(orders)
    assert not any({"20261122000001", "20261122000003"} <= g for g in groups(issues))
    assert any({"20261122000001", "20261122000002"} <= g for g in groups(issues))
    assert issues[0].messages[0].user.startswith("1380000")


# --- the command --------------------------------------------------------------------------------------------

HEADER = ["id", "user", "title", "time", "detail", "likes", "dislikes"]


def write_csv(path, rows: list[list], header: list[str] = HEADER, encoding: str = "utf-8-sig") -> None:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def sample_rows() -> list[list]:
    rows = []
    for k, (title, detail) in enumerate(MIXING_PLANT + CRACKS + at("魅力之城", MIXING_PLANT)):
        rows.append([100 + k, f"A{k:05d}", title, f"2019-11-{2 + k:02d} 10:00:00", detail, k, 0])
    return rows


def read_table(path) -> list[list[str]]:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to show the Chinese
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_command_writes_both_tables_of_the_top_issues(tmp_path, capsys):
    source = tmp_path / "in.csv"
    write_csv(source, sample_rows())
    call_command("hot_issues", str(source), "--top", "2", "--out", str(tmp_path / "out"))
    issues = read_table(tmp_path / "out" / ISSUES_FILE)
    details = read_table(tmp_path / "out" / MESSAGES_FILE)
    assert issues[0] == list(ISSUE_HEADER) == ["热度排名", "问题ID", "热度指数", "时间范围", "地点/人群", "问题描述"]
    assert details[0] == list(MESSAGE_HEADER)
    assert [row[:2] for row in issues[1:]] == [["1", "1"], ["2", "2"]]
    assert all(re.fullmatch(r"\d{4}/\d\d/\d\d 至 \d{4}/\d\d/\d\d", row[3]) for row in issues[1:])
    assert float(issues[1][2]) >= float(issues[2][2])
    assert {row[0] for row in details[1:]} == {"1", "2"} and len(details) - 1 == 6
    assert {row[1] for row in details[1:] if row[0] == "1"} in ({"100", "101", "102"}, {"105", "106", "107"})
    out = capsys.readouterr().out
    assert "热度排名" in out and "用时" in out and "丽发新城" in out


def test_command_reads_a_file_without_bom_and_with_only_the_required_columns(tmp_path):
    source = tmp_path / "in.csv"
    rows = [[title, f"2019/11/{2 + k} 10:00", detail] for k, (title, detail) in enumerate(MIXING_PLANT)]
    write_csv(source, rows, header=["title", "time", "detail"], encoding="utf-8")
    call_command("hot_issues", str(source), "--out", str(tmp_path / "out"))
    issues = read_table(tmp_path / "out" / ISSUES_FILE)
    details = read_table(tmp_path / "out" / MESSAGES_FILE)
    assert len(issues) == 2 and issues[1][3] == "2019/11/02 至 2019/11/04"
    assert len(details) == 4 and len({row[2] for row in details[1:]}) == 3  # each message its own caller


def run_failing(tmp_path, source) -> str:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    (out / ISSUES_FILE).write_text("earlier result", encoding="utf-8")
    with pytest.raises(CommandError) as error:
        call_command("hot_issues", str(source), "--out", str(out))
    # the earlier table is untouched and nothing else was written
    assert (out / ISSUES_FILE).read_text(encoding="utf-8") == "earlier result"
    assert sorted(p.name for p in out.iterdir()) == [ISSUES_FILE]
    return str(error.value)


def test_missing_column_is_named(tmp_path):
    source = tmp_path / "in.csv"
    write_csv(source, [[1, "标题", "内容"]], header=["id", "title", "detail"])
    message = run_failing(tmp_path, source)
    assert "缺少列" in message and "time" in message and "title" not in message.split("缺少列")[1].split("（")[0]


def test_bad_dates_are_listed_by_row(tmp_path):
    source = tmp_path / "in.csv"
    rows = sample_rows()
    rows[1][3], rows[4][3] = "昨天下午", "2019-13-45 10:00:00"
    write_csv(source, rows)
    message = run_failing(tmp_path, source)
    assert "2 处" in message and "第 3 行" in message and "第 6 行" in message and "昨天下午" in message


def test_bad_vote_count_is_named(tmp_path):
    source = tmp_path / "in.csv"
    rows = sample_rows()
    rows[0][5] = "很多"
    write_csv(source, rows)
    assert "likes" in run_failing(tmp_path, source)


def test_empty_file_and_header_only_file_are_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "空的" in run_failing(tmp_path, empty)
    header_only = tmp_path / "header.csv"
    write_csv(header_only, [])
    assert "没有留言" in run_failing(tmp_path, header_only)


def test_file_not_in_utf8_is_refused(tmp_path):
    source = tmp_path / "gbk.csv"
    write_csv(source, sample_rows(), encoding="gbk")
    assert "UTF-8" in run_failing(tmp_path, source)


def test_missing_input_file_is_named(tmp_path):
    assert "找不到" in run_failing(tmp_path, tmp_path / "nope.csv")


def test_top_must_be_positive(tmp_path):
    source = tmp_path / "in.csv"
    write_csv(source, sample_rows())
    with pytest.raises(CommandError, match="--top"):
        call_command("hot_issues", str(source), "--top", "0", "--out", str(tmp_path / "out"))


def test_tables_are_not_half_written_when_writing_fails(tmp_path):
    (issue,) = find_issues(messages(MIXING_PLANT))
    broken = replace(issue, messages=[*issue.messages, None])  # fails on the second table's last row
    issues_path, messages_path = tmp_path / ISSUES_FILE, tmp_path / MESSAGES_FILE
    with pytest.raises(AttributeError):
        write_tables([broken], issues_path, messages_path)
    assert list(tmp_path.iterdir()) == []
