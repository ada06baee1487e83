"""The bell, the list, opening and marking read, preferences: web pages and API, each person's own only."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import roles
from eoffice import notices
from notifications.models import EmailMode, Notice, NotificationSettings, Preference
from tests.factories import make_user
from tests.test_csp import assert_page_passes

from .conftest import KIND, QUIET

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_people(django_capture_on_commit_callbacks):
    owner, other = make_user(roles.STAFF), make_user(roles.STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(3):
            notices.tell(KIND, key=f"web-{number}", user_ids=[owner.pk], params={"subject": f"Dự thảo {number}"},
                         url=f"/work/drafts/{number + 1}/")
        notices.tell(KIND, key="other", user_ids=[other.pk], params={"subject": "Của người khác"})
        notices.tell(KIND, key="evil", user_ids=[owner.pk], params={"subject": "x"}, url="https://evil.example/")
    return owner, other


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_bell_shows_the_count_and_the_json_keeps_it_current(two_people):
    owner, _other = two_people
    client = logged_in(owner)
    page = client.get("/notifications/")
    assert_page_passes(page)
    html = page.content.decode()
    assert 'data-bell-url="/notifications/unread-count/"' in html and "notifications/bell.js" in html
    assert '<span class="bell-count" data-bell-count>4</span>' in html
    assert client.get("/notifications/unread-count/").json() == {"unread": 4}
    assert Client().get("/notifications/unread-count/").status_code == 302  # logged out: the log-in page


def test_list_newest_first_unread_highlighted_and_only_ones_own(two_people):
    owner, _other = two_people
    client = logged_in(owner)
    html = client.get("/notifications/").content.decode()
    assert html.index("Dự thảo 2") < html.index("Dự thảo 0")
    assert html.count('class="unread"') == 4 and "Của người khác" not in html


def test_open_marks_read_and_goes_to_the_object_only_if_local(two_people):
    owner, other = two_people
    client = logged_in(owner)
    notice = Notice.objects.get(event__key="web-1")
    response = client.get(f"/notifications/{notice.pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/work/drafts/2/"
    notice.refresh_from_db()
    assert notice.read_at is not None
    evil = Notice.objects.get(event__key="evil")
    assert client.get(f"/notifications/{evil.pk}/open/")["Location"] == "/notifications/"
    foreign = Notice.objects.get(user=other)
    assert client.get(f"/notifications/{foreign.pk}/open/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.read_at is None


def test_mark_read_and_all_read_by_post_only_and_never_anothers(two_people):
    owner, other = two_people
    client = logged_in(owner)
    foreign = Notice.objects.get(user=other)
    assert client.get("/notifications/read-all/").status_code == 405
    client.post("/notifications/read/", {"notice": foreign.pk})
    foreign.refresh_from_db()
    assert foreign.read_at is None
    one = Notice.objects.get(event__key="web-0")
    response = client.post("/notifications/read/", {"notice": one.pk, "next": "https://evil.example/"})
    assert response["Location"] == "/notifications/"
    assert client.get("/notifications/unread-count/").json() == {"unread": 3}
    assert client.post("/notifications/read-all/", {"next": "/work/"})["Location"] == "/work/"
    assert not Notice.objects.filter(user=owner, read_at__isnull=True).exists()
    assert Notice.objects.get(user=other).read_at is None
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(other)
    assert csrf.post("/notifications/read-all/").status_code == 403


def test_preferences_page_saves_kinds_language_and_hour(client):
    person = make_user(roles.STAFF)
    client.force_login(person)
    page = client.get("/notifications/preferences/")
    assert_page_passes(page)
    assert f'name="email:{KIND}"' in page.content.decode()
    response = client.post("/notifications/preferences/", {
        f"email:{KIND}": EmailMode.DIGEST, f"in_app:{QUIET}": "on", f"email:{QUIET}": EmailMode.OFF,
        "language": "en", "digest_hour": "18",
    })
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    assert Preference.objects.get(user=person, kind=KIND).email == EmailMode.DIGEST
    assert Preference.objects.get(user=person, kind=KIND).in_app is False  # its box was not ticked
    assert Preference.objects.get(user=person, kind=QUIET).in_app is True
    row = NotificationSettings.objects.get(user=person)
    assert (row.language, row.digest_hour) == ("en", 18)
    bad = client.post("/notifications/preferences/", {f"email:{KIND}": "sometimes", "digest_hour": "7"})
    assert bad.status_code == 200
    assert Preference.objects.get(user=person, kind=KIND).email == EmailMode.DIGEST


def test_a_notice_kept_only_for_its_email_is_never_shown(django_capture_on_commit_callbacks):
    person = make_user(roles.STAFF)
    Preference.objects.create(user=person, kind=KIND, in_app=False, email=EmailMode.IMMEDIATE)
    with django_capture_on_commit_callbacks(execute=True):
        notices.tell(KIND, key="mail-only", user_ids=[person.pk], params={"subject": "Chỉ gửi thư"})
    assert Notice.objects.get(user=person).in_app is False
    client = logged_in(person)
    assert "Chỉ gửi thư" not in client.get("/notifications/").content.decode()
    assert client.get("/notifications/unread-count/").json() == {"unread": 0}
    assert api(person).get("/api/v1/notifications/").json()["count"] == 0


def test_pages_need_a_login():
    for path in ("/notifications/", "/notifications/preferences/"):
        assert Client().get(path)["Location"].startswith("/login/")


# --- API ------------------------------------------------------------------------------------------------


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_lists_only_my_notices_and_filters_unread(two_people):
    owner, other = two_people
    client = api(owner)
    listed = client.get("/api/v1/notifications/").json()
    assert listed["count"] == 4
    assert {item["text"] for item in listed["results"]} >= {'Dự thảo "Dự thảo 0" đang chờ đồng chí xem xét.'}
    assert all(item["read"] is False for item in listed["results"])
    foreign = Notice.objects.get(user=other)
    assert foreign.pk not in {item["id"] for item in listed["results"]}
    assert client.get(f"/api/v1/notifications/{foreign.pk}/").status_code == 404
    assert client.post(f"/api/v1/notifications/{foreign.pk}/read/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.read_at is None
    mine = Notice.objects.filter(user=owner).first()
    marked = client.post(f"/api/v1/notifications/{mine.pk}/read/").json()
    assert marked["id"] == mine.pk and marked["read"] is True
    assert client.get("/api/v1/notifications/?unread=true").json()["count"] == 3
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 3}
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 3}
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 0}
    assert api(other).get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    assert APIClient().get("/api/v1/notifications/").status_code == 401


def test_api_preferences_get_and_put():
    person = make_user(roles.STAFF)
    client = api(person)
    current = client.get("/api/v1/notifications/preferences/").json()
    line = next(line for line in current["kinds"] if line["kind"] == KIND)
    assert (line["in_app"], line["email"]) == (True, EmailMode.IMMEDIATE)
    assert next(line for line in current["kinds"] if line["kind"] == QUIET)["email"] == EmailMode.OFF
    assert (current["language"], current["digest_hour"]) == ("", 7)
    put = client.put("/api/v1/notifications/preferences/", {
        "kinds": [{"kind": KIND, "in_app": False, "email": EmailMode.DIGEST}], "language": "en", "digest_hour": 20,
    }, format="json")
    assert put.status_code == 200
    line = next(line for line in put.json()["kinds"] if line["kind"] == KIND)
    assert (line["in_app"], line["email"], put.json()["digest_hour"]) == (False, EmailMode.DIGEST, 20)
    refused = client.put("/api/v1/notifications/preferences/", {
        "kinds": [{"kind": "no.such.kind", "in_app": True, "email": EmailMode.OFF}], "language": "",
        "digest_hour": 7,
    }, format="json")
    assert refused.status_code == 400
    assert client.put("/api/v1/notifications/preferences/", {"kinds": [], "language": "", "digest_hour": 24},
                      format="json").status_code == 400
    assert NotificationSettings.objects.get(user=person).digest_hour == 20
