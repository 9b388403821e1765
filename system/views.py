from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from system.config import get_setting
from system.models import Heartbeat


@require_GET
def healthz(request) -> JsonResponse:
    """Database and background-process status as JSON; 503 when the database is unreachable."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database is the answer
        return JsonResponse({"status": "error", "database": {"ok": False, "error": str(exc)}}, status=503)

    stale_after = get_setting("worker_stale_seconds")
    now = timezone.now()
    beats = {b.name: b.last_seen for b in Heartbeat.objects.all()}
    processes = {}
    for name in ("scheduler", "worker"):
        seen = beats.get(name)
        age = (now - seen).total_seconds() if seen else None
        processes[name] = {
            "ok": age is not None and age <= stale_after,
            "last_seen": seen.isoformat() if seen else None,
            "age_seconds": round(age, 1) if age is not None else None,
        }
    healthy = all(p["ok"] for p in processes.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "database": database, "worker": processes},
        status=200,
    )
