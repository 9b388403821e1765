"""统计报告: periods, the figures of the daily and monthly reports, the XLSX and PDF files opened and read back,
the schedule that archives each report once, email to subscribers once, and generation on demand."""

import io
from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from analytics import reports, rollup
from analytics.models import Report, ReportKind, ReportSubscription
from orders import transitions as t
from orders.models import Priority, Warning, WorkOrder

pytestmark = pytest.mark.django_db


def test_periods_of_each_kind():
    wednesday = date(2026, 11, 25)
    assert reports.period_of("daily", wednesday) == (wednesday, wednesday)
    assert reports.period_of("weekly", wednesday) == (date(2026, 11, 23), date(2026, 11, 29))
    assert reports.period_of("monthly", date(2024, 2, 10)) == (date(2024, 2, 1), date(2024, 2, 29))
    assert reports.period_of("annual", wednesday) == (date(2026, 1, 1), date(2026, 12, 31))
    assert reports.last_finished("daily", wednesday) == (date(2026, 11, 24),) * 2
    assert reports.last_finished("weekly", wednesday) == (date(2026, 11, 16), date(2026, 11, 22))
    assert reports.last_finished("weekly", date(2026, 11, 30)) == (date(2026, 11, 23), date(2026, 11, 29))
    assert reports.last_finished("monthly", date(2026, 1, 1)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert reports.last_finished("annual", date(2026, 6, 1)) == (date(2025, 1, 1), date(2025, 12, 31))
    with pytest.raises(ValueError, match="未知的报告类型"):
        reports.period_of("hourly", wednesday)


@pytest.fixture
def yesterday(staff, order_data, city):
    """Yesterday: three orders (one urgent, dispatched and now red) from one caller who also called last week."""
    day = timezone.localdate() - timedelta(days=1)
    at = timezone.now() - timedelta(days=1)
    t.intake(staff["operator"], order_data, at=at - timedelta(days=6))
    urgent = t.intake(staff["operator"], {**order_data, "priority": Priority.URGENT, "title": "燃气管道异味"}, at=at)[0]
    t.dispatch(urgent, staff["dispatcher"], lead_unit=city["d1"], at=at)
    WorkOrder.objects.filter(pk=urgent.pk).update(warning=Warning.RED)
    t.intake(staff["operator"], order_data, at=at)
    t.answer_directly(t.intake(staff["operator"], order_data, at=at)[0], staff["operator"], answer="可以。", at=at)
    rollup.refresh()
    return day, urgent


def table(data: dict, title: str) -> dict:
    return next(x for x in data["tables"] if x["title"] == title)


def test_daily_report_has_the_key_information(yesterday, order_data):
    day, urgent = yesterday
    data = reports.collect(ReportKind.DAILY, day)
    assert data["title"] == f"12345热线要情（{day:%Y年%m月%d日}）"
    assert data["summary"][0].startswith(f"{day:%m月%d日}受理诉求 3 件")
    assert "直接办结 1 件（直办率 33.3%）" in data["summary"][0]
    assert [row[0] for row in table(data, "紧急诉求")["rows"]] == [urgent.number]
    assert [row[0] for row in table(data, "红色预警工单（在办）")["rows"]] == [urgent.number]
    callers = table(data, "一人多诉")["rows"]
    phone = order_data["caller_phone"]
    assert callers == [[f"{phone[:3]}****{phone[-4:]}", 4, 3]]  # masked; four in 30 days, three that day
    assert phone not in str(data)


def test_xlsx_and_pdf_carry_the_same_figures(yesterday):
    day, urgent = yesterday
    report = reports.generate(ReportKind.DAILY, day)
    book = load_workbook(io.BytesIO(bytes(report.xlsx)))
    assert book.sheetnames[0] == "概要" and "紧急诉求" in book.sheetnames
    assert book["概要"]["A1"].value == report.title
    assert book["紧急诉求"]["A2"].value == urgent.number and book["紧急诉求"]["A1"].value == "工单编号"
    channels = {row[0]: row[1] for row in book["受理渠道"].iter_rows(min_row=2, values_only=True)}
    assert channels == {"电话": 3}
    pdf = PdfReader(io.BytesIO(bytes(report.pdf)))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert report.title in text and urgent.number in text and "一人多诉" in text and "燃气管道异味" in text
    fonts = [f.get_object() for page in pdf.pages for f in page["/Resources"]["/Font"].values()]
    descriptors = [f["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object() for f in fonts]
    assert descriptors and all("/FontFile2" in d for d in descriptors)  # the Chinese font is embedded


def test_monthly_report_compares_with_the_month_before_and_the_year_before(staff, order_data, city):
    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    at = timezone.make_aware(timezone.datetime.combine(last_month.replace(day=10), timezone.datetime.min.time()))
    for _ in range(4):
        t.intake(staff["operator"], order_data, at=at)
    t.intake(staff["operator"], order_data, at=at - timedelta(days=31))
    rollup.refresh()
    data = reports.collect(ReportKind.MONTHLY, last_month)
    indicators_table = table(data, "主要指标")
    assert indicators_table["columns"] == ["指标", "本期", "上期", "环比", "去年同期", "同比"]
    received = next(row for row in indicators_table["rows"] if row[0] == "受理量")
    assert received[1:4] == ["4", "1", "+300.0%"]
    assert "红榜（综合得分前五）" in [x["title"] for x in data["tables"]]


def test_schedule_archives_each_report_once_and_mails_subscribers_once(yesterday, staff, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    staff["leader"].email = "leader@example.org"
    staff["leader"].save()
    ReportSubscription.objects.create(user=staff["leader"], kind=ReportKind.DAILY)
    made = reports.generate_due()
    assert sorted(r.kind for r in made) == sorted(ReportKind.values)
    assert reports.generate_due() == []  # already archived
    assert Report.objects.count() == 4
    assert len(mail.outbox) == 1  # only the daily report has a subscriber, and it went once
    message = mail.outbox[0]
    assert message.bcc == ["leader@example.org"] and "热线要情" in message.subject
    assert sorted(name.rsplit(".", 1)[1] for name, _, _ in message.attachments) == ["pdf", "xlsx"]
    assert all(r.mailed_at for r in Report.objects.all())


def test_leader_generates_on_demand_downloads_and_subscribes(client, staff, yesterday):
    day, _ = yesterday
    client.force_login(staff["leader"])
    response = client.post("/analytics/reports/", {"kind": "weekly", "day": day.isoformat()})
    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/analytics/reports/{report.pk}/"
    assert report.kind == "weekly" and report.generated_by == staff["leader"]
    page = client.get(f"/analytics/reports/{report.pk}/").content.decode()
    assert "主要指标" in page and "红榜" in page
    pdf = client.get(f"/analytics/reports/{report.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    xlsx = client.get(f"/analytics/reports/{report.pk}/xlsx/")
    assert load_workbook(io.BytesIO(xlsx.content))["概要"]["A1"].value == report.title
    archive = client.get("/analytics/reports/", {"kind": "weekly"}).content.decode()
    assert report.title in archive and "手动" in archive
    client.post("/analytics/reports/", {"action": "subscribe", "kinds": ["daily", "monthly", "bogus"]})
    assert set(ReportSubscription.objects.values_list("kind", flat=True)) == {"daily", "monthly"}
    client.post("/analytics/reports/", {"action": "subscribe", "kinds": ["annual"]})
    assert list(ReportSubscription.objects.values_list("kind", flat=True)) == ["annual"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "hourly", "day": "2026-01-01"}, "报告类型"),
        ({"kind": "daily", "day": "yesterday"}, "统计日期"),
        ({"kind": "daily"}, "统计日期"),
        ({"kind": "annual", "day": "2999-01-01"}, "尚未开始"),
    ],
)
def test_bad_requests_name_the_field_and_create_nothing(client, staff, data, message):
    client.force_login(staff["leader"])
    response = client.post("/analytics/reports/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Report.objects.exists()


def test_only_leaders_supervisors_and_admins_read_reports(client, staff):
    for role in ("operator", "h1", "dispatcher"):
        client.force_login(staff[role])
        assert client.get("/analytics/reports/").status_code == 403


def test_without_a_chinese_font_the_check_warns_and_generation_says_why(client, staff, settings, monkeypatch):
    from analytics import fonts
    from analytics.apps import report_font_check

    settings.REPORT_FONT = ""
    monkeypatch.setattr(fonts, "FONT_CANDIDATES", ("/nonexistent/font.ttc",))
    assert [m.id for m in report_font_check(None)] == ["analytics.W001"]
    client.force_login(staff["leader"])
    response = client.post("/analytics/reports/", {"kind": "daily", "day": "2026-01-05"})
    assert response.status_code == 503 and "fonts-wqy-microhei" in response.content.decode()
    assert not Report.objects.exists()
