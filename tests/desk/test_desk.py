"""The desk: each person lands on "My work" with their sections, the menu's counts (page, JSON, API) equal
what the work lists hold, the folders per role, and nobody sees another agency's work or a unit they do not
lead."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from rest_framework.test import APIClient

from desk.selectors import COUNT_KEYS, folder_counts, work_counts
from exchange.selectors import inbox
from tests.factories import PASSWORD
from tests.workflows.helpers import Office, directed_case, fresh, in_days, incoming, office, presented_case
from tests.workflows.test_drafting import new_draft, pdf_upload, ready_issue_other, submitted
from workflows import drafting_selectors, services
from workflows import drafting_services as ds
from workflows.models import Draft, IncomingCase
from workflows.selectors import my_incoming_work
from workflows.services import TargetInput

pytestmark = pytest.mark.django_db


@dataclass
class Day:
    o: Office
    not_opened: object
    to_present: IncomingCase
    to_direct: IncomingCase
    to_assign: IncomingCase
    to_handle: IncomingCase
    returned: IncomingCase
    in_review: Draft
    signed: Draft
    issued: Draft
    internal: Draft


def a_day() -> Day:
    """One agency's morning: a document of each step waiting for someone, one returned, drafts at each stage."""
    o = office()
    not_opened = incoming(o, number="1")
    to_present = services.open_case(o.clerk, incoming(o, number="2"))
    to_direct = presented_case(o, number="3")
    to_assign = directed_case(o, number="4")
    to_handle = directed_case(o, number="5", targets=[TargetInput(role="lead", user_id=o.handler.pk,
                                                                  deadline=in_days(2))])
    returned = services.return_case(o.clerk, presented_case(o, number="6"), "Gửi nhầm địa chỉ")
    in_review = submitted(o)
    signed = ready_issue_other(o)
    issued = ready_issue_other(o)
    ds.issue_draft(o.clerk, issued, pdf_upload("ban-hanh.pdf", "Ban hành"))
    internal = new_draft(o, internal=True)
    return Day(o, not_opened, to_present, to_direct, to_assign, to_handle, returned, in_review, signed, issued,
               internal)


def _counts_from_lists(user) -> dict[str, int]:
    """The same numbers, read from the work lists the landing page shows."""
    work = my_incoming_work(user)
    drafting = drafting_selectors.my_drafting_work(user)
    n = {kind: count.total for kind, count in work.counts.items()}
    d = drafting.counts
    counts = {
        "to_register": n["to_register"] + inbox(user).count(),
        "to_present": n["to_present"],
        "to_direct": n["to_direct"],
        "to_handle": n["to_assign"] + n["to_handle"],
        "to_accept": n["to_accept_result"],
        "to_decide": n["to_decide_extension"],
        "to_review": d.get("review", 0) + d.get("approve", 0) + d.get("format_check", 0),
        "to_sign": d.get("sign", 0),
        "to_issue": d.get("issue", 0),
        "to_revise": d.get("returned", 0),
    }
    return counts | {"total": sum(counts.values())}


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {key: value for key, value in counts.items() if value}


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_each_role_has_its_counts_equal_to_its_lists():
    day = a_day()
    o = day.o
    expected = {
        "clerk": {"to_register": 1, "to_present": 1, "to_issue": 1, "total": 3},
        "leader": {"to_direct": 1, "total": 1},
        "unit_leader": {"to_handle": 1, "to_review": 1, "total": 2},
        "handler": {"to_handle": 1, "total": 1},
        "colleague": {},
        "outsider": {},
    }
    for who, numbers in expected.items():
        user = fresh(getattr(o, who))
        counts = work_counts(user)
        assert set(counts) == {*COUNT_KEYS, "total"}
        assert _nonzero(counts) == numbers, who
        assert counts == _counts_from_lists(fresh(user)), who


