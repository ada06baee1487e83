"""The search page (every page's header box leads here), saved searches, and "documents like this one" on a
document's page (a section the documents app shows without importing search)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from documents.selectors import visible_documents

from . import selectors, services
from .forms import SavedSearchForm, SearchForm
from .models import SavedSearch


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    results = None
    work_files = []
    if form.is_bound and form.is_valid() and form.has_search():
        work_files = selectors.matching_work_files(request.user, form.cleaned_data.get("q") or "")
        results = selectors.search(request.user, form.cleaned_data.get("q") or "", form.filters(),
                                   sort=form.cleaned_data.get("sort") or "relevance",
                                   page=form.cleaned_data.get("page") or 1)
    base = {key: value for key, value in request.GET.items() if key in services.KEPT_PARAMETERS and value}
    return render(request, "search/search.html", {
        "form": form,
        "results": results,
        "work_files": work_files,
        "facets": _facet_links(results, base) if results else [],
        "base_query": urlencode(base),
        "saved": SavedSearch.objects.filter(owner=request.user),
        "save_form": SavedSearchForm(initial={"query": urlencode(base)}),
        "advanced": any(request.GET.get(name) for name in ("notation", "names", "date_from", "date_to", "urgency",
                                                          "signature")),
    })


# Lazy: read in the language of each request, not of the process that imported this module.
_FACET_TITLES = {
    "direction": gettext_lazy("Kind"), "document_type": gettext_lazy("Document type"), "year": gettext_lazy("Year"),
    "agency": gettext_lazy("Agency"), "unit": gettext_lazy("Unit"), "register": gettext_lazy("Register"),
    "urgency": gettext_lazy("Urgency"), "state": gettext_lazy("State"), "signature": gettext_lazy("Signature"),
}


def _facet_links(results: selectors.Results, base: dict) -> list[dict]:
    """Each facet's values as links that add (or, when chosen, remove) the filter, keeping the rest."""
    facets = []
    for name, values in results.facets.items():
        if not values:
            continue
        chosen = base.get(name, "")
        items = []
        for value in values:
            selected = str(value.value) == chosen
            query = {key: v for key, v in base.items() if key != name}
            if not selected:
                query[name] = value.value
            items.append({"label": value.label, "count": value.count, "selected": selected,
                          "query": urlencode(query)})
        facets.append({"name": name, "title": str(_FACET_TITLES.get(name, name)), "items": items})
    return facets


@login_required
@require_POST
def save(request: HttpRequest) -> HttpResponse:
    form = SavedSearchForm(request.POST)
    query = request.POST.get("query", "")
    if form.is_valid():
        try:
            saved = services.save_search(request.user, name=form.cleaned_data["name"], query=query)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _('The search "%(name)s" is saved.') % {"name": saved.name})
            return redirect(f"{_search_url()}?{saved.query}")
    else:
        messages.error(request, _("Give the search a name."))
    return redirect(f"{_search_url()}?{services.clean_query_string(query)}")


@login_required
@require_POST
def delete_saved(request: HttpRequest, pk: int) -> HttpResponse:
    saved = get_object_or_404(SavedSearch, pk=pk, owner=request.user)
    services.delete_saved_search(request.user, saved)
    messages.success(request, _('The saved search "%(name)s" is removed.') % {"name": saved.name})
    return redirect(_search_url())


def _search_url() -> str:
    return reverse("search:home")


def similar_section(request: HttpRequest, document) -> str | None:
    """The "Documents like this one" link of a document's page (documents.page_sections): the search runs when
    the person asks, not on every opening of the page."""
    if not request.user.is_authenticated:
        return None
    return render_to_string("search/_similar_link.html", {"document": document}, request=request)


@login_required
def similar_page(request: HttpRequest, document_id: int) -> HttpResponse:
    """Documents like one the person may see (404 otherwise): same subject words, same issuing body or type."""
    document = get_object_or_404(visible_documents(request.user), pk=document_id)
    return render(request, "search/similar.html", {
        "document": document, "similar": selectors.similar_documents(request.user, document, limit=20)})
