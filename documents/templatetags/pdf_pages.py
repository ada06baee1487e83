"""`{% document_pages document %}`: the pages of a document's main PDF as images, one under the other
(documents/_pdf_pages.html), for the pages where people decide on a document (processing slip, detail)."""

from __future__ import annotations

from django import template
from django.urls import reverse

from ..page_images import PagesView, pages_view

register = template.Library()


def main_pdf(document):
    """The file to show: the main file if it is a PDF, else the first PDF, else None."""
    files = [f for f in document.files.select_related("blob").all() if f.is_pdf]
    return next((f for f in files if f.is_main), files[0] if files else None)


@register.inclusion_tag("documents/_pdf_pages.html")
def document_pages(document, layout: str = "") -> dict:
    """`layout="aside"` floats the pages beside what follows on a wide screen (one include, no wrapper)."""
    doc_file = main_pdf(document)
    if doc_file is None:
        pdf = PagesView(0, [], "", "", "")
    else:
        pdf = pages_view(
            doc_file.blob,
            lambda number: reverse("documents:file_page", args=[document.pk, doc_file.pk, number]),
            reverse("documents:file_preview", args=[document.pk, doc_file.pk]),
            doc_file.original_name,
        )
    return {"pdf": pdf, "layout": layout, "has_file": doc_file is not None}
