from django.urls import path

from supervision import views

app_name = "supervision"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("orders/", views.supervision_list, name="list"),
    path("orders/new/", views.issue, name="issue"),
    path("orders/<str:number>/", views.detail, name="detail"),
]
