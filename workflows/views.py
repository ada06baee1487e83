"""Web pages of incoming-document handling: "My work" and the processing slip of one document with the
actions open to the viewer. Thin: reads come from selectors, every change from services."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.models import Unit
from documents import services as documents_services
from documents.selectors import document_timeline, visible_documents
from eoffice.http import posted_int, posted_person_or_404

from . import selectors, services
from .models import Assignment, AssignmentState, CaseState, ExtensionRequest, ExtensionState, TargetRole


@login_required
def my_work(request: HttpRequest) -> HttpResponse:
    work = selectors.my_incoming_work(request.user)
    labels = {
        selectors.TO_REGISTER: gettext_lazy("To enter for handling"),
        selectors.TO_PRESENT: gettext_lazy("To present to a leader"),
        selectors.TO_DIRECT: gettext_lazy("To direct"),
        selectors.TO_ASSIGN: gettext_lazy("To assign in the unit"),
        selectors.TO_HANDLE: gettext_lazy("To handle"),
        selectors.TO_DECIDE_EXTENSION: gettext_lazy("Extensions to decide"),
    }
    sections = [(kind, labels[kind], work.counts[kind], work.items[kind]) for kind in selectors.KINDS if kind in work.counts]
    from .drafting_views import drafting_sections  # drafting_views imports this module's helpers

    draft_sections = drafting_sections(request.user)
    return render(request, "workflows/my_work.html", {
        "sections": sections,
        "draft_sections": draft_sections,
        "total": work.total + sum(count for _kind, _label, count, _items in draft_sections),
        "oversees": selectors.oversees(request.user),
    })


@login_required
def oversight(request: HttpRequest) -> HttpResponse:
    """A leader's overview of open handling in their agency (per unit) or unit (per handler)."""
    result = selectors.oversight(request.user)
    if result is None:
        raise PermissionDenied
    return render(request, "workflows/oversight.html", {"oversight": result})


def _case_or_404(request: HttpRequest, pk: int):
    return get_object_or_404(selectors.incoming_cases_for(request.user), pk=pk)


