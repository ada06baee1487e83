"""WSGI entry point (gunicorn eoffice.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eoffice.settings")
application = get_wsgi_application()
