"""The legal aid lifecycle, end to end: every transition of ``legal_transition`` (allowed and
refused, by whom, with what it needs), the hall case following it, its audit event and its SMS;
the deadlines the law sets and the date rules behind them; the employer's credit code; the case
details, claims and notes; the legal pages, the REST API and the daily deadline task."""

import datetime
import json
from decimal import Decimal
from html import unescape

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from care import audit, sms
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import AuditEvent, Case, OutboundSms, Stage
from care.permissions import grant_case
from care.roles import Role
from care.tasks_runtime import ensure_daily_tasks
from legal import deadlines, services
from legal.models import (
    FINAL_STATES,
    OPEN_STATES,
    ClaimKind,
    ClaimLine,
    Deadline,
    DeadlineRule,
    Document,
    DocumentKind,
    LegalCase,
    LegalState,
    Note,
)
from legal.services import CONDITION_MESSAGES, LegalEvent, legal_transition
from legal.tasks import flag_deadlines
from legal.validators import normalize_credit_code
from tests.factories import CaseFactory, WorkerFactory, staff

pytestmark = pytest.mark.django_db

S = LegalState
NOTE_TEXT = "雇主私下承认欠薪-NOTE-6631"
SETTLE_NEEDS = "Upload the mediation agreement signed by both parties first."
OFFICER_MOBILE = "+8613900000077"
VIEW_EVENTS = ["case.viewed", LegalEvent.NOTES_VIEWED]  # reading a page is audited, and changes nothing


# --- building state ----------------------------------------------------------------------------


def today() -> datetime.date:
    return timezone.localdate()


def days(n: int) -> datetime.date:
    return today() + datetime.timedelta(days=n)


@pytest.fixture
def officer():
    return staff(Role.LEGAL_OFFICER, "legal", mobile=OFFICER_MOBILE)


@pytest.fixture
def worker():
    return WorkerFactory(name="王强")


def agreement(legal_case, *, signed=True, kind=DocumentKind.AGREEMENT) -> Document:
    return Document.objects.create(legal_case=legal_case, kind=kind, filename="调解协议.pdf",
                                   content_type="application/pdf", size=5, sha256="0" * 64, content="JVBERi0=",
                                   uploaded_by=legal_case.case.assignee, signed_complete=signed)


def make(officer, state=S.CONSULTATION, *, worker=None, ready=True, stage=Stage.IN_PROGRESS, **fields) -> LegalCase:
    """A legal case built directly in ``state``, on a hall case taken up by ``officer``. ``ready``:
    it has what every condition asks for (employer, a claim, a signed mediation agreement)."""
    case = CaseFactory(department="legal", stage=stage, assignee=officer, **({"worker": worker} if worker else {}))
    grant_case(case=case, user=officer)
    if ready:
        fields.setdefault("employer_name", "青岛某机械有限公司")
    legal_case = LegalCase.objects.create(case=case, state=state, **fields)
    if ready:
        ClaimLine.objects.create(legal_case=legal_case, kind=ClaimKind.WAGES, amount=Decimal("18000.00"))
        agreement(legal_case)
    return legal_case


def fresh(legal_case) -> LegalCase:
    return LegalCase.objects.select_related("case").get(pk=legal_case.pk)


def snapshot(legal_case):
    """Everything a refused call must leave as it was."""
    return (
        list(LegalCase.objects.filter(pk=legal_case.pk).values()),
        list(Case.objects.filter(pk=legal_case.case_id).values("stage", "closed_at", "assignee_id")),
        list(Deadline.objects.filter(legal_case=legal_case).order_by("pk").values()),
        list(ClaimLine.objects.filter(legal_case=legal_case).order_by("pk").values()),
        Note.objects.filter(legal_case=legal_case).count(),
        AuditEvent.objects.exclude(event_type__in=VIEW_EVENTS).count(),
        OutboundSms.objects.count(),
        DBTaskResult.objects.count(),
    )


def transitions_of(legal_case):
    return AuditEvent.objects.filter(event_type=LegalEvent.TRANSITION, subject_type="legal.legalcase",
                                     subject_id=str(legal_case.pk)).order_by("seq")


def browser(user=None, language="en") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user)
    return client


def text(response) -> str:
    return unescape(response.content.decode())


def post_json(client, url, data=None):
    return client.post(url, data=json.dumps(data or {}), content_type="application/json")


# --- every transition -----------------------------------------------------------------------------

# transition: (the states it starts from, the state it ends in)
LIFECYCLE = {
    "accept_aid": ([S.CONSULTATION], S.AID_ACCEPTED),
    "decline": ([S.CONSULTATION], S.DECLINED),
    "start_mediation": ([S.AID_ACCEPTED], S.MEDIATION),
    "settle": ([S.MEDIATION], S.SETTLED),
    "fail_mediation": ([S.MEDIATION], S.MEDIATION_FAILED),
    "prepare_application": ([S.AID_ACCEPTED, S.MEDIATION_FAILED], S.APPLICATION_PREPARING),
    "file_application": ([S.APPLICATION_PREPARING], S.APPLICATION_FILED),
    "committee_accept": ([S.APPLICATION_FILED], S.COMMITTEE_ACCEPTED),
    "issue_award": ([S.HEARD], S.AWARD_ISSUED),
    "refer_to_litigation": ([S.AWARD_ISSUED], S.LITIGATION),
    "close": ([S.SETTLED, S.AWARD_ISSUED, S.LITIGATION], S.CLOSED),
    "withdraw": (list(OPEN_STATES), S.WITHDRAWN),
}
ARGS = {"decline": {"reason": "不属于劳动争议受理范围"}, "refer_to_litigation": {"appealed_by": "employer"}}
HALL_STAGE_AFTER = {S.CLOSED: Stage.CLOSED, S.DECLINED: Stage.CLOSED, S.WITHDRAWN: Stage.WITHDRAWN}

ALLOWED = [
    pytest.param(t, source, actor, id=f"{t}-from-{source}-by-{actor}")
    for t, (sources, _) in LIFECYCLE.items()
    for source in sources
    for actor in (("officer", "worker") if t == "withdraw" else ("officer",))
]
WRONG_STATE = [
    pytest.param(t, state, id=f"{t}-from-{state}")
    for t, (sources, _) in LIFECYCLE.items()
    for state in S.values
    if state not in sources
]


def test_the_table_covers_every_transition_the_service_offers():
    assert set(LIFECYCLE) == set(services.TRANSITIONS)
    assert {s for s in S.values if s not in FINAL_STATES} == set(OPEN_STATES)


@pytest.mark.parametrize(("transition", "source", "actor"), ALLOWED)
def test_allowed_transition_moves_audits_follows_in_the_hall_and_tells_the_worker(officer, worker, transition,
                                                                                   source, actor):
    legal_case = make(officer, source, worker=worker)
    case = legal_case.case
    user = officer if actor == "officer" else worker.user
    sms_before = OutboundSms.objects.count()

    result = legal_transition(legal_case=legal_case, actor=user, transition=transition, **ARGS.get(transition, {}))

    target = LIFECYCLE[transition][1]
    assert result.state == target
    stored = fresh(legal_case)
    assert stored.state == target
    # The hall's case follows: it ends when the legal case ends, and not before.
    case.refresh_from_db()
    assert case.stage == HALL_STAGE_AFTER.get(target, Stage.IN_PROGRESS)
    assert (case.closed_at is not None) == (target in HALL_STAGE_AFTER)
    # One audit event with the old and the new state.
    [event] = transitions_of(legal_case)
    assert (event.actor, event.old, event.new) == (user, {"state": source},
                                                  {"state": target, "transition": transition})
    assert list(audit.verify()) == []
    # One SMS to the worker: the reference and the hall's link, never the service's name; and,
    # when the case ends with the service given (closed, declined), the satisfaction survey.
    closes = HALL_STAGE_AFTER.get(target) == Stage.CLOSED
    assert OutboundSms.objects.count() == sms_before + 1 + closes
    assert OutboundSms.objects.filter(template="survey_invite").count() == closes
    [message] = OutboundSms.objects.filter(template="case_progress")
    assert (message.to, message.worker) == (worker.mobile, worker)
    assert case.reference in message.body
    assert f"{settings.SITE_URL}/cases/{case.pk}/" in message.body
    for word in ("legal", "法律", "仲裁", "/legal/"):
        assert word not in message.body.lower()
    assert sms.contains_sensitive_word(message.body) is None


