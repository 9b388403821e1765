"""个人信息保存期限: personal data leaves old archived orders; the statistics do not change."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from analytics import indicators, rollup
from orders import transitions
from orders.models import State, WorkOrder


def archived(staff, order_data, city, at, **extra):
    order, _ = transitions.intake(staff["operator"], {**order_data, **extra}, at=at)
    order = transitions.sign(transitions.dispatch(order, staff["dispatcher"], lead_unit=city["d1"], at=at), staff["h1"],
                             at=at)  # fmt: skip
    order = transitions.reply(order, staff["h1"], result="resolved", content="已联系 13912345678 处理。",
                              measures="现场处理", at=at)  # fmt: skip
    order = transitions.callback(order, staff["callback"], contact_result="reached", satisfaction="satisfied",
                                 resolved=True, at=at)  # fmt: skip
    if order.state != State.ARCHIVED:
        order = transitions.archive(order, staff["callback"], note="", at=at)
    return order


def test_old_archived_orders_lose_personal_data_and_keep_their_statistics(staff, order_data, city, capsys):
    now = timezone.now()
    old = archived(staff, order_data, city, now - timedelta(days=4 * 365),
                   content="我的身份证号 430102199001011234，电话 13800138000，路灯坏了。")  # fmt: skip
    recent = archived(staff, order_data, city, now - timedelta(days=30))
    rollup.refresh(now)
    period = ((now - timedelta(days=5 * 365)).date(), (now + timedelta(days=1)).date())
    before = indicators.totals(*period)
    assert before.received == 2 and before.satisfied == 2

    call_command("purge_personal_data", "--years", "3", "--dry-run")
    assert "将清除 1 张" in capsys.readouterr().out
    assert WorkOrder.objects.get(pk=old.pk).caller_phone == "13800138000"
    call_command("purge_personal_data", "--years", "3")
    assert "已清除 1 张" in capsys.readouterr().out

    old.refresh_from_db()
    assert old.caller_phone == "" and old.caller_name == "" and old.address == ""
    assert "430102199001011234" not in old.content and "13800138000" not in old.content and "路灯坏了" in old.content
    assert "13912345678" not in old.reply_content and old.satisfaction == "satisfied"
    recent.refresh_from_db()
    assert recent.caller_phone == "13800138000"
    rollup.refresh(timezone.now())
    assert indicators.totals(*period) == before
    call_command("purge_personal_data", "--years", "3")
    assert "已清除 0 张" in capsys.readouterr().out


def test_years_must_be_positive(db):
    with pytest.raises(CommandError):
        call_command("purge_personal_data", "--years", "0")
