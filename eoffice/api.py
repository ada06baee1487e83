"""API-wide pieces: JSON errors for every failure (never an HTML page), per-action model permissions,
a pagination that lets clients ask for bigger pages, and content negotiation for binary downloads."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import exception_handler, set_rollback

from .http import client_address

logger = logging.getLogger(__name__)


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "too_large"


def _django_errors(exc: DjangoValidationError) -> tuple[str, dict[str, Any]]:
    if hasattr(exc, "error_dict"):
        errors = {
            (api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else name): messages
            for name, messages in exc.message_dict.items()
        }
        non_field = errors.get(api_settings.NON_FIELD_ERRORS_KEY)
        return (" ".join(non_field) if non_field else _("The data is not valid.")), errors
    messages = exc.messages
    return " ".join(messages), {api_settings.NON_FIELD_ERRORS_KEY: messages}


def json_exception_handler(exc, context):
    """DRF's handler plus Django's ValidationError (400 with field errors) and a JSON 500 for the rest.

    Every body has a human-readable "message"; validation failures add "errors" keyed by field."""
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        message, errors = _django_errors(exc)
        return Response({"message": message, "errors": errors}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, SuspiciousOperation):  # e.g. too many form fields: the client's fault, not a bug
        set_rollback()
        logger.warning("Suspicious API request: %s", exc)
        return Response({"message": _("The request was refused.")}, status=status.HTTP_400_BAD_REQUEST)
    response = exception_handler(exc, context)  # also turns Http404 / Django's PermissionDenied into JSON
    if response is not None:
        data = response.data
        if isinstance(data, dict) and set(data) == {"detail"}:
            response.data = {"message": str(data["detail"])}
        elif isinstance(data, dict):
            non_field = data.get(api_settings.NON_FIELD_ERRORS_KEY)
            message = " ".join(str(m) for m in non_field) if non_field else _("The data is not valid.")
            response.data = {"message": message, "errors": data}
        elif isinstance(data, list) and data:
            response.data = {"message": " ".join(str(m) for m in data), "errors": data}
        else:
            response.data = {"message": _("The data is not valid."), "errors": data}
        return response
    if isinstance(exc, (Http404, DjangoPermissionDenied)):  # pragma: no cover - DRF handles both above
        return None
    set_rollback()
    logger.exception("Unhandled API error", exc_info=exc)
    return Response(
        {"message": _("An unexpected error occurred. It has been logged.")},
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def api_not_found(request, exception=None):
    return JsonResponse({"message": _("Not found.")}, status=404)


def api_server_error(request):
    return JsonResponse({"message": _("An unexpected error occurred. It has been logged.")}, status=500)


class ActionPermissions(BasePermission):
    """A login for everything, plus the model permissions a view lists per action:
    `required_permissions = {"create": ["accounts.add_agency"], ...}`.

    Checked before the request body is parsed, so a person without the role gets 403 whatever they
    send; services check again, because they are also called from the admin and the web pages."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        action = getattr(view, "action", None) or request.method.lower()
        needed = getattr(view, "required_permissions", {}).get(action, ())
        return user.has_perms(needed)


class ClientAddressScopedRateThrottle(ScopedRateThrottle):
    """DRF's scoped throttle keyed on `eoffice.http.client_address`: DRF's own key trusts any
    X-Forwarded-For (without NUM_PROXIES it is the whole header), so a client changing it per request
    was never slowed down."""

    def get_ident(self, request) -> str:
        return client_address(request)


class Pagination(PageNumberPagination):
    """The settings' page size (50) unless the client asks for up to 500, e.g. to fill a tree picker."""

    page_size_query_param = "page_size"
    max_page_size = 500


class _BodyLimit:
    """Django limits form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) only for `request.POST`/`request.body`;
    DRF's JSON and form parsers read the stream directly, so the same limit is applied here."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        if limit is not None and length and str(length).isdigit() and int(length) > limit:
            raise RequestTooLarge(_("The request body is larger than %(limit)d bytes.") % {"limit": limit})
        return super().parse(stream, media_type, parser_context)


class LimitedJSONParser(_BodyLimit, JSONParser):
    pass


class LimitedFormParser(_BodyLimit, FormParser):
    pass


class JSONOnlyMixin:
    """No browsable-API HTML: every answer of the API, errors included, is JSON. Request bodies are
    JSON, or multipart when files are sent; non-file data is held to DATA_UPLOAD_MAX_MEMORY_SIZE."""

    renderer_classes = [JSONRenderer]
    parser_classes = [LimitedJSONParser, MultiPartParser, LimitedFormParser]


class DownloadNegotiation(DefaultContentNegotiation):
    """For views that answer with a file: `?format=` names the file format, not a renderer, and any
    Accept header is fine; errors (the only rendered responses) are JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type


def document_error_answers(result: dict, generator, request, public) -> dict:
    """drf-spectacular post-processing hook: the answers every operation can give that the views do not
    declare one by one. Any authenticated operation can refuse with 403 (ActionPermissions, a role check
    in the service); one that names an object in its path, or reads a page of a list, answers 404 for an
    object you may not see or a page past the end ("Invalid page."). Found by the schemathesis run
    (tests/security/test_schemathesis.py): the answers were right, the schema did not say so."""
    schemas = result.get("components", {}).get("schemas", {})
    body = (
        {"$ref": "#/components/schemas/Message"} if "Message" in schemas
        else {"type": "object", "properties": {"message": {"type": "string"}}}
    )

    def answer(description: str) -> dict:
        return {"description": description, "content": {"application/json": {"schema": body}}}

    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if operation.get("security") != [{}]:  # not an open endpoint (the token endpoint)
                responses.setdefault("403", answer("Not allowed."))
            reads_page = any(p.get("name") == "page" and p.get("in") == "query"
                             for p in operation.get("parameters", []))
            if "{" in path or reads_page:
                responses.setdefault("404", answer("Not found, or not visible to you (or a page past the end)."))
    return result