def test_the_step_arguments_are_stored(officer):
    declined = make(officer, S.CONSULTATION)
    legal_transition(legal_case=declined, actor=officer, transition="decline", reason="  超过仲裁时效  ")
    assert fresh(declined).decline_reason == "超过仲裁时效"

    appealed = make(officer, S.AWARD_ISSUED)
    legal_transition(legal_case=appealed, actor=officer, transition="refer_to_litigation", appealed_by="worker")
    assert fresh(appealed).award_appealed_by == "worker"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_progress_sms_names_nothing_in_either_language(officer, language):
    worker = WorkerFactory()
    worker.user.language = language
    worker.user.save(update_fields=["language"])
    legal_case = make(officer, S.APPLICATION_FILED, worker=worker)

    legal_transition(legal_case=legal_case, actor=officer, transition="committee_accept")

    [message] = OutboundSms.objects.filter(template="case_progress")
    assert message.language == language
    assert legal_case.case.reference in message.body
    assert message.body.endswith(f"{settings.SITE_URL}/cases/{legal_case.case_id}/")
    assert sms.contains_sensitive_word(message.body) is None


@pytest.mark.parametrize(("transition", "state"), WRONG_STATE)
def test_transition_from_a_wrong_state_is_refused_and_changes_nothing(officer, transition, state):
    legal_case = make(officer, state)
    before = snapshot(legal_case)

    with pytest.raises(InvalidState):
        legal_transition(legal_case=legal_case, actor=officer, transition=transition, **ARGS.get(transition, {}))

    assert snapshot(legal_case) == before


def test_an_unknown_transition_is_refused(officer):
    legal_case = make(officer)
    before = snapshot(legal_case)
    for name in ("schedule_hearing", "record_hearing", "save", "delete", ""):
        with pytest.raises(InvalidInput):
            legal_transition(legal_case=legal_case, actor=officer, transition=name)
    assert snapshot(legal_case) == before


# --- conditions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("paper", ["none", "unsigned agreement", "signed evidence"])
def test_settle_needs_a_mediation_agreement_signed_by_all(officer, paper):
    legal_case = make(officer, S.MEDIATION, ready=False, employer_name="某公司")
    if paper == "unsigned agreement":
        agreement(legal_case, signed=False)
    elif paper == "signed evidence":
        agreement(legal_case, kind=DocumentKind.EVIDENCE)
    before = snapshot(legal_case)

    with pytest.raises(InvalidState) as refused:
        legal_transition(legal_case=legal_case, actor=officer, transition="settle")

    assert str(refused.value.message) == str(CONDITION_MESSAGES["settle"])
    assert snapshot(legal_case) == before

    agreement(legal_case)
    assert legal_transition(legal_case=legal_case, actor=officer, transition="settle").state == S.SETTLED


@pytest.mark.parametrize("missing", ["employer", "claims", "both"])
def test_filing_needs_the_employer_and_a_claim(officer, missing):
    legal_case = make(officer, S.APPLICATION_PREPARING, ready=False,
                      employer_name="" if missing in ("employer", "both") else "某公司")
    if missing == "employer":
        ClaimLine.objects.create(legal_case=legal_case, kind=ClaimKind.OVERTIME, amount=Decimal("800.00"))
    before = snapshot(legal_case)

    with pytest.raises(InvalidState) as refused:
        legal_transition(legal_case=legal_case, actor=officer, transition="file_application")

    assert str(refused.value.message) == str(CONDITION_MESSAGES["file_application"])
    assert snapshot(legal_case) == before


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_decline_needs_a_reason(officer, reason):
    legal_case = make(officer)
    before = snapshot(legal_case)
    with pytest.raises(InvalidInput):
        legal_transition(legal_case=legal_case, actor=officer, transition="decline", reason=reason)
    assert snapshot(legal_case) == before


def test_the_worker_sees_why_aid_was_declined(officer, worker):
    legal_case = make(officer, worker=worker)
    response = browser(officer).post(f"/legal/cases/{legal_case.pk}/step/decline/",
                                     {"reason": "争议已超过一年仲裁时效"})
    assert response.status_code == 302
    assert fresh(legal_case).state == S.DECLINED

    page = text(browser(worker.user).get(f"/legal/cases/{legal_case.pk}/"))
    assert "Aid declined" in page
    assert "争议已超过一年仲裁时效" in page


@pytest.mark.parametrize("appealed_by", ["", "nobody", "Worker"])
def test_referral_to_litigation_needs_the_party_that_appealed(officer, appealed_by):
    legal_case = make(officer, S.AWARD_ISSUED)
    before = snapshot(legal_case)
    with pytest.raises(InvalidInput):
        legal_transition(legal_case=legal_case, actor=officer, transition="refer_to_litigation",
                         appealed_by=appealed_by)
    assert snapshot(legal_case) == before


# --- who may move a case ------------------------------------------------------------------------


@pytest.mark.parametrize("state", OPEN_STATES)
def test_another_worker_may_not_withdraw(officer, state):
    legal_case = make(officer, state)
    stranger = WorkerFactory().user
    before = snapshot(legal_case)
    with pytest.raises(NotAllowed):
        legal_transition(legal_case=legal_case, actor=stranger, transition="withdraw")
    assert snapshot(legal_case) == before


@pytest.mark.parametrize("transition", [t for t in LIFECYCLE if t != "withdraw"])
def test_the_worker_may_take_no_step_but_withdraw(officer, worker, transition):
    legal_case = make(officer, LIFECYCLE[transition][0][0], worker=worker)
    before = snapshot(legal_case)
    with pytest.raises(NotAllowed):
        legal_transition(legal_case=legal_case, actor=worker.user, transition=transition,
                         **ARGS.get(transition, {}))
    assert snapshot(legal_case) == before


OUTSIDERS = {
    "legal officer not on the case": lambda: staff(Role.LEGAL_OFFICER, "legal"),
    "mediator not assigned": lambda: staff(Role.MEDIATOR, "legal"),
    "counselor": lambda: staff(Role.COUNSELOR, "counseling"),
    "front desk": lambda: staff(Role.FRONT_DESK),
    "arbitrator": lambda: staff(Role.ARBITRATOR),
    "center manager": lambda: staff(Role.CENTER_MANAGER),
    "administrator": lambda: staff(Role.ADMINISTRATOR, is_staff=True, is_superuser=True),
}


@pytest.mark.parametrize("outsider", OUTSIDERS)
@pytest.mark.parametrize("transition", ["accept_aid", "decline", "withdraw"])
def test_no_one_outside_the_legal_team_moves_a_case(officer, outsider, transition):
    legal_case = make(officer)
    user = OUTSIDERS[outsider]()
    before = snapshot(legal_case)
    with pytest.raises(NotAllowed):
        legal_transition(legal_case=legal_case, actor=user, transition=transition, **ARGS.get(transition, {}))
    assert snapshot(legal_case) == before


def test_a_counselor_granted_the_case_is_still_not_the_legal_team(officer):
    legal_case = make(officer)
    counselor = staff(Role.COUNSELOR, "counseling")
    grant_case(case=legal_case.case, user=counselor)
    with pytest.raises(NotAllowed):
        legal_transition(legal_case=legal_case, actor=counselor, transition="accept_aid")


