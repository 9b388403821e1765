from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("", views.entries, name="entries"),
    path("export.csv", views.export, name="export"),
]
