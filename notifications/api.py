"""REST API of notices: a person's own notices (list, unread count, mark read) and preferences. Every query
starts from the caller's id, so another person's notice is a 404 and never appears in a list."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eoffice.api import ActionPermissions, JSONOnlyMixin, Pagination

from . import selectors, services
from .models import EmailMode, Notice


class NoticeSerializer(serializers.ModelSerializer):
    text = serializers.CharField(read_only=True, help_text="The notice in the caller's language.")
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = ["id", "kind", "text", "url", "document_id", "params", "created_at", "read_at", "read"]

    def get_read(self, obj: Notice) -> bool:
        return obj.read_at is not None


class PreferenceLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField(read_only=True)
    in_app = serializers.BooleanField()
    email = serializers.ChoiceField(choices=EmailMode.choices)


class PreferencesSerializer(serializers.Serializer):
    kinds = PreferenceLineSerializer(many=True)
    language = serializers.ChoiceField(choices=[("", "default"), *settings.LANGUAGES], allow_blank=True)
    digest_hour = serializers.IntegerField(min_value=0, max_value=23)


UNREAD_COUNT = inline_serializer("UnreadCount", {"unread": serializers.IntegerField()})
MARKED = inline_serializer("MarkedRead", {"marked": serializers.IntegerField()})


class NoticeViewSet(JSONOnlyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """My notices, newest first (`?unread=true` for the unread ones only)."""

    serializer_class = NoticeSerializer
    permission_classes = [ActionPermissions]
    pagination_class = Pagination
    queryset = Notice.objects.none()

    def get_queryset(self):
        notices_ = selectors.notices_for(self.request.user)
        if self.action == "list" and self.request.query_params.get("unread", "").lower() in {"1", "true", "yes"}:
            notices_ = notices_.filter(read_at__isnull=True)
        return notices_

    @extend_schema(parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="Only unread notices.")])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: NoticeSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notice = self.get_object()  # 404 for anyone else's notice
        return Response(NoticeSerializer(services.mark_read(request.user, notice.pk)).data)

    @extend_schema(request=None, responses={200: MARKED})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        return Response({"marked": services.mark_all_read(request.user)})

    @extend_schema(responses={200: UNREAD_COUNT})
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request: Request) -> Response:
        return Response({"unread": selectors.unread_count(request.user)})


class PreferencesView(JSONOnlyMixin, APIView):
    """My notification preferences: per kind in-app on/off and e-mail (immediate, digest, off), my language
    for notices and e-mails (empty: the site's default) and the hour of my daily digest (0–23)."""

    permission_classes = [ActionPermissions]

    def _current(self, request: Request) -> dict:
        row = selectors.settings_of(request.user)
        return {"kinds": selectors.preferences_of(request.user), "language": row.language,
                "digest_hour": row.digest_hour}

    @extend_schema(responses={200: PreferencesSerializer})
    def get(self, request: Request) -> Response:
        return Response(PreferencesSerializer(self._current(request)).data)

    @extend_schema(request=PreferencesSerializer, responses={200: PreferencesSerializer})
    def put(self, request: Request) -> Response:
        serializer = PreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.save_preferences(
            request.user,
            [services.KindChoice(kind=line["kind"], in_app=line["in_app"], email=line["email"]) for line in data["kinds"]],
            language=data["language"], digest_hour=data["digest_hour"],
        )
        return Response(PreferencesSerializer(self._current(request)).data)
