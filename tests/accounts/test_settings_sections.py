"""The settings page is composed of the sections apps register (accounts/settings_sections.py): accounts'
own, and the registers that documents adds from its AppConfig.ready()."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.urls import reverse

from accounts import roles
from accounts.settings_sections import SettingsSection, get_links, get_sections, register_section, unregister_section
from tests.factories import PASSWORD, AgencyFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = make_user(roles.ADMINISTRATOR, AgencyFactory(name="Ủy ban nhân dân tỉnh Hòa Bình"))
    assert client.login(username=admin.username, password=PASSWORD)
    return client


def test_sections_of_accounts_and_documents_in_page_order():
    assert [s.key for s in get_sections()] == [
        "overview", "organisation", "registers", "handling", "instruction_phrases", "delegations"]
    assert [link.url_name.split(":")[1] for link in get_links()] == [
        "accounts_agency_changelist", "accounts_unit_changelist", "accounts_user_changelist",
        "documents_register_changelist", "accounts_delegation_changelist", "documents_documenttype_changelist",
        "audit_auditevent_changelist",
    ]


def test_a_post_goes_to_the_section_it_names(admin_client):
    calls = []

    def handle(request):
        calls.append(request.POST["value"])
        return HttpResponse("handled")

    register_section(SettingsSection(key="probe", title="Probe", template="accounts/settings_overview.html",
                                     post=handle, order=99))
    try:
        answer = admin_client.post(reverse("accounts:settings"), {"section": "probe", "value": "x"})
        assert answer.content == b"handled" and calls == ["x"]
        # Two sections accept POSTs now: one that names none (or an unknown one) is refused.
        assert admin_client.post(reverse("accounts:settings"), {"value": "y"}).status_code == 400
        assert admin_client.post(reverse("accounts:settings"), {"section": "nope"}).status_code == 400
        page = admin_client.get(reverse("accounts:settings")).content.decode()
        assert "<h2>Probe</h2>" in page
    finally:
        unregister_section("probe")


def test_an_invalid_form_is_shown_again_with_its_errors(admin_client):
    answer = admin_client.post(reverse("accounts:settings"), {"section": "registers", "kind": "outgoing", "year": 1900})
    assert answer.status_code == 200
    assert 'aria-describedby="id_year_error"' in answer.content.decode()
