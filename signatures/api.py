"""REST API of signing requests and verification: thin views over signatures.services. The apps that ask
for signatures (drafts: workflows.drafting_api) answer 202 with the request, whose state (queued, signing,
done, failed with the reason) the client follows here."""

from __future__ import annotations

import hashlib

from django.http import Http404, HttpResponse
from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eoffice.api import ActionPermissions, DownloadNegotiation, JSONOnlyMixin

from . import services
from .models import SigningRequest
from .selectors import MAX_VERIFY_BYTES, visible_signing_requests, visible_stored_file
from .verification_sheet import printed_by, render_sheet, sheet_response, stored_report
from .verification_text import report_lines
from .verifying import verify_bytes


class SigningRequestSerializer(serializers.ModelSerializer):
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    signed_file_sha256 = serializers.CharField(source="result_blob_id", read_only=True, allow_null=True)

    class Meta:
        model = SigningRequest
        fields = ["id", "kind", "kind_display", "state", "state_display", "error", "subject_type", "subject_id",
                  "document", "authority_prefix", "number_text", "attempts", "created_at", "started_at",
                  "finished_at", "signed_file_sha256"]
        read_only_fields = fields


class PasswordSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    otp = serializers.CharField(
        write_only=True, required=False, allow_blank=True, default="",
        help_text="A fresh one-time code (authenticator app or backup code): required when the signer has a "
                  "second factor or must have one (OTP_REQUIRED). A code is accepted once.")


def password_data(request: Request, serializer_class=PasswordSerializer) -> dict:
    """The validated data, with the one-time code as `otp_code` (the services' name)."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    data["otp_code"] = data.pop("otp", "")
    return data


class SigningRequestViewSet(JSONOnlyMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = SigningRequestSerializer
    permission_classes = [ActionPermissions]

    def get_queryset(self):
        return visible_signing_requests(self.request.user)

    @extend_schema(request=PasswordSerializer, responses={202: SigningRequestSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk=None) -> Response:
        signing_request = self.get_object()
        retried = services.retry(request.user, signing_request, **password_data(request))
        return Response(SigningRequestSerializer(retried).data, status=status.HTTP_202_ACCEPTED)


class VerifyUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


def _upload(serializer: VerifyUploadSerializer):
    upload = serializer.validated_data["file"]
    if upload.size > MAX_VERIFY_BYTES:
        raise serializers.ValidationError({"file": ["The file is too large to check."]})
    return upload


class VerifyView(JSONOnlyMixin, APIView):
    """Check the signatures of a PDF you upload against this installation's trust store. Nothing is kept."""

    permission_classes = [ActionPermissions]
    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": VerifyUploadSerializer}, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        serializer = VerifyUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = verify_bytes(_upload(serializer).read())
        return Response({
            **report.to_dict(),
            "summary": [{"label": str(label), "value": str(value)} for label, value in report_lines(report)],
        })


SHEET_RESPONSES = {(200, "application/pdf"): OpenApiTypes.BINARY}


class VerifySheetView(JSONOnlyMixin, APIView):
    """The printable verification sheet (PDF) of a PDF you upload: the same report as `signatures/verify/`,
    with the file's SHA-256 and who printed it when. Nothing is kept."""

    permission_classes = [ActionPermissions]
    parser_classes = [MultiPartParser]
    content_negotiation_class = DownloadNegotiation

    @extend_schema(request={"multipart/form-data": VerifyUploadSerializer}, responses=SHEET_RESPONSES)
    def post(self, request: Request) -> HttpResponse:
        serializer = VerifyUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = _upload(serializer)
        content = upload.read()
        sheet = render_sheet(verify_bytes(content), file_name=upload.name, sha256=hashlib.sha256(content).hexdigest(),
                             printed_by=printed_by(request.user), language=get_language())
        return sheet_response(sheet, upload.name)


class StoredSheetView(JSONOnlyMixin, APIView):
    """The printable verification sheet (PDF) of a document's stored file, from its stored verification ("not
    verified yet" while it waits). 404 unless you may see the document and it holds this content."""

    permission_classes = [ActionPermissions]
    content_negotiation_class = DownloadNegotiation

    @extend_schema(
        parameters=[OpenApiParameter("document", int, OpenApiParameter.QUERY, required=True,
                                     description="The document the file belongs to.")],
        responses=SHEET_RESPONSES,
    )
    def get(self, request: Request, sha256: str) -> HttpResponse:
        try:
            document_id = int(request.query_params.get("document", ""))
        except ValueError:
            raise Http404 from None
        doc_file = visible_stored_file(request.user, document_id, sha256) if 0 < document_id < 2**63 else None
        if doc_file is None:
            raise Http404
        sheet = render_sheet(stored_report(doc_file), file_name=doc_file.original_name, sha256=doc_file.blob_id,
                             printed_by=printed_by(request.user), language=get_language())
        return sheet_response(sheet, doc_file.original_name)
