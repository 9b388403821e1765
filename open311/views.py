"""Open311 GeoReport v2 over HTTP: each view reads its parameters, asks ``georeport`` and answers in JSON or XML.

Every refusal, including an unknown path, format or method, is the spec's error list with the
right HTTP status: other systems parse these answers, so none of them is an HTML page.
"""

from collections.abc import Callable, Collection
from functools import wraps

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, QueryDict
from django.views.decorators.csrf import csrf_exempt

from open311 import georeport
from open311.formats import FORMATS, document, errors
from open311.georeport import Open311Error

View = Callable[..., HttpResponse]


def endpoint(methods: Collection[str] = ("GET", "HEAD")) -> Callable[[View], View]:
    """What every resource checks first: the format, the method, the parameters' bytes and ``jurisdiction_id``.

    The view is called as ``view(request, fmt, params, **path_parameters)`` with the query (GET) or form (POST).
    """

    def decorator(view: View) -> View:
        @csrf_exempt  # called by other systems (POST with an api_key), never with a browser session
        @wraps(view)
        def wrapped(request: HttpRequest, fmt: str, **kwargs: str) -> HttpResponse:
            if fmt not in FORMATS:
                return errors("xml", 404, [(404, f"不支持的格式：.{fmt}（可用 .json、.xml）")])
            if request.method not in methods:
                response = errors(fmt, 405, [(405, f"不支持 {request.method} 方法")])
                response["Allow"] = ", ".join(methods)
                return response
            try:
                params = request.POST if request.method == "POST" else request.GET
            except (RequestDataTooBig, TooManyFieldsSent):
                return errors(fmt, 400, [(400, "提交的内容太大或参数太多")])
            try:
                _check_text(params, kwargs)
                georeport.check_jurisdiction(params.get("jurisdiction_id"))
                return view(request, fmt, params, **kwargs)
            except Open311Error as exc:
                return errors(fmt, exc.status, exc.errors)

        return wrapped

    return decorator


def _check_text(params: QueryDict, path_parameters: dict[str, str]) -> None:
    """A NUL character cannot be stored or even compared in PostgreSQL text: refuse it up front."""
    for name, values in [*params.lists(), *((name, [value]) for name, value in path_parameters.items())]:
        if any("\x00" in value for value in values):
            raise Open311Error.invalid(name, f"{name} 含有不允许的字符")


@endpoint()
def discovery(request: HttpRequest, fmt: str, params: QueryDict) -> HttpResponse:
    url = request.build_absolute_uri("./").rstrip("/")
    return document(fmt, "discovery", georeport.discovery(url))


@endpoint()
def services(request: HttpRequest, fmt: str, params: QueryDict) -> HttpResponse:
    return document(fmt, "services", georeport.services())


@endpoint()
def service_definition(request: HttpRequest, fmt: str, params: QueryDict, code: str) -> HttpResponse:
    return document(fmt, "service_definition", georeport.service_definition(code))


@endpoint(methods=("GET", "HEAD", "POST"))
def service_requests(request: HttpRequest, fmt: str, params: QueryDict) -> HttpResponse:
    if request.method != "POST":
        return document(fmt, "service_requests", georeport.find_requests(params))
    key = georeport.authenticate(params.get("api_key"))
    item, created = georeport.submit(key, params, request.headers.get("Idempotency-Key"))
    return document(fmt, "service_requests", [item], status=201 if created else 200)


@endpoint()
def service_request(request: HttpRequest, fmt: str, params: QueryDict, number: str) -> HttpResponse:
    return document(fmt, "service_requests", [georeport.one_request(number)])


@endpoint()
def request_token(request: HttpRequest, fmt: str, params: QueryDict, token: str) -> HttpResponse:
    return document(fmt, "service_requests", [georeport.token_item(token)])


@csrf_exempt  # so that a POST to a wrong path is answered 404 in the spec's format, not with a CSRF page
def not_found(request: HttpRequest, path: str) -> HttpResponse:
    fmt = "json" if path.endswith(".json") else "xml"
    return errors(fmt, 404, [(404, f"没有这个资源：{request.path}")])