def test_a_mediator_granted_the_case_is_on_the_team(officer):
    legal_case = make(officer, S.AID_ACCEPTED)
    mediator = staff(Role.MEDIATOR, "legal")
    grant_case(case=legal_case.case, user=mediator)
    assert legal_transition(legal_case=legal_case, actor=mediator, transition="start_mediation").state == S.MEDIATION


def test_the_worker_may_withdraw_after_the_hall_case_was_closed(officer, worker):
    """The assigned officer can close the hall's case (/cases/<id>/close/) while the legal case
    is still open; the worker's withdrawal must not then crash on the hall's transition."""
    legal_case = make(officer, S.MEDIATION, worker=worker)
    Case.objects.filter(pk=legal_case.case_id).update(stage=Stage.CLOSED, closed_at=timezone.now())

    response = browser(worker.user).post(f"/legal/cases/{legal_case.pk}/step/withdraw/")

    assert response.status_code == 302
    assert fresh(legal_case).state == S.WITHDRAWN
    assert fresh(legal_case).case.stage == Stage.CLOSED


def test_a_whole_case_through_mediation_to_arbitration(officer, worker):
    legal_case = make(officer, worker=worker, ready=False)
    services.legal_case_update_details(legal_case=legal_case, actor=officer, employer_name="某公司",
                                       dispute_date=days(-30))
    services.claim_add(legal_case=legal_case, actor=officer, kind=ClaimKind.WAGES, amount="21000")
    for step in ("accept_aid", "start_mediation", "fail_mediation", "prepare_application", "file_application",
                 "committee_accept"):
        legal_transition(legal_case=legal_case, actor=officer, transition=step)
    LegalCase.objects.filter(pk=legal_case.pk).update(state=S.HEARD)  # the hearings module's part
    for step in ("issue_award", "close"):
        legal_transition(legal_case=legal_case, actor=officer, transition=step)

    assert fresh(legal_case).state == S.CLOSED
    assert fresh(legal_case).case.stage == Stage.CLOSED
    assert [e.new["transition"] for e in transitions_of(legal_case)] == [
        "accept_aid", "start_mediation", "fail_mediation", "prepare_application", "file_application",
        "committee_accept", "issue_award", "close"]
    assert OutboundSms.objects.filter(template="case_progress").count() == 8
    assert set(Deadline.objects.filter(legal_case=legal_case).values_list("rule", flat=True)) == set(
        DeadlineRule.values)
    assert not Deadline.objects.filter(legal_case=legal_case, met_at__isnull=True).exists()
    assert list(audit.verify()) == []


# --- deadline effects ---------------------------------------------------------------------------


def deadline(legal_case, rule) -> Deadline:
    return Deadline.objects.get(legal_case=legal_case, rule=rule)


def open_deadline(legal_case, rule, start=None, **fields) -> Deadline:
    start = start or today()
    return Deadline.objects.create(legal_case=legal_case, rule=rule, starts_on=start,
                                   due_on=deadlines.due_date(rule, start), **fields)


def test_start_mediation_starts_the_fifteen_days(officer):
    legal_case = make(officer, S.AID_ACCEPTED)
    legal_transition(legal_case=legal_case, actor=officer, transition="start_mediation")
    d = deadline(legal_case, DeadlineRule.MEDIATION)
    assert (d.starts_on, d.due_on, d.met_at, d.extended) == (today(), days(15), None, False)


@pytest.mark.parametrize("transition", ["settle", "fail_mediation"])
def test_the_end_of_mediation_meets_its_deadline(officer, transition):
    legal_case = make(officer, S.MEDIATION)
    open_deadline(legal_case, DeadlineRule.MEDIATION)
    legal_transition(legal_case=legal_case, actor=officer, transition=transition)
    assert deadline(legal_case, DeadlineRule.MEDIATION).met_at is not None


def test_filing_meets_the_limitation_period_and_starts_acceptance(officer):
    legal_case = make(officer, S.APPLICATION_PREPARING)
    open_deadline(legal_case, DeadlineRule.LIMITATION, start=days(-200))
    legal_transition(legal_case=legal_case, actor=officer, transition="file_application")
    assert deadline(legal_case, DeadlineRule.LIMITATION).met_at is not None
    acceptance = deadline(legal_case, DeadlineRule.ACCEPTANCE)
    assert (acceptance.starts_on, acceptance.due_on, acceptance.met_at) == (today(), days(5), None)


def test_committee_acceptance_meets_acceptance_and_starts_the_award_period(officer):
    legal_case = make(officer, S.APPLICATION_FILED)
    open_deadline(legal_case, DeadlineRule.ACCEPTANCE, start=days(-2))
    legal_transition(legal_case=legal_case, actor=officer, transition="committee_accept")
    assert deadline(legal_case, DeadlineRule.ACCEPTANCE).met_at is not None
    award = deadline(legal_case, DeadlineRule.AWARD)
    assert (award.starts_on, award.due_on, award.met_at) == (today(), days(45), None)


def test_the_award_meets_its_period_and_starts_the_days_for_court(officer):
    legal_case = make(officer, S.HEARD)
    open_deadline(legal_case, DeadlineRule.AWARD, start=days(-20))
    legal_transition(legal_case=legal_case, actor=officer, transition="issue_award")
    assert deadline(legal_case, DeadlineRule.AWARD).met_at is not None
    court = deadline(legal_case, DeadlineRule.COURT)
    assert (court.starts_on, court.due_on, court.met_at) == (today(), days(15), None)


@pytest.mark.parametrize("transition", ["refer_to_litigation", "close"])
def test_litigation_or_closing_meets_the_days_for_court(officer, transition):
    legal_case = make(officer, S.AWARD_ISSUED)
    open_deadline(legal_case, DeadlineRule.COURT, start=days(-3))
    legal_transition(legal_case=legal_case, actor=officer, transition=transition, **ARGS.get(transition, {}))
    assert deadline(legal_case, DeadlineRule.COURT).met_at is not None


def test_the_award_period_is_extended_once_by_fifteen_days(officer):
    legal_case = make(officer, S.COMMITTEE_ACCEPTED)
    original = open_deadline(legal_case, DeadlineRule.AWARD).due_on

    extended = services.deadline_extend_award(legal_case=legal_case, actor=officer)

    assert (extended.due_on, extended.extended) == (original + datetime.timedelta(days=15), True)
    [event] = AuditEvent.objects.filter(event_type=LegalEvent.DEADLINE_EXTENDED)
    assert event.new == {"rule": "award", "due_on": extended.due_on.isoformat()}
    before = snapshot(legal_case)
    with pytest.raises(InvalidState):
        services.deadline_extend_award(legal_case=legal_case, actor=officer)
    assert snapshot(legal_case) == before
    assert deadline(legal_case, DeadlineRule.AWARD).due_on == original + datetime.timedelta(days=15)


def test_no_award_period_to_extend(officer):
    legal_case = make(officer, S.APPLICATION_FILED)
    with pytest.raises(InvalidState):
        services.deadline_extend_award(legal_case=legal_case, actor=officer)
    open_deadline(legal_case, DeadlineRule.AWARD, met_at=timezone.now())
    with pytest.raises(InvalidState):
        services.deadline_extend_award(legal_case=legal_case, actor=officer)


def test_only_the_team_changes_deadlines(officer, worker):
    legal_case = make(officer, S.COMMITTEE_ACCEPTED, worker=worker)
    open_deadline(legal_case, DeadlineRule.AWARD)
    open_deadline(legal_case, DeadlineRule.LIMITATION, start=days(-100))
    before = snapshot(legal_case)
    for user in (worker.user, staff(Role.LEGAL_OFFICER, "legal")):
        for service in (services.deadline_extend_award, services.limitation_suspend, services.limitation_resume):
            with pytest.raises(NotAllowed):
                service(legal_case=legal_case, actor=user)
    assert snapshot(legal_case) == before


