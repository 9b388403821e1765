"""GeoReport v2 documents as JSON or XML: the same data, the spec's element names and layouts.

JSON is the data as is. XML nests a dict's keys as elements and repeats a list's items under the
singular element the spec uses (``<services><service>…``); ``None`` is an empty element.
"""

import json
import re
import xml.etree.ElementTree as ET

from django.http import HttpResponse

FORMATS = ("json", "xml")
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
# Characters XML 1.0 cannot carry at all; citizens' text pasted from other systems sometimes has them.
NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

ErrorList = list[tuple[int | str, str]]


def _element(tag: str, value: object) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        element.extend(_element(key, item) for key, item in value.items())
    elif isinstance(value, list):
        element.extend(_element(ITEM_TAGS[tag], item) for item in value)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = NOT_XML.sub("", str(value))
    return element


def document(fmt: str, root: str, data: dict | list, status: int = 200) -> HttpResponse:
    """``data`` as a JSON body, or as XML under the element ``root``."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
    else:
        body = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(_element(root, data), encoding="unicode")
    return HttpResponse(body.encode(), status=status, content_type=CONTENT_TYPES[fmt])


def errors(fmt: str, status: int, items: ErrorList) -> HttpResponse:
    """The spec's error list: ``[{"code", "description"}]`` or ``<errors><error><code/><description/>…``."""
    return document(fmt, "errors", [{"code": code, "description": text} for code, text in items], status)
