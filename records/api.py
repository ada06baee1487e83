"""REST API of the records cycle (`/api/v1/records/`): thin views. Every list and every object named in a path
comes from a records.selectors queryset (one permission rule for the web, the API and the printouts), so an
object the caller may not see is 404, never 403. Every change calls records.services, which checks, audits
and queues; its RecordsError answers 400 and its PermissionDenied 403 (eoffice.api.json_exception_handler)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Unit
from documents.selectors import visible_documents
from documents.serializers import MessageSerializer
from eoffice.api import ActionPermissions, DownloadNegotiation, JSONOnlyMixin, Pagination

from . import selectors, services
from .models import (
    BagExport,
    BagImport,
    CatalogueEntry,
    Disposition,
    FileCatalogue,
    HoldBack,
    JobState,
    RetentionPeriod,
    Transfer,
    WorkFile,
)
from .serializers import (
    ArchiveFilterSerializer,
    CatalogueCreateSerializer,
    CatalogueDetailSerializer,
    CatalogueSerializer,
    DispositionDecisionSerializer,
    DispositionDetailSerializer,
    DispositionSerializer,
    DueFileSerializer,
    DueFilterSerializer,
    EntryCreateSerializer,
    EntrySerializer,
    ExportJobSerializer,
    FileDocumentAddSerializer,
    FileDocumentSerializer,
    FileIdsSerializer,
    HeadingCreateSerializer,
    HeadingSerializer,
    HoldBackDecisionSerializer,
    HoldBackRequestSerializer,
    HoldBackSerializer,
    ImportJobSerializer,
    ImportUploadSerializer,
    OpenFromEntrySerializer,
    PublishSerializer,
    RetentionPeriodSerializer,
    TransferDetailSerializer,
    TransferReceiveSerializer,
    TransferReturnSerializer,
    TransferSerializer,
    WorkFileChangeSerializer,
    WorkFileCreateSerializer,
    WorkFileDetailSerializer,
    WorkFileFilterSerializer,
    WorkFileListSerializer,
)

ERRORS = {
    400: OpenApiResponse(MessageSerializer, description="Not valid, or not allowed in the record's current state "
                         "(nothing was changed): `message`, and `errors` by field."),
    403: OpenApiResponse(MessageSerializer, description="Not allowed for your role."),
    404: OpenApiResponse(MessageSerializer, description="Not found, or not visible to you."),
}
NOT_READY = OpenApiResponse(MessageSerializer, description="The package is not built (yet, or it failed).")


def _answers(ok: dict, *codes: int) -> dict:
    return {**ok, **{code: ERRORS[code] for code in codes}}


def _pick(queryset: QuerySet, pk: int | None, field: str):
    """The object a request body names, from the queryset the caller may use; 400 (the same answer whether it
    does not exist or is not the caller's to use)."""
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: [_("No such item, or not one you may use.")]})
    return found


def _pick_many(queryset: QuerySet, ids: list[int], field: str) -> list:
    found = {obj.pk: obj for obj in queryset.filter(pk__in=ids)}
    missing = [pk for pk in dict.fromkeys(ids) if pk not in found]
    if missing:
        raise ValidationError({field: [_("No such item, or not one you may use: %(ids)s")
                                       % {"ids": ", ".join(map(str, missing))}]})
    return [found[pk] for pk in dict.fromkeys(ids)]


