"""`{% draft_pages draft %}`: the pages of the draft's current version as images (documents/_pdf_pages.html),
beside the review and signing actions, so nobody approves or signs what they have not seen."""

from __future__ import annotations

from django import template
from django.urls import reverse

from documents.page_images import PagesView, pages_view

register = template.Library()


@register.inclusion_tag("documents/_pdf_pages.html")
def draft_pages(draft, layout: str = "") -> dict:
    version = draft.versions.select_related("blob").order_by("-number").first()
    if version is None:
        return {"pdf": PagesView(0, [], "", ""), "layout": layout, "has_file": False}
    pdf = pages_view(
        version.blob,
        lambda number: reverse("workflows:draft_version_page", args=[draft.pk, version.number, number]),
        reverse("workflows:draft_version_file", args=[draft.pk, version.number]),
        version.file_name,
    )
    return {"pdf": pdf, "layout": layout, "has_file": True}
