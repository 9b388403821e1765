"""The message classifier (nlp/classifier.py), its text preparation and its two management commands.

One model is trained per test module on a third of the stripped messages plus all raw ones: a few seconds,
and still plenty for messages whose topic is unmistakable. Nothing here needs the database.
"""

import csv
import logging
import os

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from nlp import classifier, text
from nlp.classifier import Classifier, Prediction


@pytest.fixture(scope="module")
def pipeline():
    examples = classifier.load_examples()
    return classifier.train([e for i, e in enumerate(examples) if e.raw or i % 3 == 0])


@pytest.fixture(scope="module")
def model(pipeline) -> Classifier:
    return Classifier(pipeline)


@pytest.fixture
def var_dir(settings, tmp_path):
    """A VAR_DIR of the test's own, so that nothing reads or writes the real model file."""
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def process_model(monkeypatch, model) -> Classifier:
    """The module's model as the process-wide one, as if it had been loaded."""
    monkeypatch.setattr(classifier, "_classifier", model)
    return model


OBVIOUS = [
    ("城乡建设", "小区物业乱收停车费", "我们小区物业公司未经业主大会同意，擅自对地面停车位收费，还不公示物业费账目。"),
    ("城乡建设", "回迁安置房迟迟不交房", "拆迁已经五年了，开发商承诺的安置房还没有建好，征收补偿款也没有到位。"),
    (
        "环境保护",
        "化工厂排放废气污染严重",
        "工业园的化工厂每天晚上偷排废气，气味刺鼻，附近河流也被污水污染，请环保局查处。",
    ),
    ("环境保护", "搅拌站噪音粉尘扰民", "小区旁边的混凝土搅拌站日夜施工，噪音和粉尘污染严重，居民无法休息。"),
    # Not 公交: in this data bus routes and stops are mostly 城乡建设 (85 of 141 messages).
    (
        "交通运输",
        "快递包裹丢失无人负责",
        "网购的包裹被快递公司弄丢了，快递员不接电话，物流信息一直不更新，请邮政管理局处理。",
    ),
    ("交通运输", "出租车拒载绕路", "在火车站打出租车，司机拒载还绕路多收费，网约车也乱停乱放，请交通运输局管一管。"),
    ("教育文体", "孩子入学难", "孩子今年上小学，学区划分不合理，离家最近的学校不让入学，教育局能否解释招生政策。"),
    (
        "教育文体",
        "学校违规补课收费",
        "某中学老师在校外办补习班，强迫学生参加，每学期收取补课费，教师有偿家教屡禁不止。",
    ),
    (
        "劳动和社会保障",
        "公司拖欠工资不交社保",
        "我在公司工作两年，老板拖欠三个月工资，也没有给员工缴纳社保和养老保险。",
    ),
    (
        "劳动和社会保障",
        "退休人员养老金调整",
        "请问企业退休职工的养老金今年什么时候调整，社保局能否说明养老保险待遇标准。",
    ),
    (
        "商贸旅游",
        "超市销售过期食品",
        "在超市买的牛奶已经过期，商家拒绝退货，消费者权益得不到保障，请市场监管部门处理。",
    ),
    ("商贸旅游", "景区门票价格过高", "旅游景区门票涨价，导游强制游客购物，旅行社合同也不规范，请旅游局整顿。"),
    ("卫生计生", "医院乱收费", "孩子在医院住院，医生开了很多不必要的检查，医疗费用很高，医保报销也有问题。"),
    (
        "卫生计生",
        "二孩生育证办理难",
        "想办理二胎准生证，计生办要求提供很多证明，计划生育政策和生育服务登记流程不清楚。",
    ),
]


@pytest.mark.parametrize(("label", "title", "detail"), OBVIOUS, ids=[f"{row[0]}-{row[1]}" for row in OBVIOUS])
def test_obvious_messages_get_their_category(model, label, title, detail):
    prediction = classifier.predict(title, detail, classifier=model)
    assert prediction.label == label, prediction
    assert prediction.confidence >= classifier.MIN_CONFIDENCE
    assert prediction.top[0] == (label, prediction.confidence)


def test_prediction_shape(model):
    prediction = classifier.predict("化工厂排放废气", "污染严重", classifier=model)
    assert isinstance(prediction, Prediction)
    assert len(prediction.top) == 3
    probabilities = [p for _, p in prediction.top]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    assert len({label for label, _ in prediction.top}) == 3


MEANINGLESS = {
    "empty": ("", ""),
    "none": (None, None),
    "whitespace": ("   ", "\n\t\u3000"),
    "punctuation": ("！！！？？？", "。。。……，，，——"),
    "emoji": ("😀😂🙏", "👍👍👍🔥"),
    "html only": ("<p></p>", "<div><br/>&nbsp;</div>"),
}


