"""API routes of the records cycle (included under /api/v1/ by eoffice/api_urls.py): all under records/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

# SimpleRouter: no per-app browsable root view (two DefaultRouters would both claim /api/v1/).
router = SimpleRouter(trailing_slash=True)
router.register("records/retention", api.RetentionPeriodViewSet, basename="records-retention")
router.register("records/catalogues", api.CatalogueViewSet, basename="records-catalogue")
router.register("records/files", api.WorkFileViewSet, basename="records-file")
router.register("records/hold-backs", api.HoldBackViewSet, basename="records-holdback")
router.register("records/transfers", api.TransferViewSet, basename="records-transfer")
router.register("records/dispositions", api.DispositionViewSet, basename="records-disposition")
router.register("records/exports", api.ExportViewSet, basename="records-export")
router.register("records/imports", api.ImportViewSet, basename="records-import")

urlpatterns = [
    path("records/due/", api.DueForTransferView.as_view(), name="records-due"),
    path("records/archive/", api.ArchiveView.as_view(), name="records-archive"),
    *router.urls,
]
