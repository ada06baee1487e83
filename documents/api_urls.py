"""API routes of the registry (under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from . import api

# SimpleRouter: no per-app browsable root view (two DefaultRouters would both claim /api/v1/).
router = SimpleRouter(trailing_slash=True)
router.register("document-types", api.DocumentTypeViewSet, basename="documenttype")
router.register("registers", api.RegisterViewSet, basename="register")
router.register("documents", api.DocumentViewSet, basename="document")

urlpatterns = router.urls
