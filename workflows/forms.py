"""Small forms of incoming-document handling shared by the workflow's pages and the exchange's delivery page.
They only collect and validate input; workflows.services does the work."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import selectors
from .services import PROPOSAL_MAX_LENGTH


class PresentForm(forms.Form):
    """Whom to present to (the agency's leaders, the usual one first) and the clerk's proposal."""

    leader = forms.TypedChoiceField(label=_("Present to"), coerce=int)
    note = forms.CharField(
        label=_("Proposal"), required=False, max_length=PROPOSAL_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Your proposal to the leader, e.g. which unit should handle it."),
    )

    def __init__(self, *args, agency_id: int | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.leaders = list(selectors.presenting_leaders(agency_id))
        choices = [(leader.pk, leader.name_and_position) for leader in self.leaders]
        usual = selectors.usual_leader(agency_id, self.leaders)
        if usual is None:
            choices.insert(0, ("", _("Choose a leader")))
        else:
            self.fields["leader"].initial = usual.pk
        self.fields["leader"].choices = choices

    def chosen_leader(self):
        """The chosen leader (one of the agency's leaders: the choices allow no other)."""
        chosen = self.cleaned_data["leader"]
        return next(leader for leader in self.leaders if leader.pk == chosen)