def test_suspending_the_limitation_period_adds_the_days_it_stood_still(officer):
    legal_case = make(officer, S.AID_ACCEPTED)
    original = open_deadline(legal_case, DeadlineRule.LIMITATION, start=days(-300)).due_on

    services.limitation_suspend(legal_case=legal_case, actor=officer, on=days(-20))
    assert deadline(legal_case, DeadlineRule.LIMITATION).suspended_on == days(-20)
    resumed = services.limitation_resume(legal_case=legal_case, actor=officer, on=days(-8))
    assert (resumed.suspended_on, resumed.suspended_days, resumed.due_on) == (
        None, 12, original + datetime.timedelta(days=12))

    services.limitation_suspend(legal_case=legal_case, actor=officer, on=days(-5))
    resumed = services.limitation_resume(legal_case=legal_case, actor=officer)  # today
    assert (resumed.suspended_days, resumed.due_on) == (17, original + datetime.timedelta(days=17))
    events = AuditEvent.objects.filter(event_type__startswith="legal.deadline_").order_by("seq")
    assert [e.event_type for e in events] == [LegalEvent.DEADLINE_SUSPENDED, LegalEvent.DEADLINE_RESUMED] * 2


def test_resuming_needs_a_suspension_and_cannot_go_back_in_time(officer):
    legal_case = make(officer, S.AID_ACCEPTED)
    open_deadline(legal_case, DeadlineRule.LIMITATION, start=days(-300))
    before = snapshot(legal_case)
    with pytest.raises(InvalidState):
        services.limitation_resume(legal_case=legal_case, actor=officer)
    assert snapshot(legal_case) == before

    services.limitation_suspend(legal_case=legal_case, actor=officer, on=days(-3))
    with pytest.raises(InvalidState):
        services.limitation_suspend(legal_case=legal_case, actor=officer)  # already suspended
    before = snapshot(legal_case)
    with pytest.raises(InvalidInput):
        services.limitation_resume(legal_case=legal_case, actor=officer, on=days(-4))
    assert snapshot(legal_case) == before


def test_no_running_limitation_period_to_suspend(officer):
    legal_case = make(officer, S.AID_ACCEPTED)
    with pytest.raises(InvalidState):
        services.limitation_suspend(legal_case=legal_case, actor=officer)
    open_deadline(legal_case, DeadlineRule.LIMITATION, start=days(-300), met_at=timezone.now())
    with pytest.raises(InvalidState):
        services.limitation_suspend(legal_case=legal_case, actor=officer)


# --- legal/deadlines.py: the date rules -----------------------------------------------------------

D = datetime.date


@pytest.mark.parametrize(("day", "years", "expected"), [
    (D(2024, 2, 29), 1, D(2025, 2, 28)),
    (D(2024, 2, 29), 4, D(2028, 2, 29)),
    (D(2023, 2, 28), 1, D(2024, 2, 28)),
    (D(2023, 3, 1), 1, D(2024, 3, 1)),
    (D(2023, 1, 31), 1, D(2024, 1, 31)),
    (D(2024, 4, 30), 1, D(2025, 4, 30)),
    (D(2025, 12, 31), 1, D(2026, 12, 31)),
    (D(2026, 1, 1), 1, D(2027, 1, 1)),
    (D(2025, 2, 28), -1, D(2024, 2, 28)),
])
def test_add_years(day, years, expected):
    assert deadlines.add_years(day, years) == expected


@pytest.mark.parametrize(("rule", "start", "due"), [
    (DeadlineRule.LIMITATION, D(2025, 6, 10), D(2026, 6, 10)),
    (DeadlineRule.LIMITATION, D(2024, 2, 29), D(2025, 2, 28)),
    (DeadlineRule.MEDIATION, D(2026, 1, 20), D(2026, 2, 4)),
    (DeadlineRule.MEDIATION, D(2026, 2, 20), D(2026, 3, 7)),
    (DeadlineRule.ACCEPTANCE, D(2026, 12, 29), D(2027, 1, 3)),
    (DeadlineRule.AWARD, D(2026, 1, 1), D(2026, 2, 15)),
    (DeadlineRule.AWARD, D(2024, 1, 20), D(2024, 3, 5)),  # across a leap February
    (DeadlineRule.COURT, D(2026, 2, 20), D(2026, 3, 7)),
])
def test_due_date(rule, start, due):
    assert deadlines.due_date(rule, start) == due


def test_due_date_of_an_unknown_rule():
    with pytest.raises(ValueError):
        deadlines.due_date("hearing", D(2026, 1, 1))


@pytest.mark.parametrize(("rule", "due", "warn"), [
    (DeadlineRule.LIMITATION, D(2026, 3, 1), D(2025, 12, 31)),
    (DeadlineRule.MEDIATION, D(2026, 3, 1), D(2026, 2, 26)),
    (DeadlineRule.ACCEPTANCE, D(2026, 1, 2), D(2025, 12, 30)),
    (DeadlineRule.AWARD, D(2026, 3, 1), D(2026, 2, 26)),
    (DeadlineRule.COURT, D(2026, 3, 1), D(2026, 2, 26)),
])
def test_warn_from(rule, due, warn):
    assert deadlines.warn_from(rule, due) == warn


@pytest.mark.parametrize(("ahead", "enough"), [(-1, False), (0, False), (4, False), (5, True), (6, True),
                                               (30, True)])
def test_enough_notice_for_a_hearing(ahead, enough):
    now = D(2026, 12, 29)
    assert deadlines.enough_notice(now + datetime.timedelta(days=ahead), now) is enough


# --- the employer's unified social credit code ----------------------------------------------------


@pytest.mark.parametrize(("given", "stored"), [
    ("91370200163562681G", "91370200163562681G"),
    ("91110000100006485K", "91110000100006485K"),
    ("91370200163562681g", "91370200163562681G"),
    ("  91110000100006485k ", "91110000100006485K"),
])
def test_real_credit_codes_are_accepted(given, stored):
    assert normalize_credit_code(given) == stored


@pytest.mark.parametrize("code", [
    "91370200163562681H",  # wrong check character
    "91370200163562681A",
    "91110000100006485J",
    "91370200163562680G",  # a changed digit
    "9137020016356I681G",  # I, O, S, V, Z are never used
    "9137020016356O681G",
    "9137020016356S681G",
    "9137020016356V681G",
    "9137020016356Z681G",
    "91370200163562681",  # 17 characters
    "91370200163562681GG",  # 19
    "",
    "９１３７０２００１６３５６２６８１Ｇ",  # full-width
    "91370200-63562681G",
])
def test_wrong_credit_codes_are_refused(code):
    with pytest.raises(InvalidInput):
        normalize_credit_code(code)


# --- case details ----------------------------------------------------------------------------------


def test_details_are_saved_and_audited(officer):
    legal_case = make(officer, ready=False)
    services.legal_case_update_details(
        legal_case=legal_case, actor=officer, employer_name="青岛某港口公司", employer_credit_code="91370200163562681g",
        employment_start=D(2020, 3, 1), employment_end=D(2025, 1, 31), dispute_type="dismissal")
    stored = fresh(legal_case)
    assert (stored.employer_name, stored.employer_credit_code, stored.dispute_type) == (
        "青岛某港口公司", "91370200163562681G", "dismissal")
    [event] = AuditEvent.objects.filter(event_type=LegalEvent.DETAILS_CHANGED)
    assert event.new == {"fields": ["dispute_type", "employer_credit_code", "employer_name", "employment_end",
                                    "employment_start"]}


BAD_DETAILS = {
    "credit code": lambda: {"employer_credit_code": "91370200163562681H"},
    "credit code with O": lambda: {"employer_credit_code": "9137020016356O681G"},
    "end before start": lambda: {"employment_start": D(2024, 5, 1), "employment_end": D(2024, 4, 30)},
    "future dispute": lambda: {"dispute_date": days(1)},
    "dispute type": lambda: {"dispute_type": "astrology"},
    "the state": lambda: {"state": "closed"},
    "the decline reason": lambda: {"decline_reason": "x"},
}


