"""API routes of the desk (included under /api/v1/ by eoffice/api_urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("desk/counts/", api.DeskCountsView.as_view(), name="desk-counts"),
]
