"""API routes of the organisation tree, people and delegations (under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api, api_auth

# SimpleRouter: no per-app browsable root view (two DefaultRouters would both claim /api/v1/).
router = SimpleRouter(trailing_slash=True)
router.register("agencies", api.AgencyViewSet, basename="agency")
router.register("units", api.UnitViewSet, basename="unit")
router.register("users", api.UserViewSet, basename="user")
router.register("delegations", api.DelegationViewSet, basename="delegation")

urlpatterns = [
    path("me/", api.MeView.as_view(), name="api-me"),
    path("me/logout-everywhere/", api_auth.LogoutEverywhereView.as_view(), name="api-logout-everywhere"),
    path("auth/token/", api_auth.ObtainToken.as_view(), name="api-token"),
    path("users/<int:pk>/unlock/", api_auth.UnlockLoginView.as_view(), name="api-user-unlock"),
    *router.urls,
]
