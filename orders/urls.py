from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="list"),
    path("new/", views.intake, name="intake"),
    path("caller-history/", views.caller_history, name="caller_history"),
    path("assist/", views.intake_assist, name="assist"),
    path("dispatch/", views.dispatch_queue, name="dispatch_queue"),
    path("inbox/", views.inbox, name="inbox"),
    path("callbacks/", views.callback_queue, name="callback_queue"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/act/<str:action>/", views.act, name="act"),
    path("<str:number>/unmask/", views.unmask, name="unmask"),
    path("<str:number>/attachments/<int:pk>/", views.attachment, name="attachment"),
]
