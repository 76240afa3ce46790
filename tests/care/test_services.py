"""The hall's services: registering workers, filing requests and the case lifecycle.

Every refusal is checked to leave the row, the audit log and the post-commit pushes as they were.
"""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone, translation

from care import audit, services
from care.audit import CareEvent
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import AuditEvent, Case, Channel, ReferenceCounter, Stage, User, Worker
from care.roles import Role
from tests.factories import CaseFactory, WorkerFactory, staff

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year
ID_NUMBER = "11010519491231002X"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def worker():
    return WorkerFactory()


@pytest.fixture
def front_desk():
    return staff(Role.FRONT_DESK)


@pytest.fixture
def officer():
    return staff(Role.LEGAL_OFFICER, "legal")


@pytest.fixture
def colleague():
    return staff(Role.LEGAL_OFFICER, "legal")


@pytest.fixture
def received(worker):
    return CaseFactory(worker=worker, department="legal")


@pytest.fixture
def in_progress(worker, officer):
    return CaseFactory(worker=worker, department="legal", stage=Stage.IN_PROGRESS, assignee=officer)


def state_of(case: Case) -> tuple:
    """What a refused call must leave as it was."""
    row = Case.objects.get(pk=case.pk)
    return row.stage, row.assignee_id, row.closed_at, AuditEvent.objects.count()


def events(event_type) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type))


@pytest.fixture
def refused(django_capture_on_commit_callbacks):
    """Run a call that must be refused; check that it changed nothing and scheduled nothing."""

    def check(error, call, case):
        before = state_of(case)
        with django_capture_on_commit_callbacks() as callbacks, pytest.raises(error):
            call()
        assert state_of(case) == before
        assert callbacks == []

    return check


# --- worker_register ---------------------------------------------------------------------------

def register(actor, **overrides):
    fields = {"name": " 王芳 ", "mobile": "139 1234 5678", "national_id": ID_NUMBER.lower(), "employer": "青岛啤酒"}
    return services.worker_register(actor=actor, **{**fields, **overrides})


def test_worker_register_makes_a_worker_account_without_a_password(front_desk):
    worker = register(front_desk)

    worker.refresh_from_db()
    assert (worker.name, worker.mobile, worker.national_id) == ("王芳", "+8613912345678", ID_NUMBER)
    assert worker.national_id_index == Worker.index_for(ID_NUMBER)
    assert ID_NUMBER not in worker.national_id_index
    assert worker.user.roles == {Role.WORKER}
    assert not worker.user.has_usable_password()
    [event] = events(CareEvent.WORKER_REGISTERED)
    assert (event.actor, event.subject_id, event.new) == (front_desk, str(worker.pk), {"by": "front_desk"})


def test_a_worker_registering_themselves_is_recorded_as_self():
    worker = register(AnonymousUser())
    [event] = events(CareEvent.WORKER_REGISTERED)
    assert (event.actor, event.subject_id, event.new) == (None, str(worker.pk), {"by": "self"})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mobile": "+86 139-1234-5678", "national_id": "370202199003071233"}, "mobile number is already"),
        ({"mobile": "13712345678"}, "ID number is already"),
        ({"name": "  "}, "name"),
        ({"name": "王" * 51}, "name"),
        ({"mobile": "05328888888"}, "mobile number"),
        ({"national_id": "11010519491231002"}, "18 characters"),
    ],
)
def test_worker_register_refuses_bad_or_duplicate_details_and_creates_nothing(front_desk, overrides, message):
    register(front_desk)
    before = (User.objects.count(), Worker.objects.count(), AuditEvent.objects.count())

    with pytest.raises(InvalidInput, match=message):
        register(front_desk, **overrides)
    assert (User.objects.count(), Worker.objects.count(), AuditEvent.objects.count()) == before


# --- request_file ------------------------------------------------------------------------------

def file(actor, worker, **overrides):
    return services.request_file(
        actor=actor, worker=worker, **{"department": "legal", "description": "公司拖欠三个月工资", **overrides}
    )


