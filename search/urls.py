from django.urls import path

from . import views

app_name = "search"
urlpatterns = [
    path("", views.search_page, name="home"),
    path("saved/", views.save, name="save"),
    path("saved/<int:pk>/delete/", views.delete_saved, name="delete_saved"),
    path("like/<int:document_id>/", views.similar_page, name="similar"),
]
