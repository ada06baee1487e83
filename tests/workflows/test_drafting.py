"""Outgoing drafts: chain, versions, every transition and refusal, signing by delegation, issuing."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Delegation
from audit.models import AuditEvent
from documents.events import DOCUMENT_REGISTERED_OUTGOING
from documents.models import Direction, Document, Urgency
from tests.factories import doc_type, make_pdf
from tests.workflows.helpers import fresh, office
from workflows import drafting_selectors as selectors
from workflows import drafting_services as ds
from workflows import events as wf_events
from workflows.models import Draft, DraftState, StepAction
from workflows.services import StaleTransition, TransitionError

pytestmark = pytest.mark.django_db


def pdf_upload(name: str = "du-thao.pdf", text: str = "Dự thảo") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, make_pdf(1, text), content_type="application/pdf")


def draft_verbs(draft: Draft) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="workflows.draft", target_id=str(draft.pk))
        .order_by("id").values_list("verb", flat=True)
    )


def new_draft(o, **kwargs) -> Draft:
    ds.ensure_default_chain(o.agency)
    data = ds.DraftInput(document_type_id=doc_type("cong-van").pk, subject="Về việc báo cáo kết quả",
                         proposed_signer_id=o.leader.pk, recipients=[{"name": "Như trên"}], **kwargs)
    return ds.create_draft(o.handler, data, pdf_upload())


def submitted(o, **kwargs) -> Draft:
    return ds.submit(o.handler, new_draft(o, **kwargs))


def ready_to_sign(o) -> Draft:
    draft = submitted(o)
    draft = ds.approve_step(o.unit_leader, draft)
    return ds.approve_step(o.clerk, draft)


def test_default_chain_is_seeded_once_as_data():
    o = office()
    chain = ds.ensure_default_chain(o.agency)
    assert ds.ensure_default_chain(o.agency) == chain
    assert [(s.action, s.role) for s in chain.steps.order_by("order")] == [
        (StepAction.REVIEW, "Unit leader"), (StepAction.FORMAT_CHECK, "Clerk"), (StepAction.SIGN, "Agency leader"),
    ]


def test_full_path_to_issued_document_with_next_number_and_events():
    o = office()
    draft = new_draft(o)
    assert draft.state == DraftState.DRAFTING and draft.versions.count() == 1
    draft = ds.submit(o.handler, draft)
    assert draft.state == DraftState.IN_REVIEW and draft.current_holder == o.unit_leader
    draft = ds.approve_step(o.unit_leader, draft, comment="Đồng ý")
    assert draft.current_step.action == StepAction.FORMAT_CHECK and draft.current_holder == o.clerk
    draft = ds.approve_step(o.clerk, draft)
    assert draft.state == DraftState.READY_TO_SIGN and draft.current_holder == o.leader
    draft = ds.mark_signed_on_paper(o.leader, draft)
    assert draft.state == DraftState.SIGNED and draft.signed_by == o.leader and draft.signing_authority_prefix == ""

    previous = ds.issue_draft(o.clerk, ready_issue_other(o), pdf_upload("a.pdf", "A"))
    document = ds.issue_draft(o.clerk, draft, pdf_upload("ban-hanh.pdf", "Ban hành"))
    draft.refresh_from_db()
    assert draft.state == DraftState.ISSUED and draft.issued_document == document
    assert document.direction == Direction.OUTGOING and document.register_number == previous.register_number + 1
    assert document.identifier and document.signer_name == str(o.leader)
    assert document.files.count() == 1
    assert list(document.recipients.values_list("name", flat=True)) == ["Như trên"]
    assert draft_verbs(draft) == [
        wf_events.DRAFT_CREATED, wf_events.DRAFT_VERSION_UPLOADED, wf_events.DRAFT_SUBMITTED, wf_events.DRAFT_APPROVED, wf_events.DRAFT_APPROVED,
        wf_events.DRAFT_SIGNED, wf_events.DRAFT_ISSUED,
    ]
    assert AuditEvent.objects.filter(target_type="documents.document", target_id=str(document.pk),
                                     verb=DOCUMENT_REGISTERED_OUTGOING, actor_id=o.clerk.pk).count() == 1
    with pytest.raises(TransitionError):
        ds.issue_draft(o.clerk, draft, pdf_upload())
    assert Document.objects.filter(direction=Direction.OUTGOING, agency=o.agency).count() == 2


def ready_issue_other(o) -> Draft:
    draft = ready_to_sign(o)
    return ds.mark_signed_on_paper(o.leader, draft)


def test_versions_are_kept_and_leaders_may_upload_directly():
    o = office()
    draft = new_draft(o)
    ds.upload_version(o.handler, draft, pdf_upload("v2.pdf", "Hai"), note="sửa")
    draft = ds.submit(o.handler, draft)
    with pytest.raises(PermissionDenied):
        ds.upload_version(o.handler, draft, pdf_upload("v3.pdf", "Ba"))
    ds.upload_version(o.unit_leader, draft, pdf_upload("v3.pdf", "Ba lanh dao"))
    versions = list(draft.versions.order_by("number"))
    assert [(v.number, v.uploaded_by_id) for v in versions] == [(1, o.handler.pk), (2, o.handler.pk),
                                                                (3, o.unit_leader.pk)]
    assert len({v.blob_id for v in versions}) == 3
    assert draft_verbs(draft).count(wf_events.DRAFT_VERSION_UPLOADED) == 3
    with pytest.raises(ValidationError):
        ds.upload_version(o.unit_leader, draft, SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\nrest"))


def test_refusals_wrong_person_other_agency_wrong_state_stale():
    o = office()
    draft = new_draft(o)
    with pytest.raises(PermissionDenied):
        ds.submit(o.colleague, draft)
    with pytest.raises(PermissionDenied):
        ds.submit(o.outsider, draft)
    draft = ds.submit(o.handler, draft)
    for person in (o.handler, o.clerk, o.leader, o.outsider, o.other_unit_staff):
        with pytest.raises(PermissionDenied):
            ds.approve_step(person, draft)
    with pytest.raises(StaleTransition):
        ds.approve_step(o.unit_leader, draft, expected_version=draft.version - 1)
    with pytest.raises(TransitionError):
        ds.mark_signed_on_paper(o.unit_leader, draft)
    with pytest.raises(PermissionDenied):
        ds.issue_draft(o.handler, draft, pdf_upload())
    with pytest.raises(TransitionError):
        ds.issue_draft(o.clerk, draft, pdf_upload())
    with pytest.raises(TransitionError):
        ds.submit(o.handler, draft)
    draft.refresh_from_db()
    assert draft.state == DraftState.IN_REVIEW and draft.current_holder == o.unit_leader
    assert draft_verbs(draft)[-1] == wf_events.DRAFT_SUBMITTED


def test_submit_without_file_is_refused():
    o = office()
    ds.ensure_default_chain(o.agency)
    draft = ds.create_draft(o.handler, ds.DraftInput(document_type_id=doc_type("cong-van").pk, subject="Không tệp"))
    with pytest.raises(ValidationError):
        ds.submit(o.handler, draft)


def test_return_with_comment_to_drafter_then_resubmit():
    o = office()
    draft = ds.approve_step(o.unit_leader, submitted(o))
    with pytest.raises(ValidationError):
        ds.return_draft(o.clerk, draft, comment=" ")
    draft = ds.return_draft(o.clerk, draft, comment="Sai thể thức")
    assert draft.state == DraftState.DRAFTING and draft.current_step is None and draft.last_comment == "Sai thể thức"
    work = selectors.my_drafting_work(o.handler)
    assert [d.pk for d in work.items[selectors.RETURNED]] == [draft.pk]
    event = AuditEvent.objects.get(target_type="workflows.draft", target_id=str(draft.pk), verb=wf_events.DRAFT_RETURNED)
    assert event.data["comment"] == "Sai thể thức" and event.actor_id == o.clerk.pk
    ds.upload_version(o.handler, draft, pdf_upload("v2.pdf", "Sửa"))
    draft = ds.submit(o.handler, draft)
    assert draft.current_step.order == 1 and draft.last_comment == ""


def test_return_to_an_earlier_step():
    o = office()
    draft = ds.approve_step(o.clerk, ds.approve_step(o.unit_leader, submitted(o)))
    first = draft.chain.steps.get(order=1)
    with pytest.raises(ValidationError):
        ds.return_draft(o.leader, draft, comment="x", to_step_id=draft.current_step_id)
    draft = ds.return_draft(o.leader, draft, comment="Xem lại số liệu", to_step_id=first.pk)
    assert draft.state == DraftState.IN_REVIEW and draft.current_step == first and draft.current_holder == o.unit_leader


def test_forward_to_another_holder_of_the_same_role():
    o = office()
    draft = ds.approve_step(o.clerk, ds.approve_step(o.unit_leader, submitted(o)))
    with pytest.raises(ValidationError):
        ds.forward(o.leader, draft, o.unit_leader)
    with pytest.raises(ValidationError):
        ds.forward(o.leader, draft, o.outsider)
    with pytest.raises(PermissionDenied):
        ds.forward(o.deputy, draft, o.deputy)
    draft = ds.forward(o.leader, draft, o.deputy, comment="Nhờ anh ký")
    assert draft.current_holder == o.deputy
    with pytest.raises(PermissionDenied):
        ds.mark_signed_on_paper(o.leader, draft)
    draft = ds.mark_signed_on_paper(o.deputy, draft)
    assert draft.signed_by == o.deputy and draft.signing_authority_prefix == ""
    assert wf_events.DRAFT_FORWARDED in draft_verbs(draft)


def test_signing_by_delegation_records_prefix_and_only_while_valid():
    o = office()
    draft = ready_to_sign(o)
    today = timezone.localdate()
    Delegation.objects.create(agency=o.agency, delegator=o.leader, delegate=o.deputy, authority_prefix="KT.",
                              valid_from=today - timedelta(days=10), valid_to=today - timedelta(days=1))
    with pytest.raises(PermissionDenied):
        ds.mark_signed_on_paper(fresh(o.deputy), draft)
    Delegation.objects.create(agency=o.agency, delegator=o.leader, delegate=o.deputy, authority_prefix="KT.",
                              valid_from=today)
    assert [d.pk for d in selectors.my_drafting_work(o.deputy).items[selectors.TO_SIGN]] == [draft.pk]
    draft = ds.mark_signed_on_paper(fresh(o.deputy), draft)
    assert (draft.signed_by, draft.signed_on_behalf_of, draft.signing_authority_prefix) == (o.deputy, o.leader, "KT.")
    event = AuditEvent.objects.get(target_type="workflows.draft", target_id=str(draft.pk), verb=wf_events.DRAFT_SIGNED)
    assert event.data["authority_prefix"] == "KT." and event.data["method"] == "paper"
    document = ds.issue_draft(o.clerk, draft, pdf_upload("final.pdf"))
    assert document.authority_prefix == "KT." and document.signer_name == str(o.deputy)


def test_on_signed_hook_requires_ready_to_sign():
    o = office()
    draft = submitted(o)
    with pytest.raises(TransitionError):
        ds.on_signed(draft, o.leader)
    draft = ds.approve_step(o.clerk, ds.approve_step(o.unit_leader, draft))
    draft = ds.on_signed(draft, o.leader, method="digital")
    assert draft.state == DraftState.SIGNED


def test_issue_requires_pdf():
    o = office()
    draft = ready_issue_other(o)
    docx = SimpleUploadedFile("x.docx", _docx_bytes())
    with pytest.raises(ValidationError):
        ds.issue_draft(o.clerk, draft, docx)
    draft.refresh_from_db()
    assert draft.state == DraftState.SIGNED


def _docx_bytes() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_my_drafting_work_urgent_first_and_constant_queries(django_assert_max_num_queries):
    o = office()
    normal = submitted(o)
    urgent = submitted(o, urgency=Urgency.EXPRESS)
    work = selectors.my_drafting_work(o.unit_leader)
    assert [d.pk for d in work.items[selectors.TO_REVIEW]] == [urgent.pk, normal.pk]
    assert work.counts[selectors.TO_REVIEW] == 2 and work.total == 2
    assert selectors.my_drafting_work(o.outsider).total == 0
    assert selectors.my_drafting_work(o.other_unit_staff).total == 0
    for _i in range(3):
        submitted(o)
    with django_assert_max_num_queries(9):
        work = selectors.my_drafting_work(fresh(o.unit_leader))
    assert work.counts[selectors.TO_REVIEW] == 5
    ds.approve_step(o.unit_leader, urgent)
    assert [d.pk for d in selectors.my_drafting_work(o.clerk).items[selectors.TO_CHECK]] == [urgent.pk]


def test_drafts_visibility():
    o = office()
    draft = submitted(o)
    assert draft in selectors.drafts_for(o.handler)
    assert draft in selectors.drafts_for(o.unit_leader)
    assert draft in selectors.drafts_for(o.leader)
    assert draft not in selectors.drafts_for(o.outsider)
    assert draft not in selectors.drafts_for(o.colleague)
    assert draft not in selectors.drafts_for(o.other_unit_staff)


def test_issuing_a_reply_completes_the_drafters_handling():
    from tests.workflows.helpers import directed_case, in_days
    from workflows import events
    from workflows import services as incoming_services
    from workflows.models import AssignmentState, CaseState

    o = office()
    case = directed_case(o)
    assignment = case.assignments.get(role="lead")
    incoming_services.assign_within_unit(o.unit_leader, assignment, o.handler, deadline=in_days(2))
    draft = new_draft(o, in_response_to_id=case.document_id)
    assert draft.in_response_to_id == case.document_id
    draft = ds.approve_step(o.clerk, ds.approve_step(o.unit_leader, ds.submit(o.handler, draft)))
    draft = ds.mark_signed_on_paper(o.leader, draft)
    reply = ds.issue_draft(o.clerk, draft, pdf_upload("reply.pdf", "Trả lời"))
    assignment.refresh_from_db()
    case.refresh_from_db()
    assert assignment.state == AssignmentState.COMPLETED and assignment.reply_document == reply
    assert case.state == CaseState.COMPLETED
    assert AuditEvent.objects.filter(target_type="documents.document", target_id=str(case.document_id),
                                     verb=events.CASE_COMPLETED).count() == 1


def test_cannot_reply_to_a_document_one_cannot_see():
    o = office()
    ds.ensure_default_chain(o.agency)
    from tests.workflows.helpers import incoming

    secret = incoming(o, secret=True)
    with pytest.raises(ValidationError):
        ds.create_draft(o.handler, ds.DraftInput(document_type_id=doc_type("cong-van").pk, subject="Trả lời",
                                                 in_response_to_id=secret.pk))
    assert not Draft.objects.exists()


def test_secret_drafts_are_seen_only_by_those_taking_part():
    from documents.models import Confidentiality

    o = office()
    draft = submitted(o, confidentiality=Confidentiality.SECRET)
    assert draft in selectors.drafts_for(o.handler) and draft in selectors.drafts_for(o.unit_leader)
    # The agency leader is the proposed signer; the clerk and the other leader take no part yet.
    assert draft in selectors.drafts_for(o.leader)
    assert draft not in selectors.drafts_for(o.clerk) and draft not in selectors.drafts_for(o.deputy)
    ds.approve_step(o.unit_leader, draft)
    assert draft in selectors.drafts_for(o.clerk)  # now holds the format check
    assert draft not in selectors.drafts_for(o.deputy)


def test_my_drafting_work_query_count_does_not_grow():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    o = office()
    submitted(o)
    leader = fresh(o.unit_leader)
    with CaptureQueriesContext(connection) as few:
        selectors.my_drafting_work(leader)
    for _i in range(4):
        submitted(o, urgency=Urgency.URGENT)
    leader = fresh(o.unit_leader)
    with CaptureQueriesContext(connection) as many:
        work = selectors.my_drafting_work(leader)
    assert work.counts[selectors.TO_REVIEW] == 5
    assert len(many.captured_queries) == len(few.captured_queries) <= 6  # roles + one per kind


def test_a_delegate_approves_a_review_step_and_the_prefix_is_recorded():
    o = office()
    draft = submitted(o)
    Delegation.objects.create(agency=o.agency, delegator=o.unit_leader, delegate=o.colleague, authority_prefix="TL.",
                              valid_from=timezone.localdate())
    draft = ds.approve_step(fresh(o.colleague), draft)
    assert draft.current_holder == o.clerk
    event = AuditEvent.objects.get(target_type="workflows.draft", target_id=str(draft.pk), verb=wf_events.DRAFT_APPROVED)
    assert event.actor_id == o.colleague.pk and event.data["authority_prefix"] == "TL."


def test_change_after_approval_goes_back_for_reapproval():
    """Decree 30 Art. 11: the clerk's change at the format check sends the draft back to the approver;
    a leader's own edit at their step does not."""
    o = office()
    draft = submitted(o)
    ds.upload_version(o.unit_leader, draft, pdf_upload("v2.pdf", "Lanh dao sua"))
    draft.refresh_from_db()
    assert draft.current_step.action == StepAction.REVIEW  # own edit: still at the leader's step
    draft = ds.approve_step(o.unit_leader, draft)
    assert draft.current_step.action == StepAction.FORMAT_CHECK
    ds.upload_version(o.clerk, draft, pdf_upload("v3.pdf", "Van thu sua"))
    draft.refresh_from_db()
    assert (draft.state, draft.current_step.action) == (DraftState.IN_REVIEW, StepAction.REVIEW)
    assert draft_verbs(draft)[-2:] == [wf_events.DRAFT_VERSION_UPLOADED, wf_events.DRAFT_REAPPROVAL]
    assert [d.pk for d in selectors.my_drafting_work(fresh(o.unit_leader)).items[selectors.TO_REVIEW]] == [draft.pk]
    assert selectors.my_drafting_work(fresh(o.clerk)).counts.get(selectors.TO_CHECK, 0) == 0


