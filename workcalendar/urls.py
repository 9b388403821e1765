from django.urls import path

from workcalendar import views

app_name = "workcalendar"
urlpatterns = [
    path("", views.month, name="month"),
    path("deadline/", views.deadline, name="deadline"),
]
