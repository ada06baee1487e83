"""Help / Hướng dẫn: the user guide of docs/guide/ shown in the app, opening at the page of the person's role
in their language.

The guide is plain Markdown in the repository (docs/guide/<lang>/<role>.md, pictures in docs/guide/img/,
made by tests/browser/test_role_days.py), so it reads the same on a code host and here. The URLs mirror
the folder, so the guide's relative links ("leader.md", "../img/vi/leader-landing.png") work unchanged:
/help/vi/leader.md is docs/guide/vi/leader.md and /help/img/vi/leader-landing.png is its picture.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, re_path
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts import roles

GUIDE_DIR = Path(settings.BASE_DIR) / "docs" / "guide"
LANGUAGES = ("vi", "en")

# A person with several roles gets the guide of the first that applies.
ROLE_PAGES = (
    (roles.AGENCY_LEADER, "leader"),
    (roles.UNIT_LEADER, "unit-head"),
    (roles.CLERK, "clerk"),
    (roles.ARCHIVIST, "archivist"),
    (roles.ADMINISTRATOR, "administrator"),
    (roles.STAFF, "staff"),
)
PAGE_TITLES = {
    "clerk": _("Clerk"),
    "staff": _("Staff"),
    "unit-head": _("Unit leader"),
    "leader": _("Agency leader"),
    "archivist": _("Archivist"),
    "administrator": _("Administrator"),
}
_IMAGE_NAME = re.compile(r"^[a-z0-9-]+\.png$")


def page_for(user) -> str:
    """The guide page of the person's main role ("staff" when they have none of the others)."""
    names = set(user.groups.values_list("name", flat=True))
    for role, page in ROLE_PAGES:
        if role in names:
            return page
    return "administrator" if user.is_superuser else "staff"


def _language() -> str:
    code = (get_language() or "vi").split("-")[0]
    return code if code in LANGUAGES else "vi"


@functools.lru_cache(maxsize=32)
def _rendered(source: Path, modified: float) -> str:
    """The page as HTML (cached per file version). Raw HTML in the Markdown is not passed through."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(source.read_text(encoding="utf-8"))


@login_required
def help_home(request: HttpRequest) -> HttpResponse:
    """The "Help" link of the header: the guide of the person's role, in the language they use."""
    return redirect("help:page", lang=_language(), page=page_for(request.user))


@login_required
def guide_page(request: HttpRequest, lang: str, page: str) -> HttpResponse:
    source = GUIDE_DIR / lang / f"{page}.md"
    if page not in PAGE_TITLES or not source.is_file():
        raise Http404(_("There is no such page in the guide."))
    html = _rendered(source, source.stat().st_mtime)
    pages = [{"page": name, "title": title, "current": name == page} for name, title in PAGE_TITLES.items()]
    other = [code for code in LANGUAGES if code != lang][0]
    return render(
        request,
        "help/guide.html",
        {
            "html": mark_safe(html),  # rendered from the repository's own Markdown, raw HTML disabled  # noqa: S308
            "pages": pages,
            "lang": lang,
            "page": page,
            "other_lang": other,
        },
    )


@login_required
def guide_index(request: HttpRequest) -> HttpResponse:
    source = GUIDE_DIR / "README.md"
    if not source.is_file():
        raise Http404(_("There is no such page in the guide."))
    pages = [{"page": name, "title": title, "current": False} for name, title in PAGE_TITLES.items()]
    return render(
        request,
        "help/guide.html",
        {
            "html": mark_safe(_rendered(source, source.stat().st_mtime)),  # noqa: S308
            "pages": pages,
            "lang": _language(),
            "page": "",
            "other_lang": "",
        },
    )


@login_required
def guide_image(request: HttpRequest, lang: str, name: str) -> FileResponse:
    """A picture of the guide (a screenshot the browser tests took)."""
    source = GUIDE_DIR / "img" / lang / name
    if lang not in LANGUAGES or not _IMAGE_NAME.match(name) or not source.is_file():
        raise Http404(_("There is no such picture in the guide."))
    response = FileResponse(source.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


app_name = "help"
urlpatterns = [
    path("", help_home, name="home"),
    path("README.md", guide_index, name="index"),
    re_path(r"^img/(?P<lang>vi|en)/(?P<name>[a-z0-9-]+\.png)$", guide_image, name="image"),
    re_path(r"^(?P<lang>vi|en)/(?P<page>[a-z-]+)\.md$", guide_page, name="page"),
]
