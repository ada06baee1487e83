"""API routes of search (included under /api/v1/ by eoffice/api_urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("search/", api.SearchView.as_view(), name="search"),
    path("search/similar/<int:document_id>/", api.SimilarView.as_view(), name="search-similar"),
    path("search/saved/", api.SavedSearchListView.as_view(), name="search-saved"),
    path("search/saved/<int:pk>/", api.SavedSearchDetailView.as_view(), name="search-saved-detail"),
]
