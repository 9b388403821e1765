import csv
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.template.loader import render_to_string

from analytics.reply_quality import WEIGHTS, Flag, Quality, score, score_order, unit_summary
from orders.models import WorkOrder

SH = ZoneInfo("Asia/Shanghai")
TITLE = "幸福路路灯不亮，垃圾桶太少"
DETAIL = "请问幸福路的路灯什么时候修好？人民公园的垃圾桶能否增加几个？"
ASKED = datetime(2024, 3, 4, 9, 0, tzinfo=SH)  # a Monday without holidays for weeks
NEXT_DAY = datetime(2024, 3, 5, 9, 0, tzinfo=SH)

SUBSTANTIVE = (
    "网友您好！经现场核实，幸福路3盏路灯线路老化。我局已安排维修人员于3月6日更换线路，路灯已恢复正常照明；"
    "人民公园已增设垃圾桶10个。下一步将加强巡查。特此回复。"
)
TEMPLATE = "您好！您的留言已收悉，已转交相关部门调查处理。感谢您对我们工作的关心和支持！"
LAMPS_ONLY = "幸福路路灯线路老化，已安排更换，路灯已恢复照明。"
BOTH = LAMPS_ONLY + "人民公园已增加垃圾桶10个。"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_substantive_on_topic_reply_beats_a_template_only_one():
    good = score(TITLE, DETAIL, SUBSTANTIVE, ASKED, NEXT_DAY)
    template = score(TITLE, DETAIL, TEMPLATE, ASKED, NEXT_DAY)
    assert good.score >= 80 and template.score <= 20
    assert good.relevance == 1.0 and good.completeness == 1.0 and good.substance == 1.0
    assert Flag.TEMPLATE_ONLY not in good.flags and Flag.OFF_TOPIC not in good.flags
    assert template.flags == [Flag.TEMPLATE_ONLY]
    assert template.relevance == template.completeness == template.substance == 0.0


def test_quoting_the_request_does_not_make_a_transfer_notice_relevant():
    quality = score(TITLE, DETAIL, "您反映的“幸福路路灯不亮”问题已转交区城管局处理。", ASKED, NEXT_DAY)
    assert quality.flags == [Flag.TEMPLATE_ONLY]
    assert quality.relevance == 0.0


def test_quoting_a_long_request_does_not_make_a_transfer_notice_relevant():
    title = "幸福路南段从人民公园东门到第二中学门口的十二盏路灯已经连续半个月晚上不亮"
    reply = f"关于您反映的“{title}”的问题，已转交区城管局处理。"
    quality = score(title, "路灯坏了很久，晚上走路很危险。", reply, ASKED, NEXT_DAY)
    assert quality.flags == [Flag.TEMPLATE_ONLY]
    assert quality.relevance == 0.0


def test_an_answer_about_transfers_is_not_a_transfer_notice():
    reply = "您好！转入地车管所在2个工作日内受理车辆档案转移申请，审核通过后通知车主到车管所办理登记。"
    quality = score("车辆档案转移要几天", "请问车辆档案从广州转移到本市车管所要几天？", reply, ASKED, NEXT_DAY)
    assert Flag.TEMPLATE_ONLY not in quality.flags
    assert quality.relevance > 0.5 and quality.completeness > 0.5


def test_sharing_a_place_name_is_not_relevance():
    elsewhere = "幸福路社保服务站已为退休职工补缴养老保险费，并发放社会保障卡。"
    assert score(TITLE, DETAIL, elsewhere, ASKED, NEXT_DAY).relevance < 0.6
    assert score(TITLE, DETAIL, LAMPS_ONLY, ASKED, NEXT_DAY).relevance == 1.0


def test_naming_the_place_of_a_question_does_not_answer_it():
    in_passing = score(TITLE, DETAIL, LAMPS_ONLY + "公园归区园林局管理。", ASKED, NEXT_DAY)
    assert 0.5 < in_passing.completeness < 0.9


def test_reply_answering_one_of_two_questions_is_half_complete():
    one = score(TITLE, DETAIL, LAMPS_ONLY, ASKED, NEXT_DAY)
    both = score(TITLE, DETAIL, BOTH, ASKED, NEXT_DAY)
    assert one.completeness == pytest.approx(0.5, abs=0.05)
    assert both.completeness == 1.0
    assert both.score > one.score