def test_a_worker_files_for_themselves_online(worker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        case = file(worker.user, worker)

    case.refresh_from_db()
    assert (case.worker, case.filed_by, case.channel, case.stage) == (worker, worker.user, Channel.ONLINE,
                                                                      Stage.RECEIVED)
    assert case.description == "公司拖欠三个月工资"
    assert len(callbacks) == 1  # the queue push, after commit


def test_the_front_desk_files_for_a_walk_in(worker, front_desk):
    case = file(front_desk, worker)
    assert (case.worker, case.filed_by, case.channel) == (worker, front_desk, Channel.FRONT_DESK)


@pytest.mark.parametrize("role", [Role.WORKER, Role.LEGAL_OFFICER, Role.CENTER_MANAGER])
def test_nobody_else_may_file_for_a_worker(worker, role, django_capture_on_commit_callbacks):
    other = WorkerFactory().user if role == Role.WORKER else staff(role, "legal")
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(NotAllowed):
        file(other, worker)
    assert not Case.objects.exists()
    assert not AuditEvent.objects.exists()
    assert not ReferenceCounter.objects.exists()
    assert callbacks == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"department": "astrology"}, "Choose one of the hall's services"),
        ({"department": ""}, "Choose one of the hall's services"),
        ({"description": ""}, "Describe briefly"),
        ({"description": " \n\t "}, "Describe briefly"),
        ({"description": "欠" * 2001}, "too long"),
        ({"preferred_contact_time": "midnight"}, "contact time"),
    ],
)
def test_bad_requests_are_refused_and_create_nothing(worker, overrides, message):
    with pytest.raises(InvalidInput, match=message):
        file(worker.user, worker, **overrides)
    assert not Case.objects.exists()
    assert not AuditEvent.objects.exists()
    assert not ReferenceCounter.objects.exists()


def test_a_description_of_exactly_the_maximum_length_is_accepted(worker):
    assert len(file(worker.user, worker, description="欠" * 2000).description) == 2000


def test_references_count_up_from_one_within_the_year(worker, front_desk):
    refs = [file(actor, worker).reference for actor in (worker.user, front_desk, worker.user)]
    assert refs == [f"QD-{YEAR}-000001", f"QD-{YEAR}-000002", f"QD-{YEAR}-000003"]
    assert ReferenceCounter.objects.get(prefix="QD", year=YEAR).last == 3


@pytest.mark.parametrize(("department", "days"), [("legal", 3), ("counseling", 2), ("matchmaking", 7)])
def test_due_date_is_the_departments_response_time_after_opening(worker, department, days):
    case = file(worker.user, worker, department=department)
    case.refresh_from_db()
    assert case.due_at - case.opened_at == datetime.timedelta(days=days)
    assert abs(timezone.now() - case.opened_at) < datetime.timedelta(minutes=1)


def test_filing_is_audited_without_the_description(worker):
    case = file(worker.user, worker, description="老板拒发加班费-PRIVATE")

    [event] = events(CareEvent.CASE_FILED)
    assert (event.actor, event.subject_type, event.subject_id) == (worker.user, "care.case", str(case.pk))
    assert event.old == {}
    assert event.new == {"stage": "received", "department": "legal", "channel": "online"}
    assert "PRIVATE" not in f"{event.old}{event.new}"
    assert list(audit.verify()) == []


def test_a_rolled_back_filing_leaves_no_case_no_event_and_gives_its_number_back(
    worker, django_capture_on_commit_callbacks
):
    file(worker.user, worker)
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            file(worker.user, worker)
            raise RuntimeError("the caller fails after filing")

    assert Case.objects.count() == 1
    assert AuditEvent.objects.count() == 1
    assert ReferenceCounter.objects.get(prefix="QD", year=YEAR).last == 1
    assert callbacks == []  # no push for the request that never was
    assert file(worker.user, worker).reference == f"QD-{YEAR}-000002"
    assert list(audit.verify()) == []


# --- case_take_up ------------------------------------------------------------------------------

def test_take_up_assigns_the_case_and_grants_the_caseworker_access(received, officer):
    assert not User.objects.get(pk=officer.pk).has_perm("care.view_case", received)

    case = services.case_take_up(case=received, actor=officer)

    case.refresh_from_db()
    assert (case.stage, case.assignee) == (Stage.IN_PROGRESS, officer)
    assert User.objects.get(pk=officer.pk).has_perm("care.view_case", case)
    [event] = events(CareEvent.CASE_TAKEN_UP)
    assert event.old == {"stage": "received", "assignee": None}
    assert event.new == {"stage": "in_progress", "assignee": officer.pk}


def test_taking_up_twice_is_idempotent(received, officer):
    services.case_take_up(case=received, actor=officer)
    services.case_take_up(case=received, actor=officer)
    assert len(events(CareEvent.CASE_TAKEN_UP)) == 1


def test_another_department_may_not_take_up_a_case(received, refused):
    counselor = staff(Role.COUNSELOR, "counseling")
    refused(NotAllowed, lambda: services.case_take_up(case=received, actor=counselor), received)


@pytest.mark.parametrize("role", [Role.LEGAL_OFFICER, Role.MEDIATOR])
def test_a_case_taken_by_someone_else_cannot_be_taken_up(in_progress, role, refused):
    other = staff(role, "legal")
    refused(NotAllowed, lambda: services.case_take_up(case=in_progress, actor=other), in_progress)
    assert not User.objects.get(pk=other.pk).has_perm("care.view_case", in_progress)


