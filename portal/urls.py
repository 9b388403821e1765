from django.urls import path

from portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("submit/", views.submit, name="submit"),
    path("enterprise/", views.submit_enterprise, name="enterprise"),
    path("track/", views.track, name="track"),
    path("track/<str:code>/", views.status, name="status"),
    path("queue/", views.queue, name="queue"),
    path("queue/<str:code>/decline/", views.decline, name="decline"),
    path("photos/<int:pk>/", views.photo, name="photo"),
]
