from django.urls import path

from categories import views

app_name = "categories"
urlpatterns = [path("", views.tree, name="tree")]
