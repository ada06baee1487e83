"""What the processing slip shows of the handlers' results (files, submission to the unit head)."""

from __future__ import annotations

from . import services
from .models import Assignment, AssignmentResultFile, AssignmentState


def add_result_context(user, case, assignments: list[Assignment], context: dict) -> None:
    """What the case page shows of results: each assignment's files (`a.results`, with who and when), whether
    completing submits to the unit head (`a.submits`), and the submitted results this person may decide."""
    files: dict[int, list[AssignmentResultFile]] = {}
    for result in (AssignmentResultFile.objects.filter(assignment__case=case)
                   .select_related("uploaded_by").order_by("id")):
        files.setdefault(result.assignment_id, []).append(result)
    for assignment in assignments:
        assignment.results = files.get(assignment.pk, [])
    accepting = any(a.unit_id for a in context["to_handle"]) and services.acceptance_required(
        case, next(a for a in context["to_handle"] if a.unit_id))
    for assignment in context["to_handle"]:
        assignment.submits = accepting and assignment.unit_id is not None
    context["to_review"] = [
        a for a in assignments if a.state == AssignmentState.SUBMITTED and a.unit_id
        and services.unit_leader_authority(user, a.unit_id, case.agency_id) is not None
    ]
