"""Search over the registry: diacritic-insensitive matching, ranking, notations, phrases, the files' text after
extraction, permission (no leak through results, counts, facets or snippets), saved searches, "documents like
this one", the API, and the index kept in step with edits (and rebuilt by the command)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts import roles
from audit.models import AuditEvent
from documents import services as documents_services
from documents.models import Confidentiality, Document, DocumentFile
from search import events, indexing, selectors, services
from search.models import SavedSearch, SearchEntry
from search.selectors import Filters, search
from tests.factories import AgencyFactory, clerk, doc_type, make_pdf, make_user

pytestmark = pytest.mark.django_db

SECRET_WORD = "khuỷu"  # in a secret document's file only


def _incoming(user, subject: str, *, number: str, notation: str = "QĐ-UBND", organ: str = "UBND tỉnh Hòa Bình",
              text: str = "", confidentiality: int = Confidentiality.NORMAL) -> Document:
    data = documents_services.IncomingInput(
        document_type_id=doc_type().pk, subject=subject, organ_name=organ, code_number=number,
        code_notation=notation, issued_date=date(2026, 3, 2), confidentiality=confidentiality,
    )
    document = documents_services.register_incoming(user, data)
    if text:
        # As the extraction task leaves it (the extraction itself: test_extracted_text_is_searchable).
        file = DocumentFile.objects.create(document=document, blob=_blob(), original_name="van-ban.pdf",
                                           uploaded_by=user, extraction_status="done", text=text)
        assert file.pk
    return document


def _blob():
    from documents.models import FileBlob

    return FileBlob.objects.create(sha256=f"{FileBlob.objects.count():064d}", size=1, content_type="application/pdf",
                                   storage_name=f"x/{FileBlob.objects.count()}")


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    agency, other_agency = AgencyFactory(), AgencyFactory()
    keeper, outsider = clerk(agency), clerk(other_agency)
    colleague = clerk(agency)  # sees the agency's documents, not the secret one (only its registering clerk)
    staff = make_user(roles.STAFF, agency)
    roleless = make_user(None, agency)
    with django_capture_on_commit_callbacks(execute=True):
        rotation = _incoming(keeper, "Quyết định điều động cán bộ năm 2026", number="12",
                             text="Điều 1. Điều động ông Nguyễn Văn A đến công tác tại Sở Nội vụ.")
        plan = _incoming(keeper, "Kế hoạch bảo vệ rừng", number="30", notation="KH-UBND",
                         text="Kế hoạch phòng cháy và bảo vệ rừng mùa khô.")
        near = _incoming(keeper, "Kế hoạch báo về rừng", number="31", notation="KH-UBND")
        body_only = _incoming(keeper, "Công văn về nhân sự", number="45", notation="SNV-TCCB",
                              organ="Sở Nội vụ", text="Đề nghị điều động hai công chức trong quý II.")
        secret = _incoming(keeper, "Điều động cán bộ (mật)", number="7", notation="QĐ-UBND",
                           confidentiality=Confidentiality.SECRET, text=f"Nội dung {SECRET_WORD} điều động.")
        foreign = _incoming(outsider, "Quyết định điều động cán bộ của huyện", number="12", notation="QĐ-UBND",
                            text=f"Điều động {SECRET_WORD} huyện.")
    return {"keeper": keeper, "colleague": colleague, "outsider": outsider, "staff": staff, "roleless": roleless, "rotation": rotation, "plan": plan,
            "near": near, "body_only": body_only, "secret": secret, "foreign": foreign}


def _ids(results) -> list[int]:
    return [hit.entry.document_id for hit in results.hits]


def test_matching_without_diacritics_ranking_and_notations(world):
    keeper = world["colleague"]
    found = search(keeper, "quyet dinh dieu dong can bo")
    assert _ids(found) == [world["rotation"].pk]
    # Every document is of the type "Quyết định": the type is searched too, below the subject.
    assert _ids(search(keeper, "quyet dinh"))[0] == world["rotation"].pk
    # "Đ" = "D", upper or lower case, decomposed marks.
    assert _ids(search(keeper, "ĐIỀU ĐỘNG CÁN BỘ"))[0] == world["rotation"].pk
    # Subject above the files' text: both match "điều động", the subject's first.
    assert _ids(search(keeper, "điều động")) == [world["rotation"].pk, world["body_only"].pk]
    # Exact diacritics rank first; without them both match.
    assert _ids(search(keeper, "bảo vệ rừng")) == [world["plan"].pk, world["near"].pk]
    assert _ids(search(keeper, "báo về rừng")) == [world["near"].pk, world["plan"].pk]
    assert set(_ids(search(keeper, "bao ve rung"))) == {world["plan"].pk, world["near"].pk}
    # A phrase matches only the words together.
    assert _ids(search(keeper, '"phòng cháy"')) == [world["plan"].pk]
    assert _ids(search(keeper, '"cháy phòng"')) == []
    # A number and notation, typed either way.
    for typed in ("12/QĐ-UBND", "12/QD-UBND", "12/qd-ubnd"):
        assert _ids(search(keeper, typed)) == [world["rotation"].pk], typed
    assert _ids(search(keeper, "45/SNV-TCCB")) == [world["body_only"].pk]
    # Snippets: the files' words highlighted, from the document's own text.
    hit = search(keeper, "cong chuc").hits[0]
    assert [part.text for part in hit.snippet if part.match] == ["công", "chức"]
    # The advanced look-ups on the notation and the names (trigram indexes on PostgreSQL).
    assert set(_ids(search(keeper, "", Filters(notation="KH-UBND")))) == {world["plan"].pk, world["near"].pk}
    assert _ids(search(keeper, "", Filters(names="So Noi vu"))) == [world["body_only"].pk]


def test_nothing_foreign_leaks_through_results_counts_facets_or_snippets(world, client):
    secret, foreign = world["secret"], world["foreign"]
    for user in (world["keeper"], world["colleague"], world["staff"], world["roleless"], world["outsider"]):
        visible = set(Document.objects.filter(pk__in=[hit.entry.document_id for hit in search(user, "dieu dong",
                                                                                              per_page=100).hits]))
        results = search(user, "dieu dong", per_page=100)
        allowed = set(documents_services.Document.objects.filter(
            pk__in=selectors.visible_documents(user).values("pk")))
        assert visible <= allowed
        assert results.total == len(results.hits) == len(visible)
        facet_total = sum(item.count for item in results.facets["direction"])
        assert facet_total == results.total
        for items in results.facets.values():
            assert all(item.count <= results.total for item in items)
        agencies = {item.value for item in results.facets["agency"]}
        assert agencies <= {user.agency_id}
    # The registering clerk sees the secret document; a colleague does not (never in agency scope), nor does
    # anyone see the other agency's.
    assert _ids(search(world["keeper"], SECRET_WORD)) == [secret.pk]
    keeper_results = search(world["colleague"], SECRET_WORD)
    assert keeper_results.total == 0 and keeper_results.hits == []
    assert all(not items for items in keeper_results.facets.values())
    assert search(world["outsider"], "dieu dong").total == 1
    # Staff see the agency's ordinary documents; a person with no role sees nothing of the agency, and a grant
    # opens exactly that document.
    assert search(world["staff"], "dieu dong").total == 2
    assert search(world["roleless"], "dieu dong").total == 0
    documents_services.grant_document_access(world["keeper"], secret, user=world["roleless"], confirm=True)
    granted = search(world["roleless"], SECRET_WORD)
    assert _ids(granted) == [secret.pk]
    assert [part.text for part in granted.hits[0].snippet if part.match] == [SECRET_WORD]
    # The API answers the same, and no foreign word, title or count appears in its answer.
    client.force_login(world["outsider"])
    body = client.get("/api/v1/search/", {"q": "dieu dong"}).content.decode()
    assert foreign.subject in body and world["rotation"].subject not in body and "Nguyễn Văn A" not in body
    assert '"count":1' in body.replace(" ", "")
    page = client.get("/search/", {"q": SECRET_WORD}).content.decode()
    assert "1 result" in page or "1 kết quả" in page  # the outsider's own document only
    assert secret.subject not in page and "Nội dung" not in page


def test_extracted_text_is_searchable_and_the_index_follows_edits(world, django_capture_on_commit_callbacks):
    keeper = world["colleague"]
    data = documents_services.OutgoingInput(document_type_id=doc_type().pk, subject="Báo cáo tổng kết")
    with django_capture_on_commit_callbacks(execute=True):
        document = documents_services.register_outgoing(
            keeper, data, [SimpleUploadedFile("bc.pdf", make_pdf(text="Chuyển đổi số toàn diện"))])
    assert DocumentFile.objects.get(document=document).extraction_status == "done"
    hit = search(keeper, "chuyen doi so").hits[0]
    assert hit.entry.document_id == document.pk and hit.entry.text_state == "text"
    assert indexing.check().ok
    # A change of the handling case re-indexes the state facet, keeping the files' words.
    with django_capture_on_commit_callbacks(execute=True):
        Document.objects.filter(pk=document.pk).update(subject="Báo cáo năm")
        Document.objects.get(pk=document.pk).save()
    assert search(keeper, "bao cao nam").total == 1 and search(keeper, "chuyen doi so").total == 1
    # A scan without a text layer is marked as such.
    with django_capture_on_commit_callbacks(execute=True):
        scan = _incoming(keeper, "Giấy mời họp", number="88", notation="GM-UBND")
        DocumentFile.objects.create(document=scan, blob=_blob(), original_name="scan.pdf", uploaded_by=keeper,
                                    extraction_status="done", text="")
    assert SearchEntry.objects.get(document=scan).text_state == "no_text"
    # A change whose indexing never ran (the process stopped after the commit) stays stale until the sweep.
    Document.objects.get(pk=scan.pk).save()
    SearchEntry.objects.filter(document=scan).update(stale=True)
    assert not indexing.check().ok
    with pytest.raises(CommandError):
        call_command("rebuild_search_index", "--check", stdout=_Sink())
    from search.tasks import index_stale

    assert index_stale() >= 1 and indexing.check().ok
    # The command rebuilds everything from the registry.
    SearchEntry.objects.all().delete()
    assert search(keeper, "chuyen doi so").total == 0
    out = _Sink()
    call_command("rebuild_search_index", stdout=out)
    assert "missing from the index: 0" in out.text
    assert search(keeper, "chuyen doi so").total == 1 and search(keeper, "12/QD-UBND").total == 1


class _Sink:
    def __init__(self):
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_search_page_facets_saved_searches_and_documents_like_this(world, client):
    keeper = world["colleague"]
    client.force_login(keeper)
    page = client.get("/search/", {"q": "dieu dong"})
    html = page.content.decode()
    assert page.status_code == 200 and "<mark>Điều</mark>" in html or "<mark>điều</mark>" in html.lower()
    assert world["rotation"].subject.split()[0] in html and world["foreign"].subject not in html
    assert 'data-facet="direction"' in html
    # A facet narrows; the filter is a link the page keeps.
    narrowed = client.get("/search/", {"q": "dieu dong", "year": "2026"})
    assert narrowed.status_code == 200
    # Saved: audited, listed, opened, removed; another person cannot remove it.
    response = client.post("/search/saved/", {"name": "Điều động", "query": "q=dieu+dong&page=3&evil=1"})
    assert response.status_code == 302
    saved = SavedSearch.objects.get(owner=keeper)
    assert saved.query == "q=dieu+dong"
    assert AuditEvent.objects.filter(verb=events.SEARCH_SAVED, actor=keeper).count() == 1
    assert client.post("/search/saved/", {"name": "Điều động", "query": "q=x"}).status_code == 302
    assert SavedSearch.objects.filter(owner=keeper).count() == 1  # same name refused
    client.force_login(world["outsider"])
    assert client.post(f"/search/saved/{saved.pk}/delete/").status_code == 404
    assert client.get("/api/v1/search/saved/").json() == []
    assert client.delete(f"/api/v1/search/saved/{saved.pk}/").status_code == 404
    client.force_login(keeper)
    assert client.post(f"/search/saved/{saved.pk}/delete/").status_code == 302
    assert not SavedSearch.objects.exists()
    assert AuditEvent.objects.filter(verb=events.SEARCH_SAVED_DELETED, actor=keeper).count() == 1
    created = client.post("/api/v1/search/saved/", {"name": "KH", "query": "q=ke+hoach"}, content_type="application/json")
    assert created.status_code == 201 and created.json()["query"] == "q=ke+hoach"
    # Documents like this one: on the page (same subject words) and in the API, never a foreign one.
    detail = client.get(f"/documents/{world['secret'].pk}/")
    assert detail.status_code == 404
    similar = client.get(f"/api/v1/search/similar/{world['plan'].pk}/").json()
    assert [row["document"] for row in similar] == [world["near"].pk]
    assert client.get(f"/api/v1/search/similar/{world['foreign'].pk}/").status_code == 404
    detail = client.get(f"/documents/{world['plan'].pk}/").content.decode()
    assert f'href="/search/like/{world["plan"].pk}/"' in detail
    like = client.get(f"/search/like/{world['plan'].pk}/").content.decode()
    assert world["near"].subject in like and world["foreign"].subject not in like
    assert client.get(f"/search/like/{world['secret'].pk}/").status_code == 404
    # Bad input: a clear 400, nothing else.
    assert client.get("/api/v1/search/", {"date_from": "hôm qua"}).status_code == 400
    assert client.get("/search/", {"q": "x" * 600}).status_code == 200
    assert services.clean_query_string("page=2&q=a") == "q=a"
