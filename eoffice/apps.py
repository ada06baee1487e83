from django.apps import AppConfig


class EofficeConfig(AppConfig):
    """The project package as an app, so that its system checks are registered."""

    name = "eoffice"
    verbose_name = "e-office"

    def ready(self) -> None:
        from . import checks  # noqa: F401
