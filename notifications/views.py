from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from notifications.models import Notification


@role_required()
def inbox(request):
    """The user's messages, newest first; opening the page does not mark them read."""
    notes = request.user.notifications.all()[:100]
    return render(request, "notifications/list.html", {"title": "消息", "notes": notes})


@role_required()
@require_POST
def mark_read(request):
    Notification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("notifications:inbox")
