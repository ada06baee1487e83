"""The search page's form: the words, the filters of the facets, the order, the page. Read from GET (the web
page and the API share it), so a search is a link that can be saved, sent or bookmarked."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from documents.models import Urgency
from eoffice.widgets import DateField

from .models import SignatureState
from .selectors import SORTS, Filters

SORT_LABELS = {
    "relevance": _("Best match"),
    "newest": _("Newest first"),
    "oldest": _("Oldest first"),
}


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search for"), required=False, max_length=500,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "aria-label": _("Search for"),
                                                      "placeholder": _("Words, a phrase in quotes, or a number like 12/QD-UBND")}))
    notation = forms.CharField(label=_("Number / notation contains"), required=False, max_length=60)
    names = forms.CharField(label=_("Issuing body or signer contains"), required=False, max_length=200)
    direction = forms.ChoiceField(label=pgettext_lazy("incoming or outgoing", "Direction"), required=False,
                                  choices=[("", "—"), ("incoming", _("Incoming")), ("outgoing", _("Outgoing")),
                                           ("internal", _("Internal")), ("draft", _("Drafts"))])
    date_from = DateField(label=_("From"), required=False)
    date_to = DateField(label=_("To"), required=False)
    urgency = forms.TypedChoiceField(label=_("Urgency"), required=False, coerce=int, empty_value=None,
                                     choices=[("", "—"), *Urgency.choices])
    signature = forms.ChoiceField(label=_("Signature"), required=False,
                                  choices=[("", "—"), *SignatureState.choices])
    sort = forms.ChoiceField(label=_("Order"), required=False, choices=[(key, SORT_LABELS[key]) for key in SORTS])
    # Chosen from the facets (links), so no widget of their own beyond a hidden field.
    document_type = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    agency = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    unit = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    register = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    year = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1900, max_value=2999)
    state = forms.CharField(required=False, widget=forms.HiddenInput, max_length=16)
    page = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=500)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        return cleaned

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            direction=data.get("direction") or "", document_type=data.get("document_type"), agency=data.get("agency"),
            unit=data.get("unit"), register=data.get("register"), year=data.get("year"),
            date_from=data.get("date_from"), date_to=data.get("date_to"), urgency=data.get("urgency"),
            state=data.get("state") or "", signature=data.get("signature") or "",
            notation=data.get("notation") or "", names=data.get("names") or "",
        )

    def has_search(self) -> bool:
        data = self.cleaned_data
        return any(data.get(name) not in (None, "") for name in self.fields if name not in ("sort", "page"))


class SavedSearchForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    query = forms.CharField(widget=forms.HiddenInput, max_length=1000, required=False)
