from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from analytics.views import disclosure
from hotline.api import api
from knowledge.urls import public as knowledge_public
from system.views import healthz

admin.site.site_header = "12345 热线平台 · 系统管理"
admin.site.site_title = "12345 热线平台"
admin.site.index_title = "基础数据管理"

urlpatterns = [
    path("", include("accounts.urls")),
    path("org/", include("org.urls")),
    path("categories/", include("categories.urls")),
    path("calendar/", include("workcalendar.urls")),
    path("orders/", include("orders.urls")),
    path("supervision/", include("supervision.urls")),
    path("urgent/", include("urgent.urls")),
    path("alerts/", include("alerts.urls")),
    path("notifications/", include("notifications.urls")),
    path("knowledge/", include("knowledge.urls")),
    path("faq/", knowledge_public),
    path("portal/", include("portal.urls")),
    path("calls/", include("calls.urls")),
    path("audit/", include("audit.urls")),
    path("analytics/", include("analytics.urls")),
    path("open/indicators/", disclosure, name="disclosure"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("open311/v2/", include("open311.urls")),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
]
