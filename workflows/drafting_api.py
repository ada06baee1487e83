"""REST API of outgoing drafts: thin views over drafting_selectors and drafting_services.

Drafts are looked up only among those the caller may see (404 otherwise); every transition is the
service's, which checks the actor, the state and the `version` the client saw (a stale version answers 409)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from documents.models import Confidentiality, Urgency
from eoffice.api import ActionPermissions, JSONOnlyMixin, Pagination
from signatures.api import PasswordSerializer, SigningRequestSerializer, password_data

from . import draft_signing
from . import drafting_selectors as selectors
from . import drafting_services as services
from .drafting import Draft, DraftVersion
from .services import StaleTransition


class DraftVersionSerializer(serializers.ModelSerializer):
    sha256 = serializers.CharField(source="blob_id", read_only=True)

    class Meta:
        model = DraftVersion
        fields = ["number", "file_name", "sha256", "uploaded_by", "uploaded_at", "note"]


class DraftSerializer(serializers.ModelSerializer):
    versions = DraftVersionSerializer(many=True, read_only=True)
    current_action = serializers.CharField(source="current_step.action", read_only=True, default="")
    signing_authority_prefix = serializers.CharField(read_only=True, help_text="KT., TUQ., TL. or empty")

    class Meta:
        model = Draft
        fields = ["id", "agency", "drafting_unit", "drafter", "document_type", "subject", "urgency", "confidentiality",
                  "proposed_signer", "recipients", "internal", "in_response_to", "chain", "state", "version",
                  "current_step", "current_action", "current_holder", "last_comment", "signed_by",
                  "signed_on_behalf_of", "signing_authority_prefix", "signed_at", "issued_document", "versions"]


class CreateSerializer(serializers.Serializer):
    document_type = serializers.IntegerField()
    subject = serializers.CharField()
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    confidentiality = serializers.ChoiceField(choices=Confidentiality.choices, default=Confidentiality.NORMAL)
    proposed_signer = serializers.IntegerField(required=False, allow_null=True)
    recipients = serializers.JSONField(required=False, default=list)
    in_response_to = serializers.IntegerField(required=False, allow_null=True)
    internal = serializers.BooleanField(required=False, default=False)
    file = serializers.FileField(required=False)


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, allow_null=True)


class CommentSerializer(VersionSerializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ReturnSerializer(VersionSerializer):
    comment = serializers.CharField()
    to_step = serializers.IntegerField(required=False, allow_null=True)


class ForwardSerializer(CommentSerializer):
    to_user = serializers.IntegerField()


class FileSerializer(CommentSerializer):
    file = serializers.FileField()


class SealSerializer(PasswordSerializer):
    register_id = serializers.IntegerField(required=False, allow_null=True)


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class DraftViewSet(JSONOnlyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Drafts you take part in, urgent first; each action is one transition of the draft."""

    serializer_class = DraftSerializer
    permission_classes = [ActionPermissions]
    pagination_class = Pagination

    def get_queryset(self):
        return selectors.drafts_for(self.request.user).prefetch_related("versions").order_by(
            "-urgency", "-updated_at", "-id"
        )

    def _answer(self, draft: Draft, call) -> Response:
        """Run a transition; a stale version is a conflict (409), other refusals go to the API's handler."""
        try:
            call()
        except StaleTransition as exc:
            return Response({"message": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
        return Response(DraftSerializer(Draft.objects.prefetch_related("versions").get(pk=draft.pk)).data)

    @extend_schema(request=CreateSerializer, responses={201: DraftSerializer})
    def create(self, request: Request) -> Response:
        data = _valid(CreateSerializer, request)
        recipients = data["recipients"] if isinstance(data["recipients"], list) else []
        draft = services.create_draft(request.user, services.DraftInput(
            document_type_id=data["document_type"], subject=data["subject"], urgency=int(data["urgency"]),
            confidentiality=int(data["confidentiality"]), proposed_signer_id=data.get("proposed_signer"),
            recipients=recipients, in_response_to_id=data.get("in_response_to"), internal=data["internal"],
        ), data.get("file"))
        return Response(DraftSerializer(self.get_queryset().get(pk=draft.pk)).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    @extend_schema(request=FileSerializer, responses={200: DraftSerializer, 409: OpenApiTypes.OBJECT})
    def upload(self, request: Request, pk=None) -> Response:
        draft, data = self.get_object(), _valid(FileSerializer, request)
        return self._answer(draft, lambda: services.upload_version(request.user, draft, data["file"], note=data["comment"],
                                                            expected_version=data.get("version")))

    @action(detail=True, methods=["post"])
    @extend_schema(request=VersionSerializer, responses={200: DraftSerializer, 409: OpenApiTypes.OBJECT})
    def submit(self, request: Request, pk=None) -> Response:
        draft, data = self.get_object(), _valid(VersionSerializer, request)
        return self._answer(draft, lambda: services.submit(request.user, draft, expected_version=data.get("version")))

    @action(detail=True, methods=["post"])
    @extend_schema(request=CommentSerializer, responses={200: DraftSerializer, 409: OpenApiTypes.OBJECT})
    def approve(self, request: Request, pk=None) -> Response:
        draft, data = self.get_object(), _valid(CommentSerializer, request)
        return self._answer(draft, lambda: services.approve_step(request.user, draft, comment=data["comment"],
                                                          expected_version=data.get("version")))

    @action(detail=True, methods=["post"], url_path="return")
    @extend_schema(request=ReturnSerializer, responses={200: DraftSerializer, 409: OpenApiTypes.OBJECT})
    def return_draft(self, request: Request, pk=None) -> Response:
        draft, data = self.get_object(), _valid(ReturnSerializer, request)
        return self._answer(draft, lambda: services.return_draft(request.user, draft, comment=data["comment"],
                                                          to_step_id=data.get("to_step"),
                                                          expected_version=data.get("version")))

    @action(detail=True, methods=["post"])
    @extend_schema(request=ForwardSerializer, responses={200: DraftSerializer, 409: OpenApiTypes.OBJECT})
    def forward(self, request: Request, pk=None) -> Response:
        draft, data = self.get_object(), _valid(ForwardSerializer, request)
        to_user = get_object_or_404(get_user_model(), pk=data["to_user"], agency_id=draft.agency_id)
        return self._answer(draft, lambda: services.forward(request.user, draft, to_user, comment=data["comment"],
                                                     expected_version=data.get("version")))

    @action(detail=True, methods=["post"], url_path="sign-on-paper")
    @extend_schema(request=VersionSerializer, responses={200: DraftSerializer, 409: OpenApiTypes.OBJECT})
    def sign_on_paper(self, request: Request, pk=None) -> Response:
        draft, data = self.get_object(), _valid(VersionSerializer, request)
        return self._answer(draft, lambda: services.mark_signed_on_paper(request.user, draft,
                                                                  expected_version=data.get("version")))

    @action(detail=True, methods=["post"])
    @extend_schema(request=FileSerializer, responses={200: DraftSerializer, 409: OpenApiTypes.OBJECT})
    def issue(self, request: Request, pk=None) -> Response:
        draft, data = self.get_object(), _valid(FileSerializer, request)

        return self._answer(draft, lambda: services.issue_draft(request.user, draft, data["file"],
                                                                expected_version=data.get("version")))


    @action(detail=True, methods=["post"])
    @extend_schema(request=PasswordSerializer, responses={202: SigningRequestSerializer})
    def sign(self, request: Request, pk=None) -> Response:
        """The signer signs the draft's latest PDF version (confirmed with the password and `otp`, a fresh
        one-time code); 202 with the request,
        followed at /api/v1/signing-requests/{id}/."""
        signing_request = draft_signing.request_personal_signature(request.user, self.get_object(),
                                                                   **password_data(request))
        return Response(SigningRequestSerializer(signing_request).data, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"])
    @extend_schema(request=SealSerializer, responses={202: SigningRequestSerializer})
    def seal(self, request: Request, pk=None) -> Response:
        """The clerk issues the signed draft: number and date from the register, then the agency seal."""
        data = password_data(request, SealSerializer)
        signing_request = draft_signing.request_seal(request.user, self.get_object(), password=data["password"],
                                                     otp_code=data["otp_code"], register_id=data.get("register_id"))
        return Response(SigningRequestSerializer(signing_request).data, status=status.HTTP_202_ACCEPTED)


class MyDraftingWorkView(JSONOnlyMixin, APIView):
    """Drafts waiting for you: counts per kind and the items, urgent first."""

    permission_classes = [ActionPermissions]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        work = selectors.my_drafting_work(request.user)
        return Response({
            "counts": work.counts,
            "items": {
                kind: [{"draft": d.pk, "subject": d.subject, "urgent": d.urgent, "state": d.state,
                        "version": d.version} for d in items]
                for kind, items in work.items.items()
            },
        })
