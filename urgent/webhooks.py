"""Group robots (WeCom, DingTalk): the markdown message of an item, and its delivery until it lands.

The message carries the order's business facts (number, masked title, category, priority, area, lead unit,
why it is urgent, when it was received and pushed) and never the caller's name, phone or ID number: a group
chat is outside the hotline's access control. Bodies, as each robot expects them:

    WeCom:    {"msgtype": "markdown", "markdown": {"content": "<markdown>"}}
    DingTalk: {"msgtype": "markdown", "markdown": {"title": "<title>", "text": "<markdown>"}}

A DingTalk robot with 加签 gets ``&timestamp=<ms>&sign=<base64 HMAC-SHA256 of "timestamp\\nsecret">`` on its URL.

Delivery goes through ``sharing/outbox.py``, like sharing's webhooks, safely with any number of runs at once:
1. the push writes one ``WebhookDelivery`` per robot of the item's units, in the item's own transaction, so a
   pushed item always owes its messages and a failing robot never loses the item;
2. each due delivery is claimed with a lease, retried 1, 2, 4 … minutes later (at most an hour), dead-lettered
   after the robot's ``max_attempts`` (replayed from the admin site), and after a failure the robot's other
   deliveries wait for the next run. One attempt POSTs the robot's body with a short timeout; HTTP 2xx with
   ``errcode`` 0 (or no JSON) counts as delivered.
"""

import base64
import hashlib
import hmac
import json
import re
import time
from datetime import datetime
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from urllib.parse import quote_plus, urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from orders.models import Priority
from sharing import outbox
from sharing.events import mask_phones
from urgent.models import LeaderWebhook, RobotKind, UrgentItem, WebhookDelivery

TIMEOUT = 5  # seconds, for connecting and for each read of the answer (well inside the outbox's LEASE)
ANSWER_BYTES = 2048
ID_LIKE = re.compile(r"\d{6,}[\dXx]?")


def hooks_for(item: UrgentItem) -> list[LeaderWebhook]:
    """Active robots without a unit, and those whose unit holds the order's lead unit or area."""
    order = item.order
    paths = [unit.path for unit in (order.lead_unit, order.area) if unit is not None]
    hooks = []
    for hook in LeaderWebhook.objects.filter(is_active=True).select_related("unit"):
        if hook.unit is None or any(path.startswith(hook.unit.path) for path in paths):
            hooks.append(hook)
    return hooks


def queue(item: UrgentItem, now: datetime) -> int:
    """Owe ``item`` to each of its robots; called inside the push's transaction."""
    deliveries = [
        WebhookDelivery(item=item, hook=hook, next_attempt_at=now, created_at=now) for hook in hooks_for(item)
    ]
    WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    return len(deliveries)


def safe_text(text: str, name: str, phone: str) -> str:
    """``text`` without the caller's name, phone or anything shaped like a phone or ID number."""
    if name and len(name) >= 2:
        text = text.replace(name, name[0] + "*" * (len(name) - 1))
    text = mask_phones(text, phone)
    return ID_LIKE.sub(lambda m: m.group(0)[:3] + "*" * (len(m.group(0)) - 3), text)


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def message(item: UrgentItem) -> tuple[str, str]:
    """The title and markdown text of ``item``'s robot message."""
    order = item.order
    title = f"热线要情：{order.number}"
    lines = [
        f"### 【热线要情】{safe_text(order.title, order.caller_name, order.caller_phone)}",
        f"> 工单编号：{order.number}",
        f"> 诉求分类：{order.category.full_name}",
        f"> 紧急程度：{Priority(order.priority).label}",
        f"> 所属区域：{order.area.name if order.area else '—'}",
        f"> 主办单位：{order.lead_unit.name if order.lead_unit else '待派发'}",
        f"> 受理时间：{_when(order.received_at)}",
        f"> 推送时间：{_when(item.pushed_at)}",
        f"> 命中规则：{'；'.join(item.reasons)}",
    ]
    site = getattr(settings, "SITE_URL", "").rstrip("/")
    if site:
        lines += ["", f"[查看并认领]({site}{reverse('urgent:inbox')}#item-{item.pk})"]
    else:
        lines += ["", "请登录 12345 热线平台，在“热线要情”中认领。"]
    return title, "\n".join(lines)


def body(hook: LeaderWebhook, item: UrgentItem) -> bytes:
    title, text = message(item)
    if hook.kind == RobotKind.DINGTALK:
        payload = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    else:
        payload = {"msgtype": "markdown", "markdown": {"content": text}}
    return json.dumps(payload, ensure_ascii=False).encode()


def signed_target(hook: LeaderWebhook, millis: int) -> str:
    """The path and query to POST to: the robot's URL, plus DingTalk's timestamp and sign when it has a secret."""
    url = urlsplit(hook.url)
    query = url.query
    if hook.kind == RobotKind.DINGTALK and hook.secret:
        digest = hmac.new(hook.secret.encode(), f"{millis}\n{hook.secret}".encode(), hashlib.sha256).digest()
        sign = quote_plus(base64.b64encode(digest).decode())
        query = f"{query}&" if query else ""
        query += f"timestamp={millis}&sign={sign}"
    return (url.path or "/") + (f"?{query}" if query else "")


def post(hook: LeaderWebhook, payload: bytes) -> str | None:
    """POST ``payload`` to the robot; None when it accepted it, else what went wrong."""
    url = urlsplit(hook.url)
    secure = url.scheme == "https"
    connection_class = HTTPSConnection if secure else HTTPConnection
    connection = connection_class(url.hostname, url.port or (443 if secure else 80), timeout=TIMEOUT)
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "hotline12345-urgent/1"}
    try:
        connection.request("POST", signed_target(hook, int(time.time() * 1000)), body=payload, headers=headers)
        answer = connection.getresponse()
        text = answer.read(ANSWER_BYTES)
    except (OSError, HTTPException) as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    finally:
        connection.close()
    if not 200 <= answer.status < 300:
        return f"HTTP {answer.status} {answer.reason}"[:500]
    try:
        result = json.loads(text)
    except ValueError:
        return None
    if isinstance(result, dict) and result.get("errcode") not in (None, 0):
        return f"errcode {result.get('errcode')}: {result.get('errmsg', '')}"[:500]
    return None


def send(delivery: WebhookDelivery) -> str | None:
    """POST ``delivery``'s item to its robot; None when the robot accepted it, else what went wrong."""
    return post(delivery.hook, body(delivery.hook, delivery.item))


OUTBOX = outbox.Outbox(
    WebhookDelivery, "hook", send, related=("item__order__category", "item__order__area", "item__order__lead_unit")
)
due, claim, attempt, deliver_due = OUTBOX.due, OUTBOX.claim, OUTBOX.attempt, OUTBOX.deliver_due
replay, retry_delay = outbox.replay, outbox.retry_delay
DELIVERED, RETRY, DEAD = outbox.DELIVERED, outbox.RETRY, outbox.DEAD
