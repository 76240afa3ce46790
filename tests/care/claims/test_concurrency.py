"""Claims decided at the same moment, on PostgreSQL: real connections, real row locks.
Two reviewers acting on one claim, or two claims using up one annual cap, cannot both succeed."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings

from care import audit
from care.claims import services
from care.claims.models import Claim, ClaimState, Invoice
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import OutboundSms
from tests.care.claims.helpers import enrol, file_claim, invoice, make_plan, reviewed, reviewer
from tests.concurrency import race
from tests.factories import WorkerFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]
D = Decimal



@pytest.mark.parametrize("attempt", range(3))
def test_approve_and_reject_at_once_one_wins(attempt):
    first = reviewer()
    claim, first = reviewed(file_claim(invoices=[invoice(f"C{attempt}00000001", "4800.00")]), first)
    from care.permissions import grant_case

    other = reviewer()
    grant_case(case=claim.case, user=other)
    outcomes = race(
        lambda: services.claim_transition(claim=claim, actor=first, transition="approve", expected_amount="2000.00"),
        lambda: services.claim_transition(claim=claim, actor=other, transition="reject", message="不符合"),
    )
    won = [o for o in outcomes if isinstance(o, Claim)]
    lost = [o for o in outcomes if not isinstance(o, Claim)]
    assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], InvalidState), outcomes
    stored = Claim.objects.get(pk=claim.pk)
    assert stored.state == won[0].state in (ClaimState.APPROVED, ClaimState.REJECTED)
    assert (stored.approved_amount is not None) == (stored.state == ClaimState.APPROVED)
    decided = [e for e in audit.events_for(stored) if e.new.get("transition") in ("approve", "reject")]
    assert len(decided) == 1
    assert OutboundSms.objects.filter(template__in=["claim_approved", "claim_update"]).count() == 1
    assert list(audit.verify()) == []


@override_settings(CLAIMS_SECOND_APPROVAL_ABOVE="5000.00")
@pytest.mark.parametrize("attempt", range(3))
def test_two_second_reviewers_at_once_one_approves(attempt):
    claim, first = reviewed(file_claim(invoices=[invoice(f"S{attempt}00000001", "20800.00")]), reviewer())
    claim = services.claim_transition(claim=claim, actor=first, transition="approve")
    assert claim.state == ClaimState.SECOND_APPROVAL
    a, b = reviewer(), reviewer()
    outcomes = race(
        lambda: services.claim_transition(claim=claim, actor=a, transition="approve_second"),
        lambda: services.claim_transition(claim=claim, actor=b, transition="approve_second"),
    )
    won = [o for o in outcomes if isinstance(o, Claim)]
    # the loser finds the claim approved: no longer waiting for a second approval, so not theirs to act on
    assert len(won) == 1 and all(isinstance(o, (InvalidState, NotAllowed)) for o in outcomes if o not in won), outcomes
    stored = Claim.objects.get(pk=claim.pk)
    assert stored.state == ClaimState.APPROVED and stored.second_approver_id == won[0].second_approver_id
    assert OutboundSms.objects.filter(template="claim_approved").count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_claims_using_up_one_annual_cap_cannot_both_be_approved(attempt):
    plan = make_plan(annual_cap="10000.00", per_claim_cap="10000.00", deductible="0.00", waiting_days=0,
                     ratios={"inpatient": "1"})
    worker = WorkerFactory()
    enrolment = enrol(worker, plan)
    one, handler = reviewed(file_claim(enrolment=enrolment, invoices=[invoice(f"U{attempt}00000001", "6000.00")]))
    two, _ = reviewed(file_claim(enrolment=enrolment, invoices=[invoice(f"U{attempt}00000002", "6000.00")]), handler)
    # each reviewer saw 6,000.00 payable: the cap leaves room for only one of them
    outcomes = race(
        lambda: services.claim_transition(claim=one, actor=handler, transition="approve", expected_amount="6000.00"),
        lambda: services.claim_transition(claim=two, actor=handler, transition="approve", expected_amount="6000.00"),
    )
    won = [o for o in outcomes if isinstance(o, Claim)]
    lost = [o for o in outcomes if not isinstance(o, Claim)]
    assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], InvalidState), outcomes
    assert lost[0].detail == {"payable": "4000.00"}  # what is left of the cap, shown to the reviewer
    approved = Claim.objects.filter(enrolment__worker=worker, state=ClaimState.APPROVED)
    assert sum(c.approved_amount for c in approved) == D("6000.00")
    # approving the rest of the cap, as now shown, works
    loser = Claim.objects.get(pk=(two if won[0].pk == one.pk else one).pk)
    loser = services.claim_transition(claim=loser, actor=handler, transition="approve", expected_amount="4000.00")
    assert loser.approved_amount == D("4000.00")


@pytest.mark.parametrize("attempt", range(3))
def test_one_invoice_in_two_claims_filed_at_once_is_accepted_once(attempt):
    plan = make_plan()
    a, b = enrol(WorkerFactory(), plan), enrol(WorkerFactory(), plan)
    number = f"DUP{attempt}0000001"
    outcomes = race(
        lambda: file_claim(enrolment=a, invoices=[invoice(number, "900.00")]),
        lambda: file_claim(enrolment=b, invoices=[invoice(number, "900.00")]),
    )
    won = [o for o in outcomes if isinstance(o, Claim)]
    lost = [o for o in outcomes if not isinstance(o, Claim)]
    assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], InvalidInput), outcomes
    assert lost[0].detail["number"] == "duplicate"  # "already claimed" (in the thread's language)
    assert Invoice.objects.filter(number=number).count() == 1
    assert Claim.objects.count() == 1  # the losing filing left nothing behind
