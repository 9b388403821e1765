"""GeoReport v2 over the hotline's own data: a service is an active leaf category, a request is a work order.

Only ``submit`` changes anything, and it takes the order in through ``orders.transitions.intake`` like
every other channel. GeoReport requests are public, so what goes out names no caller: there is no
field for the caller's name or phone, and in the citizen's text long numbers (phones, ID numbers)
and the caller's name are masked.
"""

import re
import secrets
from collections.abc import Callable
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from categories.models import Category, RequestType
from open311.formats import ErrorList
from open311.keys import key_for
from open311.models import Open311Key, Submission
from orders import transitions
from orders.errors import InvalidInput, TransitionError
from orders.models import OPEN_STATES, Channel, Closure, State, WorkOrder

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-02T00:00:00+08:00"  # when these documents last changed shape; clients compare it
MAX_REQUESTS = 1000
MAX_SPAN = timedelta(days=90)
MAX_DESCRIPTION = 4000
TITLE_LENGTH = 30
DEFAULT_REQUEST_TYPE = "help"  # 求助: what a citizen reporting a problem through an app usually wants
SERVICE_CODE = re.compile(r"^\d{1,18}$")
ATTRIBUTE = re.compile(r"^attribute\[(.+)\]$")
LONG_NUMBER = re.compile(r"\d{7,}[Xx]?")
YEARS = range(1900, 9001)  # dates outside cannot be meant, and keep the 90-day arithmetic in range
# intake's field -> the GeoReport parameter it came from, so an error names what the client sent.
PARAMETERS = {
    "caller_phone": "phone",
    "caller_name": "first_name",
    "content": "description",
    "title": "description",
    "address": "address_string",
    "area": "address_id",
    "latitude": "lat",
    "longitude": "long",
    "category": "service_code",
    "request_type": "attribute[request_type]",
    "enterprise_name": "attribute[enterprise_name]",
    "enterprise_credit_code": "attribute[enterprise_credit_code]",
}
ENTERPRISE_ATTRIBUTES = {
    "enterprise_name": ("企业名称", "涉企诉求填写，须与统一社会信用代码一起填"),
    "enterprise_credit_code": ("统一社会信用代码", "18 位，须与企业名称一起填"),
}
ATTRIBUTE_CODES = {"request_type", *ENTERPRISE_ATTRIBUTES}
CHECKS: dict[str, Callable[[str], None]] = {
    "email": validate_email,
    "media_url": URLValidator(schemes=["http", "https"]),
}


class Open311Error(Exception):
    """A refusal in the spec's error format: the HTTP status and (code, description) pairs."""

    def __init__(self, status: int, errors: ErrorList) -> None:
        self.status = status
        self.errors = errors
        super().__init__(errors)

    @classmethod
    def http(cls, status: int, description: str) -> "Open311Error":
        """Not about one parameter (no key, nothing found): the code is the HTTP status, as in the spec."""
        return cls(status, [(status, description)])

    @classmethod
    def invalid(cls, parameter: str, description: str) -> "Open311Error":
        """400 whose code names the parameter at fault."""
        return cls(400, [(parameter, description)])


def check_jurisdiction(value: str | None) -> None:
    """``jurisdiction_id`` may be left out (this server serves one city); when given it must be that city's."""
    if value and value != settings.OPEN311_JURISDICTION:
        raise Open311Error.http(404, f"jurisdiction_id 不存在：{value}（本服务为 {settings.OPEN311_JURISDICTION}）")


def authenticate(api_key: str | None) -> Open311Key:
    key = key_for((api_key or "").strip())
    if key is None:
        raise Open311Error.http(403, "api_key 无效或未提供，不能提交诉求")
    return key


# ---------------------------------------------------------------- services


