"""The handler's result on the processing slip: result files (attached, listed, downloaded) and the unit
head's acceptance of a submitted result. Thin: every change is a workflows.services call."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from documents.downloads import SANDBOX
from documents.selectors import visible_documents
from documents.storage import IntegrityFailure, open_verified

from . import services
from .models import Assignment, AssignmentResultFile
from .views import _done, _version


def _attach_results(request: HttpRequest, assignment: Assignment) -> HttpResponse:
    return _done(request, assignment.case_id, lambda: services.add_result_files(
        request.user, assignment, request.FILES.getlist("files")),
        lambda added: ngettext("%(count)d result file attached.", "%(count)d result files attached.", len(added))
        % {"count": len(added)})


def _accept_result(request: HttpRequest, assignment: Assignment) -> HttpResponse:
    return _done(request, assignment.case_id, lambda: services.accept_result(
        request.user, assignment, note=request.POST.get("note", ""), expected_version=_version(request)),
        lambda done: _("Result of %(person)s accepted: the work is completed.") % {
            "person": done.assignee.name_and_position})


def _return_result(request: HttpRequest, assignment: Assignment) -> HttpResponse:
    return _done(request, assignment.case_id, lambda: services.return_result(
        request.user, assignment, comment=request.POST.get("comment", ""), expected_version=_version(request)),
        lambda done: _("Result returned to %(person)s with your comment.") % {"person": done.assignee.name_and_position})


RESULT_STEPS = {"files": _attach_results, "accept": _accept_result, "return": _return_result}


@login_required
@require_POST
def result_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Attach result files (the handler), accept or return a submitted result (the unit head); the services
    check who may."""
    if step not in RESULT_STEPS:
        raise Http404
    visible = visible_documents(request.user).values("id")
    assignment = get_object_or_404(Assignment.objects.filter(case__document__in=visible), pk=pk)
    return RESULT_STEPS[step](request, assignment)


@login_required
def result_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A result file, to whoever may see the case's document (404 otherwise); the bytes are checked against
    their hash first, and the response is sandboxed like every stored file."""
    visible = visible_documents(request.user).values("id")
    result = get_object_or_404(
        AssignmentResultFile.objects.filter(assignment__case__document__in=visible)
        .select_related("blob", "assignment__case__document"), pk=pk)
    try:
        handle = open_verified(result.blob)
    except (IntegrityFailure, OSError):
        messages.error(request, _("The stored copy of \"%(name)s\" is damaged and is not served. Please tell the "
                                  "administrator.") % {"name": result.file_name})
        return redirect("workflows:case", pk=result.assignment.case_id)
    try:
        services.record_result_file_opened(request.user, result)
    except BaseException:
        handle.close()
        raise
    response = FileResponse(handle, as_attachment=True, filename=result.file_name,
                            content_type=result.blob.content_type)
    response["Content-Security-Policy"] = SANDBOX
    return response

