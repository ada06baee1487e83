"""A leader's view of open handling: the agency per unit, the unit per handler; nobody else sees it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils.translation import gettext
from rest_framework.test import APIClient

from workflows import services
from workflows.models import Assignment
from workflows.selectors import oversight
from workflows.services import TargetInput

from .helpers import directed_case, fresh, in_days, office
from .test_drafting import submitted

pytestmark = pytest.mark.django_db


def _setup():
    o = office()
    waiting = directed_case(o, number="1")  # lead: o.unit, 5 days
    overdue_case = directed_case(o, number="2", targets=[
        TargetInput(role="lead", unit_id=o.unit.pk, deadline=in_days(3)),
        TargetInput(role="coordinate", unit_id=o.other_unit.pk, deadline=in_days(1)),
        TargetInput(role="inform", user_id=o.colleague.pk, deadline=None),
    ])
    lead = Assignment.objects.get(case=overdue_case, role="lead")
    services.assign_within_unit(o.unit_leader, lead, o.handler, deadline=in_days(2))
    Assignment.objects.filter(pk=lead.pk).update(due_date=in_days(-1))  # three days later, as it were
    return o, waiting


def test_agency_leader_sees_open_handling_per_unit():
    o, _ = _setup()
    view = oversight(fresh(o.leader))
    rows = {row.label: (row.waiting, row.handling, row.overdue, row.due_soon) for row in view.rows}
    # The "for information" target is not open work; the overdue unit comes first.
    assert view.scope == "agency"
    assert rows == {o.unit.name: (1, 1, 1, 0), o.other_unit.name: (1, 0, 0, 1)}
    assert view.rows[0].label == o.unit.name
    assert (view.total.open, view.total.overdue) == (3, 1)


def test_unit_leader_sees_own_unit_per_handler():
    o, _ = _setup()
    view = oversight(fresh(o.unit_leader))
    rows = {row.label: (row.waiting, row.handling, row.overdue) for row in view.rows}
    assert view.scope == "unit"
    assert rows == {o.handler.name_and_position: (0, 1, 1), gettext("Not yet assigned"): (1, 0, 0)}


def test_staff_and_other_agencies_see_no_oversight():
    o, _ = _setup()
    assert oversight(fresh(o.handler)) is None
    assert oversight(fresh(o.clerk)) is None
    outsider_view = oversight(fresh(o.outsider))
    assert outsider_view.rows == []  # a leader of another agency sees nothing of this one


def test_my_work_page_and_api_show_oversight_to_leaders_only():
    o, _ = _setup()
    page = Client()
    page.force_login(o.leader)
    assert "/work/oversight/" in page.get("/work/").content.decode()
    body = page.get("/work/oversight/").content.decode()
    assert 'id="oversight"' in body and o.unit.name in body and o.other_unit.name in body
    page.force_login(o.handler)
    assert "/work/oversight/" not in page.get("/work/").content.decode()
    assert page.get("/work/oversight/").status_code == 403

    api = APIClient()
    api.force_authenticate(o.leader)
    data = api.get("/api/v1/my-work/oversight/").json()
    assert data["scope"] == "agency"
    assert data["total"] == {"waiting": 2, "handling": 1, "overdue": 1, "due_soon": 1, "open": 3}
    api.force_authenticate(o.handler)
    assert api.get("/api/v1/my-work/oversight/").status_code == 403
    api.force_authenticate(o.outsider)
    assert api.get("/api/v1/my-work/oversight/").json()["rows"] == []


def test_my_work_page_lists_drafting_work_too():
    o = office()
    draft = submitted(o)
    page = Client()
    page.force_login(o.unit_leader)
    body = page.get("/work/").content.decode()
    assert 'id="draft-review"' in body and draft.subject in body


def test_timeline_shows_who_directed_assigned_and_opened():
    o = office()
    case = directed_case(o, number="7")
    lead = Assignment.objects.get(case=case, role="lead")
    services.assign_within_unit(o.unit_leader, lead, o.handler, deadline=in_days(2), note="Xử lý gấp")
    page = Client()
    page.force_login(o.handler)
    page.get(f"/work/incoming/{case.pk}/")
    page.get(f"/documents/{case.document_id}/")
    body = page.get(f"/work/incoming/{case.pk}/").content.decode()
    assert 'id="timeline"' in body and f"→ {o.handler}" in body and "Xử lý gấp" in body
    opening = case.document.openings.get(user=o.handler)
    assert opening.times == 3
    # Opening is a read, not an audit event; the other person who never opened it is not listed.
    from documents.selectors import document_timeline  # noqa: PLC0415

    who_opened = [e.who for e in document_timeline(case.document) if e.what == gettext("Opened")]
    assert who_opened == [o.handler.name_and_position]  # by name and position, never the username


def test_reminders_show_on_my_work_and_are_marked_read_by_their_owner_only(django_capture_on_commit_callbacks):
    from notifications.models import Notice  # noqa: PLC0415

    o = office()
    with django_capture_on_commit_callbacks(execute=True):
        directed_case(o, number="9")  # the unit leader is told a document was directed to the unit
    notices = list(Notice.objects.filter(user=o.unit_leader, read_at__isnull=True))
    assert notices
    page = Client()
    page.force_login(o.unit_leader)
    body = page.get("/work/").content.decode()
    assert 'id="notices"' in body and notices[0].text in body and f"/notifications/{notices[0].pk}/open/" in body
    stranger = Client()
    stranger.force_login(o.handler)
    stranger.post("/notifications/read/", {"notice": notices[0].pk})  # not theirs: nothing happens
    assert Notice.objects.filter(user=o.unit_leader, read_at__isnull=True).count() == len(notices)
    page.post("/notifications/read/", {"notice": notices[0].pk, "next": "/work/"})
    assert Notice.objects.filter(user=o.unit_leader, read_at__isnull=True).count() == len(notices) - 1
    page.post("/notifications/read-all/", {"next": "/work/"})
    assert not Notice.objects.filter(user=o.unit_leader, read_at__isnull=True).exists()
    assert 'id="notices"' not in page.get("/work/").content.decode()


def test_work_directed_to_a_person_counts_for_their_unit_in_both_views():
    o = office()
    directed_case(o, number="5", targets=[TargetInput(role="lead", user_id=o.handler.pk, deadline=in_days(3))])
    agency_rows = {row.label: row.handling for row in oversight(fresh(o.leader)).rows}
    unit_rows = {row.label: row.handling for row in oversight(fresh(o.unit_leader)).rows}
    assert agency_rows == {o.unit.name: 1}
    assert unit_rows == {o.handler.name_and_position: 1}


def test_a_malformed_reminder_id_marks_nothing_read(django_capture_on_commit_callbacks):
    from notifications.models import Notice  # noqa: PLC0415

    o = office()
    with django_capture_on_commit_callbacks(execute=True):
        directed_case(o, number="11")
    unread = Notice.objects.filter(user=o.unit_leader, read_at__isnull=True).count()
    page = Client()
    page.force_login(o.unit_leader)
    for bad in ("abc", "9" * 40):
        assert page.post("/notifications/read/", {"notice": bad}).status_code == 302
    assert Notice.objects.filter(user=o.unit_leader, read_at__isnull=True).count() == unread
