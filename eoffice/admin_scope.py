"""Shared admin behaviour. Admin pages that show a person part of a table (the rows of the agencies they administer, the audit
events they may read) answer "not found" for the other rows, like the API: Django's own answer, a redirect
to the index saying the row "may have been deleted", still tells that the id exists somewhere."""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404
from django.utils.translation import gettext as _


class RowsOutsideQuerysetNotFound:
    """ModelAdmin mixin: the change, history, delete and password pages of a row outside `get_queryset`
    are a 404 (they all find their row through `get_object`)."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("Not found."))
        return obj


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """View only, for everyone: the rows change through their app's services, which check and audit."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