@pytest.mark.parametrize("bad", BAD_DETAILS)
def test_bad_details_are_refused_with_nothing_saved(officer, bad):
    fields = {"employer_name": "某公司", "dispute_date": days(-5), **BAD_DETAILS[bad]()}
    legal_case = make(officer, ready=False)
    before = snapshot(legal_case)
    with pytest.raises(InvalidInput):
        services.legal_case_update_details(legal_case=legal_case, actor=officer, **fields)
    assert snapshot(legal_case) == before


def test_employment_end_is_checked_against_the_stored_start(officer):
    legal_case = make(officer, ready=False, employment_start=D(2024, 5, 1))
    with pytest.raises(InvalidInput):
        services.legal_case_update_details(legal_case=legal_case, actor=officer, employment_end=D(2024, 1, 1))


def test_only_the_team_edits_details(officer, worker):
    legal_case = make(officer, worker=worker, ready=False)
    before = snapshot(legal_case)
    for user in (worker.user, staff(Role.LEGAL_OFFICER, "legal"), staff(Role.ARBITRATOR)):
        with pytest.raises(NotAllowed):
            services.legal_case_update_details(legal_case=legal_case, actor=user, employer_name="x")
    assert snapshot(legal_case) == before


def test_the_dispute_date_sets_the_limitation_period_one_year_later(officer):
    legal_case = make(officer, ready=False)
    services.legal_case_update_details(legal_case=legal_case, actor=officer, dispute_date=today())
    d = deadline(legal_case, DeadlineRule.LIMITATION)
    assert (d.starts_on, d.due_on, d.met_at) == (today(), deadlines.add_years(today(), 1), None)

    services.legal_case_update_details(legal_case=legal_case, actor=officer, dispute_date=D(2024, 2, 29))
    [d] = Deadline.objects.filter(legal_case=legal_case)
    assert (d.rule, d.starts_on, d.due_on) == (DeadlineRule.LIMITATION, D(2024, 2, 29), D(2025, 2, 28))


def test_correcting_the_dispute_date_keeps_a_met_limitation_period_met(officer):
    """Once the application is filed the limitation period is met; correcting the dispute date
    afterwards must not reopen it (the daily task would warn about a period already met)."""
    legal_case = make(officer, S.APPLICATION_PREPARING)
    services.legal_case_update_details(legal_case=legal_case, actor=officer, dispute_date=days(-100))
    legal_transition(legal_case=legal_case, actor=officer, transition="file_application")
    assert deadline(legal_case, DeadlineRule.LIMITATION).met_at is not None

    services.legal_case_update_details(legal_case=legal_case, actor=officer, dispute_date=days(-90))

    assert deadline(legal_case, DeadlineRule.LIMITATION).met_at is not None


def test_correcting_the_dispute_date_keeps_the_suspended_days(officer):
    legal_case = make(officer, S.AID_ACCEPTED)
    services.legal_case_update_details(legal_case=legal_case, actor=officer, dispute_date=days(-300))
    services.limitation_suspend(legal_case=legal_case, actor=officer, on=days(-30))
    services.limitation_resume(legal_case=legal_case, actor=officer, on=days(-20))

    services.legal_case_update_details(legal_case=legal_case, actor=officer, dispute_date=days(-290))

    d = deadline(legal_case, DeadlineRule.LIMITATION)
    assert d.suspended_days == 10
    assert d.due_on == deadlines.add_years(days(-290), 1) + datetime.timedelta(days=10)


# --- claims ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "stored"), [
    ("18000.456", Decimal("18000.46")),
    ("18000", Decimal("18000.00")),
    (18000, Decimal("18000.00")),
    (Decimal("0.01"), Decimal("0.01")),
    ("1e3", Decimal("1000.00")),
    (" 250.5 ", Decimal("250.50")),
    ("9999999999.99", Decimal("9999999999.99")),
    (0.1 + 0.2, Decimal("0.30")),
])
def test_claim_amounts_are_decimal_yuan_to_the_fen(officer, amount, stored):
    legal_case = make(officer, ready=False)
    line = services.claim_add(legal_case=legal_case, actor=officer, kind=ClaimKind.WAGES, amount=amount,
                              note=" 2025年10-12月 ")
    line = ClaimLine.objects.get(pk=line.pk)
    assert type(line.amount) is Decimal
    assert line.amount == stored
    assert line.amount.as_tuple().exponent == -2
    assert line.note == "2025年10-12月"
    [event] = AuditEvent.objects.filter(event_type=LegalEvent.CLAIM_ADDED)
    assert event.new["amount"] == str(stored)


@pytest.mark.parametrize("amount", ["-1", "-0.01", "0", "0.00", "0.004", "abc", "", "NaN", "Infinity", "-Infinity",
                                    "1e10", "10000000000", None, "18,000", "¥100"])
def test_bad_claim_amounts_are_refused(officer, amount):
    legal_case = make(officer, ready=False)
    before = snapshot(legal_case)
    with pytest.raises(InvalidInput):
        services.claim_add(legal_case=legal_case, actor=officer, kind=ClaimKind.WAGES, amount=amount)
    assert snapshot(legal_case) == before


def test_claims_need_a_known_kind_and_the_team(officer, worker):
    legal_case = make(officer, worker=worker, ready=False)
    before = snapshot(legal_case)
    with pytest.raises(InvalidInput):
        services.claim_add(legal_case=legal_case, actor=officer, kind="damages", amount="100")
    with pytest.raises(NotAllowed):
        services.claim_add(legal_case=legal_case, actor=worker.user, kind=ClaimKind.WAGES, amount="100")
    assert snapshot(legal_case) == before


def test_a_claim_is_removed_by_the_team_only(officer, worker):
    legal_case = make(officer, worker=worker, ready=False)
    line = services.claim_add(legal_case=legal_case, actor=officer, kind=ClaimKind.OVERTIME, amount="800")
    line_id = line.pk
    with pytest.raises(NotAllowed):
        services.claim_remove(line=line, actor=worker.user)
    assert ClaimLine.objects.filter(pk=line.pk).exists()
    services.claim_remove(line=line, actor=officer)
    assert not ClaimLine.objects.filter(pk=line_id).exists()
    [event] = AuditEvent.objects.filter(event_type=LegalEvent.CLAIM_REMOVED)
    assert event.old == {"claim": line_id, "kind": "overtime", "amount": "800.00"}


# --- notes ----------------------------------------------------------------------------------------


def test_only_the_legal_team_adds_notes(officer, worker):
    legal_case = make(officer, worker=worker)
    mediator = staff(Role.MEDIATOR, "legal")
    grant_case(case=legal_case.case, user=mediator)
    arbitrator = staff(Role.ARBITRATOR)
    grant_case(case=legal_case.case, user=arbitrator)
    before = snapshot(legal_case)
    for user in (worker.user, staff(Role.LEGAL_OFFICER, "legal"), arbitrator, staff(Role.COUNSELOR, "counseling"),
                 staff(Role.FRONT_DESK)):
        with pytest.raises(NotAllowed):
            services.note_add(legal_case=legal_case, actor=user, body=NOTE_TEXT)
    with pytest.raises(InvalidInput):
        services.note_add(legal_case=legal_case, actor=officer, body="  \n ")
    assert snapshot(legal_case) == before

    services.note_add(legal_case=legal_case, actor=officer, body=NOTE_TEXT)
    services.note_add(legal_case=legal_case, actor=mediator, body="调解员意见")
    assert Note.objects.filter(legal_case=legal_case).count() == 2
    assert AuditEvent.objects.filter(event_type=LegalEvent.NOTE_ADDED).count() == 2
    assert not any(NOTE_TEXT in json.dumps(e.new, ensure_ascii=False) for e in AuditEvent.objects.all())