def discovery(url: str) -> dict:
    return {
        "changeset": CHANGESET,
        "contact": "12345 政务服务便民热线：电话 12345",
        "key_service": "提交诉求（POST requests）需要 api_key，请向热线中心申请",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def services() -> list[dict]:
    """One service per leaf category that intake accepts, grouped under its top-level category."""
    result = []
    for category in Category.objects.leaves().active().only("pk", "name", "full_name"):
        path = category.full_name.split(" › ")
        result.append(
            {
                "service_code": str(category.pk),
                "service_name": category.name,
                "description": category.full_name,
                "metadata": True,
                "type": "realtime",
                "keywords": ", ".join(dict.fromkeys(path)),  # 交通运输 › 交通运输 › … names a level twice
                "group": path[0],
            }
        )
    return result


def service_definition(code: str) -> dict:
    category = _service(code)
    if category is None:
        raise Open311Error.http(404, f"service_code 不存在或已停用：{code}")
    return {"service_code": str(category.pk), "attributes": attributes()}


def attributes() -> list[dict]:
    """What a work order has beyond GeoReport's fields. None is required on its own; the 涉企 pair goes together."""
    default = _default_request_type()
    result = [
        {
            "variable": True,
            "code": "request_type",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": f"不填为“{default.name}”" if default else None,
            "order": 1,
            "description": "诉求类型",
            "values": [{"key": t.code, "name": t.name} for t in RequestType.objects.filter(is_active=True)],
        }
    ]
    for order, (code, (label, note)) in enumerate(ENTERPRISE_ATTRIBUTES.items(), start=2):
        result.append(
            {
                "variable": True,
                "code": code,
                "datatype": "string",
                "required": False,
                "datatype_description": note,
                "order": order,
                "description": label,
            }
        )
    return result


def _service(code: str) -> Category | None:
    """The active leaf category with this service_code."""
    if not SERVICE_CODE.match(code or ""):
        return None
    return Category.objects.leaves().active().filter(pk=int(code)).first()


def _default_request_type() -> RequestType | None:
    active = RequestType.objects.filter(is_active=True)
    return active.filter(code=DEFAULT_REQUEST_TYPE).first() or active.first()


# ---------------------------------------------------------------- requests out


def _public_orders() -> QuerySet[WorkOrder]:
    """Every order but those closed as 无效 (silent calls, tests, abuse): they are no request of the city's."""
    return WorkOrder.objects.exclude(closure=Closure.INVALID).select_related(
        "category", "lead_unit", "area", "open311_submission"
    )


def find_requests(params: QueryDict) -> list[dict]:
    """GET requests: the ids asked for (which override every other filter), else the filters; newest first."""
    orders = _public_orders()
    if ids := _split(params.get("service_request_id")):
        orders = orders.filter(number__in=ids[:MAX_REQUESTS])
    else:
        orders = _filtered(orders, params)
    return [request_item(order) for order in orders.order_by("-received_at", "-pk")[:MAX_REQUESTS]]


def one_request(number: str) -> dict:
    order = _public_orders().filter(number=number).first()
    if order is None:
        raise Open311Error.http(404, f"service_request_id 不存在：{number}")
    return request_item(order)


def token_item(token: str) -> dict:
    submission = Submission.objects.select_related("order").filter(token=token).first()
    if submission is None:
        raise Open311Error.http(404, f"token 不存在：{token}")
    return {"service_request_id": submission.order.number, "token": submission.token}


def request_item(order: WorkOrder) -> dict:
    submission = getattr(order, "open311_submission", None)
    return {
        "service_request_id": order.number,
        "status": "open" if order.is_open else "closed",
        "status_notes": _status_notes(order),
        "service_name": order.category.name,
        "service_code": str(order.category_id),
        "description": _redact(order.content, order),
        "agency_responsible": order.lead_unit.name if order.lead_unit_id else None,
        "service_notice": _notice(order),
        "requested_datetime": _w3c(order.received_at),
        "updated_datetime": _w3c(order.updated_at),
        "expected_datetime": _w3c(order.due_at),
        "address": order.address or None,
        "address_id": order.area.code if order.area_id else None,
        "zipcode": None,
        "lat": float(order.latitude) if order.latitude is not None else None,
        "long": float(order.longitude) if order.longitude is not None else None,
        "media_url": (submission.media_url or None) if submission else None,
    }


def _filtered(orders: QuerySet[WorkOrder], params: QueryDict) -> QuerySet[WorkOrder]:
    if codes := _split(params.get("service_code")):
        known = {str(pk) for pk in Category.objects.leaves().filter(pk__in=_ints(codes)).values_list("pk", flat=True)}
        if unknown := [code for code in codes if code not in known]:
            raise Open311Error.invalid("service_code", f"service_code 不存在：{'，'.join(unknown)}")
        orders = orders.filter(category_id__in=known)
    if statuses := set(_split(params.get("status"))):
        if not statuses <= {"open", "closed"}:
            raise Open311Error.invalid("status", "status 只能是 open、closed 或两者（逗号分隔）")
        if statuses == {"open"}:
            orders = orders.filter(state__in=OPEN_STATES)
        elif statuses == {"closed"}:
            orders = orders.filter(state=State.ARCHIVED)
    start, end = _period(params.get("start_date"), params.get("end_date"))
    return orders.filter(received_at__gte=start, received_at__lte=end)


def _period(start_text: str | None, end_text: str | None) -> tuple[datetime, datetime]:
    """The spec's range of requested_datetime: at most 90 days; the most recent 90 when neither end is given."""
    start = _instant(start_text, "start_date") if start_text else None
    end = _instant(end_text, "end_date", end=True) if end_text else None
    if start is None:
        end = end or timezone.now()
        start = end - MAX_SPAN
    elif end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Open311Error.invalid("end_date", "end_date 不能早于 start_date")
    if end - start > MAX_SPAN:
        raise Open311Error.invalid("end_date", "start_date 到 end_date 不能超过 90 天")
    return start, end


def _instant(text: str, parameter: str, end: bool = False) -> datetime:
    """A W3C date or date-time. Without a zone it is Beijing time; a bare end date includes that whole day."""
    try:
        day = parse_date(text)
        value = datetime.combine(day, time.max if end else time.min) if day else parse_datetime(text)
    except ValueError:
        value = None
    if value is None or value.year not in YEARS:
        raise Open311Error.invalid(parameter, f"{parameter} 应为 W3C 日期时间，如 2026-01-01T00:00:00+08:00")
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _ints(codes: list[str]) -> list[int]:
    return [int(code) for code in codes if SERVICE_CODE.match(code)]


def _w3c(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _redact(text: str, order: WorkOrder) -> str:
    """The text without its caller: runs of 7+ digits keep their first three, the caller's name is starred."""
    text = LONG_NUMBER.sub(lambda m: m[0][:3] + "*" * (len(m[0]) - 3), text)
    name = order.caller_name.strip()
    return text.replace(name, "*" * len(name)) if len(name) >= 2 else text


def _status_notes(order: WorkOrder) -> str:
    if order.is_open:
        return str(order.get_state_display())
    closure = str(order.get_closure_display())
    return f"{closure}：{_redact(order.reply_content, order)}" if order.reply_content else closure


def _notice(order: WorkOrder) -> str | None:
    """What happens next: dispatch, the unit and its deadline, or the callback."""
    if order.state == State.PENDING_DISPATCH:
        return "已受理，等待派至承办单位"
    if order.state in (State.PENDING_SIGN, State.IN_PROGRESS) and order.lead_unit_id and order.due_at:
        return f"由{order.lead_unit.name}办理，{timezone.localtime(order.due_at):%Y-%m-%d %H:%M} 前办结"
    if order.state == State.PENDING_CALLBACK:
        return "已办结，等待回访"
    return None


# ---------------------------------------------------------------- requests in


def submit(key: Open311Key, params: QueryDict, idempotency_key: str | None = None) -> tuple[dict, bool]:
    """POST requests: take the request in as the key's user; returns (the response item, created).

    A repeated ``Idempotency-Key`` header (scoped to the key) returns the first order, as intake does.
    """
    data, extra = _intake_data(params)
    given = (idempotency_key or "").strip()
    scoped = f"open311:{key.pk}:{given}" if given else None
    try:
        with transaction.atomic():
            order, created = transitions.intake(key.user, data, idempotency_key=scoped)
            submission, _ = Submission.objects.get_or_create(
                order=order, defaults={"key": key, "token": secrets.token_hex(16), **extra}
            )
    except InvalidInput as exc:
        raise Open311Error(400, _named(exc.errors)) from None
    except TransitionError as exc:
        raise Open311Error.http(exc.status, exc.message) from None
    item = {
        "service_request_id": order.number,
        "token": submission.token,
        "service_notice": _notice(order),
        "account_id": None,
    }
    return item, created


def _named(errors: dict[str, str]) -> ErrorList:
    """intake's errors under the GeoReport parameter names, one per parameter."""
    named: dict[str, str] = {}
    for field, message in errors.items():
        named.setdefault(PARAMETERS.get(field, field), message)
    return list(named.items())


def _intake_data(params: QueryDict) -> tuple[dict, dict]:
    """intake's input and the Submission's fields from the POSTed parameters; raises naming every bad one.

    intake checks what it owns (phone, coordinates, area, type, 涉企); this checks what GeoReport adds.
    """
    errors: ErrorList = []

    def text(name: str) -> str:
        return params.get(name, "").strip()

    code = text("service_code")
    category = _service(code)
    if category is None:
        errors.append(("service_code", f"service_code 不存在或已停用：{code}" if code else "请提供 service_code"))
    description = text("description")
    if not description:
        errors.append(("description", "请填写诉求内容"))
    elif len(description) > MAX_DESCRIPTION:
        errors.append(("description", f"诉求内容不能超过 {MAX_DESCRIPTION} 字"))
    lat, long = text("lat"), text("long")
    if bool(lat) != bool(long):
        errors.append(("long" if lat else "lat", "lat 和 long 须同时提供"))
    elif not (lat or text("address_string") or text("address_id")):
        errors.append(("lat", "请提供位置：lat 和 long、address_string 或 address_id"))

    values = {}
    for name in params:
        if match := ATTRIBUTE.match(name):
            if match[1] in ATTRIBUTE_CODES:
                values[match[1]] = params.get(name, "").strip()
            else:
                errors.append((name, f"没有这个属性：{match[1]}"))

    extra = {name: text(name) for name in ("email", "device_id", "account_id", "media_url")}
    for name, value in extra.items():
        if len(value) > Submission._meta.get_field(name).max_length:
            errors.append((name, f"{name} 不能超过 {Submission._meta.get_field(name).max_length} 个字符"))
        elif value and name in CHECKS and not _passes(CHECKS[name], value):
            errors.append((name, f"{name} 格式不对"))
    if errors:
        raise Open311Error(400, errors)

    request_type = values.get("request_type") or getattr(_default_request_type(), "code", None)
    enterprise_name = values.get("enterprise_name", "")
    credit_code = values.get("enterprise_credit_code", "")
    data = {
        "channel": Channel.API,
        "request_type": request_type,
        "category": category,
        "title": description.splitlines()[0].strip()[:TITLE_LENGTH],
        "content": description,
        "caller_phone": text("phone"),
        "caller_name": _caller_name(text("first_name"), text("last_name")),
        "address": text("address_string"),
        "area": text("address_id") or None,  # the unit tree is the address register: a 区/县, 街道 or 社区 code
        "latitude": lat or None,
        "longitude": long or None,
        "is_enterprise": bool(enterprise_name or credit_code),
        "enterprise_name": enterprise_name,
        "enterprise_credit_code": credit_code,
    }
    return data, extra


def _passes(check: Callable[[str], None], value: str) -> bool:
    try:
        check(value)
    except ValidationError:
        return False
    return True


def _caller_name(first: str, last: str) -> str:
    """姓 then 名 without a space for a Chinese name; "First Last" for a Latin one."""
    if (first + last).isascii():
        return " ".join(part for part in (first, last) if part)
    return last + first
