"""The rule-based detectors of intake: emergencies, places, enterprise requests — with negatives and bad input."""

import pytest

from nlp import emergency, enterprise, places
from orders import transitions as t

BAD_INPUTS = ["", "x" * 100_000, "<script>alert(1)</script><b>停水</b>", "😀😀😀", "The street light is broken",
              "請問社區垃圾何時清運", "。。。！！！？？？", None]  # fmt: skip


@pytest.mark.parametrize(
    "text,line",
    [
        ("楼下餐馆着火了，浓烟很大，快来人！", "119"),
        ("家里闻到很重的煤气味，怀疑燃气泄漏", "119"),
        ("小区门口有人持刀打架，现在还在打", "110"),
        ("我父亲突然晕倒，呼吸困难，需要急救", "120"),
        ("人民路口刚刚发生车祸，有人受伤", "122"),
    ],
)
def test_emergencies_are_detected(text, line):
    assert line in [a.line for a in emergency.detect("", text)]


@pytest.mark.parametrize(
    "text",
    [
        "请问消防安全检查需要准备哪些材料？",
        "小区消防通道被车辆堵塞，存在火灾隐患",
        "去年我家厨房着火的理赔一直没有处理结果",
        "学校组织了火灾逃生演练，想咨询相关规定",
        "交通事故责任认定书什么时候能拿到",
        "路灯不亮，晚上出行不便",
    ],
)
def test_talk_about_emergencies_is_not_an_emergency(text):
    assert emergency.detect("", text) == []


@pytest.mark.parametrize("text", BAD_INPUTS)
def test_detectors_never_fail_on_bad_input(text, db):
    assert isinstance(emergency.detect(text, text), list)
    assert isinstance(places.extract(text or ""), places.Places)
    assert enterprise.detect(text or "") is None or enterprise.detect(text or "").reason


@pytest.mark.django_db
def test_places_from_the_unit_tree(city):
    places.reset_gazetteer()
    found = places.extract("一区一街道幸福家园小区", "门口的建设路88号路灯坏了")
    assert (found.district, found.street) == (city["d1"], city["s1"])
    assert found.estates == ["幸福家园小区"] and found.roads == ["建设路"]
    only_street = places.extract("二街道附近垃圾没人清运")
    assert (only_street.district, only_street.street) == (city["d2"], city["s2"])  # the district follows the street
    community = places.extract("一社区的路面塌陷")
    assert (community.community, community.street, community.district) == (city["c1"], city["s1"], city["d1"])
    assert places.extract("二区和一区交界").district in (city["d1"], city["d2"])
    assert places.extract("路况很好，走路方便").roads == []


@pytest.mark.django_db
def test_enterprise_from_text_and_from_the_caller(staff, order_data):
    hint = enterprise.detect("我公司A市星城科技有限公司的营业执照变更办理太慢")
    assert hint and hint.name == "A市星城科技有限公司"
    assert enterprise.detect("小区路灯不亮") is None
    t.intake(staff["operator"], {**order_data, "is_enterprise": True, "enterprise_name": "某科技有限公司",
                                 "enterprise_credit_code": "91430100MA4L8XYM38"})  # fmt: skip
    known = enterprise.detect("路灯不亮", order_data["caller_phone"])
    assert known.name == "某科技有限公司" and known.credit_code == "91430100MA4L8XYM38"