def test_without_a_question_the_title_is_the_point():
    quality = score("幸福路路灯不亮", "幸福路的路灯坏了半个月，晚上很黑。", LAMPS_ONLY, ASKED, NEXT_DAY)
    assert quality.completeness == 1.0


def test_reply_about_something_else_is_off_topic():
    other = "经现场核实，该企业已为员工补缴社会保险费，符合《社会保险法》第五十八条规定。"
    quality = score(TITLE, DETAIL, other, ASKED, NEXT_DAY)
    assert Flag.OFF_TOPIC in quality.flags
    assert quality.relevance < 0.15 and quality.completeness == 0.0
    assert quality.score < score(TITLE, DETAIL, LAMPS_ONLY, ASKED, NEXT_DAY).score


def test_substance_counts_measures_basis_result_and_progress():
    basis_only = score(
        TITLE, DETAIL, "根据《城市道路照明设施管理规定》第十条，幸福路路灯由区城管局负责维护。", ASKED, NEXT_DAY
    )
    assert basis_only.flags == [Flag.NO_MEASURES, Flag.NO_RESULT]
    assert basis_only.substance == pytest.approx(1 / 3, abs=0.01)
    measures_only = score(TITLE, DETAIL, "幸福路路灯问题，我局已安排人员检查线路。", ASKED, NEXT_DAY)
    assert Flag.NO_MEASURES not in measures_only.flags
    assert {Flag.NO_BASIS, Flag.NO_RESULT} <= set(measures_only.flags)
    assert 0 < measures_only.substance < basis_only.substance + 0.01
    full = score(TITLE, DETAIL, SUBSTANTIVE + "依据《城市照明管理规定》第二十条处理。", ASKED, NEXT_DAY)
    assert full.substance == 1.0 and Flag.NO_BASIS not in full.flags


@pytest.mark.parametrize("reply", ["", "   ", None, "0000-00000000 20163"])
def test_empty_reply_is_flagged_and_scores_zero(reply):
    quality = score(TITLE, DETAIL, reply, ASKED, NEXT_DAY)
    assert quality.flags == [Flag.EMPTY]
    assert quality.score == 0
    assert quality.flag_labels == ["无答复"]


def test_late_reply_loses_timeliness_in_proportion():
    # 15 working days from Monday 4 March 2024 09:00 end on Monday 25 March 09:00.
    assert score(TITLE, DETAIL, BOTH, ASKED, at(2024, 3, 22, 17, 0)).timeliness == 1.0
    five_days_over = score(TITLE, DETAIL, BOTH, ASKED, at(2024, 4, 1, 9, 0))
    assert five_days_over.timeliness == pytest.approx(1 - 5 / 15, abs=0.01)
    assert Flag.LATE in five_days_over.flags
    assert score(TITLE, DETAIL, BOTH, ASKED, at(2024, 5, 6, 9, 0)).timeliness == 0.0
    on_time = score(TITLE, DETAIL, BOTH, ASKED, at(2024, 3, 22, 17, 0))
    assert on_time.score > five_days_over.score and Flag.LATE not in on_time.flags


def test_holidays_do_not_count_against_the_unit():
    # 18 March 2024 + 15 working days: Qingming (4–6 April) is off, Sunday 7 April is a make-up working day.
    quality = score(TITLE, DETAIL, BOTH, at(2024, 3, 18, 9, 0), at(2024, 4, 8, 17, 0))
    assert quality.timeliness == 1.0
    assert score(TITLE, DETAIL, BOTH, at(2024, 3, 18, 9, 0), at(2024, 4, 10, 9, 0)).timeliness < 1


def test_deadline_replaces_the_default_limit():
    due = at(2024, 3, 5, 17, 30)  # one working day after ASKED's morning, plus the afternoon
    assert score(TITLE, DETAIL, BOTH, ASKED, at(2024, 3, 5, 17, 0), due_at=due).timeliness == 1.0
    late = score(TITLE, DETAIL, BOTH, ASKED, at(2024, 3, 7, 17, 30), due_at=due)
    assert late.timeliness == 0.0 and Flag.LATE in late.flags