@pytest.mark.parametrize(("title", "detail"), MEANINGLESS.values(), ids=MEANINGLESS.keys())
def test_meaningless_input_is_unknown(model, title, detail):
    prediction = classifier.predict(title, detail, classifier=model)
    assert prediction == Prediction(None, 0.0, [])


ODD = {
    "100k characters": ("投诉", "噪音" * 50_000),
    "100k letters": ("x" * 100_000, ""),
    "html": ("<b>小区噪音</b>", "<script>alert(1)</script><p>工地夜间施工&amp;噪音扰民</p>"),
    "emoji in text": ("医院🏥看病难😭", "排队👎三个小时"),
    "english": ("The bus is always late", "Please add more buses on route 12"),
    "traditional": ("醫院收費太貴", "孩子住院醫療費用很高，醫保報銷困難"),
    "full-width": ("ＡＢＣ１２３小区", "１２３４５"),
    "number": (12345, 678.9),
    "excel line ends": ("物业收费_x000D_", "停车费_x000D_太高"),
}


@pytest.mark.parametrize(("title", "detail"), ODD.values(), ids=ODD.keys())
def test_odd_input_never_raises(model, title, detail):
    prediction = classifier.predict(title, detail, classifier=model)
    assert 0.0 <= prediction.confidence <= 1.0
    assert prediction.label is None or prediction.label == prediction.top[0][0]


def test_traditional_characters_are_still_understood(model):
    # jieba's dictionary has many traditional words; the class is clear enough to survive the rest.
    assert classifier.predict("醫院收費太貴", "孩子住院醫療費用很高", classifier=model).label == "卫生计生"


def test_below_threshold_is_unknown(model, monkeypatch):
    title, detail = "小区物业乱收停车费", "物业擅自收费"
    sure = classifier.predict(title, detail, classifier=model)
    assert sure.label == "城乡建设"
    monkeypatch.setattr(classifier, "MIN_CONFIDENCE", sure.confidence + 1e-9)
    unsure = classifier.predict(title, detail, classifier=model)
    assert unsure.label is None
    # Still told what it would have been, with the same confidence.
    assert unsure.top == sure.top
    assert unsure.confidence == sure.confidence


def test_fast_scores_equal_the_pipeline(model, pipeline):
    messages = [text.prepare(title, detail) for _, title, detail in OBVIOUS + [(None, "医院看病难", "排队" * 300)]]
    assert np.allclose([model.scores(m) for m in messages], pipeline.decision_function(messages))


def test_predict_many_matches_predict(model):
    rows = [(title, detail) for _, title, detail in OBVIOUS] + [("", "")]
    assert classifier.predict_many(rows, classifier=model) == [
        classifier.predict(title, detail, classifier=model) for title, detail in rows
    ]
    assert classifier.predict_many([], classifier=model) == []


def test_normalize():
    assert text.normalize("<p>ＡＢＣ１２３&amp;</p>") == "abc123&"
    assert text.normalize("a_x000D_b\u3000c") == "a b c"
    assert len(text.normalize("字" * 100_000)) == text.MAX_CHARS
    assert text.normalize(None) == ""


def test_prepare_drops_stop_words_and_punctuation():
    words = text.prepare("我们小区的噪音", "非常严重！！！电话13800138000").split()
    assert "噪音" in words and "小区" in words
    assert not {"我们", "的", "非常", "！"} & set(words)
    assert all(set(word) <= set("0") for word in words if word[0].isdigit())


def test_get_classifier_trains_and_saves_when_missing(var_dir, monkeypatch, pipeline, caplog):
    monkeypatch.setattr(classifier, "_classifier", None)
    monkeypatch.setattr(classifier, "train", lambda examples=None: pipeline)
    with caplog.at_level(logging.WARNING, logger="nlp.classifier"):
        first = classifier.get_classifier()
    assert (var_dir / "models" / "classifier.joblib").exists()
    assert "正在用 nlp/data 训练" in caplog.text
    assert classifier.get_classifier() is first  # cached for the process

    # A new process loads the file instead of training again.
    monkeypatch.setattr(classifier, "_classifier", None)
    monkeypatch.setattr(classifier, "train", lambda examples=None: pytest.fail("trained again"))
    loaded = classifier.get_classifier()
    assert loaded is not first
    assert classifier.predict("化工厂排放废气", "", classifier=loaded) == classifier.predict(
        "化工厂排放废气", "", classifier=first
    )


def test_load_ignores_a_model_of_another_version(var_dir, monkeypatch, pipeline):
    path = classifier.save(pipeline)
    assert classifier.load(path) is not None
    monkeypatch.setattr(classifier, "MODEL_VERSION", classifier.MODEL_VERSION + 1)
    assert classifier.load(path) is None
    assert not classifier.is_up_to_date(path)


