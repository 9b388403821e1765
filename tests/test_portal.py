"""市民门户: citizens and enterprises submit, follow and rate their requests; operators take them in."""

import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders import transitions
from orders.models import Action, Channel, OrderEvent, State, WorkOrder
from portal import limits
from portal.models import Status, Submission, Throttle

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SENT: list[tuple[str, str]] = []


class RecordingSms:
    """The SMS gateway, which a test cannot reach: what would have been sent is recorded."""

    def send(self, submission, text):
        SENT.append((submission.phone, text))


class BrokenSms:
    def send(self, submission, text):
        raise ConnectionError("gateway down")


@pytest.fixture(autouse=True)
def senders(settings, tmp_path):
    SENT.clear()
    settings.PORTAL_SENDERS = ["portal.receipts.EmailSender", "tests.test_portal.RecordingSms"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path


def citizen(**extra) -> dict:
    return {
        "name": "王女士",
        "phone": "13912345678",
        "email": "wang@example.com",
        "title": "小区门口路灯不亮",
        "content": "一区一街道幸福小区门口的路灯坏了半个月，晚上很黑。",
        "address": "一区一街道幸福小区",
        **extra,
    }


def post(client, data, url="portal:submit", **files):
    return client.post(reverse(url), {**data, **files})


def test_a_citizen_submits_gets_a_code_by_sms_and_email_and_sees_the_progress(client, db):
    response = post(client, citizen(latitude="28.2", longitude="112.9"),
                    photos=[SimpleUploadedFile("灯.png", PNG, "image/png")])  # fmt: skip
    s = Submission.objects.get()
    assert response.status_code == 302 and response.url == reverse("portal:status", args=[s.code])
    assert s.status == Status.PENDING and s.phone == "13912345678" and str(s.latitude) == "28.200000"
    assert s.photos.get().content_type == "image/png" and s.ip == "127.0.0.1"
    assert SENT == [("13912345678", SENT[0][1])] and s.code in SENT[0][1]
    assert mail.outbox[0].to == ["wang@example.com"] and s.code in mail.outbox[0].body
    page = client.get(response.url).content.decode()
    assert s.code in page and "已提交" in page and "待受理" in page


def test_the_receipt_failing_does_not_lose_the_request(client, db, settings):
    settings.PORTAL_SENDERS = ["tests.test_portal.BrokenSms"]
    assert post(client, citizen()).status_code == 302
    assert Submission.objects.count() == 1


def test_the_default_sms_sender_writes_a_file_without_a_gateway(client, db, settings, tmp_path):
    settings.PORTAL_SENDERS = ["portal.receipts.FileSmsSender"]
    settings.VAR_DIR = tmp_path
    post(client, citizen())
    [message] = list(Path(tmp_path, "sms").iterdir())
    assert Submission.objects.get().code in message.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": ""}, "phone"),
        ({"phone": "12345"}, "phone"),
        ({"title": "   "}, "title"),
        ({"content": "路灯"}, "content"),
        ({"content": "很" * 5001}, "content"),
        ({"email": "not-an-address"}, "email"),
        ({"latitude": "95"}, "latitude"),
        ({"longitude": "abc"}, "longitude"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(client, db, change, field):
    response = post(client, citizen(**change))
    assert response.status_code == 422
    assert f'data-field="{field}"' in response.content.decode()
    assert not Submission.objects.exists() and not SENT


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("x.exe", b"MZ" + b"\x00" * 20, "不支持的附件类型"),
        ("fake.png", b"GIF89a" + b"\x00" * 20, "内容与扩展名"),
        ("doc.pdf", b"%PDF-1.4" + b"\x00" * 20, "只能上传照片"),
    ],
)
def test_uploads_are_checked_by_their_bytes(client, db, name, content, reason):
    response = post(client, citizen(), photos=[SimpleUploadedFile(name, content)])
    assert response.status_code == 422 and reason in response.content.decode()
    assert not Submission.objects.exists()


def test_at_most_five_photos(client, db):
    photos = [SimpleUploadedFile(f"{i}.png", PNG, "image/png") for i in range(6)]
    response = post(client, citizen(), photos=photos)
    assert response.status_code == 422 and "最多上传 5 张" in response.content.decode()


