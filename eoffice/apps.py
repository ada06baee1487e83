from django.apps import AppConfig


class EofficeConfig(AppConfig):
    """The project package as an app, so that its system checks are registered."""

    name = "eoffice"
    verbose_name = "e-office"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import checks  # noqa: F401
        from .middleware import mark_session_fresh

        user_logged_in.connect(mark_session_fresh, dispatch_uid="eoffice.session_fresh_at_login")
        self._compile_translations()
        self._brand_admin()

    def _brand_admin(self) -> None:
        """The admin under the installation's name (templates/admin/base_site.html adds the logo and colours)."""
        from django.contrib import admin
        from django.utils.translation import gettext_lazy

        from .branding import installation_name_lazy

        admin.site.site_header = installation_name_lazy()
        admin.site.site_title = installation_name_lazy()
        admin.site.index_title = gettext_lazy("Administration")

    def _compile_translations(self) -> None:
        """Compile a missing or stale .mo (e.g. started without `make`): a stat per catalogue when up to date.

        What cannot be compiled here is logged and stops `runserver`/`migrate` through the check eoffice.E005.
        """
        from django.conf import settings

        if not getattr(settings, "COMPILE_TRANSLATIONS_AT_STARTUP", True):
            return
        from .translations import compile_stale_catalogues

        compile_stale_catalogues()
