from django.urls import path

from supervision import views

app_name = "supervision"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("orders/", views.supervision_list, name="list"),
    path("orders/new/", views.issue, name="issue"),
    path("orders/<str:number>/", views.detail, name="detail"),
    path("rankings/", views.rankings, name="rankings"),
    path("difficult/", views.difficult_list, name="difficult"),
    path("difficult/flag/<str:number>/", views.difficult_flag, name="flag"),
    path("difficult/<str:number>/", views.case_detail, name="case"),
    path("stuck/", views.stuck, name="stuck"),
    path("whistles/", views.whistle_list, name="whistles"),
    path("whistles/blow/<str:number>/", views.whistle_blow, name="blow"),
    path("whistles/<int:pk>/", views.whistle_detail, name="whistle"),
    path("rankings/notice.txt", views.notice, name="notice"),
    path("spotchecks/", views.spotcheck_list, name="spotchecks"),
    path("spotchecks/new/", views.spotcheck_new, name="spotcheck_new"),
    path("spotchecks/sample/", views.spotcheck_detail, name="spotcheck"),  # ?id=<spot check>
    path("spotchecks/findings/", views.findings, name="findings"),
    path("unsatisfied/", views.unsatisfied_list, name="unsatisfied"),
]