def test_unknown_or_impossible_times_leave_timeliness_out():
    unknown = score(TITLE, DETAIL, BOTH, None, NEXT_DAY)
    backwards = score(TITLE, DETAIL, BOTH, NEXT_DAY, ASKED)
    assert unknown.timeliness is None and backwards.timeliness is None
    assert Flag.LATE not in unknown.flags
    # The score is the weighted mean of the other three dimensions.
    dims = {"relevance": unknown.relevance, "completeness": unknown.completeness, "substance": unknown.substance}
    expected = 100 * sum(WEIGHTS[k] * v for k, v in dims.items()) / sum(WEIGHTS[k] for k in dims)
    assert unknown.score == pytest.approx(expected, abs=1)


def test_naive_times_are_read_in_the_project_time_zone():
    naive = score(TITLE, DETAIL, BOTH, datetime(2024, 3, 4, 9), datetime(2024, 4, 1, 9))
    assert naive.timeliness == score(TITLE, DETAIL, BOTH, ASKED, at(2024, 4, 1, 9, 0)).timeliness


def order(unit, reply: str, replied_at: datetime | None = None, due_at: datetime | None = None) -> WorkOrder:
    return WorkOrder(
        title=TITLE, content=DETAIL, reply_content=reply, lead_unit=unit,
        received_at=ASKED, replied_at=replied_at or NEXT_DAY, due_at=due_at,
    )  # fmt: skip


def test_score_order_reads_the_reply_and_the_deadline(city):
    assert score_order(order(city["d1"], "")) is None
    assert score_order(order(city["d1"], "  \n")) is None
    quality = score_order(order(city["d1"], SUBSTANTIVE, at(2024, 3, 7, 17, 30), due_at=at(2024, 3, 5, 17, 30)))
    assert Flag.LATE in quality.flags and quality.timeliness == 0.0
    measures = order(city["d1"], "幸福路路灯已修复。")
    measures.reply_measures = "经现场核实，已安排维修人员更换线路。"
    assert score_order(measures).substance > score_order(order(city["d1"], "幸福路路灯已修复。")).substance


@pytest.mark.django_db
def test_scores_are_stored_after_each_reply_and_summarised_per_unit_worst_first(staff, order_data, city):
    from django.utils import timezone

    from analytics.models import ReplyScore
    from analytics.reply_quality import store_scores
    from orders import transitions as t

    def replied(unit, content):
        at = timezone.now() - timedelta(hours=3)
        o = t.dispatch(t.intake(staff["operator"], order_data, at=at)[0], staff["dispatcher"], lead_unit=unit, at=at)
        handler = staff["h1"] if unit == city["d1"] else staff["h2"]
        o = t.sign(o, handler, at=at + timedelta(minutes=5))
        return t.reply(o, handler, result="resolved", content=content, measures="见答复。", at=at + timedelta(hours=1))

    good, template, other = replied(city["d1"], SUBSTANTIVE), replied(city["d1"], TEMPLATE), replied(city["d2"], BOTH)
    t.dispatch(t.intake(staff["operator"], order_data)[0], staff["dispatcher"], lead_unit=city["d2"])  # no reply yet
    assert store_scores() == 3
    later = timezone.now() + timedelta(hours=1)
    assert store_scores(later) == 3  # changes near the watermark are read again (safety margin), not duplicated
    assert store_scores(later + timedelta(minutes=1)) == 0 and ReplyScore.objects.count() == 3
    rows = unit_summary(ReplyScore.objects.all())
    assert [r["unit_name"] for r in rows] == ["一区", "二区"]
    d1, d2 = rows
    assert d1["count"] == 2 and d2["count"] == 1
    assert d1["flags"]["template_only"] == 0.5 and d2["flags"]["template_only"] == 0.0
    expected = (score_order(good).score + score_order(template).score) / 2
    assert d1["score"] == pytest.approx(expected, abs=0.1) and d1["score"] < d2["score"]
    assert ReplyScore.objects.get(order=template).flags == ",template_only,"
    assert unit_summary(ReplyScore.objects.none()) == []
    del other


