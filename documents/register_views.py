"""Register pages and printouts (Decree 30 PL IV): clerks and archivists look at their agency's
registers on screen; clerks print or export them, and every printout is audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from itertools import groupby
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import printouts, services
from .forms import DATE_INPUT_FORMATS, PeriodForm
from .models import Register, RegisterKind
from .selectors import register_entries, registers_for

PREVIEW_ROWS = 200

BUILDERS: dict[str, tuple[Callable[..., bytes], str]] = {
    "pdf": (printouts.build_register_pdf, "application/pdf"),
    "xlsx": (
        printouts.build_register_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}


class RegisterPeriodForm(PeriodForm):
    register = forms.TypedChoiceField(label=gettext_lazy("Register"), coerce=int)
    field_order = ["register", "date_from", "date_to"]

    def __init__(self, *args, registers: list[Register], **kwargs):
        super().__init__(*args, **kwargs)
        self.registers = {r.pk: r for r in registers}
        self.fields["register"].choices = [
            (str(year), [(r.pk, _register_label(r)) for r in group])
            for year, group in groupby(registers, key=lambda r: r.year)
        ]


_KIND_ORDER = {kind: i for i, kind in enumerate(
    [RegisterKind.OUTGOING, RegisterKind.INCOMING, RegisterKind.SECRET_OUTGOING, RegisterKind.SECRET_INCOMING,
     RegisterKind.COPIES, RegisterKind.IMPORTED]
)}


def _register_sort_key(register: Register) -> tuple:
    """Newest year first; within a year the main outgoing register, then incoming, then the others."""
    return (-register.year, _KIND_ORDER.get(register.kind, len(_KIND_ORDER)), register.code, register.pk)


def _register_label(register: Register) -> str:
    label = f"{register.name} {register.year}"
    if register.volume:
        label += " – " + _("volume %(volume)s") % {"volume": register.volume}
    return label


def _preview_cells(row: list, layout: list[dict]) -> list[dict]:
    cells = []
    for value, column in zip(row, layout, strict=True):
        if isinstance(value, tuple):
            cells.append({"strong": value[0], "text": value[1], "prose": column["prose"]})
        else:
            cells.append({"strong": "", "text": printouts.cell_text(value), "prose": column["prose"]})
    return cells


@login_required
def register_index(request: HttpRequest) -> HttpResponse:
    """The agency's registers grouped by year, a period chooser, PDF/XLSX buttons and an on-screen
    preview (first rows) with the PL IV columns; the page itself prints cleanly from the browser."""
    user = request.user
    if not user.has_perm("documents.view_register"):
        raise PermissionDenied
    registers = sorted(registers_for(user), key=_register_sort_key)
    can_print = user.has_perm("documents.print_register")
    context: dict = {
        "registers_by_year": [(year, list(group)) for year, group in groupby(registers, key=lambda r: r.year)],
        "can_print": can_print,
        "preview_limit": PREVIEW_ROWS,
    }

    selected: Register | None = None
    date_from = date_to = None
    if request.GET:
        form = RegisterPeriodForm(request.GET, registers=registers)
        if form.is_valid():
            selected = form.registers.get(form.cleaned_data["register"])
            default_from, default_to = printouts.default_period(selected)
            date_from = form.cleaned_data["date_from"] or default_from
            date_to = form.cleaned_data["date_to"] or default_to
    elif registers:
        selected = registers[0]
        date_from, date_to = printouts.default_period(selected)
        form = RegisterPeriodForm(
            registers=registers, initial={"register": selected.pk, "date_from": date_from, "date_to": date_to}
        )
    else:
        form = RegisterPeriodForm(registers=registers)
    context["form"] = form

    if selected is not None:
        query = urlencode({"date_from": date_from.isoformat(), "date_to": date_to.isoformat()})
        action = request.GET.get("action")
        if action in BUILDERS:
            if not can_print:
                raise PermissionDenied
            return HttpResponseRedirect(f"{reverse('documents:register_print', args=[selected.pk, action])}?{query}")
        entries = register_entries(user, selected, date_from, date_to)
        columns, rows = printouts.register_table(selected, entries[:PREVIEW_ROWS])
        summary = entries.aggregate(first=Min("register_number"), last=Max("register_number"), total=Count("id"))
        layout = printouts.register_layout(selected)
        cover = replace(
            printouts.build_cover(selected, [], date_from, date_to),
            first_number=printouts.format_number(summary["first"]),
            last_number=printouts.format_number(summary["last"]),
        )
        context.update(
            selected=selected,
            cover=cover,
            date_from=date_from,
            date_to=date_to,
            columns=columns,
            layout=layout,
            rows=[_preview_cells(row, layout) for row in rows],
            total=summary["total"],
            pdf_url=f"{reverse('documents:register_print', args=[selected.pk, 'pdf'])}?{query}",
            xlsx_url=f"{reverse('documents:register_print', args=[selected.pk, 'xlsx'])}?{query}",
            outside_year=date_to.year < selected.year or date_from.year > selected.year,
        )
    return render(request, "documents/registers.html", context)


def _parse_date(raw: str | None) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    for fmt in DATE_INPUT_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValueError(raw)


@login_required
def register_print(request: HttpRequest, register_id: int, fmt: str) -> HttpResponse:
    """The register for a period as PDF (shown inline) or XLSX (downloaded); the printout is audited
    because it is the legal paper register (Art. 16.2.b, 22.3.b)."""
    user = request.user
    if not user.has_perm("documents.print_register"):
        raise PermissionDenied
    if fmt not in BUILDERS:
        raise Http404
    register = get_object_or_404(registers_for(user), pk=register_id)
    try:
        date_from = _parse_date(request.GET.get("date_from"))
        date_to = _parse_date(request.GET.get("date_to"))
    except ValueError as error:
        return HttpResponseBadRequest(
            _("Invalid date \"%(value)s\": use the form YYYY-MM-DD or DD/MM/YYYY.") % {"value": error.args[0][:40]},
            content_type="text/plain; charset=utf-8",
        )
    if date_from and date_to and date_from > date_to:
        return HttpResponseBadRequest(
            _("The start date must not be after the end date."), content_type="text/plain; charset=utf-8"
        )

    entries = list(register_entries(user, register, date_from, date_to))
    build, content_type = BUILDERS[fmt]
    content = build(register, entries, date_from, date_to)
    services.record_register_printed(
        user, register, fmt=fmt, date_from=date_from, date_to=date_to, rows=len(entries)
    )
    response = HttpResponse(content, content_type=content_type)
    disposition = "inline" if fmt == "pdf" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{printouts.register_filename(register, fmt)}"'
    # The register lists documents by name and number: never keep it in a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response
