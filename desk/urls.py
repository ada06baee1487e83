"""Web routes of the desk, included at the root (eoffice/urls.py) before the workflows' routes: "My work" is
served at /work/, where reverse("workflows:my_work") points, and the rest under /desk/."""

from django.urls import path

from . import views

app_name = "desk"

urlpatterns = [
    path("work/", views.home, name="home"),
    path("desk/counts/", views.counts, name="counts"),
    path("desk/<slug:box>/<slug:name>/", views.folder, name="folder"),
]
