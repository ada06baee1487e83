"""Permission crawl (issue 11, "Keep checking it"): the demo province at a reduced size, every demo role,
every document id and every draft id, through every read endpoint of the API and the web UI.

Every list is read whole by every role. The pages of one object (detail, file downloads, preview) are asked
for by each role for one object of every kind it meets (`_document_kinds`: what the rule depends on, seen
from that person: visible or not, own agency, confidentiality, grants, direction, files; for drafts, state and
part taken) and for every sixth object besides, taking turns, so that every object is still asked for by someone
while each role meets every kind: the same coverage at a third of the requests.

The rule is the one the docs state: `documents.selectors.visible_documents(user)` decides. A document in
that queryset answers 200 and is in every list; any other document answers 404 (never 403, never 500) and
is in no list, no register entry and no printout. Drafts likewise against
`workflows.drafting_selectors.drafts_for(user)`. Failures are collected and reported together.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from openpyxl import load_workbook

from accounts.models import User
from documents.models import (
    Confidentiality,
    Document,
    DocumentFile,
    DocumentGroupObjectPermission,
    DocumentUserObjectPermission,
    Register,
)
from documents.selectors import registers_for, visible_documents
from workflows.drafting_selectors import drafts_for

# `beside`: make test runs it in the second process, next to the parallel suite (it is the longest single test).
pytestmark = [pytest.mark.django_db, pytest.mark.beside]

# One person per role: the province committee's (UBND; its staff member also holds grants on documents of
# the Department of Home Affairs) and the Department of Home Affairs' own administrator.
CRAWLERS = [
    "vanthu.ubnd",       # Clerk
    "chuyenvien.ubnd",   # Staff
    "truongphong.ubnd",  # Unit leader
    "lanhdao.ubnd",      # Agency leader
    "luutru.ubnd",       # Archivist
    "quantri.snv",       # Administrator of one agency (Sở Nội vụ), not a superuser
]

WEB_DOC_LINK = re.compile(r'href="/documents/(\d+)/"')
WEB_DRAFT_LINK = re.compile(r'href="/work/drafts/(\d+)/"')
PREVIEWABLE = ("application/pdf", "image/")


def _api_pages(client: Client, url: str) -> list[dict]:
    rows: list[dict] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        body = response.json()
        rows.extend(body["results"])
        url = body["next"]
    return rows


def _web_list_ids(client: Client, url: str, pattern: re.Pattern) -> set[int]:
    ids: set[int] = set()
    page = 1
    while True:
        response = client.get(url, {"page": page})
        assert response.status_code == 200, (url, response.status_code)
        html = response.content.decode()
        found = {int(pk) for pk in pattern.findall(html)}
        if not found - ids:
            return ids
        ids |= found
        if f"page={page + 1}" not in html:
            return ids
        page += 1


def _sample(kinds: dict[int, tuple], turn: int) -> list[int]:
    """The objects a crawler asks for one by one: the first of each kind (see the module's docstring), and
    every len(CRAWLERS)-th object from its turn on, so that the crawlers together ask for every object."""
    first: dict[tuple, int] = {}
    for pk in sorted(kinds):
        first.setdefault(kinds[pk], pk)
    turns = {pk for index, pk in enumerate(sorted(kinds)) if index % len(CRAWLERS) == turn}
    return sorted(set(first.values()) | turns)


def _document_kinds(user, visible: set[int], files) -> dict[int, tuple]:
    """What visible_documents decides on, seen from `user`, and what the document's pages show differently."""
    user_grants = set(DocumentUserObjectPermission.objects.filter(user=user).values_list("content_object_id",
                                                                                        flat=True))
    group_grants = set(DocumentGroupObjectPermission.objects.filter(group__in=user.groups.all())
                       .values_list("content_object_id", flat=True))
    file_kinds: dict[int, set[bool]] = {}
    for _file_id, doc_id, content_type in files:
        file_kinds.setdefault(doc_id, set()).add(content_type.startswith(PREVIEWABLE))
    return {
        pk: (pk in visible, agency_id == user.agency_id, confidentiality, direction, created_by_id == user.pk,
             pk in user_grants, pk in group_grants, tuple(sorted(file_kinds.get(pk, ()))))
        for pk, agency_id, confidentiality, direction, created_by_id in Document.objects.values_list(
            "pk", "agency_id", "confidentiality", "direction", "created_by_id")
    }


def _check(failures: list[str], who: str, what: str, response, expected: int) -> None:
    code = response.status_code
    if code != expected:
        failures.append(f"{who}: {what} -> {code}, expected {expected}")


def _crawl_documents(client: Client, user, turn: int, failures: list[str], asked: set[int]) -> int:
    who = user.username
    visible = set(visible_documents(user).values_list("pk", flat=True))
    all_files = list(DocumentFile.objects.select_related("blob").values_list("pk", "document_id",
                                                                             "blob__content_type"))
    sampled = _sample(_document_kinds(user, visible, all_files), turn)
    files = [row for row in all_files if row[1] in sampled]
    asked.update(sampled)
    requests = 0

    # Lists: the API (paged) and the web list contain exactly the visible documents.
    api_ids = {row["id"] for row in _api_pages(client, "/api/v1/documents/?page_size=500")}
    if api_ids != visible:
        failures.append(f"{who}: API list leaks {sorted(api_ids - visible)} misses {sorted(visible - api_ids)}")
    web_ids = _web_list_ids(client, "/documents/", WEB_DOC_LINK)
    if web_ids != visible:
        failures.append(f"{who}: web list leaks {sorted(web_ids - visible)} misses {sorted(visible - web_ids)}")

    # Detail, API and web, for the sampled document ids (and one that does not exist).
    api_files: dict[int, set[int]] = {}
    for pk in sampled:
        expected = 200 if pk in visible else 404
        response = client.get(f"/api/v1/documents/{pk}/")
        _check(failures, who, f"API detail {pk}", response, expected)
        if response.status_code == 200:
            api_files[pk] = {f["id"] for f in response.json()["files"]}
        _check(failures, who, f"web detail {pk}", client.get(f"/documents/{pk}/"), expected)
        requests += 2
    missing = Document.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    _check(failures, who, "API detail of a missing id", client.get(f"/api/v1/documents/{missing}/"), 404)

    # The sampled documents' files: their document's file list, the API download, the web download and preview.
    for file_id, doc_id, content_type in files:
        seen = doc_id in visible
        if seen and file_id not in api_files.get(doc_id, set()):
            failures.append(f"{who}: file {file_id} missing from document {doc_id}'s files")
        expected = 200 if seen else 404
        for what, url in (("API download", f"/api/v1/documents/{doc_id}/files/{file_id}/download/"),
                          ("web download", f"/documents/{doc_id}/files/{file_id}/")):
            response = client.get(url)
            _check(failures, who, f"{what} {doc_id}/{file_id}", response, expected)
            # ASVS V5.4.1 / V3.4.4: a file is served as an attachment with its name, never sniffed.
            if response.status_code == 200 and not (
                response.get("Content-Disposition", "").startswith("attachment; filename")
                and response.get("X-Content-Type-Options") == "nosniff"
            ):
                failures.append(f"{who}: {what} {doc_id}/{file_id} headers {dict(response.headers)}")
        preview_expected = 200 if seen and content_type.startswith(PREVIEWABLE) else 404
        _check(failures, who, f"web preview {doc_id}/{file_id}",
               client.get(f"/documents/{doc_id}/files/{file_id}/preview/"), preview_expected)
        requests += 3
    # A file asked for under another document's id (one the person may see) is refused too.
    other_files = [(f, d) for f, d, _ in all_files if d not in visible]
    for doc_id in list(visible)[:1]:
        for file_id, _owner in other_files[:3]:
            _check(failures, who, f"API download {doc_id}/{file_id} (foreign file)",
                   client.get(f"/api/v1/documents/{doc_id}/files/{file_id}/download/"), 404)
            _check(failures, who, f"web download {doc_id}/{file_id} (foreign file)",
                   client.get(f"/documents/{doc_id}/files/{file_id}/"), 404)

    # Registers and printouts: entries and exports hold visible documents only.
    invisible_subjects = set(Document.objects.exclude(pk__in=visible).values_list("subject", flat=True))
    invisible_subjects -= set(Document.objects.filter(pk__in=visible).values_list("subject", flat=True))
    can_print = user.has_perm("documents.print_register")
    for register in registers_for(user):
        entries = _api_pages(client, f"/api/v1/registers/{register.pk}/entries/?page_size=500")
        leaked = {row["id"] for row in entries} - visible
        if leaked:
            failures.append(f"{who}: API entries of register {register.pk} leak {sorted(leaked)}")
        if not can_print:
            continue
        for url in (f"/documents/registers/{register.pk}/print.xlsx",
                    f"/api/v1/registers/{register.pk}/print/?format=xlsx"):
            response = client.get(url)
            _check(failures, who, url, response, 200)
            if response.status_code == 200:
                sheet_text = "\n".join(
                    str(cell) for ws in load_workbook(io.BytesIO(response.content), read_only=True).worksheets
                    for row in ws.iter_rows(values_only=True) for cell in row if cell is not None
                )
                shown = sorted(s for s in invisible_subjects if s and s in sheet_text)
                if shown:
                    failures.append(f"{who}: {url} shows invisible documents {shown[:3]}")
        _check(failures, who, f"PDF printout of register {register.pk}",
               client.get(f"/documents/registers/{register.pk}/print.pdf"), 200)
    # Registers outside the person's reach: 404 (or 403 for a person without the print permission).


    for register in Register.objects.exclude(pk__in=registers_for(user).values("pk"))[:5]:
        _check(failures, who, f"API register {register.pk}", client.get(f"/api/v1/registers/{register.pk}/"), 404)
        _check(failures, who, f"API entries {register.pk}",
               client.get(f"/api/v1/registers/{register.pk}/entries/"), 404)
        response = client.get(f"/documents/registers/{register.pk}/print.xlsx")
        if response.status_code not in (403, 404):
            failures.append(f"{who}: foreign register printout {register.pk} -> {response.status_code}")
    return requests


def _crawl_drafts(client: Client, user, turn: int, failures: list[str], asked: set[int]) -> int:
    from workflows.drafting import Draft

    who = user.username
    allowed = set(drafts_for(user).values_list("pk", flat=True))
    api_ids = {row["id"] for row in _api_pages(client, "/api/v1/drafts/?page_size=500")}
    if api_ids != allowed:
        failures.append(f"{who}: API drafts leak {sorted(api_ids - allowed)} miss {sorted(allowed - api_ids)}")
    web_ids = _web_list_ids(client, "/work/drafts/", WEB_DRAFT_LINK)
    if web_ids - allowed:
        failures.append(f"{who}: web draft list leaks {sorted(web_ids - allowed)}")
    kinds = {
        pk: (pk in allowed, agency_id == user.agency_id, state, confidentiality, drafting_unit_id == user.unit_id,
             user.pk in (drafter_id, holder_id, signer_id))
        for pk, agency_id, state, confidentiality, drafting_unit_id, drafter_id, holder_id, signer_id
        in Draft.objects.values_list("pk", "agency_id", "state", "confidentiality", "drafting_unit_id",
                                     "drafter_id", "current_holder_id", "proposed_signer_id")
    }
    sampled = _sample(kinds, turn)
    asked.update(sampled)
    for pk in sampled:
        expected = 200 if pk in allowed else 404
        _check(failures, who, f"API draft {pk}", client.get(f"/api/v1/drafts/{pk}/"), expected)
        _check(failures, who, f"web draft {pk}", client.get(f"/work/drafts/{pk}/"), expected)
    return 2 * len(sampled)


def _crawl_search(client: Client, user, failures: list[str]) -> int:
    """Search (issue 14): browsing everything by kind finds exactly the visible documents and unissued drafts,
    in the count, the facets and the page, in the API and the web page."""
    from workflows.drafting import DraftState

    who = user.username
    visible = set(visible_documents(user).values_list("pk", flat=True))
    drafts = set(drafts_for(user).exclude(state=DraftState.ISSUED).values_list("pk", flat=True))
    requests = 0
    for direction in ("incoming", "outgoing", "internal", "draft"):
        expected = (len(drafts) if direction == "draft"
                    else visible_documents(user).filter(direction=direction).count())
        body = client.get("/api/v1/search/", {"direction": direction}).json()
        requests += 1
        if body["count"] != expected or sum(f["count"] for f in body["facets"]["direction"]) != expected:
            failures.append(f"{who}: search {direction} counts {body['count']}, expected {expected}")
        leaked = {row["document"] for row in body["results"] if row["document"]} - visible
        leaked |= {row["draft"] for row in body["results"] if row["draft"]} - drafts
        if leaked:
            failures.append(f"{who}: search {direction} leaks {sorted(leaked)}")
    page = client.get("/search/", {"q": "trinh dien"}).content.decode()
    found = {int(pk) for pk in WEB_DOC_LINK.findall(page)}
    if found - visible:
        failures.append(f"{who}: search page leaks {sorted(found - visible)}")
    return requests + 1


def test_every_role_sees_exactly_its_documents_and_drafts():
    from search import indexing

    call_command("seed_demo", "--documents", "30", stdout=io.StringIO())
    indexing.rebuild()  # the test's transaction never commits, so nothing was indexed after a commit
    users = {u.username: u for u in User.objects.filter(username__in=CRAWLERS)}
    assert set(users) == set(CRAWLERS)
    # The world is what the crawl needs: two agencies, secret and granted documents, files, drafts.
    assert Document.objects.exclude(confidentiality=Confidentiality.NORMAL).exists()
    assert DocumentFile.objects.exists()

    failures: list[str] = []
    requests = 0
    saw_any_secret = False
    asked_documents: set[int] = set()
    asked_drafts: set[int] = set()
    for turn, username in enumerate(CRAWLERS):
        user = users[username]
        client = Client()
        client.force_login(user)
        requests += _crawl_documents(client, user, turn, failures, asked_documents)
        requests += _crawl_drafts(client, user, turn, failures, asked_drafts)
        requests += _crawl_search(client, user, failures)
        saw_any_secret |= visible_documents(user).exclude(confidentiality=Confidentiality.NORMAL).exists()
    from workflows.drafting import Draft

    # Every document and every draft was asked for one by one (by one crawler at least).
    assert asked_documents == set(Document.objects.values_list("pk", flat=True))
    assert asked_drafts == set(Draft.objects.values_list("pk", flat=True))
    assert saw_any_secret, "no crawler sees a secret document: the crawl does not exercise grants"
    staff = users["chuyenvien.ubnd"]
    assert visible_documents(staff).exclude(agency_id=staff.agency_id).exists(), "no cross-agency grant crawled"
    assert all(visible_documents(u).exists() and Document.objects.exclude(pk__in=visible_documents(u)).exists()
               for u in users.values()), "every crawler must meet both visible and invisible documents"
    assert not failures, f"{len(failures)} failures in {requests} requests:\n" + "\n".join(failures[:60])
