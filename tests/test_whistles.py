"""吹哨报到: who may blow, the report deadline, late reminders once, closing, and the resolution rates."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification
from orders import transitions as t
from orders.errors import Conflict, Forbidden, InvalidInput
from supervision import whistles
from supervision.models import WhistleStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def street_order(staff, order_data, city):
    order, _ = t.intake(staff["operator"], order_data)
    return t.sign(t.dispatch(order, staff["dispatcher"], lead_unit=city["s1"]), staff["hs1"])


def test_street_blows_departments_report_within_the_limit(street_order, staff, city):
    with pytest.raises(Forbidden):
        whistles.blow(staff["h1"], street_order, [city["dept"]], "需要住建局到场")  # a district, not a street
    with pytest.raises(InvalidInput):
        whistles.blow(staff["hs1"], street_order, [city["d2"]], "召集一个区")  # not a department
    blown_at = timezone.now()
    w = whistles.blow(staff["hs1"], street_order, [city["dept"], city["power"]], "路面塌陷涉及管线", at=blown_at)
    assert w.report_due_at == blown_at + timedelta(hours=24)
    assert Notification.objects.filter(user=staff["hdept"], title__contains="吹哨").exists()

    call = w.calls.get(department=city["dept"])
    with pytest.raises(Forbidden):
        whistles.report(staff["h1"], call, "不是我")
    on_time = whistles.report(staff["hdept"], call, "已派人到场勘查", at=w.report_due_at - timedelta(seconds=1))
    assert on_time.on_time is True
    with pytest.raises(Conflict):
        whistles.report(staff["hdept"], call, "再报一次")

    # the power company is late: told once, however often the job runs; its report counts as late
    staff_power = staff["hdept"].__class__.objects.create(username="hpower", role="handler", unit=city["power"])
    assert whistles.remind_late(w.report_due_at - timedelta(seconds=1)) == 0
    assert whistles.remind_late(w.report_due_at + timedelta(seconds=1)) == 1
    assert whistles.remind_late(w.report_due_at + timedelta(hours=2)) == 0
    late = w.calls.get(department=city["power"])
    assert late.late_notified
    assert Notification.objects.filter(user=staff_power, title__contains="超时").count() == 1
    reported = whistles.report(staff_power, late, "已抢修", at=w.report_due_at + timedelta(hours=1))
    assert reported.on_time is False

    with pytest.raises(Forbidden):
        whistles.close(staff["hdept"], w, True, "解决了")
    closed = whistles.close(staff["hs1"], w, True, "路面已修复")
    assert closed.status == WhistleStatus.RESOLVED
    with pytest.raises(Conflict):
        whistles.close(staff["hs1"], w, False, "再关一次")
    notes = [e.note for e in street_order.events.all()]
    assert any("街道吹哨" in n for n in notes) and any("报到（超时）" in n for n in notes)


def test_resolution_rates_per_street_and_department(street_order, staff, city, order_data):
    w1 = whistles.blow(staff["hs1"], street_order, [city["dept"]], "第一次")
    whistles.report(staff["hdept"], w1.calls.get(), "已处理")
    whistles.close(staff["hs1"], w1, True, "解决")
    w2 = whistles.blow(staff["hs1"], street_order, [city["dept"], city["power"]], "第二次")
    whistles.close(staff["hs1"], w2, False, "未能解决")
    whistles.blow(staff["hs1"], street_order, [city["dept"]], "第三次，仍在办")
    now = timezone.now()
    stats = whistles.stats(now - timedelta(days=1), now + timedelta(days=1))
    (street,) = stats["streets"]
    assert (street["blown"], street["closed"], street["resolved"]) == (3, 2, 1)
    assert street["resolution_rate"] == 0.5
    dept = next(d for d in stats["departments"] if d["name"] == "住建局")
    assert (dept["called"], dept["closed"], dept["resolved"], dept["reported"], dept["on_time"]) == (3, 2, 1, 1, 1)
    power = next(d for d in stats["departments"] if d["name"] == "供电公司")
    assert power["resolution_rate"] == 0 and power["on_time_rate"] is None
    assert whistles.stats(datetime(2020, 1, 1, tzinfo=now.tzinfo), datetime(2020, 2, 1, tzinfo=now.tzinfo)) == {
        "streets": [], "departments": [],
    }  # fmt: skip


def test_whistle_pages(street_order, staff, city, client):
    client.force_login(staff["hs1"])
    assert "在本街道主办的工单页面上“吹哨召集部门”" in client.get("/supervision/whistles/").content.decode()
    assert 'id="action-whistle"' in client.get(f"/orders/{street_order.number}/").content.decode()
    # an empty form: both reasons at once, in words, not the fields' codes
    empty = client.post(f"/supervision/whistles/blow/{street_order.number}/", {"description": ""}, follow=True)
    assert "请填写吹哨事由；请选择要召集的职能部门或公共服务企业" in empty.content.decode()
    assert "description：" not in empty.content.decode()
    response = client.post(f"/supervision/whistles/blow/{street_order.number}/",
                           {"departments": ["T-ZJJ"], "description": "需要住建局到场"})  # fmt: skip
    assert response.status_code == 302
    pk = int(response.url.rstrip("/").rsplit("/", 1)[1])
    client.force_login(staff["hdept"])
    assert 'id="report"' in client.get(f"/supervision/whistles/{pk}/").content.decode()
    assert client.post(f"/supervision/whistles/{pk}/", {"report": "1", "action": ""}).status_code == 422
    assert client.post(f"/supervision/whistles/{pk}/", {"report": "1", "action": "已到场"}).status_code == 302
    client.force_login(staff["h2"])
    assert client.get(f"/supervision/whistles/{pk}/").status_code == 404
    client.force_login(staff["supervisor"])
    assert "一街道" in client.get("/supervision/whistles/").content.decode()