class DirectForm(forms.Form):
    instruction = forms.CharField(label=gettext_lazy("Instruction"), widget=forms.Textarea(attrs={"rows": 3}))
    lead = forms.ChoiceField(label=gettext_lazy("Lead (in charge)"))
    lead_deadline = forms.DateField(label=gettext_lazy("Deadline"), widget=forms.DateInput(attrs={"type": "date"}))
    coordinate = forms.MultipleChoiceField(label=gettext_lazy("Co-ordinating"), required=False)
    coordinate_deadline = forms.DateField(
        label=gettext_lazy("Deadline"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    inform = forms.MultipleChoiceField(label=gettext_lazy("For information"), required=False)

    def __init__(self, *args, agency_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(f"unit:{u.pk}", str(u.name)) for u in Unit.objects.filter(agency_id=agency_id, is_active=True)]
        choices += [
            (f"user:{p.pk}", str(p))
            for p in get_user_model().objects.filter(agency_id=agency_id, is_active=True).order_by("full_name")
        ]
        for name in ("lead", "coordinate", "inform"):
            self.fields[name].choices = choices

    def targets(self) -> list[services.TargetInput]:
        def target(value: str, role: str, deadline: date | None) -> services.TargetInput:
            kind, pk = value.split(":")
            return services.TargetInput(role=role, deadline=deadline, **{f"{kind}_id": int(pk)})

        data = self.cleaned_data
        result = [target(data["lead"], TargetRole.LEAD, data["lead_deadline"])]
        result += [target(v, TargetRole.COORDINATE, data.get("coordinate_deadline")) for v in data["coordinate"]]
        result += [target(v, TargetRole.INFORM, None) for v in data["inform"]]
        return result


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    user = request.user
    documents_services.record_opening(user, case.document)
    assignments = list(case.assignments.select_related("unit", "user", "assignee", "deadline_set_by", "reply_document"))
    pending = list(
        ExtensionRequest.objects.filter(assignment__case=case, state=ExtensionState.PENDING).select_related(
            "requested_by", "approver"
        )
    )
    is_clerk = user.agency_id == case.agency_id and user.has_perm("documents.register_incoming")
    can_direct = case.state == CaseState.PRESENTED and services.acting_prefix(
        user, case.presented_to, case.agency_id
    ) is not None
    context = {
        "case": case,
        "document": case.document,
        "timeline": document_timeline(case.document),
        "assignments": assignments,
        "pending_extensions": [p for p in pending if services.acting_prefix(user, p.approver, case.agency_id) is not None],
        "can_present": is_clerk and case.state == CaseState.REGISTERED,
        "can_return": is_clerk and case.state in (CaseState.REGISTERED, CaseState.PRESENTED),
        "leaders": get_user_model().objects.filter(
            agency_id=case.agency_id, is_active=True, groups__name=roles.AGENCY_LEADER
        ) if is_clerk else [],
        "direct_form": DirectForm(agency_id=case.agency_id) if can_direct else None,
        "to_assign": [a for a in assignments if a.state == AssignmentState.WAITING and a.unit_id
                      and services.unit_leader_authority(user, a.unit_id, case.agency_id) is not None],
        "to_handle": [a for a in assignments if a.state == AssignmentState.HANDLING and a.assignee_id == user.pk],
    }
    if context["to_handle"]:
        # The reply, if any, is an outgoing document of the agency this person can see, newest first.
        context["reply_choices"] = selectors.reply_documents_for(user, case.agency_id)[:100]
    for assignment in context["to_assign"]:
        assignment.people = list(get_user_model().objects.filter(unit_id=assignment.unit_id, is_active=True))
    return render(request, "workflows/case.html", context)


def _done(request: HttpRequest, case_pk: int, call, success: str) -> HttpResponse:
    """Run a transition; refusals that are the user's to fix come back as messages on the page."""
    try:
        call()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect("workflows:case", pk=case_pk)


def _version(request: HttpRequest) -> int | None:
    return posted_int(request, "version")


def _date(request: HttpRequest, name: str) -> date:
    try:
        return date.fromisoformat(request.POST.get(name, ""))
    except ValueError:
        raise ValidationError(_("Enter a valid date.")) from None


@login_required
@require_POST
def open_case(request: HttpRequest, document_pk: int) -> HttpResponse:
    document = get_object_or_404(visible_documents(request.user), pk=document_pk)
    try:
        case = services.open_case(request.user, document)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("workflows:my_work")
    messages.success(request, _("The document is entered for handling."))
    return redirect("workflows:case", pk=case.pk)


@login_required
@require_POST
def case_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    case = _case_or_404(request, pk)
    user, version = request.user, _version(request)
    if step == "present":
        leader = posted_person_or_404(request, "leader")
        return _done(request, pk, lambda: services.present(user, case, leader, expected_version=version),
                     _("Presented to the leader."))
    if step == "return":
        return _done(request, pk, lambda: services.return_case(
            user, case, request.POST.get("reason", ""), expected_version=version), _("The document was returned."))
    if step == "direct":
        form = DirectForm(request.POST, agency_id=case.agency_id)
        if not form.is_valid():
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
            return redirect("workflows:case", pk=pk)
        return _done(request, pk, lambda: services.direct(
            user, case, instruction=form.cleaned_data["instruction"], targets=form.targets(), expected_version=version
        ), _("The direction was recorded."))
    return HttpResponse(status=404)


@login_required
@require_POST
def assignment_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    visible = visible_documents(request.user).values("id")
    assignment = get_object_or_404(Assignment.objects.filter(case__document__in=visible), pk=pk)
    user, version, post = request.user, _version(request), request.POST
    case_pk = assignment.case_id
    if step == "assign":
        assignee = posted_person_or_404(request, "assignee")
        return _done(request, case_pk, lambda: services.assign_within_unit(
            user, assignment, assignee, deadline=_date(request, "deadline"), note=post.get("note", ""),
            expected_version=version), _("Assigned."))
    if step == "progress":
        return _done(request, case_pk, lambda: services.record_progress(
            user, assignment, note=post.get("note", ""), proposal=post.get("proposal", ""), expected_version=version
        ), _("Progress recorded."))
    if step == "extension":
        return _done(request, case_pk, lambda: services.request_extension(
            user, assignment, new_deadline=_date(request, "new_deadline"), reason=post.get("reason", ""),
            expected_version=version), _("The extension was requested."))
    if step == "complete":
        return _done(request, case_pk, lambda: services.complete_assignment(
            user, assignment, outcome=post.get("outcome", ""), reply_document_id=posted_int(request, "reply_document"),
            expected_version=version), _("Handling completed."))
    return HttpResponse(status=404)


@login_required
@require_POST
def decide_extension(request: HttpRequest, pk: int) -> HttpResponse:
    visible = visible_documents(request.user).values("id")
    extension = get_object_or_404(ExtensionRequest.objects.filter(assignment__case__document__in=visible), pk=pk)
    approve = request.POST.get("decision") == "approve"
    case_pk = Assignment.objects.filter(pk=extension.assignment_id).values_list("case_id", flat=True).get()
    return _done(request, case_pk, lambda: services.decide_extension(
        request.user, extension, approve=approve, note=request.POST.get("note", "")), _("The extension was decided."))
