from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api, edxml_endpoint

router = SimpleRouter()
router.register("deliveries", api.DeliveryViewSet, basename="delivery")

urlpatterns = [
    *router.urls,
    path("documents/<int:document_id>/deliveries/", api.DocumentDeliveries.as_view(), name="document-deliveries"),
    path("documents/<int:document_id>/recall/", api.RecallDocument.as_view(), name="document-recall"),
    path("documents/<int:document_id>/replaces/", api.LinkReplacement.as_view(), name="document-replaces"),
    path("exchange/edxml/", edxml_endpoint.receive_package, name="edxml-inbound"),
]
