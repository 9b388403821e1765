"""Emergency detection: text that signals fire, crime in progress, injury, gas leak or a traffic accident.

The operator is prompted to transfer to 119/110/120/122; nothing is transferred without a click.
A sentence counts only if it has an alarm phrase and none of the words that mark it as not happening
now (a fire-safety *inspection*, a *hidden danger*, last year's fire, a drill).
"""

import re
from dataclasses import dataclass

from nlp.plain import plain

# (line, what, alarm phrases)
SIGNALS: list[tuple[str, str, tuple[str, ...]]] = [
    ("119", "火情", ("着火", "起火", "失火", "火灾", "冒烟", "烧起来", "火势", "大火", "浓烟")),
    ("119", "燃气泄漏", ("燃气泄漏", "煤气泄漏", "天然气泄漏", "液化气泄漏", "煤气味", "燃气味", "漏气")),
    (
        "110",
        "违法犯罪",
        ("打架", "斗殴", "抢劫", "持刀", "砍人", "行凶", "绑架", "家暴", "正在偷", "入室盗窃", "闯入", "非法拘禁"),
    ),
    (
        "120",
        "伤病急救",
        ("晕倒", "昏迷", "抽搐", "大出血", "呼吸困难", "不省人事", "受伤倒地", "心脏骤停", "急救", "割腕", "跳楼"),
    ),
    ("122", "交通事故", ("车祸", "交通事故", "撞车", "追尾", "撞人", "翻车", "被车撞")),
]
# words that put the alarm in the past, in a plan, or make it a question about rules
NOT_NOW = (
    "检查", "隐患", "演练", "宣传", "培训", "通道", "设施", "去年", "前年", "曾经", "以前", "上个月", "多年前",
    "预防", "防范", "安全教育", "咨询", "规定", "政策", "理赔", "赔偿", "责任认定", "处理结果", "报销",
)  # fmt: skip
SENTENCE = re.compile(r"[^。！？!?；;\n]+")


@dataclass(frozen=True)
class Alert:
    line: str  # 110 / 119 / 120 / 122
    what: str
    phrase: str
    sentence: str


def detect(*texts: str) -> list[Alert]:
    """Alerts found in ``texts``, one per emergency line, in the order of SIGNALS."""
    alerts: dict[str, Alert] = {}
    for text in texts:
        for sentence in SENTENCE.findall(plain(text or "")):
            if any(word in sentence for word in NOT_NOW):
                continue
            for line, what, phrases in SIGNALS:
                phrase = next((p for p in phrases if p in sentence), None)
                if phrase and line not in alerts:
                    alerts[line] = Alert(line, what, phrase, sentence.strip()[:80])
    return list(alerts.values())