def _parse(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class _RecordsViewSet(JSONOnlyMixin, viewsets.GenericViewSet):
    """A login for everything; objects come from `visible(user)`, a selector (none while drawing the schema)."""

    permission_classes = [ActionPermissions]
    pagination_class = Pagination
    lookup_value_regex = "[0-9]+"

    @staticmethod
    def visible(user) -> QuerySet:  # pragma: no cover - every subclass sets one
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no person behind the request
            return self.queryset
        return self.visible(self.request.user)


# --- the retention table ------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The retention table"),
    retrieve=extend_schema(summary="A row of the retention table", responses=_answers({200: RetentionPeriodSerializer},
                                                                                       404)),
    create=extend_schema(summary="Add a row to the retention table",
                         responses=_answers({201: RetentionPeriodSerializer}, 400, 403)),
    partial_update=extend_schema(summary="Change a row of the retention table",
                                 responses=_answers({200: RetentionPeriodSerializer}, 400, 403, 404)),
)
class RetentionPeriodViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _RecordsViewSet):
    """The retention table (Circular 10/2022/TT-BNV and the agency's additions), read by everyone who plans
    files; archivists and administrators (`records.change_retentionperiod`) add and correct rows."""

    queryset = RetentionPeriod.objects.all()
    serializer_class = RetentionPeriodSerializer
    pagination_class = None
    http_method_names = ["get", "post", "patch", "head", "options"]
    required_permissions = {
        "create": ["records.change_retentionperiod"],
        "partial_update": ["records.change_retentionperiod"],
    }

    @staticmethod
    def visible(user) -> QuerySet[RetentionPeriod]:
        return RetentionPeriod.objects.all()

    def create(self, request: Request) -> Response:
        data = _parse(RetentionPeriodSerializer, request.data)
        period = services.save_retention_period(request.user, RetentionPeriod(**data))
        return Response(RetentionPeriodSerializer(period).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk=None) -> Response:
        period = self.get_object()
        data = _parse(RetentionPeriodSerializer, request.data, instance=period, partial=True)
        changed = [name for name, value in data.items() if getattr(period, name) != value]
        for name in changed:
            setattr(period, name, data[name])
        period = services.save_retention_period(request.user, period, changed)
        return Response(RetentionPeriodSerializer(period).data)


# --- the annual file catalogue --------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="File catalogues (drafts for record keepers only)"),
    retrieve=extend_schema(summary="A file catalogue with its headings and entries",
                           responses=_answers({200: CatalogueDetailSerializer}, 404)),
)
class CatalogueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _RecordsViewSet):
    """The annual file catalogues of your agency (Art. 28): published ones for everyone, drafts for its
    archivists and administrators, who write and publish them."""

    queryset = FileCatalogue.objects.none()
    serializer_class = CatalogueSerializer

    @staticmethod
    def visible(user) -> QuerySet[FileCatalogue]:
        return selectors.visible_catalogues(user)

    def get_serializer_class(self):
        return CatalogueDetailSerializer if self.action == "retrieve" else CatalogueSerializer

    def get_queryset(self) -> QuerySet[FileCatalogue]:
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("headings", "entries")
        return queryset

    @extend_schema(request=CatalogueCreateSerializer, summary="Start a draft catalogue for a year",
                   responses=_answers({201: CatalogueDetailSerializer}, 400, 403))
    def create(self, request: Request) -> Response:
        """A draft for your agency; `copy_from` copies the headings and entries of an earlier catalogue."""
        data = _parse(CatalogueCreateSerializer, request.data)
        if not request.user.agency_id:
            raise PermissionDenied
        source = _pick(selectors.visible_catalogues(request.user), data["copy_from"], "copy_from")
        catalogue = services.create_catalogue(request.user, request.user.agency_id, data["year"], copy_from=source)
        return Response(CatalogueDetailSerializer(catalogue).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=HeadingCreateSerializer, summary="Add a heading to a draft catalogue",
                   responses=_answers({201: HeadingSerializer}, 400, 403, 404))
    @action(detail=True, methods=["post"])
    def headings(self, request: Request, pk=None) -> Response:
        catalogue = self.get_object()
        data = _parse(HeadingCreateSerializer, request.data)
        parent = _pick(catalogue.headings.all(), data["parent"], "parent")
        heading = services.add_heading(request.user, catalogue, title=data["title"],
                                       abbreviation=data["abbreviation"], parent=parent)
        return Response(HeadingSerializer(heading).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EntryCreateSerializer, summary="Add a planned file to a draft catalogue",
                   responses=_answers({201: EntrySerializer}, 400, 403, 404))
    @action(detail=True, methods=["post"])
    def entries(self, request: Request, pk=None) -> Response:
        """The retention is a row of the retention table, or `permanent`, or `retention_years`; an empty
        `file_notation` takes the next number under the major heading."""
        catalogue = self.get_object()
        data = _parse(EntryCreateSerializer, request.data)
        entry = services.add_entry(request.user, catalogue, services.EntryInput(
            title=data["title"], heading=_pick(catalogue.headings.all(), data["heading"], "heading"),
            retention=_pick(RetentionPeriod.objects.filter(is_active=True), data["retention"], "retention"),
            retention_years=data["retention_years"], permanent=data["permanent"],
            unit=_pick(Unit.objects.all(), data["unit"], "unit"),
            responsible=_pick(get_user_model().objects.filter(is_active=True), data["responsible"], "responsible"),
            note=data["note"], file_notation=data["file_notation"],
        ))
        return Response(EntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PublishSerializer, summary="Publish the catalogue as approved by the head",
                   responses=_answers({200: CatalogueSerializer}, 400, 403, 404))
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk=None) -> Response:
        catalogue = self.get_object()
        data = _parse(PublishSerializer, request.data)
        catalogue = services.publish_catalogue(request.user, catalogue, approved_by_name=data["approved_by_name"])
        return Response(CatalogueSerializer(catalogue).data)


