"""The event feed: a unit's system reads the work-order events it may see, page by page, with a cursor.

It is how a subscriber that was down (or that prefers polling to webhooks) catches up: following
``next_cursor`` from any cursor returns every later event exactly once, oldest first. Events appear
in the feed 30 to 60 seconds after they are written, for the reason given in ``sharing/horizon.py``;
an empty page with the same cursor back means "nothing new yet". Which events: those of the orders the
token's user sees (``orders/queries.py``), as they stand when the page is read.
"""

import re

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from hotline.api import ApiError
from hotline.error_codes import ErrorCode
from orders.queries import visible_orders
from sharing import events
from sharing.kinds import Kind

router = Router(tags=["信息共享"])

MAX_LIMIT = 500
CURSOR = re.compile(r"[0-9]{1,18}")


class FeedIn(Schema):
    after: str = Field("", description="上次返回的 next_cursor；留空从最早的事件开始")
    limit: int = Field(100, ge=1, le=MAX_LIMIT, description=f"每页事件数，1–{MAX_LIMIT}")
    kind: list[Kind] = Field([], description="只要这些类型的事件（可重复）；不填表示全部类型")


class FeedOut(Schema):
    items: list[events.SharedEvent]
    next_cursor: str = Field(description="下一次请求的 after；没有新事件时与本次相同")
    has_more: bool = Field(description="为真时立即用 next_cursor 再取；为假时稍后再来")


def _cursor(text: str) -> int:
    if text == "":
        return 0
    if not CURSOR.fullmatch(text):
        message = "after 不是有效的游标：请使用上次返回的 next_cursor，或留空从头开始"
        raise ApiError(422, ErrorCode.INVALID, message, field="after")
    return int(text)


@router.get("", response=FeedOut, summary="工单事件流（本单位可见的工单，按游标分页，先发生的在前）")
def feed(request, query: Query[FeedIn]):
    after = _cursor(query.after)
    kinds = query.kind or Kind.values
    rows, cursor, more = events.page(visible_orders(request.auth), after, query.limit, kinds, timezone.now())
    return {"items": rows, "next_cursor": str(cursor), "has_more": more}
