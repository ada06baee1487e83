"""The desk's API for the mobile app: the numbers waiting for the person (the menu's badges)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eoffice.api import JSONOnlyMixin

from .selectors import COUNT_KEYS, work_counts

_Counts = inline_serializer("DeskCounts", {key: serializers.IntegerField() for key in (*COUNT_KEYS, "total")})


class DeskCountsView(JSONOnlyMixin, APIView):
    """What waits for the caller now, per kind: to register (received electronically and documents to enter
    for handling), to present, to direct, to handle (assigning in a unit included), extensions to decide, to
    review, to sign, to issue, drafts returned to revise; and the total."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: _Counts}, summary="Counts of the work waiting for me")
    def get(self, request: Request) -> Response:
        response = Response(work_counts(request.user))
        response["Cache-Control"] = "no-store"
        return response