# --- work files -------------------------------------------------------------------------------------------


def _filtered(files: QuerySet[WorkFile], query: dict) -> QuerySet[WorkFile]:
    """The caller's choices (state, year, unit, words, retention) on a list the selector already limited."""
    files = selectors.narrow_files(files, q=query.get("q") or "", year=query.get("year"), unit_id=query.get("unit"),
                                   retention=query.get("retention"), state=query.get("state") or "")
    return files.select_related("agency", "unit").order_by("-year", "file_notation", "id")


def file_detail(request: Request, work_file: WorkFile) -> dict:
    """The file's detail as the caller sees it: only the documents they may open, and how many others."""
    shown, hidden = selectors.file_documents(request.user, work_file)
    context = {"request": request, "documents": shown, "hidden_documents": hidden}
    return WorkFileDetailSerializer(work_file, context=context).data


@extend_schema_view(
    list=extend_schema(parameters=[WorkFileFilterSerializer], summary="Work files you may see",
                       responses=_answers({200: WorkFileListSerializer(many=True)}, 400)),
    retrieve=extend_schema(summary="A work file: PL VI metadata and the documents you may open",
                           responses=_answers({200: WorkFileDetailSerializer}, 404)),
)
class WorkFileViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _RecordsViewSet):
    """Work files (hồ sơ công việc): record keepers and leaders see the agency's, others their unit's and
    the files they keep. A file's documents are filtered again by the registry's own rule."""

    queryset = WorkFile.objects.none()
    serializer_class = WorkFileListSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @staticmethod
    def visible(user) -> QuerySet[WorkFile]:
        return selectors.visible_work_files(user)

    def get_serializer_class(self):
        return WorkFileListSerializer if self.action == "list" else WorkFileDetailSerializer

    def get_queryset(self) -> QuerySet[WorkFile]:
        return super().get_queryset().select_related("agency", "unit", "creator")

    def list(self, request: Request) -> Response:
        query = _parse(WorkFileFilterSerializer, request.query_params)
        page = self.paginate_queryset(_filtered(self.get_queryset(), query))
        return self.get_paginated_response(WorkFileListSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(file_detail(request, self.get_object()))

    @extend_schema(request=WorkFileCreateSerializer, summary="Open a file that is not in the catalogue",
                   responses=_answers({201: WorkFileDetailSerializer}, 400, 403))
    def create(self, request: Request) -> Response:
        data = _parse(WorkFileCreateSerializer, request.data)
        work_file = services.open_ad_hoc(request.user, services.WorkFileInput(
            title=data["title"], file_notation=data["file_notation"], start_date=data["start_date"],
            retention_years=data["retention_years"], permanent=data["permanent"],
            retention=_pick(RetentionPeriod.objects.filter(is_active=True), data["retention"], "retention"),
            unit=_pick(Unit.objects.all(), data["unit"], "unit"), rights=data["rights"],
            description=data["description"], capital_construction=data["capital_construction"],
        ))
        return Response(file_detail(request, work_file), status=status.HTTP_201_CREATED)

    @extend_schema(request=OpenFromEntrySerializer, summary="Open a planned file of the published catalogue",
                   responses=_answers({201: WorkFileDetailSerializer}, 400, 403))
    @action(detail=False, methods=["post"], url_path="from-catalogue", url_name="from-catalogue")
    def from_catalogue(self, request: Request) -> Response:
        data = _parse(OpenFromEntrySerializer, request.data)
        entries = CatalogueEntry.objects.filter(catalogue__in=selectors.visible_catalogues(request.user))
        entry = _pick(entries.select_related("catalogue"), data["entry"], "entry")
        work_file = services.open_from_catalogue(request.user, entry, start_date=data["start_date"])
        return Response(file_detail(request, work_file), status=status.HTTP_201_CREATED)

    @extend_schema(request=WorkFileChangeSerializer, summary="Correct an open file's description",
                   responses=_answers({200: WorkFileDetailSerializer}, 400, 403, 404))
    def partial_update(self, request: Request, pk=None) -> Response:
        work_file = self.get_object()
        changes = _parse(WorkFileChangeSerializer, request.data)
        work_file = services.change_work_file(request.user, work_file, dict(changes))
        return Response(file_detail(request, work_file))

    @extend_schema(request=FileDocumentAddSerializer, summary="Add a registered document to an open file",
                   responses=_answers({201: FileDocumentSerializer}, 400, 403, 404))
    @action(detail=True, methods=["post"])
    def documents(self, request: Request, pk=None) -> Response:
        """The document is linked, not copied; the file's order (DocOrdinal) follows the documents' dates."""
        work_file = self.get_object()
        data = _parse(FileDocumentAddSerializer, request.data)
        document = _pick(visible_documents(request.user), data["document"], "document")
        item = services.add_document(request.user, work_file, document)
        return Response(FileDocumentSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("document_id", int, OpenApiParameter.PATH)],
                   summary="Take a document out of an open file", responses=_answers({204: None}, 400, 403, 404))
    @action(detail=True, methods=["delete"], url_path=r"documents/(?P<document_id>[0-9]+)",
            url_name="document")
    def remove_document(self, request: Request, pk=None, document_id: str | None = None) -> Response:
        work_file = self.get_object()
        shown, _hidden = selectors.file_documents(request.user, work_file)
        item = next((item for item in shown if item.document_id == int(document_id)), None)
        if item is None:
            return Response({"message": _("Not found.")}, status=status.HTTP_404_NOT_FOUND)
        services.remove_document(request.user, work_file, item.document)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, summary="Close the file (fixes its end date, totals and transfer deadline)",
                   responses=_answers({200: WorkFileDetailSerializer}, 400, 403, 404))
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk=None) -> Response:
        """Refused (400) while a document is still in handling or an answer is being drafted."""
        work_file = services.close_work_file(request.user, self.get_object())
        return Response(file_detail(request, work_file))

    @extend_schema(request=HoldBackRequestSerializer, summary="Ask to keep a closed file past its deadline",
                   responses=_answers({201: HoldBackSerializer}, 400, 403, 404))
    @action(detail=True, methods=["post"], url_path="hold-back", url_name="hold-back")
    def hold_back(self, request: Request, pk=None) -> Response:
        work_file = self.get_object()
        data = _parse(HoldBackRequestSerializer, request.data)
        hold = services.request_hold_back(request.user, work_file, until=data["until"], reason=data["reason"])
        return Response(HoldBackSerializer(hold).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, summary="Ask for a BagIt package of a closed or archived file",
                   responses=_answers({202: ExportJobSerializer}, 400, 403, 404))
    @action(detail=True, methods=["post"])
    def export(self, request: Request, pk=None) -> Response:
        """Built by a task: follow `status_url`; `download_url` appears once it is ready (for you only)."""
        job = services.request_export(request.user, self.get_object())
        return Response(ExportJobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class _FileListView(JSONOnlyMixin, GenericAPIView):
    permission_classes = [ActionPermissions]
    pagination_class = Pagination
    queryset = WorkFile.objects.none()


class DueForTransferView(_FileListView):
    """Closed files that must go to the archive and are not yet submitted, nearest deadline first."""

    serializer_class = DueFileSerializer

    @extend_schema(parameters=[DueFilterSerializer], summary="Files due for transfer to the archive",
                   responses=_answers({200: DueFileSerializer(many=True)}, 400))
    def get(self, request: Request) -> Response:
        query = _parse(DueFilterSerializer, request.query_params)
        page = self.paginate_queryset(selectors.due_for_transfer(request.user, unit_id=query.get("unit")))
        return self.get_paginated_response(DueFileSerializer(page, many=True).data)


class ArchiveView(_FileListView):
    """Files received by the agency archive that you may browse."""

    serializer_class = WorkFileListSerializer

    @extend_schema(parameters=[ArchiveFilterSerializer], summary="The agency archive",
                   responses=_answers({200: WorkFileListSerializer(many=True)}, 400))
    def get(self, request: Request) -> Response:
        query = _parse(ArchiveFilterSerializer, request.query_params)
        page = self.paginate_queryset(_filtered(selectors.archive(request.user), query))
        return self.get_paginated_response(WorkFileListSerializer(page, many=True).data)


# --- hold-backs ---------------------------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(summary="Requests to keep files past their deadline, waiting for you"))
class HoldBackViewSet(mixins.ListModelMixin, _RecordsViewSet):
    """For the head of the agency: the requests waiting for a decision (Art. 31.3)."""

    queryset = HoldBack.objects.none()
    serializer_class = HoldBackSerializer

    @staticmethod
    def visible(user) -> QuerySet[HoldBack]:
        return selectors.hold_backs_to_decide(user).select_related("work_file")

    @extend_schema(request=HoldBackDecisionSerializer, summary="Approve or refuse keeping the file longer",
                   responses=_answers({200: HoldBackSerializer}, 400, 403, 404))
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk=None) -> Response:
        hold = self.get_object()
        data = _parse(HoldBackDecisionSerializer, request.data)
        hold = services.decide_hold_back(request.user, hold, approve=data["approve"], note=data["note"])
        return Response(HoldBackSerializer(hold).data)


