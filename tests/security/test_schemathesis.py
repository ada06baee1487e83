"""A bounded schemathesis run over the API's OpenAPI schema (issue 11, "Keep checking it").

The drf-spectacular schema (`/api/schema/`) is loaded from the Django WSGI application in-process; every
GET operation is called with a clerk's API token (`Authorization: Token …`, accounts/authentication.py)
with a few generated cases each (deterministic: hypothesis `derandomize`), plus, for the operations that
take an `id`, one case per real object id the clerk may see. Checks: no 5xx (`not_a_server_error`), the
status code and content type are documented, and the JSON body conforms to the schema
(`response_schema_conformance`). All failures are collected and reported together; none is tolerated.

Not fuzzed: the state-changing operations (POST, PATCH, DELETE): registration, grants, drafting and signing
steps have their own tests; fuzzing them would mostly exercise 400 answers at many times the cost.
"""

from __future__ import annotations

import io

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from eoffice.wsgi import application

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_process_wsgi():
    """The WSGI handler closes the database connection after each request (request_finished); Django's
    test client turns that off, and so must a WSGI client that shares the test's transaction."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield application
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)

MAX_EXAMPLES = 5
CLERK = "vanthu.ubnd"


def _checks():
    from schemathesis.checks import not_a_server_error

    return [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _runner(operation, auth, checks):
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=operation.as_strategy())
    def run(case):
        response = case.call(headers=auth)
        case.validate_response(response, checks=checks, headers=auth)

    return run


def test_get_operations_conform_to_the_schema_with_a_clerks_token(in_process_wsgi):
    call_command("seed_demo", "--documents", "12", stdout=io.StringIO())
    clerk = User.objects.get(username=CLERK)
    token = Token.objects.create(user=clerk)
    auth = {"Authorization": f"Token {token.key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", in_process_wsgi, headers=auth)
    checks = _checks()

    from documents.selectors import visible_documents

    real_ids = {
        "/api/v1/documents/{id}/": list(visible_documents(clerk).values_list("pk", flat=True)[:5]),
    }
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET":
            continue
        operations += 1

        run = _runner(operation, auth, checks)
        try:
            run()
        except BaseException as failure:  # noqa: BLE001 - hypothesis raises a group: collected below
            if isinstance(failure, KeyboardInterrupt):
                raise
            failures.append(f"{operation.label}: {failure}")
        for pk in real_ids.get(operation.path, []):
            case = operation.Case(path_parameters={"id": pk})
            try:
                case.validate_response(case.call(headers=auth), checks=checks, headers=auth)
            except BaseException as failure:  # noqa: BLE001
                if isinstance(failure, KeyboardInterrupt):
                    raise
                failures.append(f"{operation.label} id={pk}: {failure}")
    assert operations >= 20, operations
    assert not failures, f"{len(failures)} of {operations} GET operations fail:\n" + "\n\n".join(failures)
