from django.urls import include, path

from knowledge import views

app_name = "knowledge"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("reviews/", views.reviews, name="reviews"),
    path("usage/", views.usage, name="usage"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/review/", views.review, name="review"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/v/<int:number>/", views.revision, name="revision"),
]

# The citizens' 常见问答, without login: mounted at /faq/ under the namespace "faq".
public = include(
    ([path("", views.faq, name="index"), path("<int:pk>/", views.faq_detail, name="detail")], "faq"),
)
