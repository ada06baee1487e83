"""REST API of the exchange: thin views over exchange.selectors (what a person may see: a delivery of another
agency answers 404) and exchange.services (who may act: 403; a state that does not allow it: 400 with the
reason; a stale `version`: 409)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from documents import services as documents_services
from documents.api import damaged_or_file, duplicates_response
from documents.models import Document, DocumentFile
from documents.selectors import visible_documents
from documents.serializers import MessageSerializer
from eoffice.api import ActionPermissions, JSONOnlyMixin, Pagination

from . import selectors, services
from .models import BusinessType, Delivery, StatusCode, StatusTrace

ERRORS = {
    400: OpenApiResponse(MessageSerializer, description="Not valid, or the delivery's state does not allow it."),
    403: OpenApiResponse(MessageSerializer, description="Not allowed."),
    404: OpenApiResponse(MessageSerializer, description="Not found, or not visible to you."),
}
CONFLICT = {409: OpenApiResponse(MessageSerializer, description="Someone acted on the delivery since `version` "
                                                                "(or, registering, possible duplicates).")}


class DeliveryTraceSerializer(serializers.ModelSerializer):
    code = serializers.CharField(read_only=True, help_text="The exchange's status code (01–06, 13, 15, 16).")
    label = serializers.CharField(source="get_code_display", read_only=True)
    agency_name = serializers.CharField(source="agency.name", read_only=True)

    class Meta:
        model = StatusTrace
        fields = ["code", "label", "at", "actor", "actor_name", "agency", "agency_name", "reason"]


class DeliveryFileSerializer(serializers.ModelSerializer):
    sha256 = serializers.CharField(source="blob.sha256", read_only=True)
    size = serializers.IntegerField(source="blob.size", read_only=True)
    content_type = serializers.CharField(source="blob.content_type", read_only=True)
    verification = serializers.SerializerMethodField(help_text="The verdict of the PDF's signatures, when verified.")

    class Meta:
        model = DocumentFile
        fields = ["id", "original_name", "is_main", "content_type", "size", "sha256", "verification"]

    def get_verification(self, doc_file) -> dict | None:
        verification = getattr(doc_file.blob, "verification", None)
        if verification is None:
            return None
        return {"state": verification.state, "verdict": verification.verdict}


class DeliverySerializer(serializers.ModelSerializer):
    number_notation = serializers.CharField(source="document.number_notation", read_only=True)
    subject = serializers.CharField(source="document.subject", read_only=True)
    organ_name = serializers.CharField(source="document.organ_name", read_only=True)
    issued_date = serializers.DateField(source="document.issued_date", read_only=True)
    urgency = serializers.IntegerField(source="document.urgency", read_only=True)
    confidentiality = serializers.IntegerField(source="document.confidentiality", read_only=True)
    recipient_name = serializers.CharField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    is_waiting = serializers.BooleanField(read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "document", "number_notation", "subject", "organ_name", "issued_date", "urgency",
                  "confidentiality", "sender_agency", "recipient_agency", "recipient_unit", "recipient_name",
                  "business_type", "replaces", "status", "status_label", "is_waiting", "arrived_at",
                  "registered_at", "received_document", "returned_at", "return_reason", "recalled_at",
                  "recall_reason", "take_back_state", "version", "created_at"]


class DeliveryDetailSerializer(DeliverySerializer):
    traces = DeliveryTraceSerializer(many=True, read_only=True)
    files = serializers.SerializerMethodField()

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "traces", "files"]

    @extend_schema_field(DeliveryFileSerializer(many=True))
    def get_files(self, delivery) -> list[dict]:
        files = delivery.document.files.select_related("blob", "blob__verification").order_by("-is_main", "id")
        return DeliveryFileSerializer(files, many=True).data


class DeliveryVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, allow_null=True,
                                       help_text="The delivery's version you saw: a stale one answers 409.")


class DeliveryRegisterSerializer(DeliveryVersionSerializer):
    register = serializers.IntegerField(required=False, allow_null=True, help_text="An incoming register of yours.")
    confirm_duplicate = serializers.BooleanField(required=False, default=False)


class DeliveryReasonSerializer(DeliveryVersionSerializer):
    reason = serializers.CharField(max_length=500)


class DeliveryTakeBackSerializer(DeliveryVersionSerializer):
    accept = serializers.BooleanField()
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class DeliveryAskBackSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class DeliveryRecallSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class DeliveryRecallResultSerializer(serializers.Serializer):
    recalled = serializers.IntegerField()


class DeliveryReplacesSerializer(serializers.Serializer):
    earlier = serializers.IntegerField(help_text="The earlier document of your agency.")
    kind = serializers.ChoiceField(choices=[(BusinessType.UPDATE.value, "update"),
                                            (BusinessType.REPLACE.value, "replace")])


class DeliveryReplacesResultSerializer(serializers.Serializer):
    linked = serializers.IntegerField()


class DeliveryRegisteredSerializer(serializers.Serializer):
    delivery = DeliveryDetailSerializer()
    incoming_document = serializers.IntegerField()
    arrival_number = serializers.IntegerField(allow_null=True)


class DeliveryDuplicatesSerializer(serializers.Serializer):
    message = serializers.CharField()
    duplicates = serializers.ListField(child=serializers.DictField())


class DeliveryFilterSerializer(serializers.Serializer):
    box = serializers.ChoiceField(choices=["inbox", "received", "sent"], required=False,
                                  help_text="inbox: waiting for you; received: all you received; sent: your agency's")
    status = serializers.ChoiceField(choices=StatusCode.choices, required=False)
    document = serializers.IntegerField(required=False)


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _run(call):
    """Run a transition; a stale version is a conflict (409), other refusals go to the API's handler (400 with
    the reason, 403)."""
    try:
        return call(), None
    except services.StaleDelivery as exc:
        return None, Response({"message": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)


@extend_schema_view(
    list=extend_schema(parameters=[DeliveryFilterSerializer], responses={200: DeliverySerializer(many=True)}),
    retrieve=extend_schema(responses={200: DeliveryDetailSerializer, **ERRORS}),
)
class DeliveryViewSet(JSONOnlyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Deliveries you may see: those your agency (or your unit) received, and those of documents you may see
    that your agency sent. Newest first."""

    serializer_class = DeliverySerializer
    permission_classes = [ActionPermissions]
    pagination_class = Pagination
    queryset = Delivery.objects.none()

    def get_queryset(self):
        user = self.request.user
        rows = selectors.visible_deliveries(user)
        if self.action == "list":
            query = DeliveryFilterSerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            data = query.validated_data
            box = data.get("box")
            if box == "inbox":
                rows = selectors.inbox(user)
            elif box == "received":
                rows = selectors.received_deliveries(user)
            elif box == "sent":
                rows = rows.filter(sender_agency_id=user.agency_id,
                                   document_id__in=visible_documents(user).values("pk"))
            if data.get("status"):
                rows = rows.filter(status=data["status"])
            if data.get("document"):
                rows = rows.filter(document_id=data["document"])
        return (rows.select_related("document", "recipient_agency", "recipient_unit")
                .prefetch_related("traces", "traces__agency").order_by("-created_at", "-id"))

    def get_serializer_class(self):
        return DeliverySerializer if self.action == "list" else DeliveryDetailSerializer

    def _answer(self, delivery: Delivery) -> Response:
        return Response(DeliveryDetailSerializer(self.get_queryset().get(pk=delivery.pk)).data)

    @extend_schema(request=DeliveryRegisterSerializer,
                   responses={200: DeliveryRegisteredSerializer, **ERRORS, **CONFLICT})
    @action(detail=True, methods=["post"])
    def register(self, request: Request, pk=None) -> Response:
        """Register the delivery into your agency's incoming register (status 03): the sender's metadata and
        the same files. A possible duplicate answers 409 with `duplicates`, as registering incoming does: send
        `confirm_duplicate: true`."""
        delivery, data = self.get_object(), _valid(DeliveryRegisterSerializer, request)
        try:
            document, refused = _run(lambda: services.register_delivery(
                request.user, delivery, register_id=data.get("register"),
                confirm_duplicate=data["confirm_duplicate"], expected_version=data.get("version")))
        except documents_services.DuplicateDocument as exc:
            return duplicates_response(request.user, exc)
        if refused is not None:
            return refused
        return Response({"delivery": DeliveryDetailSerializer(self.get_queryset().get(pk=delivery.pk)).data,
                         "incoming_document": document.pk, "arrival_number": document.arrival_number})

    @extend_schema(request=DeliveryVersionSerializer, responses={200: DeliveryDetailSerializer, **ERRORS, **CONFLICT})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk=None) -> Response:
        """A unit leader receives an internal document sent to the unit (status 03, no register)."""
        delivery, data = self.get_object(), _valid(DeliveryVersionSerializer, request)
        result, refused = _run(lambda: services.acknowledge_delivery(
            request.user, delivery, expected_version=data.get("version")))
        return refused or self._answer(delivery)

    @extend_schema(request=DeliveryReasonSerializer, responses={200: DeliveryDetailSerializer, **ERRORS, **CONFLICT})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_delivery(self, request: Request, pk=None) -> Response:
        """Return the document to its sender (status 02): sent to the wrong place, or invalid."""
        delivery, data = self.get_object(), _valid(DeliveryReasonSerializer, request)
        result, refused = _run(lambda: services.return_delivery(
            request.user, delivery, data["reason"], expected_version=data.get("version")))
        return refused or self._answer(delivery)

    @extend_schema(request=DeliveryTakeBackSerializer, responses={200: DeliveryDetailSerializer, **ERRORS, **CONFLICT})
    @action(detail=True, methods=["post"], url_path="take-back", url_name="take-back")
    def take_back(self, request: Request, pk=None) -> Response:
        """Answer the sender's request for the document back: give it back (15) or refuse with a reason (16)."""
        delivery, data = self.get_object(), _valid(DeliveryTakeBackSerializer, request)
        result, refused = _run(lambda: services.answer_take_back(
            request.user, delivery, accept=data["accept"], reason=data["reason"],
            expected_version=data.get("version")))
        return refused or self._answer(delivery)

    @extend_schema(request=DeliveryAskBackSerializer, responses={200: DeliveryDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="ask-back", url_name="ask-back")
    def ask_back(self, request: Request, pk=None) -> Response:
        """The sender's clerk asks this recipient for the document back (status 13)."""
        delivery, data = self.get_object(), _valid(DeliveryAskBackSerializer, request)
        services.ask_back(request.user, delivery, data["reason"])
        return self._answer(delivery)

    @extend_schema(
        parameters=[OpenApiParameter("file_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **ERRORS},
    )
    @action(detail=True, methods=["get"], url_path=r"files/(?P<file_id>\d+)", url_name="file")
    def file(self, request: Request, pk=None, file_id=None):
        """A file of the sent document, to the recipient (the same stored blob, checked on read)."""
        delivery = get_object_or_404(selectors.received_deliveries(request.user).select_related("document"),
                                     pk=pk, recalled_at__isnull=True)
        doc_file = get_object_or_404(delivery.document.files.select_related("blob"), pk=file_id)
        return damaged_or_file(request.user, delivery.document, doc_file)


def _sent_document(request: Request, document_id: int) -> Document:
    return get_object_or_404(visible_documents(request.user), pk=document_id)


class DocumentDeliveries(JSONOnlyMixin, APIView):
    """The sender's view of a document you may see: every delivery with its full status trace."""

    permission_classes = [ActionPermissions]

    @extend_schema(responses={200: DeliveryDetailSerializer(many=True), **ERRORS})
    def get(self, request: Request, document_id: int) -> Response:
        document = _sent_document(request, document_id)
        deliveries = selectors.deliveries_of(request.user, document).select_related("document")
        return Response(DeliveryDetailSerializer(deliveries, many=True).data)


class RecallDocument(JSONOnlyMixin, APIView):
    """Recall the issued document from every recipient (the issuing agency's clerks)."""

    permission_classes = [ActionPermissions]

    @extend_schema(request=DeliveryRecallSerializer, responses={200: DeliveryRecallResultSerializer, **ERRORS})
    def post(self, request: Request, document_id: int) -> Response:
        document = _sent_document(request, document_id)
        data = _valid(DeliveryRecallSerializer, request)
        return Response({"recalled": services.recall_document(request.user, document, data["reason"])})


class LinkReplacement(JSONOnlyMixin, APIView):
    """Mark the document as an update (2) or a replacement (3) of an earlier one of your agency: each recipient
    of both sees the link."""

    permission_classes = [ActionPermissions]

    @extend_schema(request=DeliveryReplacesSerializer, responses={200: DeliveryReplacesResultSerializer, **ERRORS})
    def post(self, request: Request, document_id: int) -> Response:
        document = _sent_document(request, document_id)
        data = _valid(DeliveryReplacesSerializer, request)
        earlier = get_object_or_404(visible_documents(request.user), pk=data["earlier"])
        linked = services.link_replacement(request.user, document, earlier, int(data["kind"]))
        return Response({"linked": linked})