def test_notes_are_encrypted_in_the_database(officer):
    legal_case = make(officer)
    note = services.note_add(legal_case=legal_case, actor=officer, body=NOTE_TEXT)
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM legal_note WHERE id = %s", [note.pk])
        [(raw,)] = cursor.fetchall()
    raw = raw.decode() if isinstance(raw, bytes | memoryview) else str(raw)
    assert raw and NOTE_TEXT not in raw and "NOTE-6631" not in raw
    assert Note.objects.get(pk=note.pk).body == NOTE_TEXT


def test_the_worker_and_an_arbitrator_never_see_notes_and_the_team_reading_them_is_audited(officer, worker):
    legal_case = make(officer, worker=worker)
    services.note_add(legal_case=legal_case, actor=officer, body=NOTE_TEXT)
    arbitrator = staff(Role.ARBITRATOR)
    grant_case(case=legal_case.case, user=arbitrator)
    url = f"/legal/cases/{legal_case.pk}/"

    for user in (worker.user, arbitrator):
        response = browser(user).get(url)
        assert response.status_code == 200
        assert NOTE_TEXT not in text(response)
        assert "Caseworker notes" not in text(response)
    assert not AuditEvent.objects.filter(event_type=LegalEvent.NOTES_VIEWED).exists()

    page = text(browser(officer).get(url))
    assert NOTE_TEXT in page
    [event] = AuditEvent.objects.filter(event_type=LegalEvent.NOTES_VIEWED)
    assert (event.actor, event.subject_id) == (officer, str(legal_case.pk))


def test_a_note_is_added_on_the_page(officer):
    legal_case = make(officer)
    response = browser(officer).post(f"/legal/cases/{legal_case.pk}/notes/", {"body": NOTE_TEXT}, follow=True)
    assert "The note is saved." in text(response)
    assert NOTE_TEXT in text(response)
    assert Note.objects.get(legal_case=legal_case).author == officer


# --- pages ----------------------------------------------------------------------------------------


def references_in(page: str, *legal_cases) -> list[str]:
    found = [(page.index(lc.case.reference), lc.case.reference) for lc in legal_cases if lc.case.reference in page]
    return [ref for _, ref in sorted(found)]


@pytest.fixture
def queue(officer):
    """Four open cases of the officer (deadlines in 20 and 2 days, one missed, none), one closed,
    and one of another officer."""
    soon = make(officer, S.MEDIATION)
    open_deadline(soon, DeadlineRule.MEDIATION, start=days(-13))  # due in 2 days
    later = make(officer, S.AID_ACCEPTED)
    Deadline.objects.create(legal_case=later, rule=DeadlineRule.LIMITATION, starts_on=days(-345), due_on=days(20))
    missed = make(officer, S.APPLICATION_FILED)
    open_deadline(missed, DeadlineRule.ACCEPTANCE, start=days(-7))  # due 2 days ago
    Deadline.objects.create(legal_case=missed, rule=DeadlineRule.LIMITATION, starts_on=days(-300),
                            due_on=days(-1), met_at=timezone.now())
    none = make(officer, S.CONSULTATION)
    closed = make(officer, S.CLOSED)
    open_deadline(closed, DeadlineRule.COURT)
    others = make(staff(Role.LEGAL_OFFICER, "legal"), S.MEDIATION)
    open_deadline(others, DeadlineRule.MEDIATION)
    return {"soon": soon, "later": later, "missed": missed, "none": none, "closed": closed, "others": others}


def test_the_queue_lists_the_teams_open_cases_soonest_deadline_first(officer, queue):
    page = text(browser(officer).get("/legal/"))
    q = queue
    assert q["closed"].case.reference not in page
    assert q["others"].case.reference not in page
    assert references_in(page, *q.values()) == [q[k].case.reference for k in ("missed", "soon", "later", "none")]


@pytest.mark.parametrize(("query", "expected"), [
    ("state=mediation", ["soon"]),
    ("state=consultation", ["none"]),
    ("state=closed", []),
    ("due_within=0", ["missed"]),
    ("due_within=2", ["missed", "soon"]),
    ("due_within=30", ["missed", "soon", "later"]),
    ("state=aid_accepted&due_within=30", ["later"]),
])
def test_the_queue_filters(officer, queue, query, expected):
    page = text(browser(officer).get(f"/legal/?{query}"))
    shown = sorted(k for k, lc in queue.items() if lc.case.reference in page)
    assert shown == sorted(expected)


def test_the_queue_is_for_the_legal_staff(worker, officer):
    assert browser(worker.user).get("/legal/").status_code == 403
    assert browser(staff(Role.ARBITRATOR)).get("/legal/").status_code == 403
    assert browser(staff(Role.COUNSELOR, "counseling")).get("/legal/").status_code == 403
    assert Client().get("/legal/").status_code == 302
    assert browser(staff(Role.MEDIATOR, "legal")).get("/legal/").status_code == 200


def step_actions(page: str, legal_case) -> set[str]:
    prefix = f'action="/legal/cases/{legal_case.pk}/step/'
    return {chunk.split("/", 1)[0] for chunk in page.split(prefix)[1:]}


def test_the_case_page_offers_only_the_steps_the_user_may_take(officer, worker):
    legal_case = make(officer, S.CONSULTATION, worker=worker)
    url = f"/legal/cases/{legal_case.pk}/"
    assert step_actions(text(browser(officer).get(url)), legal_case) == {"accept_aid", "decline", "withdraw"}
    worker_page = text(browser(worker.user).get(url))
    assert step_actions(worker_page, legal_case) == {"withdraw"}
    assert "Accept for legal aid" not in worker_page

    LegalCase.objects.filter(pk=legal_case.pk).update(state=S.AWARD_ISSUED)
    assert step_actions(text(browser(officer).get(url)), legal_case) == {"refer_to_litigation", "close", "withdraw"}
    LegalCase.objects.filter(pk=legal_case.pk).update(state=S.CLOSED)
    assert step_actions(text(browser(officer).get(url)), legal_case) == set()
    assert step_actions(text(browser(worker.user).get(url)), legal_case) == set()


def test_a_step_whose_condition_is_not_met_is_shown_disabled_with_the_reason(officer):
    legal_case = make(officer, S.MEDIATION, ready=False)
    page = text(browser(officer).get(f"/legal/cases/{legal_case.pk}/"))
    assert "settle" in step_actions(page, legal_case)
    assert SETTLE_NEEDS in page
    assert "disabled" in page


@pytest.mark.parametrize(("state", "step", "message"), [
    (S.CONSULTATION, "start_mediation", "This cannot be done at the case's current stage."),
    (S.CLOSED, "withdraw", "This cannot be done at the case's current stage."),
    (S.MEDIATION, "settle", SETTLE_NEEDS),
    (S.CONSULTATION, "decline", "Tell the worker why aid is declined."),
    (S.CONSULTATION, "no_such_step", "Unknown step."),
])
def test_a_refused_step_on_the_page_shows_why_and_changes_nothing(officer, state, step, message):
    legal_case = make(officer, state, ready=False)
    before = snapshot(legal_case)
    response = browser(officer).post(f"/legal/cases/{legal_case.pk}/step/{step}/", follow=True)
    assert response.redirect_chain[0] == (f"/legal/cases/{legal_case.pk}/", 302)
    assert message in text(response)
    assert snapshot(legal_case) == before
    assert not transitions_of(legal_case).exists()


def test_a_step_on_the_page_moves_the_case(officer):
    legal_case = make(officer, S.CONSULTATION)
    response = browser(officer).post(f"/legal/cases/{legal_case.pk}/step/accept_aid/", follow=True)
    assert "Done: Accept for legal aid." in text(response)
    assert fresh(legal_case).state == S.AID_ACCEPTED


