"""REST API of the registry: thin views. Lists come from documents.selectors (one permission rule for the
web, the API and exports); every change calls documents.services, which checks, numbers and audits."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator as DjangoPaginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from eoffice.api import ActionPermissions, DownloadNegotiation, JSONOnlyMixin, Pagination

from . import selectors, services
from .downloads import file_response
from .models import Document, DocumentFile, DocumentType, Register
from .serializers import (
    DateRangeSerializer,
    DocumentDetailSerializer,
    DocumentFilterSerializer,
    DocumentListSerializer,
    DocumentTypeSerializer,
    DuplicateResponseSerializer,
    DuplicateSerializer,
    FileOpeningSerializer,
    GrantSerializer,
    IncomingSerializer,
    MessageSerializer,
    OutgoingSerializer,
    PrintQuerySerializer,
    RegisterCreateSerializer,
    RegisterEntrySerializer,
    RegisterSerializer,
)
from .storage import IntegrityFailure
from .uploads import XLSX, UploadRejected

logger = logging.getLogger(__name__)


def damaged_or_file(user, document: Document, doc_file: DocumentFile, *, via: str = "api") -> Response | FileResponse:
    """The file (documents.downloads), or 409 with the file's name when its stored bytes are damaged or missing:
    shared by the API's document and delivery downloads."""
    try:
        return file_response(user, document, doc_file, via=via)
    except (IntegrityFailure, OSError):
        logger.error("Stored file %s (blob %s) failed its integrity check", doc_file.pk, doc_file.blob_id)
        return Response({"message": _("The stored file is damaged."), "file": doc_file.original_name},
                        status=status.HTTP_409_CONFLICT)

PRINT_CONTENT_TYPES = {"pdf": "application/pdf", "xlsx": XLSX}
ERRORS = {
    400: OpenApiResponse(MessageSerializer, description="Not valid: `errors` maps fields to messages."),
    403: OpenApiResponse(MessageSerializer, description="Not allowed."),
    404: OpenApiResponse(MessageSerializer, description="Not found, or not visible to you."),
}


class DocumentTypeViewSet(JSONOnlyMixin, viewsets.ReadOnlyModelViewSet):
    """The document types of Decree 30 (Art. 7) in use, in their usual order. Not paginated."""

    serializer_class = DocumentTypeSerializer
    queryset = DocumentType.objects.filter(is_active=True).order_by("sort_order", "name")
    pagination_class = None