# --- transfers ------------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Transfers to the archive you may see"),
    retrieve=extend_schema(summary="A transfer and its files",
                           responses=_answers({200: TransferDetailSerializer}, 404)),
)
class TransferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _RecordsViewSet):
    """Transfers of closed files from the units to the agency archive (Art. 30): units submit, the archive
    receives (the files become archive records) or returns them for correction."""

    queryset = Transfer.objects.none()
    serializer_class = TransferSerializer

    @staticmethod
    def visible(user) -> QuerySet[Transfer]:
        return selectors.visible_transfers(user)

    def get_serializer_class(self):
        return TransferSerializer if self.action == "list" else TransferDetailSerializer

    def get_queryset(self) -> QuerySet[Transfer]:
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset
        # An aggregate drops Meta.ordering (GROUP BY): the list's order is given again.
        return queryset.annotate(file_total=Count("files")).order_by("-submitted_at", "-id")

    def _detail(self, request: Request, transfer: Transfer) -> dict:
        files = selectors.visible_work_files(request.user).filter(transfers=transfer).select_related("agency")
        return TransferDetailSerializer(transfer, context={"files": files.order_by("file_notation")}).data

    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(self._detail(request, self.get_object()))

    @extend_schema(request=FileIdsSerializer, summary="Submit closed files to the archive",
                   responses=_answers({201: TransferDetailSerializer}, 400, 403))
    def create(self, request: Request) -> Response:
        data = _parse(FileIdsSerializer, request.data)
        files = _pick_many(selectors.visible_work_files(request.user), data["files"], "files")
        transfer = services.submit_transfer(request.user, files, note=data["note"])
        return Response(self._detail(request, transfer), status=status.HTTP_201_CREATED)

    @extend_schema(request=TransferReceiveSerializer, summary="Receive the files into the archive",
                   responses=_answers({200: TransferDetailSerializer}, 400, 403, 404))
    @action(detail=True, methods=["post"])
    def receive(self, request: Request, pk=None) -> Response:
        transfer = self.get_object()
        data = _parse(TransferReceiveSerializer, request.data)
        transfer = services.receive_transfer(request.user, transfer, **data)
        return Response(self._detail(request, transfer))

    @extend_schema(request=TransferReturnSerializer, summary="Return the transfer to the unit for correction",
                   responses=_answers({200: TransferDetailSerializer}, 400, 403, 404))
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_to_unit(self, request: Request, pk=None) -> Response:
        transfer = self.get_object()
        data = _parse(TransferReturnSerializer, request.data)
        transfer = services.return_transfer(request.user, transfer, reason=data["reason"])
        return Response(self._detail(request, transfer))