@pytest.mark.parametrize("stage", [Stage.WITHDRAWN, Stage.CLOSED])
def test_a_finished_case_cannot_be_taken_up(worker, officer, stage, refused):
    case = CaseFactory(worker=worker, stage=stage, closed_at=timezone.now())
    refused(InvalidState, lambda: services.case_take_up(case=case, actor=officer), case)


# --- case_close --------------------------------------------------------------------------------

def test_the_assignee_closes_a_case(in_progress, officer):
    case = services.case_close(case=in_progress, actor=officer)

    case.refresh_from_db()
    assert case.stage == Stage.CLOSED
    assert abs(timezone.now() - case.closed_at) < datetime.timedelta(minutes=1)
    [event] = events(CareEvent.CASE_CLOSED)
    assert (event.actor, event.old, event.new) == (officer, {"stage": "in_progress"}, {"stage": "closed"})


def test_closing_a_closed_case_is_idempotent(in_progress, officer):
    services.case_close(case=in_progress, actor=officer)
    closed_at = Case.objects.get(pk=in_progress.pk).closed_at
    services.case_close(case=in_progress, actor=officer)
    assert Case.objects.get(pk=in_progress.pk).closed_at == closed_at
    assert len(events(CareEvent.CASE_CLOSED)) == 1


@pytest.mark.parametrize("who", ["colleague", "worker", "counselor"])
def test_only_the_assignee_may_close(in_progress, colleague, worker, who, refused):
    actor = {"colleague": colleague, "worker": worker.user, "counselor": staff(Role.COUNSELOR, "counseling")}[who]
    refused(NotAllowed, lambda: services.case_close(case=in_progress, actor=actor), in_progress)


def test_an_unassigned_case_cannot_be_closed(received, officer, refused):
    refused(NotAllowed, lambda: services.case_close(case=received, actor=officer), received)


def test_a_withdrawn_case_cannot_be_closed(in_progress, officer, refused):
    services.case_withdraw(case=in_progress, actor=in_progress.worker.user)
    refused(InvalidState, lambda: services.case_close(case=in_progress, actor=officer), in_progress)


# --- case_withdraw -----------------------------------------------------------------------------

@pytest.mark.parametrize("case_fixture", ["received", "in_progress"])
def test_the_worker_withdraws_an_open_request(request, case_fixture, worker, django_capture_on_commit_callbacks):
    case = request.getfixturevalue(case_fixture)
    with django_capture_on_commit_callbacks() as callbacks:
        services.case_withdraw(case=case, actor=worker.user)

    case.refresh_from_db()
    assert case.stage == Stage.WITHDRAWN
    assert case.closed_at is not None
    [event] = events(CareEvent.CASE_WITHDRAWN)
    assert (event.actor, event.old, event.new) == (worker.user, {"stage": case_fixture}, {"stage": "withdrawn"})
    assert len(callbacks) == 1


def test_withdrawing_twice_is_idempotent(received, worker):
    services.case_withdraw(case=received, actor=worker.user)
    services.case_withdraw(case=received, actor=worker.user)
    assert len(events(CareEvent.CASE_WITHDRAWN)) == 1


@pytest.mark.parametrize("who", ["other worker", "officer", "front desk"])
def test_only_the_worker_may_withdraw(received, officer, front_desk, who, refused):
    actor = {"other worker": WorkerFactory().user, "officer": officer, "front desk": front_desk}[who]
    refused(NotAllowed, lambda: services.case_withdraw(case=received, actor=actor), received)


def test_a_closed_case_cannot_be_withdrawn(in_progress, officer, worker, refused):
    services.case_close(case=in_progress, actor=officer)
    refused(InvalidState, lambda: services.case_withdraw(case=in_progress, actor=worker.user), in_progress)


# --- case_record_view ----------------------------------------------------------------------------

def test_reading_a_case_is_audited(in_progress, officer):
    services.case_record_view(case=in_progress, actor=officer)
    [event] = events(CareEvent.CASE_VIEWED)
    assert (event.actor, event.subject_id, event.old, event.new) == (officer, str(in_progress.pk), {}, {})


# --- a department's file owns how its case ends --------------------------------------------------


@pytest.mark.django_db
def test_a_case_with_a_department_file_ends_only_through_the_department(officer, refused):
    from django.test import Client

    from legal.models import LegalCase

    case = CaseFactory(department="legal", stage=Stage.IN_PROGRESS, assignee=officer)
    LegalCase.objects.create(case=case)
    refused(InvalidState, lambda: services.case_close(case=case, actor=officer), case)
    refused(InvalidState, lambda: services.case_withdraw(case=case, actor=case.worker.user), case)
    page = Client()
    page.force_login(case.worker.user)
    assert b"/withdraw/" not in page.get(f"/cases/{case.pk}/").content
    # without a file the hall closes it as before
    plain = CaseFactory(department="legal", stage=Stage.IN_PROGRESS, assignee=officer)
    assert services.case_close(case=plain, actor=officer).stage == Stage.CLOSED
