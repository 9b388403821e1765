from django.urls import path

from analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("unit/", views.unit_dashboard, name="unit"),
    path("category/", views.category_analysis, name="category"),
    path("hot-issues/<int:pk>/", views.hot_issue, name="hot_issue"),
    path("reports/", views.report_list, name="reports"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
    path("reports/<int:pk>/pdf/", views.report_file, {"fmt": "pdf"}, name="report_pdf"),
    path("reports/<int:pk>/xlsx/", views.report_file, {"fmt": "xlsx"}, name="report_xlsx"),
    path("orders/", views.orders, name="orders"),
    path("reply-quality/", views.reply_quality_by_unit, name="reply_quality"),
]