def test_partial_shows_dimensions_score_and_flags():
    html = render_to_string(
        "analytics/_reply_quality.html", {"quality": Quality(0.5, 0.25, 0.0, None, 23, [Flag.TEMPLATE_ONLY])}
    )
    for text in ("答复质量", "23 分", "相关性", "50%", "完整性", "25%", "实质内容", "及时性", "套话答复"):
        assert text in html
    assert "未发现问题" not in html
    clean = render_to_string("analytics/_reply_quality.html", {"quality": Quality(1.0, 1.0, 1.0, 1.0, 100, [])})
    assert "未发现问题" in clean and "100%" in clean
    assert render_to_string("analytics/_reply_quality.html", {"quality": None}).strip() == ""


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_command_adds_the_columns_and_keeps_the_rest(tmp_path):
    source = write_csv(
        tmp_path / "in.csv",
        [
            ["id", "title", "time", "detail", "reply", "reply_time", "note"],
            ["7", TITLE, "2024-03-04 09:00:00", DETAIL, TEMPLATE, "2024-03-05 09:00:00", "甲"],
            ["3", TITLE, "2024/3/4 9:00", DETAIL, SUBSTANTIVE, "2024/4/1 09:00", "乙"],
            ["5", TITLE, "昨天", DETAIL, "", "不详", "丙"],
        ],
    )
    target = tmp_path / "out.csv"
    call_command("reply_quality", str(source), str(target), stdout=open(tmp_path / "log", "w"))
    header, *rows = read_csv(target)
    assert header == [
        "id", "title", "time", "detail", "reply", "reply_time", "note",
        "relevance", "completeness", "substance", "timeliness", "score", "flags",
    ]  # fmt: skip
    assert [(r[0], r[6]) for r in rows] == [("7", "甲"), ("3", "乙"), ("5", "丙")]
    template, late, empty = (dict(zip(header, r, strict=True)) for r in rows)
    assert template["flags"] == "套话答复" and template["timeliness"] == "1.00"
    assert late["flags"] == "无政策依据；超期答复" and late["timeliness"] == "0.67"
    assert int(late["score"]) > int(template["score"])
    assert empty["flags"] == "无答复" and empty["timeliness"] == "" and empty["score"] == "0"
    assert not (tmp_path / "out.csv.part").exists()


def test_command_reads_a_bom_and_keeps_it(tmp_path):
    source = write_csv(
        tmp_path / "in.csv",
        [["title", "detail", "reply", "time", "reply_time"], [TITLE, DETAIL, BOTH, "2024-03-04", "2024-03-05"]],
        encoding="utf-8-sig",
    )
    call_command("reply_quality", str(source), str(tmp_path / "out.csv"), stdout=open(tmp_path / "log", "w"))
    assert (tmp_path / "out.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert read_csv(tmp_path / "out.csv")[0][0] == "\ufefftitle"


@pytest.mark.parametrize(
    "content, encoding, message",
    [
        ([["title", "detail", "reply"], ["a", "b", "c"]], "utf-8", "缺少列：time、reply_time"),
        ([["title", "detail", "reply", "time", "reply_time"], [TITLE, DETAIL, "已修复", "", ""]], "gbk", "不是 UTF-8"),
        ([], "utf-8", "是空的"),
    ],
)
def test_command_rejects_bad_input_without_leaving_output(tmp_path, content, encoding, message):
    source = write_csv(tmp_path / "in.csv", content, encoding)
    target = tmp_path / "out.csv"
    with pytest.raises(CommandError, match=message):
        call_command("reply_quality", str(source), str(target))
    assert not target.exists() and not (tmp_path / "out.csv.part").exists()


def test_command_keeps_an_old_output_when_the_new_input_is_bad(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old", encoding="utf-8")
    source = write_csv(tmp_path / "in.csv", [["title", "detail", "reply", "time", "reply_time"], [TITLE]], "gbk")
    with pytest.raises(CommandError, match="不是 UTF-8"):
        call_command("reply_quality", str(source), str(target))
    assert target.read_text(encoding="utf-8") == "old"


def test_command_names_a_missing_input_file(tmp_path):
    with pytest.raises(CommandError, match="找不到输入文件"):
        call_command("reply_quality", str(tmp_path / "nope.csv"), str(tmp_path / "out.csv"))
