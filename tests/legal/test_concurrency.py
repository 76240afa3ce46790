"""Two people moving one legal case at the same moment, on PostgreSQL: real connections, real
row locks. Exactly one step wins; the other is refused as the stage has moved on."""

import pytest
from django.db import connection

from care import audit
from care.errors import InvalidState
from care.models import AuditEvent, OutboundSms, Stage
from care.permissions import grant_case
from care.roles import Role
from legal.models import LegalCase, LegalState
from legal.services import LegalEvent, legal_transition
from tests.concurrency import race
from tests.factories import CaseFactory, staff

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.mark.parametrize("attempt", range(3))
def test_accepting_and_declining_one_case_at_once_one_wins(attempt):
    officer, mediator = staff(Role.LEGAL_OFFICER, "legal"), staff(Role.MEDIATOR, "legal")
    case = CaseFactory(department="legal", stage=Stage.IN_PROGRESS, assignee=officer)
    grant_case(case=case, user=officer)
    grant_case(case=case, user=mediator)
    legal_case = LegalCase.objects.create(case=case, state=LegalState.CONSULTATION)

    outcomes = race(
        lambda: legal_transition(legal_case=legal_case, actor=officer, transition="accept_aid"),
        lambda: legal_transition(legal_case=legal_case, actor=mediator, transition="decline", reason="不予受理"),
    )

    won = [o for o in outcomes if isinstance(o, LegalCase)]
    lost = [o for o in outcomes if not isinstance(o, LegalCase)]
    assert len(won) == 1, outcomes
    assert len(lost) == 1 and isinstance(lost[0], InvalidState), outcomes
    stored = LegalCase.objects.select_related("case").get(pk=legal_case.pk)
    assert stored.state == won[0].state
    assert stored.state in (LegalState.AID_ACCEPTED, LegalState.DECLINED)
    # The hall's case follows the winner only.
    assert stored.case.stage == (Stage.CLOSED if stored.state == LegalState.DECLINED else Stage.IN_PROGRESS)
    assert (stored.decline_reason == "不予受理") == (stored.state == LegalState.DECLINED)
    [event] = AuditEvent.objects.filter(event_type=LegalEvent.TRANSITION)
    assert event.old == {"state": LegalState.CONSULTATION}
    assert event.new["state"] == stored.state
    assert OutboundSms.objects.filter(template="case_progress").count() == 1
    assert list(audit.verify()) == []
