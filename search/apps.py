from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    """Full-text search over what a person may see: an index kept beside the registry (documents, drafts),
    Vietnamese-folded, queried through the registry's own permission filter. Above the apps it indexes;
    nothing imports it."""

    name = "search"
    verbose_name = _("Search")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from documents import page_sections

        from . import signals  # noqa: F401 - keeps the index in step with the registry
        from .views import similar_section

        page_sections.register(similar_section, order=200, name="search.similar")