def test_a_step_nobody_can_take_is_refused_with_a_clear_error_and_changes_nothing():
    o = office()
    draft = new_draft(o)
    o.unit_leader.groups.clear()  # the drafting unit has no leader any more
    with pytest.raises(ValidationError) as refused:
        ds.submit(o.handler, draft)
    assert "Step 1" in str(refused.value) or "Bước 1" in str(refused.value)
    draft.refresh_from_db()
    assert draft.state == DraftState.DRAFTING
    assert wf_events.DRAFT_SUBMITTED not in draft_verbs(draft)


def test_new_agency_gets_the_default_chain_at_once():
    from tests.factories import AgencyFactory  # noqa: PLC0415
    from workflows.drafting import ReviewChain  # noqa: PLC0415

    agency = AgencyFactory()
    chain = ReviewChain.objects.get(agency=agency, document_type__isnull=True, is_active=True)
    assert [s.action for s in chain.steps.order_by("order")] == [
        StepAction.REVIEW, StepAction.FORMAT_CHECK, StepAction.SIGN]


def test_attachments_are_kept_with_the_draft_and_issued_with_the_document():
    from django.test import Client  # noqa: PLC0415

    o = office()
    draft = ds.create_draft(o.handler, ds.DraftInput(document_type_id=doc_type("cong-van").pk, subject="Có phụ lục",
                                                     proposed_signer_id=o.leader.pk),
                            pdf_upload(), [pdf_upload("phu-luc.pdf", "Phụ lục")])
    with pytest.raises(ValidationError):  # a refused attachment changes nothing
        ds.add_attachments(o.handler, draft, [SimpleUploadedFile("x.exe", b"MZ\x90\x00rest")])
    with pytest.raises(PermissionDenied):
        ds.add_attachments(o.colleague, draft, [pdf_upload("khac.pdf")])
    assert [a.file_name for a in draft.attachments.all()] == ["phu-luc.pdf"]
    assert draft_verbs(draft).count(wf_events.DRAFT_ATTACHMENT_ADDED) == 1
    attachment = draft.attachments.get()
    url = f"/work/drafts/{draft.pk}/attachments/{attachment.pk}/"
    page = Client()
    page.force_login(o.outsider)
    assert page.get(url).status_code == 404
    page.force_login(o.handler)
    assert page.get(url).status_code == 200

    draft = ds.submit(o.handler, draft)
    draft = ds.approve_step(o.unit_leader, draft)
    draft = ds.approve_step(o.clerk, draft)
    draft = ds.mark_signed_on_paper(o.leader, draft)
    document = ds.issue_draft(o.clerk, draft, pdf_upload("ban-ky.pdf", "Bản ký"))
    assert sorted((f.original_name, f.is_main) for f in document.files.all()) == [
        ("ban-ky.pdf", True), ("phu-luc.pdf", False)]


