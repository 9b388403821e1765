"""GeoReport v2 under /open311/v2/: every resource as ``.json`` or ``.xml``; anything else is a spec-format 404.

The patterns have no names: nothing reverses them, and the page-permission test walks only named pages
(these are public by design, for other systems).
"""

from django.urls import re_path

from open311 import views

FMT = r"\.(?P<fmt>[^/.]*)"
SEGMENT = r"(?P<{}>[^/]+?)"

urlpatterns = [
    re_path(rf"^discovery{FMT}$", views.discovery),
    re_path(rf"^services{FMT}$", views.services),
    re_path(rf"^services/{SEGMENT.format('code')}{FMT}$", views.service_definition),
    re_path(rf"^requests{FMT}$", views.service_requests),
    re_path(rf"^requests/{SEGMENT.format('number')}{FMT}$", views.service_request),
    re_path(rf"^tokens/{SEGMENT.format('token')}{FMT}$", views.request_token),
    re_path(r"^(?P<path>.*)$", views.not_found),
]
