"""The menu's "My work" badges: the numbers waiting for the person (selectors.work_counts), computed only when
a page renders them (lazy), and once per page however often they are shown."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy

from .selectors import work_counts

# The per-kind links under "My work": (count key, the section of the landing page, label).
NAV_KINDS = (
    ("to_register", "to_register", gettext_lazy("To register")),
    ("to_present", "to_present", gettext_lazy("To present")),
    ("to_direct", "to_direct", gettext_lazy("To direct")),
    ("to_handle", "to_handle", gettext_lazy("To handle")),
    ("to_accept", "to_accept_result", gettext_lazy("Results to accept")),
    ("to_decide", "to_decide_extension", gettext_lazy("Extensions to decide")),
    ("to_review", "draft-review", gettext_lazy("To review")),
    ("to_sign", "draft-sign", gettext_lazy("To sign")),
    ("to_issue", "draft-issue", gettext_lazy("To issue")),
    ("to_revise", "draft-returned", gettext_lazy("Returned to me")),
)


def desk_nav(request) -> dict:
    user = getattr(request, "user", None)
    if user is None:
        return {}
    counts = SimpleLazyObject(lambda: work_counts(user))

    def kinds() -> list[dict]:
        # `count` is a callable (templates call it): an error page (desk_deferred) lists the kinds without counting.
        return [{"key": key, "anchor": anchor, "label": label, "count": (lambda key=key: counts[key])}
                for key, anchor, label in NAV_KINDS]

    return {"desk_counts": counts, "desk_nav": SimpleLazyObject(kinds)}
