"""Workflows tells (eoffice.notices) and notifications shows: the right people, text and link."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation

from accounts import roles
from notifications.models import Notice, NoticeEvent
from tests.factories import make_user
from tests.workflows.helpers import directed_case, in_days, office, presented_case
from tests.workflows.test_drafting import ready_to_sign, submitted
from workflows import drafting_services as ds
from workflows import notice_kinds, services
from workflows.services import TargetInput

pytestmark = pytest.mark.django_db


def test_directing_tells_the_units_leaders_and_the_people_named_with_text_and_link(
    django_capture_on_commit_callbacks,
):
    o = office()
    with django_capture_on_commit_callbacks(execute=True):
        case = directed_case(o, number="31", targets=[
            TargetInput(role="lead", unit_id=o.unit.pk, deadline=in_days(5)),
            TargetInput(role="inform", user_id=o.other_unit_staff.pk),
        ])
    directed = Notice.objects.filter(kind=notice_kinds.DIRECTED)
    assert set(directed.values_list("user_id", flat=True)) == {o.unit_leader.pk, o.other_unit_staff.pk}
    notice = directed.get(user=o.unit_leader)
    assert notice.url == f"/work/incoming/{case.pk}/" and notice.document_id == case.document_id
    with translation.override("en"):
        assert notice.text == (
            f"Incoming document 31/BNV-VP - {case.document.subject} was directed to you or your unit."
        )
    # The leader who directed is not told of their own act; the presented notice went to them earlier.
    assert not directed.filter(user=o.leader).exists()
    assert Notice.objects.filter(kind=notice_kinds.PRESENTED, user=o.leader).count() == 1
    # Shown on My work and in the bell, opening it goes to the processing slip.
    page = Client()
    page.force_login(o.unit_leader)
    assert "/work/incoming/" in page.get(f"/notifications/{notice.pk}/open/")["Location"]
    assert mail.outbox and {m.to[0] for m in mail.outbox} >= {o.unit_leader.email, o.other_unit_staff.email}


def test_a_refused_transition_tells_nobody(django_capture_on_commit_callbacks):
    o = office()
    case = presented_case(o)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception):  # noqa: B017, PT011
        services.direct(o.leader, case, instruction="x", targets=[])  # no lead: refused, rolled back
    assert not NoticeEvent.objects.filter(kind=notice_kinds.DIRECTED).exists()


def test_due_tomorrow_and_overdue_reminders_once_each(django_capture_on_commit_callbacks):
    o = office()
    case = directed_case(o, targets=[TargetInput(role="lead", user_id=o.handler.pk, deadline=in_days(1))])
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_overdue(today=in_days(0))
        services.mark_overdue(today=in_days(0))
    tomorrow = Notice.objects.get(kind=notice_kinds.DUE_TOMORROW)
    assert tomorrow.user == o.handler and tomorrow.url == f"/work/incoming/{case.pk}/"
    assert tomorrow.params["deadline"] == in_days(1).strftime("%d/%m/%Y")
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_overdue(today=in_days(2))
    assert Notice.objects.filter(kind=notice_kinds.OVERDUE, user=o.handler).count() == 1


def test_drafts_tell_the_reviewer_the_signer_and_the_agencys_clerks(django_capture_on_commit_callbacks):
    o = office()
    other_clerk = make_user(roles.CLERK, o.agency)
    with django_capture_on_commit_callbacks(execute=True):
        draft = submitted(o)
    review = Notice.objects.get(kind=notice_kinds.DRAFT_REVIEW)
    assert review.user == o.unit_leader and review.url == f"/work/drafts/{draft.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        draft = ready_to_sign(o)
    assert Notice.objects.filter(kind=notice_kinds.DRAFT_SIGNATURE, user=o.leader).exists()
    with django_capture_on_commit_callbacks(execute=True):
        ds.mark_signed_on_paper(o.leader, draft)
    signed = Notice.objects.filter(kind=notice_kinds.DRAFT_SIGNED)
    assert set(signed.values_list("user_id", flat=True)) == {o.clerk.pk, other_clerk.pk}
    with translation.override("en"):
        assert signed.first().text == f'Draft "{draft.subject}" was signed and waits to be issued.'


def test_a_returned_draft_tells_the_drafter_with_the_comment(django_capture_on_commit_callbacks):
    o = office()
    draft = submitted(o)
    with django_capture_on_commit_callbacks(execute=True):
        ds.return_draft(o.unit_leader, draft, comment="Sửa lại căn cứ")
    notice = Notice.objects.get(kind=notice_kinds.DRAFT_RETURNED)
    assert notice.user == o.handler
    assert "Sửa lại căn cứ" in notice.text


def test_a_secret_documents_subject_is_never_in_a_notice(django_capture_on_commit_callbacks):
    o = office()
    with django_capture_on_commit_callbacks(execute=True):
        case = presented_case(o, secret=True, number="77")
    notice = Notice.objects.get(kind=notice_kinds.PRESENTED, user=o.leader)
    assert notice.params["subject"] == "***" and case.document.subject not in notice.text
    assert "77/BNV-VP" in notice.text
    assert all(case.document.subject not in m.subject + m.body for m in mail.outbox)
