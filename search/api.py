"""Search in the API: the same form, selector and permission rule as the web page; saved searches; documents
like a given one."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from documents.selectors import visible_documents
from eoffice.api import JSONOnlyMixin

from . import selectors, services
from .forms import SearchForm
from .models import SavedSearch, SearchEntry


def _segments(segments) -> str:
    """Highlighted text as plain text with the matches between « and » (no HTML in the API)."""
    return "".join(f"«{part.text}»" if part.match else part.text for part in segments)


def entry_json(entry: SearchEntry) -> dict:
    return {
        "kind": entry.kind,
        "document": entry.document_id,
        "draft": entry.draft_id,
        "title": entry.title,
        "direction": entry.direction,
        "document_type": entry.document_type.name if entry.document_type_id else None,
        "issued_date": entry.issued_date.isoformat() if entry.issued_date else None,
        "urgency": entry.urgency,
        "state": entry.state,
        "signature": entry.signature,
        "text_state": entry.text_state,
    }


_HIT_FIELDS = {
    "kind": serializers.CharField(), "document": serializers.IntegerField(allow_null=True),
    "draft": serializers.IntegerField(allow_null=True), "title": serializers.CharField(),
    "direction": serializers.CharField(), "document_type": serializers.CharField(allow_null=True),
    "issued_date": serializers.DateField(allow_null=True), "urgency": serializers.IntegerField(),
    "state": serializers.CharField(), "signature": serializers.CharField(), "text_state": serializers.CharField(),
    "highlighted_title": serializers.CharField(), "snippet": serializers.CharField(), "rank": serializers.FloatField(),
}
_FACET_FIELDS = {"value": serializers.CharField(), "label": serializers.CharField(), "count": serializers.IntegerField()}
_Results = inline_serializer("SearchResults", {
    "count": serializers.IntegerField(), "page": serializers.IntegerField(), "pages": serializers.IntegerField(),
    "results": inline_serializer("SearchHit", _HIT_FIELDS, many=True),
    "facets": serializers.DictField(child=inline_serializer("SearchFacetValue", _FACET_FIELDS, many=True)),
})
_PARAMETERS = [
    OpenApiParameter("q", str, description="Words (diacritics optional), \"a phrase\", or a number like 12/QĐ-UBND"),
    OpenApiParameter("direction", str, enum=["incoming", "outgoing", "internal", "draft"]),
    *(OpenApiParameter(name, int) for name in ("document_type", "agency", "unit", "register", "year", "urgency",
                                               "page")),
    OpenApiParameter("date_from", str, description="YYYY-MM-DD or dd/mm/yyyy"),
    OpenApiParameter("date_to", str, description="YYYY-MM-DD or dd/mm/yyyy"),
    OpenApiParameter("state", str), OpenApiParameter("signature", str, enum=["valid", "not_valid", "unsigned"]),
    OpenApiParameter("notation", str, description="The number and notation contain this"),
    OpenApiParameter("names", str, description="The issuing body or the signer contain this"),
    OpenApiParameter("sort", str, enum=list(selectors.SORTS)),
]


class SearchView(JSONOnlyMixin, APIView):
    """Documents and drafts the caller may see that match, ranked, with snippets (matches between « and ») and
    the facets of the whole match; the same rules as the search page."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=_PARAMETERS, summary="Search documents and drafts",
                   responses={200: _Results, 400: OpenApiResponse(description="A parameter is not valid")})
    def get(self, request: Request) -> Response:
        form = SearchForm(request.query_params)
        if not form.is_valid():
            return Response({"detail": form.errors.get_json_data()}, status=status.HTTP_400_BAD_REQUEST)
        results = selectors.search(request.user, form.cleaned_data.get("q") or "", form.filters(),
                                   sort=form.cleaned_data.get("sort") or "relevance",
                                   page=form.cleaned_data.get("page") or 1)
        return Response({
            "count": results.total, "page": results.page, "pages": results.pages,
            "results": [{**entry_json(hit.entry), "highlighted_title": _segments(hit.title),
                         "snippet": _segments(hit.snippet), "rank": hit.rank} for hit in results.hits],
            "facets": {name: [{"value": str(item.value), "label": item.label, "count": item.count} for item in items]
                       for name, items in results.facets.items()},
        })


class SimilarView(JSONOnlyMixin, APIView):
    """Documents like the given one (same subject words; same issuing body or type first), among those the
    caller may see. 404 when the caller may not see the document itself."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: inline_serializer("SimilarDocument", _HIT_FIELDS, many=True),
                              404: OpenApiResponse(description="No such document, or not yours to see")},
                   summary="Documents like this one")
    def get(self, request: Request, document_id: int) -> Response:
        document = get_object_or_404(visible_documents(request.user), pk=document_id)
        return Response([entry_json(entry) for entry in selectors.similar_documents(request.user, document, limit=10)])


class SavedSearchSerializer(serializers.ModelSerializer):
    class Meta:
        model = SavedSearch
        fields = ["id", "name", "query", "created_at"]
        read_only_fields = ["id", "created_at"]


class SavedSearchListView(JSONOnlyMixin, APIView):
    """The caller's saved searches; POST keeps one (name, and the query string of a search)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: SavedSearchSerializer(many=True)}, summary="My saved searches")
    def get(self, request: Request) -> Response:
        return Response(SavedSearchSerializer(SavedSearch.objects.filter(owner=request.user), many=True).data)

    @extend_schema(request=SavedSearchSerializer, responses={201: SavedSearchSerializer}, summary="Save a search")
    def post(self, request: Request) -> Response:
        serializer = SavedSearchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            saved = services.save_search(request.user, name=serializer.validated_data["name"],
                                         query=serializer.validated_data["query"])
        except ValidationError as error:
            return Response({"detail": " ".join(error.messages)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(SavedSearchSerializer(saved).data, status=status.HTTP_201_CREATED)


class SavedSearchDetailView(JSONOnlyMixin, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None}, summary="Remove a saved search")
    def delete(self, request: Request, pk: int) -> Response:
        saved = get_object_or_404(SavedSearch, pk=pk, owner=request.user)
        services.delete_saved_search(request.user, saved)
        return Response(status=status.HTTP_204_NO_CONTENT)
