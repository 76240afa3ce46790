"""The demo data (bin/demo): every department's seeder runs through the services, and twice is
the same as once."""

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from care import audit
from care.claims.models import Claim, ClaimState, PaymentBatch
from care.models import Case, User, Worker
from counseling.models import Appointment, GroupSession, GroupSignup, ServiceKind, SignupState
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
    group, workshop = GroupSession.objects.order_by("starts_at")
    assert (group.service.kind, workshop.service.kind) == (ServiceKind.GROUP, ServiceKind.WORKSHOP)
    assert {group.facilitator.username, workshop.facilitator.username} == {"counselor"}
    assert group.starts_at > timezone.now() and group.room == workshop.room
    assert sorted(group.signups.values_list("state", flat=True)) == [SignupState.BOOKED] * 3
    assert group.signups.filter(worker__mobile="+8613800000001").exists()  # the demo worker has a seat
    assert sorted(workshop.signups.values_list("state", flat=True)) == [
        SignupState.BOOKED, SignupState.BOOKED, SignupState.WAITLISTED]  # full, one waits
    client = Client()
    client.force_login(Worker.objects.get(mobile="+8613800000001").user)
    page = client.get(reverse("counseling:groups")).content.decode()
    assert group.title in page and workshop.title in page
    cases = Case.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert Case.objects.count() == cases and Appointment.objects.count() == 2 and GroupSignup.objects.count() == 6
    assert GroupSession.objects.count() == 2
    assert list(audit.verify()) == []
