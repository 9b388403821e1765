"""审计日志: every write and every view of personal data is recorded, append-only, searchable and exportable."""

import json

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse

from accounts.tokens import create_token
from audit.models import AppendOnly, AuditAction, AuditEntry
from orders import transitions


@pytest.fixture
def order(staff, order_data):
    return transitions.intake(staff["operator"], order_data)[0]


def test_a_write_through_the_pages_is_recorded_with_its_order(client, staff, order, city):
    client.force_login(staff["dispatcher"])
    client.post(reverse("orders:act", args=[order.number, "dispatch"]),
                {"dispatch-lead_unit": city["d1"].code, "dispatch-version": order.version})  # fmt: skip
    entry = AuditEntry.objects.get(action=AuditAction.WRITE)
    assert entry.username == staff["dispatcher"].username and entry.role == "dispatcher"
    assert entry.order_number == order.number and entry.method == "POST" and entry.ip == "127.0.0.1"
    assert entry.status in (200, 302, 409, 422)


def test_a_write_through_the_api_is_recorded_with_the_tokens_user(client, staff, order_data):
    _, key = create_token(staff["operator"], "x")
    response = client.post("/api/orders", json.dumps({**order_data, "category": order_data["category"]}),
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")  # fmt: skip
    assert response.status_code == 201
    entry = AuditEntry.objects.get(action=AuditAction.WRITE)
    assert entry.username == staff["operator"].username and entry.path == "/api/orders" and entry.status == 201
    assert "13800138000" not in str(entry.__dict__)  # bodies are not kept


def test_refused_and_anonymous_writes_are_recorded_too(client, db):
    client.post(reverse("accounts:login"), {"username": "nobody", "password": "wrong"})
    entry = AuditEntry.objects.get()
    assert entry.username == "" and entry.path == reverse("accounts:login") and entry.status == 200
    assert "wrong" not in str(entry.__dict__)


def test_viewing_the_full_number_is_recorded_and_masked_views_are_not(client, staff, order):
    client.force_login(staff["operator"])
    assert "13800138000" in client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL, order_number=order.number).count() == 1
    client.force_login(staff["supervisor"])
    page = client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert "138****8000" in page and "13800138000" not in page and "查看完整号码" in page
    assert AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL).count() == 1


def test_the_api_detail_records_the_view_of_personal_data(client, staff, order):
    _, key = create_token(staff["callback"], "x")
    client.get(f"/api/orders/{order.number}", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert AuditEntry.objects.get(action=AuditAction.VIEW_PERSONAL).username == staff["callback"].username


def test_unmasking_needs_a_reason_and_is_recorded(client, staff, order):
    client.force_login(staff["leader"])
    url = reverse("orders:unmask", args=[order.number])
    client.post(url, {"reason": "  "})
    assert not AuditEntry.objects.filter(action=AuditAction.UNMASK).exists()
    page = client.post(url, {"reason": "核实重复来电"}).content.decode()
    assert "13800138000" in page
    entry = AuditEntry.objects.get(action=AuditAction.UNMASK)
    assert entry.reason == "核实重复来电" and entry.order_number == order.number and entry.username == "leader-T"
    client.force_login(staff["operator"])  # sees the number anyway: nothing to unmask
    assert client.post(url, {"reason": "x"}).status_code == 403


def test_entries_cannot_be_changed_or_removed(staff, order, rf):
    request = rf.post("/x")
    request.user = staff["admin"]
    from audit.log import record

    entry = record(request, AuditAction.WRITE, status=200)
    entry.reason = "改写"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().update(reason="x")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().delete()


@pytest.mark.postgres
def test_the_database_itself_refuses_to_rewrite_history(staff, rf):
    request = rf.post("/x")
    request.user = staff["admin"]
    from audit.log import record

    entry = record(request, AuditAction.WRITE, status=200)
    for sql in ("UPDATE audit_auditentry SET reason = 'x' WHERE id = %s", "DELETE FROM audit_auditentry WHERE id = %s"):
        with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).reason == ""


def test_admins_search_and_export_and_others_may_not(client, staff, order):
    client.force_login(staff["operator"])
    client.get(reverse("orders:detail", args=[order.number]))
    client.force_login(staff["admin"])
    page = client.get(reverse("audit:entries"), {"user": staff["operator"].username}).content.decode()
    assert order.number in page and "查看个人信息" in page
    assert "<td>话务员</td>" in page and "<td>operator</td>" not in page  # the role in words
    empty = client.get(reverse("audit:entries"), {"user": "nobody", "date_from": "bad"}).content.decode()
    assert "没有符合条件的记录" in empty and "开始日期不是有效日期" in empty
    reversed_dates = client.get(reverse("audit:entries"), {"date_from": "2026-12-02", "date_to": "2026-12-01"})
    assert "开始日期晚于结束日期" in reversed_dates.content.decode()
    csv = client.get(reverse("audit:export"), {"action": "view_personal"}).content.decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("时间,用户名") and order.number in csv and "查看个人信息" in csv
    assert ",话务员," in csv and ",operator," not in csv
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT, username=staff["admin"].username).exists()
    for role in ("operator", "supervisor", "leader", "h1"):
        client.force_login(staff[role])
        assert client.get(reverse("audit:entries")).status_code == 403
        assert client.get(reverse("audit:export")).status_code == 403
