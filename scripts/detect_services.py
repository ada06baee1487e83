"""Print shell exports for PostgreSQL and Redis when they answer on 127.0.0.1 (used by `make test`).

Variables already set in the environment win; nothing is printed for a service that is not there.
"""

import os
import socket


def reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


if not os.environ.get("DATABASE_URL") and reachable(5432):
    print("export DATABASE_URL=postgres://postgres@127.0.0.1:5432/eoffice")
if not os.environ.get("CELERY_BROKER_URL") and reachable(6379):
    print("export CELERY_BROKER_URL=redis://127.0.0.1:6379/0")
