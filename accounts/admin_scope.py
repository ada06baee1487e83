"""The agency scope of admin pages, for every app's admin: an administrator sees and picks only the rows of
the agencies they administer (accounts.selectors); another agency's row is a 404."""

from __future__ import annotations

from eoffice.admin_scope import RowsOutsideQuerysetNotFound

from . import selectors
from .models import Agency, Unit, User


class AgencyScopedAdmin(RowsOutsideQuerysetNotFound):
    """Rows whose `scope_field` is an administered agency; agency, unit and person choices likewise."""

    scope_field = "agency"

    def get_queryset(self, request):
        return selectors.in_administered_agencies(super().get_queryset(request), request.user, self.scope_field)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if related is Agency:
            kwargs["queryset"] = selectors.administered_agencies(request.user)
        elif related in (Unit, User):
            kwargs["queryset"] = selectors.in_administered_agencies(related._default_manager.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