# --- dispositions -----------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Destruction proposals and records"),
    retrieve=extend_schema(summary="A disposition: its files, the decisions and what was destroyed",
                           responses=_answers({200: DispositionDetailSerializer}, 404)),
)
class DispositionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _RecordsViewSet):
    """Destruction of files whose retention has ended: the archive proposes, the head of the agency decides
    file by file, the archive executes. Permanent files are never accepted. Kept forever."""

    queryset = Disposition.objects.none()
    serializer_class = DispositionSerializer

    @staticmethod
    def visible(user) -> QuerySet[Disposition]:
        return selectors.visible_dispositions(user)

    def get_serializer_class(self):
        return DispositionSerializer if self.action == "list" else DispositionDetailSerializer

    def get_queryset(self) -> QuerySet[Disposition]:
        queryset = super().get_queryset()
        if self.action != "list":
            queryset = queryset.prefetch_related("items__work_file__agency")
        return queryset

    def _detail(self, disposition: Disposition) -> dict:
        disposition = self.visible(self.request.user).prefetch_related("items__work_file__agency").get(
            pk=disposition.pk)
        return DispositionDetailSerializer(disposition).data

    @extend_schema(request=FileIdsSerializer, summary="Propose files whose retention has ended for destruction",
                   responses=_answers({201: DispositionDetailSerializer}, 400, 403))
    def create(self, request: Request) -> Response:
        data = _parse(FileIdsSerializer, request.data)
        files = _pick_many(selectors.visible_work_files(request.user), data["files"], "files")
        disposition = services.propose_disposition(request.user, files, note=data["note"])
        return Response(self._detail(disposition), status=status.HTTP_201_CREATED)

    @extend_schema(request=DispositionDecisionSerializer, summary="The head's decision on every file",
                   responses=_answers({200: DispositionDetailSerializer}, 400, 403, 404))
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk=None) -> Response:
        disposition = self.get_object()
        data = _parse(DispositionDecisionSerializer, request.data)
        decisions = [services.ItemDecisionInput(item_id=d["item"], destroy=d["destroy"], keep_until=d["keep_until"],
                                                reason=d["reason"]) for d in data["decisions"]]
        disposition = services.decide_disposition(request.user, disposition, decisions)
        return Response(self._detail(disposition))

    @extend_schema(request=None, summary="Destroy what the head approved",
                   responses=_answers({200: DispositionDetailSerializer}, 400, 403, 404))
    @action(detail=True, methods=["post"])
    def execute(self, request: Request, pk=None) -> Response:
        disposition = services.execute_disposition(request.user, self.get_object())
        return Response(self._detail(disposition))


