"""The document list API's lean path: its rows equal DRF's generic serialization of the same documents,
it costs a fixed, small number of queries, and the role permission asked in one query
(documents.selectors) answers as `user.has_perm` does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import roles
from accounts.models import User
from documents import services
from documents.models import Confidentiality, Document, Urgency
from documents.selectors import visible_documents
from documents.serializers import DocumentListSerializer
from tests.factories import AgencyFactory, clerk, doc_type, make_user

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/documents/"


class GenericListSerializer(DocumentListSerializer):
    """DRF's field-by-field serialization of model instances, for comparison."""

    to_representation = serializers.ModelSerializer.to_representation


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def outgoing(user, **values) -> Document:
    data = {"document_type_id": doc_type().pk, "subject": "Quyết định về việc thành lập tổ công tác", **values}
    return services.register_outgoing(user, services.OutgoingInput(**data))


def test_rows_are_what_the_generic_serializer_gives():
    agency = AgencyFactory(name="Ủy ban nhân dân tỉnh Hòa Bình")
    user = clerk(agency)
    today = timezone.localdate()
    outgoing(user, urgency=Urgency.EXPRESS, due_date=today + timedelta(days=7))
    outgoing(user, document_type_id=doc_type("cong-van").pk, subject="Công văn đôn đốc")
    services.register_incoming(user, services.IncomingInput(
        document_type_id=doc_type("cong-van").pk, subject="Báo cáo quý", organ_name="Sở Tài chính", code_number="12",
        issued_date=today - timedelta(days=3), arrival_date=today,
    ))
    services.register_incoming(user, services.IncomingInput(
        document_type_id=doc_type("cong-van").pk, subject="Giấy mời họp", organ_name="Bộ Nội vụ", code_number="7",
        code_notation="", issued_date=today,
    ))
    response = token_client(user).get(LIST_URL)
    assert response.status_code == 200
    rows = response.json()["results"]
    documents = Document.objects.filter(pk__in=[row["id"] for row in rows]).select_related(
        "agency", "register", "document_type")
    by_id = {document.pk: document for document in documents}
    expected = GenericListSerializer([by_id[row["id"]] for row in rows], many=True,
                                     context={"request": response.wsgi_request}).data
    assert len(rows) == 4
    assert rows == [dict(row) for row in expected]
    assert any(row["code_notation"] == "" and row["number_notation"] == "7" for row in rows)


def test_a_page_costs_four_queries_whatever_the_number_of_documents():
    user = clerk(AgencyFactory())
    api = token_client(user)

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = api.get(LIST_URL, {"page_size": 100})
        assert response.status_code == 200
        return len(captured), response.json()["count"]

    outgoing(user)
    queries()  # the per-process cache of the view permission's id
    assert queries() == (4, 1)  # token with its user, the role permission, count, page: none per row
    for _ in range(12):
        outgoing(user)
    assert queries() == (4, 13)


def test_the_count_is_not_taken_over_the_joins():
    user = clerk(AgencyFactory())
    outgoing(user)
    api = token_client(user)
    api.get(LIST_URL)
    with CaptureQueriesContext(connection) as captured:
        api.get(LIST_URL)
    (count_sql,) = [q["sql"] for q in captured.captured_queries if "COUNT(*)" in q["sql"]]
    assert "JOIN" not in count_sql


def visible_ids(user) -> set[int]:
    return set(visible_documents(user).values_list("pk", flat=True))


def test_the_agency_scope_follows_the_role_permission_like_has_perm():
    agency = AgencyFactory()
    author = clerk(agency)
    normal = outgoing(author)
    secret = outgoing(author, confidentiality=Confidentiality.SECRET)

    def fresh(user):  # as the next request loads it: no permission cache yet
        return User.objects.get(pk=user.pk)

    no_role = make_user(None, agency)
    assert visible_ids(no_role) == set()
    assert not fresh(no_role).has_perm("documents.view_document")

    direct = make_user(None, agency)  # the permission given to the person, not through a role
    direct.user_permissions.add(Permission.objects.get(content_type__app_label="documents", codename="view_document"))
    assert visible_ids(fresh(direct)) == {normal.pk}

    staff = make_user(roles.STAFF, agency)
    assert visible_ids(staff) == {normal.pk}
    staff.groups.clear()  # the role taken away: the next request knows it
    assert visible_ids(fresh(staff)) == set()

    cached = fresh(make_user(roles.STAFF, agency))
    assert cached.has_perm("documents.view_document")  # loaded, as a web page's menu does
    with CaptureQueriesContext(connection) as captured:
        assert visible_ids(cached) == {normal.pk}
    assert len(captured) == 1  # the list itself: the role answered from the cache

    superuser = make_user(None, agency, is_superuser=True)
    assert visible_ids(superuser) == {normal.pk}  # secret documents only by grant, even for a superuser
    assert secret.pk in visible_ids(author)  # the registering clerk of a secret document is granted it