def test_an_enterprise_request_checks_the_credit_code(client, db):
    data = citizen(enterprise_name="测试科技有限公司", enterprise_credit_code="91430100MA4L8XYM38")
    bad = post(client, {**data, "enterprise_credit_code": "91430100MA4L8XYM39"}, url="portal:enterprise")
    assert bad.status_code == 422 and "校验位" in bad.content.decode()
    assert post(client, data, url="portal:enterprise").status_code == 302
    s = Submission.objects.get()
    assert s.kind == "enterprise" and s.enterprise_credit_code == "91430100MA4L8XYM38"


def test_submissions_are_limited_per_phone_and_per_ip(client, db):
    for _ in range(3):
        assert post(client, citizen()).status_code == 302
    response = post(client, citizen())
    assert response.status_code == 429 and "提交过于频繁" in response.content.decode()
    assert Submission.objects.count() == 3
    # the refused attempt counted against the address too: 10 attempts an hour from one IP
    for i in range(6):
        assert post(client, citizen(phone=f"1381234{i:04d}")).status_code == 302
    assert post(client, citizen(phone="13700000000")).status_code == 429
    assert Submission.objects.count() == 9


def test_a_request_without_a_usable_address_is_taken_and_stored_without_one(client, db):
    response = client.post(reverse("portal:submit"), citizen(), REMOTE_ADDR="not-an-address")
    assert response.status_code == 302
    assert Submission.objects.get().ip is None
    assert Throttle.objects.filter(key="submit:ip:unknown", count=1).exists()


def test_a_limit_opens_again_when_its_window_is_over(db):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    assert all(limits.allow("submit:phone", "139", now) for _ in range(3))
    assert not limits.allow("submit:phone", "139", now)
    assert limits.allow("submit:phone", "139", now + timedelta(hours=1, seconds=1))
    assert Throttle.objects.get(key="submit:phone:139").count == 1


def test_tracking_needs_the_code_and_the_phone_tail(client, db):
    post(client, citizen())
    s = Submission.objects.get()
    other = client_class_fresh()
    assert other.get(reverse("portal:status", args=[s.code])).status_code == 404
    wrong = other.post(reverse("portal:track"), {"code": s.code, "phone_tail": "0000"})
    assert wrong.status_code == 404 and "查询码或手机号后四位不对" in wrong.content.decode()
    bad = other.post(reverse("portal:track"), {"code": s.code, "phone_tail": "56a8"})
    assert bad.status_code == 422 and 'data-field="phone_tail"' in bad.content.decode()
    right = other.post(reverse("portal:track"), {"code": s.code.lower(), "phone_tail": "5678"})
    assert right.status_code == 302 and other.get(right.url).status_code == 200


def test_guessing_codes_is_stopped(client, db):
    for _ in range(30):
        assert client.post(reverse("portal:track"), {"code": "AAAAAAAAAA", "phone_tail": "1234"}).status_code == 404
    assert client.post(reverse("portal:track"), {"code": "AAAAAAAAAA", "phone_tail": "1234"}).status_code == 429


def client_class_fresh():
    from django.test import Client

    return Client()


