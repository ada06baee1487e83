"""API routes of signing and verification (included under /api/v1/ by eoffice/api_urls.py)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

app_name = "signatures_api"

router = SimpleRouter(trailing_slash=True)
router.register("signing-requests", api.SigningRequestViewSet, basename="signingrequest")

urlpatterns = [
    path("signatures/verify/", api.VerifyView.as_view(), name="verify"),
    path("signatures/verify/sheet/", api.VerifySheetView.as_view(), name="verify-sheet"),
    path("signatures/files/<str:sha256>/verification.pdf", api.StoredSheetView.as_view(), name="stored-sheet"),
    *router.urls,
]
