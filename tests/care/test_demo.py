"""The demo data (bin/demo): every department's seeder runs through the services, and twice is
the same as once."""

import io

import pytest
from django.core.management import call_command

from care import audit
from care.claims.models import Claim, ClaimState, PaymentBatch
from care.models import Case, User
from counseling.models import Appointment, GroupSession, GroupSignup, SignupState
from legal.models import LegalCase

pytestmark = pytest.mark.django_db


def test_seed_demo_fills_every_department_and_is_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
    assert User.objects.filter(username__in=["frontdesk", "claims", "reviewer", "manager"]).count() == 4
    assert LegalCase.objects.count() >= 4
    states = set(Claim.objects.values_list("state", flat=True))
    assert {ClaimState.SUBMITTED, ClaimState.INFO_REQUESTED, ClaimState.SECOND_APPROVAL, ClaimState.APPROVED,
            ClaimState.REJECTED, ClaimState.PAID} <= states
    assert PaymentBatch.objects.filter(state="paid").count() == 1
    assert Appointment.objects.count() == 2
    assert GroupSession.objects.count() == 2
    places = sorted(GroupSignup.objects.values_list("worker__mobile", "state"))
    assert ("+8613800000001", SignupState.BOOKED) in places  # the demo worker has a seat
    assert SignupState.WAITLISTED in {state for _mobile, state in places}
    cases = Case.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert Case.objects.count() == cases and Appointment.objects.count() == 2 and GroupSignup.objects.count() == 4
    assert list(audit.verify()) == []
