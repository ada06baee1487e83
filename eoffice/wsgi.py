"""WSGI entry point (gunicorn eoffice.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eoffice.settings")
application = get_wsgi_application()

from .embedded import connect as _connect_embedded_maintenance  # noqa: E402

_connect_embedded_maintenance()  # the sweepers of the embedded mode (no beat there); inert with a broker