def test_someone_elses_case_page_is_not_found(officer):
    legal_case = make(officer)
    for user in (WorkerFactory().user, staff(Role.LEGAL_OFFICER, "legal"), staff(Role.ARBITRATOR),
                 staff(Role.FRONT_DESK), staff(Role.CENTER_MANAGER)):
        assert browser(user).get(f"/legal/cases/{legal_case.pk}/").status_code == 404
        assert browser(user).post(f"/legal/cases/{legal_case.pk}/step/withdraw/").status_code == 404
    assert fresh(legal_case).state == S.CONSULTATION


def test_the_legal_team_opens_the_file_of_a_new_request(officer, worker):
    case = CaseFactory(worker=worker, department="legal", stage=Stage.RECEIVED)
    client = browser(officer)

    confirm = client.get(f"/legal/file/{case.pk}/")
    assert confirm.status_code == 200
    assert "Open the legal aid file" in text(confirm)
    assert not LegalCase.objects.exists()

    response = client.post(f"/legal/file/{case.pk}/")
    legal_case = LegalCase.objects.get(case=case)
    assert response.status_code == 302 and response["Location"] == f"/legal/cases/{legal_case.pk}/"
    case.refresh_from_db()
    assert (case.stage, case.assignee, legal_case.state) == (Stage.IN_PROGRESS, officer, S.CONSULTATION)
    assert AuditEvent.objects.filter(event_type=LegalEvent.OPENED, subject_id=str(legal_case.pk)).count() == 1

    again = client.post(f"/legal/file/{case.pk}/")  # the existing file
    assert again["Location"] == f"/legal/cases/{legal_case.pk}/"
    assert LegalCase.objects.count() == 1


def test_a_worker_is_sent_to_the_existing_file_or_finds_none(officer, worker):
    without = CaseFactory(worker=worker, department="legal", stage=Stage.IN_PROGRESS, assignee=officer)
    assert browser(worker.user).get(f"/legal/file/{without.pk}/").status_code == 404
    assert browser(worker.user).post(f"/legal/file/{without.pk}/").status_code == 404
    assert not LegalCase.objects.exists()

    legal_case = make(officer, worker=worker)
    response = browser(worker.user).get(f"/legal/file/{legal_case.case_id}/")
    assert response.status_code == 302 and response["Location"] == f"/legal/cases/{legal_case.pk}/"
    assert browser(WorkerFactory().user).get(f"/legal/file/{legal_case.case_id}/").status_code == 404


def test_a_file_is_opened_only_for_the_legal_department(officer):
    case = CaseFactory(department="counseling", stage=Stage.RECEIVED)
    with pytest.raises(InvalidInput):
        services.legal_case_open(case=case, actor=officer)
    assert not LegalCase.objects.exists()


# --- the REST API ---------------------------------------------------------------------------------