@pytest.mark.parametrize("who, sections, absent", [
    ("clerk", ['id="to_register"', 'id="to_present"', 'id="draft-issue"'], ['id="to_direct"']),
    ("leader", ['id="to_direct"'], ['id="to_register"', 'id="to_handle"']),
    ("unit_leader", ['id="to_assign"', 'id="draft-review"'], ['id="to_direct"']),
    ("handler", ['id="to_handle"'], ['id="to_assign"', 'id="to_register"']),
])
def test_each_role_lands_on_my_work_after_login_with_its_sections(who, sections, absent):
    day = a_day()
    user = getattr(day.o, who)
    client = Client()
    response = client.post("/login/", {"username": user.username, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/work/"
    body = response.content.decode()
    for marker in sections:
        assert marker in body, marker
    for marker in absent:
        assert marker not in body, marker
    counts = work_counts(fresh(user))
    assert f'data-desk-count="total">{counts["total"]}<' in body  # the menu's badge
    assert response.context["total"] == counts["total"]
    assert 'id="folders"' in body
    assert client.get("/").url == "/work/"


def test_the_work_rows_link_to_what_to_act_on_and_the_clerk_can_tick_several():
    day = a_day()
    body = _login(day.o.clerk).get("/work/").content.decode()
    assert f'/work/incoming/{day.to_present.pk}/' in body
    assert f'/documents/{day.not_opened.pk}/' in body
    assert f'action="/work/incoming/open/{day.not_opened.pk}/"' in body  # the row's own button
    assert f'name="document" value="{day.not_opened.pk}" form="open-cases"' in body
    assert 'id="open-cases"' in body and 'action="/work/incoming/open/"' in body
    assert f'/work/drafts/{day.signed.pk}/' in body
    handler_body = _login(day.o.handler).get("/work/").content.decode()
    assert f'/work/incoming/{day.to_handle.pk}/' in handler_body
    assert 'id="open-cases"' not in handler_body


def test_reminders_are_grouped_under_their_document(django_capture_on_commit_callbacks):
    from notifications.models import Notice  # noqa: PLC0415

    o = office()
    with django_capture_on_commit_callbacks(execute=True):
        case = directed_case(o, number="9")
        other = directed_case(o, number="10")
    notices = list(Notice.objects.filter(user=o.unit_leader, read_at__isnull=True))
    assert {n.document_id for n in notices} >= {case.document_id, other.document_id}
    response = _login(o.unit_leader).get("/work/")
    body = response.content.decode()
    groups = response.context["notice_groups"]
    grouped = [g["document"].pk for g in groups if g["document"]]
    assert len(grouped) == len(set(grouped))  # one group per document
    assert set(grouped) >= {case.document_id, other.document_id}
    for document in (case.document, other.document):
        assert document.subject in body and document.number_notation in body
        assert f'href="/documents/{document.pk}/"' in body
    assert all(f"/notifications/{n.pk}/open/" in body for n in notices)


def test_counts_json_and_api_match_and_are_not_cached(django_assert_max_num_queries):
    day = a_day()
    for who in ("clerk", "leader", "unit_leader", "handler", "outsider"):
        user = getattr(day.o, who)
        expected = _counts_from_lists(fresh(user))
        response = _login(user).get("/desk/counts/")
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        assert response.json() == expected, who
        api = APIClient()
        api.force_authenticate(fresh(user))
        api_response = api.get("/api/v1/desk/counts/")
        assert api_response.status_code == 200 and api_response.json() == expected, who
    client = _login(day.o.clerk)
    with django_assert_max_num_queries(16):
        client.get("/desk/counts/")


def test_counts_need_a_login():
    assert Client().get("/desk/counts/").status_code == 302
    assert APIClient().get("/api/v1/desk/counts/").status_code in (401, 403)


def test_counts_queries_do_not_grow_with_the_work(django_assert_max_num_queries):
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    day = a_day()
    o = day.o

    def measure() -> int:
        client = _login(o.clerk)
        with CaptureQueriesContext(connection) as ctx:
            client.get("/desk/counts/")
        return len(ctx.captured_queries)

    before = measure()
    for number in range(4):
        incoming(o, number=str(20 + number))
        services.open_case(o.clerk, incoming(o, number=str(30 + number)))
        ready_issue_other(o)
    assert measure() == before
    assert work_counts(fresh(o.clerk))["to_register"] == 5


def _folder_numbers(user) -> dict:
    return {scope: {box: tuple(f.values()) for box, f in boxes.items()} for scope, boxes in folder_counts(user).items()}


def test_folders_per_role_with_counts():
    day = a_day()
    o = day.o
    assert _folder_numbers(fresh(o.clerk)) == {
        "me": {"incoming": (1, 3, 1), "outgoing": (1, 0, 1), "internal": (0, 0, 0)}}
    assert _folder_numbers(fresh(o.handler)) == {
        "me": {"incoming": (1, 0, 0), "outgoing": (0, 2, 1), "internal": (1, 0, 0)}}
    assert _folder_numbers(fresh(o.unit_leader)) == {
        "me": {"incoming": (1, 0, 0), "outgoing": (1, 1, 1), "internal": (0, 0, 0)},
        "unit": {"incoming": (1, 1, 0), "outgoing": (1, 1, 1), "internal": (1, 0, 0)},
    }
    leader = _folder_numbers(fresh(o.leader))
    assert leader["me"]["incoming"] == (1, 2, 1)
    assert leader["unit"]["incoming"] == (3, 1, 1)
    assert _folder_numbers(fresh(o.outsider)) == {
        "me": {box: (0, 0, 0) for box in ("incoming", "outgoing", "internal")},
        "unit": {box: (0, 0, 0) for box in ("incoming", "outgoing", "internal")},
    }


def test_folder_pages_list_what_the_counts_say_and_link_to_each_item():
    day = a_day()
    o = day.o
    client = _login(o.clerk)
    response = client.get("/desk/incoming/in-progress/")
    assert response.status_code == 200
    ids = {case.pk for case in response.context["page"]}
    assert ids == {day.to_direct.pk, day.to_assign.pk, day.to_handle.pk}
    body = response.content.decode()
    assert all(f"/work/incoming/{pk}/" in body for pk in ids)
    done = client.get("/desk/incoming/done/").context["page"]
    assert [case.pk for case in done] == [day.returned.pk]
    outgoing_done = client.get("/desk/outgoing/done/")
    assert [d.pk for d in outgoing_done.context["page"]] == [day.issued.pk]
    day.issued.refresh_from_db()
    assert day.issued.issued_document.number_notation in outgoing_done.content.decode()
    unit = _login(o.unit_leader).get("/desk/internal/waiting/?scope=unit")
    assert [d.pk for d in unit.context["page"]] == [day.internal.pk]
    assert f"/work/drafts/{day.internal.pk}/" in unit.content.decode()
    # Every folder lists what its count says.
    for user in (o.clerk, o.handler, o.unit_leader, o.leader):
        client = _login(user)
        for scope, boxes in folder_counts(fresh(user)).items():
            for box, folders in boxes.items():
                for name, count in folders.items():
                    page = client.get(f"/desk/{box}/{name}/" + ("?scope=unit" if scope == "unit" else ""))
                    assert page.context["page"].paginator.count == count, (user, scope, box, name)


def test_others_see_nothing_and_staff_have_no_unit_folders():
    day = a_day()
    o = day.o
    outsider = _login(o.outsider)
    for box in ("incoming", "outgoing", "internal"):
        for name in ("waiting", "in-progress", "done"):
            for suffix in ("", "?scope=unit"):
                response = outsider.get(f"/desk/{box}/{name}/{suffix}")
                assert response.status_code == 200 and response.context["page"].paginator.count == 0
    body = outsider.get("/work/").content.decode()
    for case in (day.to_present, day.to_direct, day.to_assign):
        assert case.document.subject not in body
    staff = _login(o.colleague)
    assert staff.get("/desk/incoming/waiting/?scope=unit").status_code == 403
    assert staff.get("/desk/incoming/nowhere/").status_code == 404
    assert staff.get("/desk/elsewhere/waiting/").status_code == 404
    assert "unit" not in folder_counts(fresh(o.colleague))
    # A colleague in the same unit who took no part sees none of the handler's work in their own folders.
    assert _folder_numbers(fresh(o.colleague))["me"]["incoming"] == (0, 0, 0)


def test_a_folder_is_paginated():
    o = office()
    for number in range(27):
        services.open_case(o.clerk, incoming(o, number=str(100 + number)))
    client = _login(o.clerk)
    first = client.get("/desk/incoming/waiting/")
    assert first.context["page"].paginator.count == 27 and len(first.context["page"]) == 25
    assert len(client.get("/desk/incoming/waiting/?page=2").context["page"]) == 2


def test_documents_received_electronically_count_and_show_for_the_recipients_clerk(django_capture_on_commit_callbacks):
    from tests.exchange.helpers import delivery_to, issue, province  # noqa: PLC0415

    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, p.recipient)
    delivery = delivery_to(document, p.recipient)
    counts = work_counts(fresh(p.recipient_clerk))
    assert counts["to_register"] == 1 and counts == _counts_from_lists(fresh(p.recipient_clerk))
    body = _login(p.recipient_clerk).get("/work/").content.decode()
    assert 'id="received"' in body and f"/exchange/deliveries/{delivery.pk}/" in body and document.subject in body
    for outsider in (p.third_clerk, p.recipient_staff):
        assert work_counts(fresh(outsider))["to_register"] == 0
        assert 'id="received"' not in _login(outsider).get("/work/").content.decode()


def test_the_ticked_documents_are_entered_for_handling_at_once():
    o = office()
    first, second, kept = (incoming(o, number=n) for n in ("41", "42", "43"))
    client = _login(o.clerk)
    body = client.get("/work/").content.decode()
    assert all(f'value="{d.pk}" form="open-cases"' in body for d in (first, second, kept))
    response = client.post("/work/incoming/open/", {"document": [first.pk, second.pk]})
    assert response.status_code == 302
    assert set(IncomingCase.objects.values_list("document_id", flat=True)) == {first.pk, second.pk}
    counts = work_counts(fresh(o.clerk))
    assert (counts["to_register"], counts["to_present"]) == (1, 2)


def test_the_counts_endpoint_asks_a_handful_of_queries_for_every_role(django_assert_max_num_queries):
    day = a_day()
    for who in ("clerk", "leader", "unit_leader", "handler"):
        client = _login(getattr(day.o, who))
        # Session and user, roles, delegations, permissions, then one COUNT per kind of object.
        with django_assert_max_num_queries(14):
            assert client.get("/desk/counts/").status_code == 200


def test_an_error_page_leaves_the_counts_to_the_script(monkeypatch):
    """A 404 or 403 costs no counting (the permission crawl meets hundreds): the menu asks /desk/counts/ itself."""
    o = office()

    def no_counting(user):
        raise AssertionError("an error page counted the work")

    monkeypatch.setattr("desk.context_processors.work_counts", no_counting)
    client = _login(o.clerk)
    response = client.get("/documents/999999/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "data-desk-deferred" in page and 'data-desk-count="to_register"' in page
    assert client.get("/desk/incoming/waiting/?scope=unit").status_code == 403
