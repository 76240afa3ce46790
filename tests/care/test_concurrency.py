"""Requests and take-ups racing each other on PostgreSQL: real connections, real row locks."""

import pytest
from django.db import connection
from django.utils import timezone

from care import audit, services
from care.audit import CareEvent
from care.errors import NotAllowed
from care.models import AuditEvent, Case, Stage
from care.roles import Role
from tests.concurrency import race
from tests.factories import CaseFactory, WorkerFactory, staff

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_requests_filed_at_once_get_distinct_gap_free_references():
    workers = [WorkerFactory() for _ in range(10)]

    def filing(worker):
        return lambda: (
            services.request_file(
                actor=worker.user, worker=worker, department="legal", description="同时提交的诉求"
            ).reference
        )

    references = race(*(filing(w) for w in workers))

    year = timezone.localdate().year
    assert sorted(references) == [f"QD-{year}-{n:06d}" for n in range(1, 11)], references
    assert Case.objects.count() == 10
    assert AuditEvent.objects.filter(event_type=CareEvent.CASE_FILED).count() == 10
    assert list(audit.verify()) == []


def test_two_caseworkers_taking_up_one_case_at_once_one_wins():
    case = CaseFactory(department="legal")
    officers = [staff(Role.LEGAL_OFFICER, "legal"), staff(Role.LEGAL_OFFICER, "legal")]

    outcomes = race(*(lambda o=o: services.case_take_up(case=case, actor=o) for o in officers))

    won = [o for o, outcome in zip(officers, outcomes, strict=True) if isinstance(outcome, Case)]
    lost = [outcome for outcome in outcomes if not isinstance(outcome, Case)]
    assert len(won) == 1, outcomes
    assert len(lost) == 1 and isinstance(lost[0], NotAllowed), outcomes
    case.refresh_from_db()
    assert (case.stage, case.assignee) == (Stage.IN_PROGRESS, won[0])
    assert AuditEvent.objects.filter(event_type=CareEvent.CASE_TAKEN_UP).count() == 1
    assert list(audit.verify()) == []
