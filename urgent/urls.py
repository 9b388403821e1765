from django.urls import path, re_path

from urgent import views

app_name = "urgent"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("claim/", views.claim, name="claim"),
    path("overview/", views.overview, name="overview"),
    path("rules/", views.rules, name="rules"),
    # one form for both: /urgent/rules/edit/ creates a rule, /urgent/rules/<id>/edit/ edits it
    re_path(r"^rules/(?:(?P<pk>\d+)/)?edit/$", views.rule_form, name="rule_form"),
    path("rules/toggle/", views.rule_toggle, name="rule_toggle"),
]