def api(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def test_the_api_lists_only_the_users_cases(officer, worker):
    mine = make(officer, S.MEDIATION, worker=worker)
    open_deadline(mine, DeadlineRule.MEDIATION)
    other = make(staff(Role.LEGAL_OFFICER, "legal"), S.CONSULTATION)

    rows = api(officer).get("/api/v1/legal/cases/").json()["results"]
    assert [r["id"] for r in rows] == [mine.pk]
    assert rows[0]["reference"] == mine.case.reference
    assert rows[0]["next_due"] == days(15).isoformat()
    assert rows[0]["claims"][0]["amount"] == "18000.00"
    assert [r["id"] for r in api(worker.user).get("/api/v1/legal/cases/").json()["results"]] == [mine.pk]
    assert api(WorkerFactory().user).get("/api/v1/legal/cases/").json()["results"] == []
    assert [r["id"] for r in api(officer).get("/api/v1/legal/cases/?state=consultation").json()["results"]] == []
    assert other.pk not in [r["id"] for r in api(officer).get("/api/v1/legal/cases/").json()["results"]]
    assert Client().get("/api/v1/legal/cases/").status_code == 403


def test_the_api_lists_cases_without_a_deadline_last(officer):
    none = make(officer, S.CONSULTATION)
    soon = make(officer, S.MEDIATION)
    open_deadline(soon, DeadlineRule.MEDIATION)
    rows = api(officer).get("/api/v1/legal/cases/").json()["results"]
    assert [r["id"] for r in rows] == [soon.pk, none.pk]


def test_the_api_retrieves_a_case_for_its_readers_only(officer, worker):
    legal_case = make(officer, worker=worker)
    url = f"/api/v1/legal/cases/{legal_case.pk}/"
    assert api(officer).get(url).json()["state"] == "consultation"
    body = api(worker.user).get(url)
    assert body.status_code == 200 and body.json()["id"] == legal_case.pk
    for user in (WorkerFactory().user, staff(Role.LEGAL_OFFICER, "legal"), staff(Role.ARBITRATOR)):
        refused = api(user).get(url)
        assert refused.status_code == 404 and refused.json()["code"] == "not_found"


def test_the_api_steps(officer, worker):
    legal_case = make(officer, S.CONSULTATION, worker=worker)
    url = f"/api/v1/legal/cases/{legal_case.pk}/step/"

    forbidden = post_json(api(worker.user), url, {"transition": "accept_aid"})
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
    wrong = post_json(api(officer), url, {"transition": "start_mediation"})
    assert wrong.status_code == 409
    assert wrong.json() == {"code": "invalid_state", "message": "This cannot be done at the case's current stage.",
                            "detail": {}}
    no_reason = post_json(api(officer), url, {"transition": "decline"})
    assert no_reason.status_code == 400 and no_reason.json()["code"] == "invalid"
    unknown = post_json(api(officer), url, {"transition": "schedule_hearing"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "invalid"
    assert not transitions_of(legal_case).exists()

    done = post_json(api(officer), url, {"transition": "accept_aid"})
    assert done.status_code == 200 and done.json()["state"] == "aid_accepted"
    withdrawn = post_json(api(worker.user), url, {"transition": "withdraw"})
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert post_json(api(WorkerFactory().user), url, {"transition": "withdraw"}).status_code == 404


def test_the_api_refuses_a_condition_with_its_message(officer):
    legal_case = make(officer, S.APPLICATION_PREPARING, ready=False)
    response = post_json(api(officer), f"/api/v1/legal/cases/{legal_case.pk}/step/",
                         {"transition": "file_application"})
    assert response.status_code == 409
    assert response.json()["message"] == "Enter the employer and at least one claim before filing the application."


def test_the_api_edits_details(officer, worker):
    legal_case = make(officer, worker=worker, ready=False)
    url = f"/api/v1/legal/cases/{legal_case.pk}/details/"
    bad = post_json(api(officer), url, {"employer_name": "某公司", "employer_credit_code": "91370200163562681H"})
    assert bad.status_code == 400
    assert set(bad.json()) == {"code", "message", "detail"} and bad.json()["code"] == "invalid"
    assert "check character" in bad.json()["message"]
    assert fresh(legal_case).employer_name == ""
    assert post_json(api(officer), url, {"dispute_date": "2999-01-01"}).status_code == 400
    assert post_json(api(worker.user), url, {"employer_name": "x"}).status_code == 403

    good = post_json(api(officer), url, {"employer_name": "某公司", "employer_credit_code": "91110000100006485k",
                                         "dispute_date": days(-10).isoformat()})
    assert good.status_code == 200, good.content
    body = good.json()
    assert (body["employer_credit_code"], body["dispute_date"]) == ("91110000100006485K", days(-10).isoformat())
    assert [d["rule"] for d in body["deadlines"]] == ["limitation"]


def test_the_api_adds_claims(officer, worker):
    legal_case = make(officer, worker=worker, ready=False)
    url = f"/api/v1/legal/cases/{legal_case.pk}/claims/"
    added = post_json(api(officer), url, {"kind": "wages", "amount": "18000.5", "note": "三个月"})
    assert added.status_code == 201 and added.json()["amount"] == "18000.50"
    negative = post_json(api(officer), url, {"kind": "wages", "amount": "-5"})
    assert negative.status_code == 400 and negative.json()["code"] == "invalid"
    assert post_json(api(officer), url, {"kind": "wages", "amount": "abc"}).status_code == 400
    assert post_json(api(worker.user), url, {"kind": "wages", "amount": "5"}).status_code == 403
    assert ClaimLine.objects.filter(legal_case=legal_case).count() == 1


def test_the_api_adds_notes_for_the_team_and_hides_them_from_everyone_else(officer, worker):
    legal_case = make(officer, worker=worker)
    url = f"/api/v1/legal/cases/{legal_case.pk}/notes/"
    arbitrator = staff(Role.ARBITRATOR)
    grant_case(case=legal_case.case, user=arbitrator)
    for user in (worker.user, arbitrator, WorkerFactory().user):
        assert post_json(api(user), url, {"body": NOTE_TEXT}).status_code == 404
    assert post_json(api(officer), url, {"body": ""}).status_code == 400
    assert not Note.objects.exists()
    assert post_json(api(officer), url, {"body": NOTE_TEXT}).status_code == 201
    assert Note.objects.get().body == NOTE_TEXT
    for user in (worker.user, arbitrator, officer):
        assert NOTE_TEXT not in api(user).get(f"/api/v1/legal/cases/{legal_case.pk}/").content.decode()


def test_the_api_opens_a_file(officer, worker):
    case = CaseFactory(worker=worker, department="legal", stage=Stage.RECEIVED)
    assert post_json(api(worker.user), "/api/v1/legal/cases/open/", {"case_id": case.pk}).status_code == 403
    assert post_json(api(WorkerFactory().user), "/api/v1/legal/cases/open/", {"case_id": case.pk}).status_code == 404
    assert post_json(api(officer), "/api/v1/legal/cases/open/", {"case_id": "x"}).status_code == 400
    assert not LegalCase.objects.exists()

    opened = post_json(api(officer), "/api/v1/legal/cases/open/", {"case_id": case.pk})
    assert opened.status_code == 201
    assert (opened.json()["state"], opened.json()["reference"]) == ("consultation", case.reference)
    assert LegalCase.objects.get().case == case


# --- the daily deadline task ----------------------------------------------------------------------


def staff_sms():
    return list(OutboundSms.objects.filter(template="staff_deadline").order_by("pk"))


def test_a_near_deadline_warns_the_assigned_caseworker_once_a_day(officer):
    legal_case = make(officer, S.MEDIATION)
    d = open_deadline(legal_case, DeadlineRule.MEDIATION, start=days(-13))  # due in 2 days

    assert flag_deadlines.call() == 1

    [message] = staff_sms()
    assert (message.to, message.worker) == (OFFICER_MOBILE, None)
    assert legal_case.case.reference in message.body and days(2).isoformat() in message.body
    assert f"{settings.SITE_URL}/cases/{legal_case.case_id}/" in message.body
    assert sms.contains_sensitive_word(message.body) is None
    d.refresh_from_db()
    assert d.last_warned_on == today()

    assert flag_deadlines.call() == 0
    assert len(staff_sms()) == 1


@pytest.mark.parametrize(("rule", "due_in", "warned"), [
    (DeadlineRule.MEDIATION, 4, False),
    (DeadlineRule.MEDIATION, 3, True),
    (DeadlineRule.MEDIATION, 0, True),
    (DeadlineRule.MEDIATION, -5, True),  # missed: still told
    (DeadlineRule.AWARD, 10, False),
    (DeadlineRule.LIMITATION, 61, False),
    (DeadlineRule.LIMITATION, 60, True),
    (DeadlineRule.LIMITATION, 30, True),
])
def test_the_warning_window(officer, rule, due_in, warned):
    legal_case = make(officer, S.MEDIATION)
    Deadline.objects.create(legal_case=legal_case, rule=rule, starts_on=days(-100), due_on=days(due_in))
    flag_deadlines.call()
    assert len(staff_sms()) == int(warned)


@pytest.mark.parametrize("case", ["met", "suspended", "closed", "declined", "withdrawn", "warned today"])
def test_no_warning_for_what_needs_no_attention(officer, case):
    state = {"closed": S.CLOSED, "declined": S.DECLINED, "withdrawn": S.WITHDRAWN}.get(case, S.MEDIATION)
    legal_case = make(officer, state)
    Deadline.objects.create(
        legal_case=legal_case, rule=DeadlineRule.MEDIATION, starts_on=days(-14), due_on=days(1),
        met_at=timezone.now() if case == "met" else None,
        suspended_on=days(-1) if case == "suspended" else None,
        last_warned_on=today() if case == "warned today" else None)
    flag_deadlines.call()
    assert staff_sms() == []


def test_a_deadline_warned_yesterday_is_warned_again(officer):
    legal_case = make(officer, S.MEDIATION)
    d = Deadline.objects.create(legal_case=legal_case, rule=DeadlineRule.MEDIATION, starts_on=days(-14),
                                due_on=days(1), last_warned_on=days(-1))
    flag_deadlines.call()
    assert len(staff_sms()) == 1
    d.refresh_from_db()
    assert d.last_warned_on == today()


def test_a_caseworker_without_a_mobile_is_not_texted(officer):
    silent = staff(Role.LEGAL_OFFICER, "legal")
    legal_case = make(silent, S.MEDIATION)
    d = open_deadline(legal_case, DeadlineRule.MEDIATION, start=days(-14))
    assert flag_deadlines.call() == 1
    assert OutboundSms.objects.count() == 0
    d.refresh_from_db()
    assert d.last_warned_on == today()


def test_each_caseworker_hears_of_their_own_deadlines(officer):
    other = staff(Role.LEGAL_OFFICER, "legal", mobile="+8613900000088")
    for who in (officer, other):
        open_deadline(make(who, S.MEDIATION), DeadlineRule.MEDIATION, start=days(-14))
    flag_deadlines.call()
    assert sorted(m.to for m in staff_sms()) == sorted([OFFICER_MOBILE, "+8613900000088"])


@pytest.mark.parametrize(("now", "runs_at"), [
    (datetime.datetime(2026, 12, 29, 6, 0), datetime.datetime(2026, 12, 29, 7, 30)),
    (datetime.datetime(2026, 12, 29, 7, 30), datetime.datetime(2026, 12, 30, 7, 30)),
    (datetime.datetime(2026, 12, 31, 23, 0), datetime.datetime(2027, 1, 1, 7, 30)),
])
def test_the_daily_task_is_queued_once(now, runs_at):
    path = "legal.tasks.flag_deadlines"
    now = timezone.make_aware(now)

    ensure_daily_tasks(now=now)

    [queued] = DBTaskResult.objects.filter(task_path=path)
    assert timezone.localtime(queued.run_after).replace(tzinfo=None) == runs_at
    assert ensure_daily_tasks(now=now) == 0
    assert DBTaskResult.objects.filter(task_path=path).count() == 1


# --- representatives ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_legal_team_adds_representatives_and_others_cannot():
    from legal.models import Representative

    officer = staff(Role.LEGAL_OFFICER, "legal")
    case = CaseFactory(department="legal", assignee=officer, stage="in_progress")
    grant_case(case=case, user=officer)
    legal_case = LegalCase.objects.create(case=case, state="mediation")

    rep = services.representative_add(legal_case=legal_case, actor=officer, side="employer", name=" 张经理 ",
                                       mobile="139 0000 0099")
    assert (rep.side, rep.name, rep.mobile) == ("employer", "张经理", "+8613900000099")
    assert AuditEvent.objects.filter(event_type="legal.representative_added").count() == 1

    with pytest.raises(NotAllowed):
        services.representative_add(legal_case=legal_case, actor=case.worker.user, side="worker", name="李四")
    with pytest.raises(InvalidInput):
        services.representative_add(legal_case=legal_case, actor=officer, side="employer", name="王五", mobile="123")
    with pytest.raises(InvalidInput):
        services.representative_add(legal_case=legal_case, actor=officer, side="judge", name="王五")
    assert Representative.objects.count() == 1
