"""Several holders of the same step approve a draft at once: exactly one wins, the others get a clear
error and change nothing (PostgreSQL, real threads and connections)."""

from __future__ import annotations

import pytest

from accounts import roles
from accounts.models import User
from audit.models import AuditEvent
from audit.services import verify_all
from tests.concurrency import run_at_once
from tests.factories import make_user
from workflows import drafting_services as ds
from workflows import events as wf_events
from workflows.models import Draft, DraftState
from workflows.services import StaleTransition

from .helpers import office
from .test_drafting import new_draft

THREADS = 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_of_the_same_step_exactly_one_wins(require_postgres, reference_data):
    o = office()
    # Several unit leaders: the review step has no single named holder, any of them may approve.
    leaders = [o.unit_leader] + [make_user(roles.UNIT_LEADER, o.agency, unit=o.unit) for _ in range(THREADS - 1)]
    draft = ds.submit(o.handler, new_draft(o))
    assert draft.current_holder is None
    seen = draft.version

    def job(actor_pk: int):
        def run():
            actor = User.objects.get(pk=actor_pk)
            return ds.approve_step(actor, Draft.objects.get(pk=draft.pk), expected_version=seen).version
        return run

    results, errors = run_at_once([job(leader.pk) for leader in leaders])
    assert len(results) == 1, errors
    assert len(errors) == THREADS - 1 and all(isinstance(e, StaleTransition) for e in errors), errors
    draft.refresh_from_db()
    assert draft.state == DraftState.IN_REVIEW and draft.current_step.order == 2 and draft.version == seen + 1
    approvals = AuditEvent.objects.filter(target_type="workflows.draft", target_id=str(draft.pk),
                                          verb=wf_events.DRAFT_APPROVED)
    assert approvals.count() == 1
    assert verify_all() == []