def test_damaged_model_file_is_retrained(var_dir, monkeypatch, pipeline, caplog):
    path = var_dir / "models" / "classifier.joblib"
    path.parent.mkdir()
    path.write_bytes(b"not a model")
    with caplog.at_level(logging.WARNING, logger="nlp.classifier"):
        assert classifier.load(path) is None
    assert "无法读取" in caplog.text
    monkeypatch.setattr(classifier, "_classifier", None)
    monkeypatch.setattr(classifier, "train", lambda examples=None: pipeline)
    assert classifier.get_classifier().pipeline is pipeline
    assert classifier.load(path) is not None
    assert list(path.parent.iterdir()) == [path]  # no temporary file left


def test_train_classifier_if_missing(var_dir, monkeypatch, pipeline, capsys):
    trained = []
    monkeypatch.setattr(classifier, "train", lambda examples=None: trained.append(len(examples)) or pipeline)
    call_command("train_classifier", "--if-missing")
    out = capsys.readouterr().out
    assert trained == [8616]
    assert "劳动和社会保障\t1822" in out and "用时" in out
    path = var_dir / "models" / "classifier.joblib"
    assert path.exists()

    call_command("train_classifier", "--if-missing")
    assert "已是最新" in capsys.readouterr().out
    assert trained == [8616]

    # Older than the training data: trained again.
    os.utime(path, (0, 0))
    call_command("train_classifier", "--if-missing")
    assert trained == [8616, 8616]
    # Without the option it always trains.
    call_command("train_classifier")
    assert len(trained) == 3


def write_csv(path, rows, bom=True):
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


def read_csv(path):
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.mark.parametrize("bom", [True, False], ids=["bom", "no-bom"])
def test_classify_messages_round_trip(process_model, tmp_path, bom, capsys):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    write_csv(
        source,
        [
            ["id", "title", "note", "detail"],
            ["1", "化工厂排放废气", "甲", "工业园化工厂偷排废气，河流被污水污染"],
            ["2", "", "乙,有逗号", "！！！"],
            ["3", "公司拖欠工资", '丙"引号"', "老板拖欠三个月工资，不交社保"],
        ],
        bom=bom,
    )
    call_command("classify_messages", str(source), str(target))
    rows = read_csv(target)
    assert rows[0] == ["id", "title", "note", "detail", "category", "confidence"]
    assert [row[:4] for row in rows[1:]] == [
        ["1", "化工厂排放废气", "甲", "工业园化工厂偷排废气，河流被污水污染"],
        ["2", "", "乙,有逗号", "！！！"],
        ["3", "公司拖欠工资", '丙"引号"', "老板拖欠三个月工资，不交社保"],
    ]
    assert [row[4] for row in rows[1:]] == ["环境保护", "", "劳动和社会保障"]
    assert rows[2][5] == "0.0000"
    confidence = float(rows[1][5])
    assert 0.5 <= confidence <= 1 and len(rows[1][5].split(".")[1]) == 4
    assert target.read_bytes().startswith(b"\xef\xbb\xbf") == bom
    assert "已分类 3 条留言，其中 1 条无法确定类别" in capsys.readouterr().out


def test_classify_messages_tolerates_ragged_rows(process_model, tmp_path, capsys):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    write_csv(source, [["title", "detail"], ["学校乱收费"], [], ["医院看病贵", "挂号难", "多余"]])
    call_command("classify_messages", str(source), str(target))
    rows = read_csv(target)
    assert [row[:2] for row in rows] == [["title", "detail"], ["学校乱收费", ""], ["医院看病贵", "挂号难"]]
    assert [row[2] for row in rows[1:]] == ["教育文体", "卫生计生"]
    assert "2 行的列数与表头不符" in capsys.readouterr().err


def test_classify_messages_without_detail_column(process_model, tmp_path):
    source = tmp_path / "in.csv"
    write_csv(source, [["id", "title", "content"], ["1", "噪音", "工地夜间施工"]])
    with pytest.raises(CommandError, match="缺少列：detail") as error:
        call_command("classify_messages", str(source), str(tmp_path / "out.csv"))
    assert "现有列：id、title、content" in str(error.value)
    assert not (tmp_path / "out.csv").exists()
    assert not (tmp_path / "out.csv.part").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "找不到输入文件"), ("title,detail\n噪音,扰民\n".encode("gbk"), "不是 UTF-8 编码"), (b"", "是空的")],
    ids=["missing", "gbk", "empty"],
)
def test_classify_messages_unreadable_file(process_model, tmp_path, content, message):
    source = tmp_path / "in.csv"
    if content is not None:
        source.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        call_command("classify_messages", str(source), str(tmp_path / "out.csv"))
    assert not (tmp_path / "out.csv").exists()
