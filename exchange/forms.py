"""The small forms of the exchange's actions (each carries the delivery's version it was shown)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from documents.models import Document

from .models import BusinessType


class _Versioned(forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class RegisterForm(_Versioned):
    register = forms.TypedChoiceField(label=_("Incoming register"), required=False, coerce=int, empty_value=None)
    confirm_duplicate = forms.BooleanField(
        label=_("I have checked: this is not the same document, register it anyway"), required=False
    )

    def __init__(self, *args, registers=(), **kwargs):
        super().__init__(*args, **kwargs)
        registers = list(registers)
        if len(registers) > 1:
            self.fields["register"].choices = [(r.pk, str(r)) for r in registers]
            self.fields["register"].required = True
        else:
            self.fields["register"].choices = [(r.pk, str(r)) for r in registers]
            self.fields["register"].widget = forms.HiddenInput()


class ReturnForm(_Versioned):
    reason = forms.CharField(label=_("Reason for returning it"), max_length=500, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))


class TakeBackForm(_Versioned):
    answer = forms.ChoiceField(label=_("Answer"), choices=[("accept", _("Give it back")), ("refuse", _("Refuse"))],
                               widget=forms.RadioSelect, initial="accept")
    reason = forms.CharField(label=_("Reason (required to refuse)"), max_length=500, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))


class RecallForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the recall"), max_length=500, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))


class AskBackForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class ReplacementForm(forms.Form):
    earlier = forms.ModelChoiceField(label=_("Earlier document"), queryset=Document.objects.none())
    kind = forms.TypedChoiceField(
        label=_("Kind"), coerce=int,
        choices=[(BusinessType.UPDATE.value, BusinessType.UPDATE.label),
                 (BusinessType.REPLACE.value, BusinessType.REPLACE.label)],
    )

    def __init__(self, *args, document: Document, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["earlier"].queryset = earlier_documents(document)


def earlier_documents(document: Document):
    """Documents the agency issued before `document`, in the same direction, that can be updated or replaced."""
    return (Document.objects.filter(agency_id=document.agency_id, direction=document.direction,
                                    created_at__lt=document.created_at)
            .exclude(pk=document.pk).order_by("-created_at"))
