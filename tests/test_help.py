"""Help / Hướng dẫn: the guide of docs/guide/ in the app, opening at the person's role in their language."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from accounts import roles
from eoffice import help as guide
from tests.factories import AgencyFactory, UnitFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency(reference_data):
    return AgencyFactory()


@pytest.mark.parametrize(
    ("role", "page"),
    [
        (roles.CLERK, "clerk"),
        (roles.STAFF, "staff"),
        (roles.UNIT_LEADER, "unit-head"),
        (roles.AGENCY_LEADER, "leader"),
        (roles.ARCHIVIST, "archivist"),
        (roles.ADMINISTRATOR, "administrator"),
    ],
)
def test_help_opens_the_guide_of_the_persons_role_in_their_language(client, agency, role, page):
    unit = UnitFactory(agency=agency) if role in (roles.STAFF, roles.UNIT_LEADER) else None
    client.force_login(make_user(role, agency, unit=unit))
    response = client.get("/help/")
    assert response.status_code == 302 and response["Location"] == f"/help/vi/{page}.md"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/help/")
    assert response["Location"] == f"/help/en/{page}.md"
    body = client.get(response["Location"]).content.decode()
    assert "<h1>User guide for" in body
    assert f'src="../img/en/{page}-landing.png"' in body  # relative, as in the repository


def test_a_leader_who_is_also_a_clerk_gets_the_leaders_guide(agency):
    user = make_user(roles.CLERK, agency)
    user.groups.add(*type(user.groups.first()).objects.filter(name=roles.AGENCY_LEADER))
    assert guide.page_for(user) == "leader"


def test_the_guide_page_renders_the_markdown_with_its_links_and_the_header_links_to_it(client, agency):
    client.force_login(make_user(roles.STAFF, agency, unit=UnitFactory(agency=agency)))
    body = client.get("/help/vi/clerk.md").content.decode()
    assert "<h1>Hướng dẫn sử dụng cho Văn thư</h1>" in body
    assert '<a href="../en/clerk.md">English</a>' in body
    assert 'id="nav-help" href="/help/"' in body  # "Help" in the header of every page
    index = client.get("/help/README.md").content.decode()
    assert '<a href="vi/leader.md">' in index and "<table>" in index


def test_pictures_are_served_and_nothing_else(client, agency):
    client.force_login(make_user(roles.STAFF, agency, unit=UnitFactory(agency=agency)))
    picture = next((Path(settings.BASE_DIR) / "docs" / "guide" / "img" / "vi").glob("*.png"), None)
    if picture is not None:
        response = client.get(f"/help/img/vi/{picture.name}")
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
    for path in (
        "/help/img/vi/nothing.png",
        "/help/img/vi/..%2F..%2FREADME.md",
        "/help/img/fr/clerk-landing.png",
        "/help/vi/nobody.md",
        "/help/vi/README.md",
        "/help/de/clerk.md",
    ):
        assert client.get(path).status_code == 404, path


def test_the_guide_needs_a_log_in(client):
    for path in ("/help/", "/help/vi/clerk.md", "/help/README.md"):
        response = client.get(path)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_raw_html_in_the_markdown_is_not_passed_through(tmp_path):
    source = tmp_path / "page.md"
    source.write_text("# Title\n\n<script>alert(1)</script>\n\n![x](../img/vi/a.png)\n", encoding="utf-8")
    html = guide._rendered(source, source.stat().st_mtime)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<img src="../img/vi/a.png" alt="x"' in html
