from django.urls import path

from analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("orders/", views.orders, name="orders"),
    path("reply-quality/", views.reply_quality_by_unit, name="reply_quality"),
]
