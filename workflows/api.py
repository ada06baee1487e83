"""REST API of incoming-document handling: thin views over workflows.selectors and workflows.services.

Objects are looked up only among the cases whose document the caller may see (404 otherwise); every
transition is the service's, which checks the actor, the state and the `version` the client saw
(a stale version answers 409)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from documents.selectors import visible_documents
from eoffice.api import ActionPermissions, JSONOnlyMixin, Pagination

from . import selectors, services
from .models import Assignment, ExtensionRequest, IncomingCase, TargetRole


class AssignmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Assignment
        fields = ["id", "role", "unit", "user", "deadline", "state", "version", "assignee", "handler_deadline",
                  "due_date", "deadline_set_by", "assignment_note", "progress_note", "proposal", "outcome",
                  "reply_document", "overdue_since", "completed_at", "submitted_at", "result_comment"]


class CaseSerializer(serializers.ModelSerializer):
    subject = serializers.CharField(source="document.subject", read_only=True)
    urgency = serializers.IntegerField(source="document.urgency", read_only=True)
    assignments = AssignmentSerializer(many=True, read_only=True)
    direction_authority_prefix = serializers.CharField(read_only=True, help_text="KT., TUQ., TL. or empty")

    class Meta:
        model = IncomingCase
        fields = ["id", "document", "subject", "urgency", "state", "version", "presented_to", "presented_at",
                  "proposal_note", "instruction", "directed_by", "directed_on_behalf_of", "direction_authority_prefix", "directed_at",
                  "return_reason", "completed_at", "assignments"]


class OpenSerializer(serializers.Serializer):
    document = serializers.IntegerField()


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, allow_null=True)


class PresentSerializer(VersionSerializer):
    leader = serializers.IntegerField()
    note = serializers.CharField(required=False, allow_blank=True, default="",
                                 help_text="The clerk's proposal to the leader (optional)")


class ReturnSerializer(VersionSerializer):
    reason = serializers.CharField()


class TargetSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=TargetRole.choices)
    unit = serializers.IntegerField(required=False, allow_null=True)
    user = serializers.IntegerField(required=False, allow_null=True)
    deadline = serializers.DateField(required=False, allow_null=True)


class DirectSerializer(VersionSerializer):
    instruction = serializers.CharField()
    targets = TargetSerializer(many=True)


class AssignSerializer(VersionSerializer):
    assignee = serializers.IntegerField()
    deadline = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ProgressSerializer(VersionSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")
    proposal = serializers.CharField(required=False, allow_blank=True, default="")


class ExtensionSerializer(VersionSerializer):
    new_deadline = serializers.DateField()
    reason = serializers.CharField()


class CompleteSerializer(VersionSerializer):
    outcome = serializers.CharField()
    reply_document = serializers.IntegerField(required=False, allow_null=True)


class ResultDecisionSerializer(VersionSerializer):
    accept = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class DecideSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ExtensionRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExtensionRequest
        fields = ["id", "assignment", "requested_by", "approver", "current_deadline", "requested_deadline", "reason",
                  "state", "decided_by", "decided_at", "decision_note"]


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _run(call, serializer_class, instance_loader):
    """Run a transition; a stale version is a conflict (409), other refusals go to the API's handler."""
    try:
        result = call()
    except services.StaleTransition as exc:
        return Response({"message": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
    return Response(serializer_class(instance_loader(result)).data)


def _person(pk: int):
    return get_object_or_404(get_user_model(), pk=pk)


class IncomingCaseViewSet(JSONOnlyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Incoming documents in handling whose document you may see, urgent first."""

    serializer_class = CaseSerializer
    permission_classes = [ActionPermissions]
    pagination_class = Pagination

    def get_queryset(self):
        return selectors.incoming_cases_for(self.request.user).prefetch_related("assignments")

    def _reload(self, case: IncomingCase) -> IncomingCase:
        return self.get_queryset().get(pk=case.pk)

    @extend_schema(request=OpenSerializer, responses={201: CaseSerializer})
    def create(self, request: Request) -> Response:
        data = _valid(OpenSerializer, request)
        document = get_object_or_404(visible_documents(request.user), pk=data["document"])
        case = services.open_case(request.user, document)
        return Response(CaseSerializer(self._reload(case)).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    @extend_schema(request=PresentSerializer, responses={200: CaseSerializer, 409: OpenApiTypes.OBJECT})
    def present(self, request: Request, pk=None) -> Response:
        case, data = self.get_object(), _valid(PresentSerializer, request)
        return _run(lambda: services.present(request.user, case, _person(data["leader"]), note=data.get("note", ""),
                                             expected_version=data.get("version")), CaseSerializer, self._reload)

    @action(detail=True, methods=["post"], url_path="return")
    @extend_schema(request=ReturnSerializer, responses={200: CaseSerializer, 409: OpenApiTypes.OBJECT})
    def return_case(self, request: Request, pk=None) -> Response:
        case, data = self.get_object(), _valid(ReturnSerializer, request)
        return _run(lambda: services.return_case(request.user, case, data["reason"],
                                                 expected_version=data.get("version")), CaseSerializer, self._reload)

    @action(detail=True, methods=["post"])
    @extend_schema(request=DirectSerializer, responses={200: CaseSerializer, 409: OpenApiTypes.OBJECT})
    def direct(self, request: Request, pk=None) -> Response:
        case, data = self.get_object(), _valid(DirectSerializer, request)
        targets = [services.TargetInput(role=t["role"], unit_id=t.get("unit"), user_id=t.get("user"),
                                        deadline=t.get("deadline")) for t in data["targets"]]
        return _run(lambda: services.direct(request.user, case, instruction=data["instruction"], targets=targets,
                                            expected_version=data.get("version")), CaseSerializer, self._reload)


class AssignmentViewSet(JSONOnlyMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The targets of directions on documents you may see; the unit leader and the handler act here."""

    serializer_class = AssignmentSerializer
    permission_classes = [ActionPermissions]

    def get_queryset(self):
        return Assignment.objects.filter(case__document__in=visible_documents(self.request.user).values("id"))

    def _reload(self, assignment: Assignment) -> Assignment:
        return Assignment.objects.get(pk=assignment.pk)

    @action(detail=True, methods=["post"])
    @extend_schema(request=AssignSerializer, responses={200: AssignmentSerializer, 409: OpenApiTypes.OBJECT})
    def assign(self, request: Request, pk=None) -> Response:
        assignment, data = self.get_object(), _valid(AssignSerializer, request)
        return _run(lambda: services.assign_within_unit(
            request.user, assignment, _person(data["assignee"]), deadline=data["deadline"], note=data["note"],
            expected_version=data.get("version")), AssignmentSerializer, self._reload)

    @action(detail=True, methods=["post"])
    @extend_schema(request=ProgressSerializer, responses={200: AssignmentSerializer, 409: OpenApiTypes.OBJECT})
    def progress(self, request: Request, pk=None) -> Response:
        assignment, data = self.get_object(), _valid(ProgressSerializer, request)
        return _run(lambda: services.record_progress(
            request.user, assignment, note=data["note"], proposal=data["proposal"],
            expected_version=data.get("version")), AssignmentSerializer, self._reload)

    @action(detail=True, methods=["post"])
    @extend_schema(request=ExtensionSerializer, responses={200: ExtensionRequestSerializer, 409: OpenApiTypes.OBJECT})
    def extension(self, request: Request, pk=None) -> Response:
        assignment, data = self.get_object(), _valid(ExtensionSerializer, request)
        return _run(lambda: services.request_extension(
            request.user, assignment, new_deadline=data["new_deadline"], reason=data["reason"],
            expected_version=data.get("version")), ExtensionRequestSerializer, lambda r: r)

    @action(detail=True, methods=["post"])
    @extend_schema(request=CompleteSerializer, responses={200: AssignmentSerializer, 409: OpenApiTypes.OBJECT})
    def complete(self, request: Request, pk=None) -> Response:
        assignment, data = self.get_object(), _valid(CompleteSerializer, request)
        return _run(lambda: services.complete_assignment(
            request.user, assignment, outcome=data["outcome"], reply_document_id=data.get("reply_document"),
            expected_version=data.get("version")), AssignmentSerializer, self._reload)

    @action(detail=True, methods=["post"], url_path="decide-result")
    @extend_schema(request=ResultDecisionSerializer, responses={200: AssignmentSerializer, 409: OpenApiTypes.OBJECT})
    def decide_result(self, request: Request, pk=None) -> Response:
        """The unit head accepts the submitted result (completing the work) or returns it with a comment."""
        assignment, data = self.get_object(), _valid(ResultDecisionSerializer, request)
        if data["accept"]:
            call = lambda: services.accept_result(  # noqa: E731
                request.user, assignment, note=data["comment"], expected_version=data.get("version"))
        else:
            call = lambda: services.return_result(  # noqa: E731
                request.user, assignment, comment=data["comment"], expected_version=data.get("version"))
        return _run(call, AssignmentSerializer, self._reload)


class ExtensionRequestViewSet(JSONOnlyMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ExtensionRequestSerializer
    permission_classes = [ActionPermissions]

    def get_queryset(self):
        return ExtensionRequest.objects.filter(
            assignment__case__document__in=visible_documents(self.request.user).values("id")
        )

    @action(detail=True, methods=["post"])
    @extend_schema(request=DecideSerializer, responses={200: ExtensionRequestSerializer, 409: OpenApiTypes.OBJECT})
    def decide(self, request: Request, pk=None) -> Response:
        extension, data = self.get_object(), _valid(DecideSerializer, request)
        result = services.decide_extension(request.user, extension, approve=data["approve"], note=data["note"])
        return Response(ExtensionRequestSerializer(result).data)


class MyIncomingWorkView(JSONOnlyMixin, APIView):
    """What waits for you now: counts per kind (total, overdue, due within 2 days) and the items."""

    permission_classes = [ActionPermissions]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        work = selectors.my_incoming_work(request.user)
        return Response({
            "counts": {kind: vars(count) for kind, count in work.counts.items()},
            "items": {
                kind: [
                    {"document": item.document.pk, "subject": item.document.subject, "urgent": item.urgent,
                     "case": item.case.pk if item.case else None,
                     "case_version": item.case.version if item.case else None,
                     "assignment": item.assignment.pk if item.assignment else None,
                     "assignment_version": item.assignment.version if item.assignment else None,
                     "extension_request": item.extension.pk if item.extension else None,
                     "due_date": item.due_date, "overdue": item.overdue, "due_soon": item.due_soon}
                    for item in items
                ]
                for kind, items in work.items.items()
            },
        })


class OversightView(JSONOnlyMixin, APIView):
    """A leader's view of open handling: per unit for an agency leader, per handler for a unit leader.
    Other people get 403."""

    permission_classes = [ActionPermissions]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        result = selectors.oversight(request.user)
        if result is None:
            raise PermissionDenied(_("Only agency and unit leaders oversee handling."))
        total = result.total
        return Response({
            "scope": result.scope,
            "name": result.name,
            "rows": [vars(row) | {"open": row.open} for row in result.rows],
            "total": {key: value for key, value in vars(total).items() if key not in ("label", "group")}
            | {"open": total.open},
        })