# --- BagIt jobs -------------------------------------------------------------------------------------------


@extend_schema_view(retrieve=extend_schema(summary="A BagIt export you asked for",
                                           responses=_answers({200: ExportJobSerializer}, 404)))
class ExportViewSet(mixins.RetrieveModelMixin, _RecordsViewSet):
    """Your BagIt exports: the state, and the package once built. Another person's job is 404."""

    queryset = BagExport.objects.none()
    serializer_class = ExportJobSerializer

    @staticmethod
    def visible(user) -> QuerySet[BagExport]:
        return BagExport.objects.filter(requested_by_id=user.pk).select_related("work_file")

    @extend_schema(summary="Download the BagIt package (.zip)",
                   responses={(200, "application/zip"): OpenApiTypes.BINARY, 404: ERRORS[404], 409: NOT_READY})
    @action(detail=True, methods=["get"], content_negotiation_class=DownloadNegotiation)
    def download(self, request: Request, pk=None) -> FileResponse | Response:
        """Each download is recorded in the audit trail."""
        job = self.get_object()
        if job.state != JobState.DONE or not job.file:
            return Response({"message": _("The package is not ready.")}, status=status.HTTP_409_CONFLICT)
        handle = job.file.open("rb")
        services.record_export_downloaded(request.user, job)
        name = f"{job.work_file.file_code}.zip".replace("/", "-")
        response = FileResponse(handle, as_attachment=True, filename=name, content_type="application/zip")
        response["Cache-Control"] = "private, no-store"
        return response


@extend_schema_view(retrieve=extend_schema(summary="A BagIt import you asked for",
                                           responses=_answers({200: ImportJobSerializer}, 404)))
class ImportViewSet(mixins.RetrieveModelMixin, _RecordsViewSet):
    """BagIt packages uploaded to be imported as work files (record keepers only): validated, then imported
    all or nothing by a task; the state says which, and why a package was refused."""

    queryset = BagImport.objects.none()
    serializer_class = ImportJobSerializer

    @staticmethod
    def visible(user) -> QuerySet[BagImport]:
        return BagImport.objects.filter(requested_by_id=user.pk)

    @extend_schema(request={"multipart/form-data": ImportUploadSerializer}, summary="Upload a BagIt package",
                   responses=_answers({202: ImportJobSerializer}, 400, 403))
    def create(self, request: Request) -> Response:
        upload = _parse(ImportUploadSerializer, request.data)["file"]
        job = services.request_import(request.user, upload, original_name=upload.name)
        return Response(ImportJobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)

    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(ImportJobSerializer(self.get_object(), context={"request": request}).data)
