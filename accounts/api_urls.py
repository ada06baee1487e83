"""API routes of the organisation tree, people and delegations (under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

# SimpleRouter: no per-app browsable root view (two DefaultRouters would both claim /api/v1/).
router = SimpleRouter(trailing_slash=True)
router.register("agencies", api.AgencyViewSet, basename="agency")
router.register("units", api.UnitViewSet, basename="unit")
router.register("users", api.UserViewSet, basename="user")
router.register("delegations", api.DelegationViewSet, basename="delegation")

urlpatterns = [
    path("me/", api.MeView.as_view(), name="api-me"),
    path("auth/token/", api.ThrottledObtainAuthToken.as_view(), name="api-token"),
    *router.urls,
]