def test_drafting_work_counts_beyond_a_page():
    o = office()
    drafts = [submitted(o) for _ in range(3)]
    paged = selectors.my_drafting_work(fresh(o.unit_leader), limit=1)
    whole = selectors.my_drafting_work(fresh(o.unit_leader))
    assert paged.counts[selectors.TO_REVIEW] == whole.counts[selectors.TO_REVIEW] == 3
    assert len(paged.items[selectors.TO_REVIEW]) == 1
    assert {d.pk for d in whole.items[selectors.TO_REVIEW]} == {d.pk for d in drafts}
    assert whole.counts[selectors.TO_SIGN] == 0


def test_one_kind_filling_the_page_window_does_not_hide_the_others():
    from django.contrib.auth.models import Group  # noqa: PLC0415

    from accounts import roles  # noqa: PLC0415

    o = office()
    o.unit_leader.groups.add(Group.objects.get(name=roles.CLERK))  # holds the review and the format check
    for _ in range(9):
        submitted(o)
    to_check = ds.approve_step(o.unit_leader, submitted(o))  # reviewed last: sorts after the nine
    work = selectors.my_drafting_work(fresh(o.unit_leader), limit=1)
    assert (work.counts[selectors.TO_REVIEW], work.counts[selectors.TO_CHECK]) == (9, 1)
    assert [d.pk for d in work.items[selectors.TO_CHECK]] == [to_check.pk]