@extend_schema_view(
    create=extend_schema(request=RegisterCreateSerializer, responses={201: RegisterSerializer, **ERRORS}),
)
class RegisterViewSet(JSONOnlyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Registers (sổ) of your agency; administrators open new ones."""

    serializer_class = RegisterSerializer
    permission_classes = [ActionPermissions]
    pagination_class = Pagination
    required_permissions = {
        "create": ["documents.add_register"],
        "print_register": ["documents.print_register"],
    }

    def get_queryset(self):
        return selectors.registers_for(self.request.user).order_by("-year", "kind", "code", "id")

    def create(self, request: Request) -> Response:
        serializer = RegisterCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        register = services.create_register(request.user, **serializer.validated_data)
        return Response(RegisterSerializer(register).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[DateRangeSerializer],
        responses={200: RegisterEntrySerializer(many=True), **ERRORS},
    )
    @action(detail=True, methods=["get"], serializer_class=RegisterEntrySerializer)
    def entries(self, request: Request, pk=None) -> Response:
        """The register's rows you may see, in number order; dates filter the issue date (outgoing
        registers) or the arrival date (incoming registers)."""
        register = self.get_object()
        query = DateRangeSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.register_entries(request.user, register, **query.validated_data)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(RegisterEntrySerializer(page, many=True).data)

    @extend_schema(
        parameters=[PrintQuerySerializer],
        responses={
            (200, PRINT_CONTENT_TYPES["pdf"]): OpenApiTypes.BINARY,
            (200, PRINT_CONTENT_TYPES["xlsx"]): OpenApiTypes.BINARY,
            **ERRORS,
        },
    )
    @action(
        detail=True, methods=["get"], url_path="print", url_name="print",
        content_negotiation_class=DownloadNegotiation,
    )
    def print_register(self, request: Request, pk=None) -> HttpResponse:
        """The register as PDF or XLSX (PL IV layout). Each printout is recorded in the audit trail."""
        register: Register = self.get_object()
        query = PrintQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fmt, date_from, date_to = (query.validated_data[k] for k in ("format", "date_from", "date_to"))
        from . import printouts  # imported on use: it loads reportlab and openpyxl
        entries = list(selectors.register_entries(request.user, register, date_from, date_to))
        build = printouts.build_register_pdf if fmt == "pdf" else printouts.build_register_xlsx
        content = build(register, entries, date_from, date_to)
        services.record_register_printed(
            request.user, register, fmt=fmt, date_from=date_from, date_to=date_to, rows=len(entries)
        )
        response = HttpResponse(content, content_type=PRINT_CONTENT_TYPES[fmt])
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=printouts.register_filename(register, fmt)
        )
        return response


def duplicates_response(user, exc: services.DuplicateDocument) -> Response:
    """409 with the possible duplicates (registering incoming documents here and from a delivery): only those
    this person may see are described; the warning itself is always given."""
    visible = selectors.visible_documents(user).filter(pk__in=[d.pk for d in exc.duplicates])
    return Response(
        {"message": str(exc), "duplicates": DuplicateSerializer(visible.order_by("-created_at"), many=True).data},
        status=status.HTTP_409_CONFLICT,
    )


class _DocumentListPaginator(DjangoPaginator):
    """Counts the filtered documents as they are, and reads only the page as the list serializer's rows.

    Counting the rows instead would count through their joins (agency, register and type names):
    Django keeps a join it cannot prove harmless, and COUNT(*) over the joined rows costs several times
    the plain one. The page itself is one query for the rows, without model instances."""

    def _get_page(self, object_list, number, paginator):
        return super()._get_page(DocumentListSerializer.prepare(object_list), number, paginator)


class DocumentListPagination(Pagination):
    django_paginator_class = _DocumentListPaginator


REGISTRATION_RESPONSES = {
    201: DocumentDetailSerializer,
    400: OpenApiResponse(
        MessageSerializer,
        description="Not valid (`errors` by field), or a file was refused (`file` and `reason`).",
    ),
    403: ERRORS[403],
    409: OpenApiResponse(DuplicateResponseSerializer, description="Possible duplicate: resend with confirm_duplicate."),
}


@extend_schema_view(
    list=extend_schema(parameters=[DocumentFilterSerializer], responses={200: DocumentListSerializer(many=True)}),
    retrieve=extend_schema(responses={200: DocumentDetailSerializer, 404: ERRORS[404]}),
)
class DocumentViewSet(JSONOnlyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Documents you may see (your agency's, or shared with you); clerks register new ones."""

    serializer_class = DocumentDetailSerializer
    permission_classes = [ActionPermissions]
    pagination_class = DocumentListPagination
    required_permissions = {
        "outgoing": ["documents.register_outgoing"],
        "incoming": ["documents.register_incoming"],
    }

    def get_queryset(self):
        return (
            selectors.visible_documents(self.request.user)
            .select_related("document_type", "agency", "register", "drafting_unit", "created_by")
            .prefetch_related("recipients", "files__blob")
        )

    def get_serializer_class(self):
        return DocumentListSerializer if self.action == "list" else DocumentDetailSerializer

    def list(self, request: Request) -> Response:
        query = DocumentFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        documents = selectors.document_list(
            request.user,
            direction=data.get("direction"),
            document_type_id=data.get("document_type"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            urgency=data.get("urgency"),
            confidentiality=data.get("confidentiality"),
            register_id=data.get("register"),
            text=data.get("q"),
        )
        page = self.paginate_queryset(documents)
        return self.get_paginated_response(DocumentListSerializer(page, many=True, context={"request": request}).data)

    # --- registration ---------------------------------------------------------------------------

    def _register(self, request: Request, serializer_class, build_input, register) -> Response:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        uploads = data.pop("files")
        confirm = data.pop("confirm_duplicate")
        try:
            document = register(request.user, build_input(data), uploads, confirm_duplicate=confirm)
        except UploadRejected as exc:
            return Response(
                {"message": str(exc), "file": exc.file_name, "reason": exc.reason}, status=status.HTTP_400_BAD_REQUEST
            )
        except services.DuplicateDocument as exc:
            return duplicates_response(request.user, exc)
        document = Document.objects.select_related(
            "document_type", "agency", "register", "drafting_unit", "created_by"
        ).prefetch_related("recipients", "files__blob").get(pk=document.pk)
        return Response(
            DocumentDetailSerializer(document, context={"request": request}).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=OutgoingSerializer, responses=REGISTRATION_RESPONSES)
    @action(detail=False, methods=["post"])
    def outgoing(self, request: Request) -> Response:
        """Register an outgoing (or internal) document: it gets the next number of the register, its
        notation and identifier. JSON, or multipart with the files under `files`."""

        def build(data: dict) -> services.OutgoingInput:
            recipients = [
                services.RecipientInput(agency_id=r.get("agency"), name=r.get("name", ""),
                                        unit_id=r.get("unit")) for r in data["recipients"]
            ]
            return services.OutgoingInput(
                document_type_id=data["document_type"], subject=data["subject"], signer_name=data["signer_name"],
                signer_position=data["signer_position"], authority_prefix=data["authority_prefix"],
                urgency=data["urgency"], confidentiality=data["confidentiality"],
                drafting_unit_id=data["drafting_unit"], recipients=recipients, page_amount=data["page_amount"],
                issued_amount=data["issued_amount"], due_date=data["due_date"], description=data["description"],
                register_id=data["register"], internal=data["internal"],
            )

        return self._register(request, OutgoingSerializer, build, services.register_outgoing)

    @extend_schema(request=IncomingSerializer, responses=REGISTRATION_RESPONSES)
    @action(detail=False, methods=["post"])
    def incoming(self, request: Request) -> Response:
        """Register a received document: it gets the next arrival number. JSON, or multipart with the
        files under `files`."""

        def build(data: dict) -> services.IncomingInput:
            return services.IncomingInput(
                document_type_id=data["document_type"], subject=data["subject"], organ_name=data["organ_name"],
                code_number=data["code_number"], code_notation=data["code_notation"],
                issued_date=data["issued_date"], organ_id=data["organ_id"], identifier=data["identifier"],
                arrival_date=data["arrival_date"], signer_name=data["signer_name"],
                signer_position=data["signer_position"], urgency=data["urgency"],
                confidentiality=data["confidentiality"], to_places=data["to_places"],
                page_amount=data["page_amount"], due_date=data["due_date"], description=data["description"],
                register_id=data["register"],
            )

        return self._register(request, IncomingSerializer, build, services.register_incoming)

    # --- sharing --------------------------------------------------------------------------------

    @extend_schema(
        methods=["POST"], request=GrantSerializer, responses={201: GrantSerializer, **ERRORS},
        description="Let a person (`user`: id) or a group (`group`: name) see the document. Clerks of the owning "
        "agency only. A secret or top-secret document is shared with people only (a group is refused with 400), "
        "and each grant needs `confirm: true`; without it the answer is 400 and its `message` names who would "
        "see the document (and says so when that person works at another agency).",
    )
    @extend_schema(
        methods=["DELETE"], request=GrantSerializer, responses={204: None, **ERRORS},
        parameters=[
            OpenApiParameter("user", int, description="Or send it in the body."),
            OpenApiParameter("group", str, description="Or send it in the body."),
        ],
        description="Take back a grant. The body (or the query string) names the person or the group.",
    )
    @action(detail=True, methods=["post", "delete"], serializer_class=GrantSerializer)
    def grants(self, request: Request, pk=None) -> Response:
        document = self.get_object()  # 404 when not visible: nobody learns that it exists
        grant = GrantSerializer(data=request.data or request.query_params)
        grant.is_valid(raise_exception=True)
        user = group = None
        if user_id := grant.validated_data.get("user"):
            user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
            if user is None:
                raise APIValidationError({"user": [_("No active person has this id.")]})
        else:
            group = Group.objects.filter(name=grant.validated_data["group"]).first()
            if group is None:
                raise APIValidationError({"group": [_("No group has this name.")]})
        if request.method == "DELETE":
            services.revoke_document_access(request.user, document, user=user, group=group)
            return Response(status=status.HTTP_204_NO_CONTENT)
        try:
            services.grant_document_access(request.user, document, user=user, group=group,
                                           confirm=grant.validated_data["confirm"])
        except DjangoValidationError as refused:
            # The refusal itself is the message (who would see the secret document, or why a group may not).
            text = " ".join(refused.messages)
            errors = refused.message_dict if hasattr(refused, "error_dict") else {"non_field_errors": refused.messages}
            return Response({"message": text, "errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"user": user.pk if user else None, "group": group.name if group else None}, status=201)

    @extend_schema(
        responses={200: FileOpeningSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
        description="Who opened or downloaded the files of this confidential document (audited), newest first. "
        "Only the owning agency's clerks and leaders may read it; others who see the document get 403.",
    )
    @action(detail=True, methods=["get"], url_path="file-openings", url_name="file-openings",
            serializer_class=FileOpeningSerializer, pagination_class=None)
    def file_openings(self, request: Request, pk=None) -> Response:
        document = self.get_object()  # 404 when not visible
        if not selectors.may_see_file_openings(request.user, document):
            raise PermissionDenied(_("Only the agency's clerks and leaders see who opened its files."))
        return Response(FileOpeningSerializer(selectors.file_openings(document), many=True).data)

    # --- files ----------------------------------------------------------------------------------

    @extend_schema(
        parameters=[OpenApiParameter("file_id", int, OpenApiParameter.PATH)],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            404: ERRORS[404],
            409: OpenApiResponse(MessageSerializer, description="The stored file is damaged (hash mismatch)."),
        },
    )
    @action(
        detail=True, methods=["get"], url_path=r"files/(?P<file_id>[0-9]+)/download", url_name="file-download",
        content_negotiation_class=DownloadNegotiation,
    )
    def download(self, request: Request, pk=None, file_id: str | None = None) -> FileResponse | Response:
        """The file, after its bytes were checked against their SHA-256."""
        document = self.get_object()
        doc_file = get_object_or_404(DocumentFile.objects.select_related("blob"), pk=file_id, document=document)
        return damaged_or_file(request.user, document, doc_file)

