"""The inbound endpoint of the edXML exchange: other systems POST signed packages here.

No session, no token, no CSRF: the caller is authenticated by the package's signature, which must be made with
the certificate configured for the sending peer (`inbound.receive`). Answers are JSON with a stable `code` and a
readable `detail`: 200 accepted, 409 already received (a repeat; the sender stops), 400/403/413/415 refused
with the reason; a refused package leaves nothing behind."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import edxml, inbound
from .peers import max_package_bytes

logger = logging.getLogger(__name__)

CONTENT_TYPES = ("application/xml", "text/xml")


def _refused(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"status": "refused", "code": code, "detail": detail}, status=status)


@csrf_exempt
@require_POST
def receive_package(request: HttpRequest) -> JsonResponse:
    content_type = (request.content_type or "").lower()
    if content_type not in CONTENT_TYPES:
        return _refused("content_type", _("Send the package as application/xml."), 415)
    limit = max_package_bytes()
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _refused("too_large", _("The package is larger than the limit of %(limit)d bytes.") % {"limit": limit},
                        413)
    data = request.read(limit + 1)  # the stream, not request.body: DATA_UPLOAD_MAX_MEMORY_SIZE is for forms
    try:
        accepted = inbound.receive(data)
    except edxml.PackageRefused as refusal:
        logger.warning("edXML package refused (%s): %s", refusal.code, refusal.message)
        status = 409 if refusal.code in ("replayed", "duplicate") else refusal.http_status
        return _refused(refusal.code, refusal.message, status)
    return JsonResponse({"status": "accepted", "kind": accepted.kind, "deliveries": accepted.deliveries})
