"""API routes of notices (included under /api/v1/ by eoffice/api_urls.py)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter(trailing_slash=True)
router.register("notifications", api.NoticeViewSet, basename="notice")

urlpatterns = [
    path("notifications/preferences/", api.PreferencesView.as_view(), name="notification-preferences"),
    *router.urls,
]
