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
