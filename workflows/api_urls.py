"""API routes of incoming-document handling (to be included under /api/v1/ by eoffice/api_urls.py)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter(trailing_slash=True)
router.register("incoming-cases", api.IncomingCaseViewSet, basename="incomingcase")
router.register("assignments", api.AssignmentViewSet, basename="assignment")
router.register("extension-requests", api.ExtensionRequestViewSet, basename="extensionrequest")

urlpatterns = [
    path("my-work/incoming/", api.MyIncomingWorkView.as_view(), name="my-incoming-work"),
    path("my-work/oversight/", api.OversightView.as_view(), name="my-oversight"),
    *router.urls,
]

from . import drafting_api  # noqa: E402

_drafts = SimpleRouter(trailing_slash=True)
_drafts.register("drafts", drafting_api.DraftViewSet, basename="draft")
urlpatterns += [
    path("my-work/drafts/", drafting_api.MyDraftingWorkView.as_view(), name="my-drafting-work"),
    *_drafts.urls,
]
