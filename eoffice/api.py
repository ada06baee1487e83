"""API-wide pieces: JSON errors for every failure, never an HTML page."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


def json_exception_handler(exc, context):
    """DRF's handler plus Django's ValidationError/PermissionDenied and a JSON 500 for the rest."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response({"message": _("The data is not valid."), "errors": detail}, status=status.HTTP_400_BAD_REQUEST)
    response = exception_handler(exc, context)
    if response is not None:
        data = response.data
        if isinstance(data, dict) and "detail" in data and len(data) == 1:
            response.data = {"message": str(data["detail"])}
        elif isinstance(data, dict):
            response.data = {"message": _("The data is not valid."), "errors": data}
        else:
            response.data = {"message": _("The data is not valid."), "errors": data}
        return response
    if isinstance(exc, (Http404, DjangoPermissionDenied)):
        return None
    logger.exception("Unhandled API error", exc_info=exc)
    return Response({"message": _("An unexpected error occurred. It has been logged.")}, status=500)


def api_not_found(request, exception=None):
    return JsonResponse({"message": _("Not found.")}, status=404)


def api_server_error(request):
    return JsonResponse({"message": _("An unexpected error occurred. It has been logged.")}, status=500)