def test_the_operator_takes_a_submission_in_with_its_photos_and_the_citizen_rates_the_reply(
    client, staff, order_data, city
):
    citizen_browser = client_class_fresh()
    post(citizen_browser, citizen(), photos=[SimpleUploadedFile("灯.png", PNG, "image/png")])
    s = Submission.objects.get()

    client.force_login(staff["operator"])
    queue = client.get(reverse("portal:queue")).content.decode()
    assert s.code in queue and "小区门口路灯不亮" in queue
    form = client.get(reverse("orders:intake") + f"?submission={s.code}").content.decode()
    assert 'value="13912345678"' in form and 'name="submission"' in form
    # what the citizen wrote is there already: the suggestions come without waiting for a keystroke
    assert re.search(r'id="assist"[^>]*hx-trigger="load, ', form)
    assert not re.search(r'id="assist"[^>]*hx-trigger="load', client.get(reverse("orders:intake")).content.decode())
    data = {**order_data, "caller_phone": s.phone, "channel": Channel.WEB, "priority": "normal",
            "idempotency_key": "k1", "submission": s.code}  # fmt: skip
    response = client.post(reverse("orders:intake"), data)
    assert response.status_code == 302
    order = WorkOrder.objects.get()
    s.refresh_from_db()
    assert s.status == Status.ACCEPTED and s.order == order and s.handled_by == staff["operator"]
    assert order.attachments.get().name == "灯.png" and order.channel == Channel.WEB
    # a second operator submitting the same submission gets the same order, not a second one
    again = client.post(reverse("orders:intake"), {**data, "idempotency_key": "k2"})
    assert again.status_code == 302 and WorkOrder.objects.count() == 1
    assert s.code not in client.get(reverse("portal:queue")).content.decode()

    page = citizen_browser.get(reverse("portal:status", args=[s.code])).content.decode()
    assert order.number in page and "已受理" in page and "评价答复" not in page
    # the citizen reads the steps of the timeline, not the hotline's internal states (待派发, 待回访 …)
    assert '<strong id="current-step">已受理</strong>' in page and "待派发" not in page
    order = transitions.dispatch(order, staff["dispatcher"], lead_unit=city["d1"])
    order = transitions.sign(order, staff["h1"])
    transitions.reply(order, staff["h1"], result="resolved", content="路灯已于昨日修复。", measures="更换灯具")
    page = citizen_browser.get(reverse("portal:status", args=[s.code])).content.decode()
    assert "路灯已于昨日修复" in page and "承办单位：一区" in page and "评价答复" in page
    assert '<strong id="current-step">已答复</strong>' in page and "待回访" not in page
    assert "13912345678" not in page  # nor any internal note

    bad = citizen_browser.post(reverse("portal:status", args=[s.code]), {"rating": "great"})
    assert bad.status_code == 422 and 'data-field="rating"' in bad.content.decode()
    ok = citizen_browser.post(reverse("portal:status", args=[s.code]), {"rating": "unsatisfied", "note": "晚上还是暗"})
    assert ok.status_code == 302
    s.refresh_from_db()
    assert s.rating == "unsatisfied"
    event = OrderEvent.objects.get(order=order, action=Action.RATE)
    assert "不满意" in event.note and "晚上还是暗" in event.note
    twice = citizen_browser.post(reverse("portal:status", args=[s.code]), {"rating": "satisfied"})
    assert twice.status_code == 409 and "评价答复" not in twice.content.decode()
    assert OrderEvent.objects.filter(action=Action.RATE).count() == 1


def test_a_failed_intake_leaves_the_submission_waiting(client, staff, order_data):
    post(client_class_fresh(), citizen())
    s = Submission.objects.get()
    client.force_login(staff["operator"])
    data = {**order_data, "category": "", "caller_phone": s.phone, "priority": "normal", "idempotency_key": "k",
            "submission": s.code}  # fmt: skip
    assert client.post(reverse("orders:intake"), data).status_code == 422
    s.refresh_from_db()
    assert s.status == Status.PENDING and not WorkOrder.objects.exists()


def test_declining_needs_a_reason_that_the_citizen_reads(client, staff):
    citizen_browser = client_class_fresh()
    post(citizen_browser, citizen())
    s = Submission.objects.get()
    client.force_login(staff["operator"])
    client.post(reverse("portal:decline", args=[s.code]), {"reason": " "})
    s.refresh_from_db()
    assert s.status == Status.PENDING
    client.post(reverse("portal:decline", args=[s.code]), {"reason": "属于诉讼程序中的事项，请依法通过诉讼途径解决"})
    s.refresh_from_db()
    assert s.status == Status.DECLINED
    page = citizen_browser.get(reverse("portal:status", args=[s.code])).content.decode()
    assert "不予受理" in page and "诉讼途径" in page
    assert client.post(reverse("portal:decline", args=[s.code]), {"reason": "重复"}).status_code == 302
    s.refresh_from_db()
    assert s.decline_reason.startswith("属于诉讼")


def test_only_intake_staff_see_the_queue_and_photos(client, staff):
    post(client_class_fresh(), citizen(), photos=[SimpleUploadedFile("灯.png", PNG, "image/png")])
    photo = Submission.objects.get().photos.get()
    for role in ("h1", "callback", "leader"):
        client.force_login(staff[role])
        assert client.get(reverse("portal:queue")).status_code == 403
        assert client.get(reverse("portal:photo", args=[photo.pk])).status_code == 403
    client.force_login(staff["operator"])
    response = client.get(reverse("portal:photo", args=[photo.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert State.PENDING_DISPATCH  # the queue is the operators' own, orders are made only by intake
