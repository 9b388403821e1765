"""认领: a leader the item was pushed to takes it, once.

The claim is ``UPDATE … SET status = claimed, claimed_by, claimed_at WHERE status = open``: one updated row
means this leader has it; zero means another leader claimed it first or the item closed meanwhile (409).
Only the leaders it was pushed to may claim it (403 for anyone else, leaders included).
"""

from datetime import datetime

from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from orders.errors import Conflict, Forbidden, InvalidInput
from urgent.models import ItemStatus, UrgentItem


def can_claim(user: User, item: UrgentItem) -> bool:
    return user.has_role(Role.LEADER) and item.leaders.filter(pk=user.pk).exists()


def claim(user: User, item: UrgentItem, at: datetime | None = None) -> UrgentItem:
    """Record ``user``'s claim of ``item`` at ``at`` (default now); returns the item as stored."""
    at = at or timezone.now()
    if not user.has_role(Role.LEADER):
        raise Forbidden("只有领导可以认领热线要情")
    if not item.leaders.filter(pk=user.pk).exists():
        raise Forbidden("这条要情没有推送给您，不能认领")
    if at < item.pushed_at:
        raise InvalidInput({"at": "认领时间不能早于推送时间"})
    won = UrgentItem.objects.filter(pk=item.pk, status=ItemStatus.OPEN, claimed_at__isnull=True).update(
        status=ItemStatus.CLAIMED, claimed_by=user, claimed_at=at
    )
    item.refresh_from_db()
    if won != 1:
        if item.claimed_by_id is not None:
            when = timezone.localtime(item.claimed_at).strftime("%m-%d %H:%M")
            who = "您" if item.claimed_by_id == user.pk else str(item.claimed_by)
            raise Conflict(f"这条要情已由{who}于 {when} 认领")
        raise Conflict(f"这条要情已关闭（{item.close_reason or '工单已办结'}），不能再认领")
    return item
