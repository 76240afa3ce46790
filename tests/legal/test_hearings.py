"""Hearings, end to end: scheduling and its refusals, moving, cancelling, outcomes moving the
legal case, who sees which hearing and case file, the SMS the parties get (and what they never
say), the pages and the API, and two schedulings racing for one arbitrator on PostgreSQL."""

import datetime
from html import unescape

import pytest
from django.conf import settings
from django.db import connection
from django.http import Http404
from django.test import Client
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from care import audit, sms
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import AuditEvent, CaseUserObjectPermission, OutboundSms, Stage
from care.permissions import grant_case
from care.roles import Role
from care.selectors import case_get_for_user
from legal import hearings
from legal.hearings import HearingEvent, Outcome
from legal.models import (
    ClaimKind,
    ClaimLine,
    Deadline,
    DeadlineRule,
    Hearing,
    HearingState,
    LegalCase,
    LegalState,
    Note,
    Representative,
)
from tests.concurrency import race
from tests.factories import CaseFactory, WorkerFactory, staff

pytestmark = pytest.mark.django_db

SECRET = "老板拖欠三个月工资-PRIVATE-5521"
NOTE_SECRET = "内部备注-NOTE-8812"
HEARING_TEMPLATES = [
    "hearing_scheduled",
    "hearing_rescheduled",
    "hearing_cancelled",
    "hearing_scheduled_party",
    "hearing_rescheduled_party",
    "hearing_cancelled_party",
    "video_join",  # the personal link to a video hearing's room (legal.video)
]


# --- building state ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _english():
    """Refusals are matched by their English text (SMS still follow each recipient's language)."""
    with translation.override("en"):
        yield


def at(days: int, hour: int = 9, minute: int = 0) -> datetime.datetime:
    """A local time ``days`` from today."""
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def slot(days: int = 10, hour: int = 9, hours: int = 2) -> dict:
    return {"starts_at": at(days, hour), "ends_at": at(days, hour + hours)}


@pytest.fixture
def officer():
    return staff(Role.LEGAL_OFFICER, "legal")


@pytest.fixture
def arbitrator():
    return staff(Role.ARBITRATOR, first_name="仲裁员甲")


@pytest.fixture
def other_arbitrator():
    return staff(Role.ARBITRATOR)


def make_legal_case(officer, state=LegalState.COMMITTEE_ACCEPTED, worker=None, **fields) -> LegalCase:
    case = CaseFactory(
        department="legal",
        assignee=officer,
        stage=Stage.IN_PROGRESS,
        description=SECRET,
        **({"worker": worker} if worker else {}),
    )
    grant_case(case=case, user=officer)
    fields.setdefault("employer_name", "青岛某制造有限公司")
    return LegalCase.objects.create(case=case, state=state, **fields)


@pytest.fixture
def legal_case(officer):
    legal_case = make_legal_case(officer)
    ClaimLine.objects.create(legal_case=legal_case, kind=ClaimKind.WAGES, amount="18000.00", note="三个月工资")
    Note.objects.create(legal_case=legal_case, author=officer, body=NOTE_SECRET)
    return legal_case


def schedule(legal_case, officer, arbitrator, **kwargs) -> Hearing:
    kwargs = {**slot(), "place": "市南区香港中路100号 3楼301室", **kwargs}
    return hearings.hearing_schedule(legal_case=legal_case, actor=officer, arbitrator=arbitrator, **kwargs)


def started(hearing: Hearing) -> Hearing:
    """Let time pass: the hearing began an hour ago (the time fields are not protected)."""
    now = timezone.now()
    Hearing.objects.filter(pk=hearing.pk).update(
        starts_at=now - datetime.timedelta(hours=1), ends_at=now + datetime.timedelta(hours=1)
    )
    return Hearing.objects.get(pk=hearing.pk)


def state_of(legal_case) -> str:
    return LegalCase.objects.get(pk=legal_case.pk).state


def granted(user, legal_case) -> bool:
    return CaseUserObjectPermission.objects.filter(user=user, content_object_id=legal_case.case_id).exists()


def snapshot(legal_case):
    """Everything a refused call must leave as it was."""
    return (
        state_of(legal_case),
        list(Hearing.objects.values_list("pk", "state", "starts_at", "ends_at", "place")),
        OutboundSms.objects.count(),
        DBTaskResult.objects.count(),
        AuditEvent.objects.exclude(event_type__endswith=".viewed").count(),
        CaseUserObjectPermission.objects.count(),
    )


def messages(template: str | None = None):
    rows = OutboundSms.objects.order_by("pk")
    return list(rows.filter(template=template) if template else rows)


# --- scheduling ------------------------------------------------------------------------------


def test_scheduling_moves_the_case_grants_the_arbitrator_audits_and_tells_the_parties(legal_case, officer, arbitrator):
    Representative.objects.create(legal_case=legal_case, side="worker", name="张律师", mobile="139 0000 0002")
    Representative.objects.create(legal_case=legal_case, side="employer", name="人事经理", mobile="")
    Representative.objects.create(legal_case=legal_case, side="employer", name="法务", mobile="not a number")
    assert not granted(arbitrator, legal_case)

    hearing = schedule(legal_case, officer, arbitrator)

    assert (hearing.state, hearing.arbitrator, hearing.short_notice_reason) == (HearingState.SCHEDULED, arbitrator, "")
    assert state_of(legal_case) == LegalState.HEARING_SCHEDULED
    assert granted(arbitrator, legal_case)
    assert case_get_for_user(case_id=legal_case.case_id, user=arbitrator) == legal_case.case
    [event] = AuditEvent.objects.filter(event_type=HearingEvent.SCHEDULED)
    assert (event.actor, event.subject_id, event.old, event.new["state"], event.new["hearing"]) == (
        officer,
        str(legal_case.pk),
        {"state": LegalState.COMMITTEE_ACCEPTED},
        LegalState.HEARING_SCHEDULED,
        hearing.pk,
    )
    assert "short_notice_reason" not in event.new
    [to_worker] = messages("hearing_scheduled")
    assert (to_worker.to, to_worker.worker) == (legal_case.case.worker.mobile, legal_case.case.worker)
    assert legal_case.case.reference in to_worker.body
    assert at(10).strftime("%Y-%m-%d 09:00") in to_worker.body
    assert "香港中路100号" in to_worker.body
    assert f"/cases/{legal_case.case_id}/" in to_worker.body
    [to_party] = messages("hearing_scheduled_party")  # the blank and the invalid number get nothing
    assert (to_party.to, to_party.worker) == ("+8613900000002", None)
    assert "http" not in to_party.body
    assert DBTaskResult.objects.count() == 2  # one send_sms task each
    assert list(audit.verify()) == []


def test_a_video_hearing_says_online_and_the_arbitrator_with_a_mobile_is_told(legal_case, officer):
    arbitrator = staff(Role.ARBITRATOR, mobile="+8613700000009")
    schedule(legal_case, officer, arbitrator, place="", is_video=True)

    [to_worker] = messages("hearing_scheduled")
    assert "online" in to_worker.body or "线上" in to_worker.body or "视频" in to_worker.body
    [to_arbitrator] = messages("hearing_scheduled_party")
    assert to_arbitrator.to == "+8613700000009"


def test_a_case_heard_once_can_be_scheduled_again(officer, arbitrator):
    legal_case = make_legal_case(officer, state=LegalState.HEARD)
    schedule(legal_case, officer, arbitrator)
    assert state_of(legal_case) == LegalState.HEARING_SCHEDULED


def test_the_same_form_sent_twice_schedules_one_hearing(legal_case, officer, arbitrator):
    first = schedule(legal_case, officer, arbitrator)
    again = schedule(legal_case, officer, arbitrator)
    assert again == first
    assert Hearing.objects.count() == 1
    assert len(messages("hearing_scheduled")) == 1


def test_an_overlapping_hearing_of_the_same_arbitrator_is_refused(officer, arbitrator):
    first_case, second_case = make_legal_case(officer), make_legal_case(officer)
    schedule(first_case, officer, arbitrator, **slot(hour=9, hours=2))
    before = snapshot(second_case)

    with pytest.raises(InvalidInput, match="already has a hearing"):
        schedule(second_case, officer, arbitrator, **slot(hour=10, hours=2))

    assert snapshot(second_case) == before
    assert not messages("hearing_scheduled")[1:]


def test_back_to_back_hearings_and_other_arbitrators_are_fine(officer, arbitrator, other_arbitrator):
    cases = [make_legal_case(officer) for _ in range(3)]
    schedule(cases[0], officer, arbitrator, **slot(hour=9, hours=2))
    schedule(cases[1], officer, arbitrator, **slot(hour=11, hours=2))  # starts when the first ends
    schedule(cases[2], officer, other_arbitrator, **slot(hour=9, hours=2))  # same time, someone else
    assert Hearing.objects.filter(state=HearingState.SCHEDULED).count() == 3


def test_a_cancelled_hearing_does_not_block_its_time(officer, arbitrator):
    first_case, second_case = make_legal_case(officer), make_legal_case(officer)
    first = schedule(first_case, officer, arbitrator)
    hearings.hearing_cancel(hearing=first, actor=officer, reason="仲裁员回避")
    schedule(second_case, officer, arbitrator)
    assert Hearing.objects.filter(state=HearingState.SCHEDULED).count() == 1


def test_short_notice_is_refused_without_a_reason(legal_case, officer, arbitrator):
    before = snapshot(legal_case)
    with pytest.raises(InvalidInput, match="5 days"):
        schedule(legal_case, officer, arbitrator, **slot(days=4))
    assert snapshot(legal_case) == before


def test_short_notice_with_a_reason_is_allowed_and_audited(legal_case, officer, arbitrator):
    hearing = schedule(legal_case, officer, arbitrator, **slot(days=2), short_notice_reason="双方同意提前开庭")

    assert hearing.short_notice_reason == "双方同意提前开庭"
    [event] = AuditEvent.objects.filter(event_type=HearingEvent.SCHEDULED)
    assert event.new["short_notice_reason"] == "双方同意提前开庭"


def test_five_days_is_enough_notice_and_a_reason_given_anyway_is_not_kept(legal_case, officer, arbitrator):
    hearing = schedule(legal_case, officer, arbitrator, **slot(days=5), short_notice_reason="不需要")
    assert hearing.short_notice_reason == ""


@pytest.mark.parametrize("who", ["worker", "counselor", "other_officer", "arbitrator", "mediator_elsewhere"])
def test_only_the_legal_team_of_the_case_schedules(legal_case, arbitrator, who):
    actor = {
        "worker": lambda: legal_case.case.worker.user,
        "counselor": lambda: staff(Role.COUNSELOR, "counseling"),
        "other_officer": lambda: staff(Role.LEGAL_OFFICER, "legal"),
        "arbitrator": lambda: arbitrator,
        "mediator_elsewhere": lambda: staff(Role.MEDIATOR, "legal"),
    }[who]()
    before = snapshot(legal_case)
    with pytest.raises(NotAllowed):
        hearings.hearing_schedule(legal_case=legal_case, actor=actor, arbitrator=arbitrator, place="301室", **slot())
    assert snapshot(legal_case) == before


def test_the_arbitrator_must_be_an_arbitrator(legal_case, officer):
    before = snapshot(legal_case)
    for not_an_arbitrator in (staff(Role.LEGAL_OFFICER, "legal"), staff(Role.ARBITRATOR, is_active=False)):
        with pytest.raises(InvalidInput, match="arbitrator"):
            schedule(legal_case, officer, not_an_arbitrator)
    assert snapshot(legal_case) == before


@pytest.mark.parametrize(
    "state",
    [
        LegalState.CONSULTATION,
        LegalState.MEDIATION,
        LegalState.APPLICATION_FILED,
        LegalState.AWARD_ISSUED,
        LegalState.CLOSED,
        LegalState.WITHDRAWN,
    ],
)
def test_a_case_in_the_wrong_state_is_refused_with_nothing_changed_and_no_sms(officer, arbitrator, state):
    legal_case = make_legal_case(officer, state=state)
    before = snapshot(legal_case)

    with pytest.raises(InvalidState):
        schedule(legal_case, officer, arbitrator)

    assert snapshot(legal_case) == before
    assert not OutboundSms.objects.exists()
    assert not granted(arbitrator, legal_case)


def test_a_second_hearing_while_one_is_scheduled_is_refused(legal_case, officer, arbitrator, other_arbitrator):
    schedule(legal_case, officer, arbitrator)
    before = snapshot(legal_case)
    with pytest.raises(InvalidState, match="already has a scheduled hearing"):
        schedule(legal_case, officer, other_arbitrator, **slot(days=20))
    assert snapshot(legal_case) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ends_at": at(10, 8)}, "end after it starts"),
        ({"starts_at": at(-1, 9), "ends_at": at(-1, 11), "short_notice_reason": "x"}, "past"),
        ({"place": "  "}, "where the hearing takes place"),
        ({"place": "市劳动人事争议仲裁院第三仲裁庭"}, "without naming the service"),
        ({"place": "Labour Arbitration Court, room 3"}, "without naming the service"),
    ],
)
def test_bad_times_and_places_are_refused(legal_case, officer, arbitrator, change, message):
    before = snapshot(legal_case)
    with pytest.raises(InvalidInput, match=message):
        schedule(legal_case, officer, arbitrator, **change)
    assert snapshot(legal_case) == before


# --- moving and cancelling -----------------------------------------------------------------


def test_moving_a_hearing_tells_everyone_and_is_audited(legal_case, officer):
    arbitrator = staff(Role.ARBITRATOR, mobile="+8613700000009")
    Representative.objects.create(legal_case=legal_case, side="employer", name="王经理", mobile="+8613900000003")
    hearing = schedule(legal_case, officer, arbitrator)
    OutboundSms.objects.all().delete()

    moved = hearings.hearing_reschedule(hearing=hearing, actor=officer, **slot(days=12, hour=14))

    assert (moved.starts_at, moved.place) == (at(12, 14), hearing.place)
    assert state_of(legal_case) == LegalState.HEARING_SCHEDULED
    [to_worker] = messages("hearing_rescheduled")
    assert at(12).strftime("%Y-%m-%d 14:00") in to_worker.body
    assert sorted(m.to for m in messages("hearing_rescheduled_party")) == ["+8613700000009", "+8613900000003"]
    [event] = AuditEvent.objects.filter(event_type=HearingEvent.RESCHEDULED)
    assert event.old["starts_at"].startswith(at(10).astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M"))


def test_moving_to_the_same_time_changes_nothing(legal_case, officer, arbitrator):
    hearing = schedule(legal_case, officer, arbitrator)
    before = snapshot(legal_case)
    hearings.hearing_reschedule(hearing=hearing, actor=officer, starts_at=hearing.starts_at, ends_at=hearing.ends_at)
    assert snapshot(legal_case) == before


def test_moving_is_checked_like_scheduling(officer, arbitrator):
    first_case, second_case = make_legal_case(officer), make_legal_case(officer)
    schedule(first_case, officer, arbitrator, **slot(days=10))
    hearing = schedule(second_case, officer, arbitrator, **slot(days=11))
    before = snapshot(second_case)

    with pytest.raises(InvalidInput, match="already has a hearing"):
        hearings.hearing_reschedule(hearing=hearing, actor=officer, **slot(days=10, hour=10))
    with pytest.raises(InvalidInput, match="5 days"):
        hearings.hearing_reschedule(hearing=hearing, actor=officer, **slot(days=3))
    with pytest.raises(NotAllowed):
        hearings.hearing_reschedule(hearing=hearing, actor=arbitrator, **slot(days=20))
    assert snapshot(second_case) == before

    # Moving within its own time (overlapping itself) is fine, and a reason allows short notice.
    hearings.hearing_reschedule(hearing=hearing, actor=officer, **slot(days=11, hour=10))
    moved = hearings.hearing_reschedule(hearing=hearing, actor=officer, **slot(days=3), short_notice_reason="急")
    assert moved.short_notice_reason == "急"


def test_cancelling_tells_everyone_revokes_the_arbitrator_and_keeps_the_case_waiting(
    legal_case, officer, arbitrator, other_arbitrator
):
    Representative.objects.create(legal_case=legal_case, side="employer", name="王经理", mobile="+8613900000003")
    hearing = schedule(legal_case, officer, arbitrator)
    OutboundSms.objects.all().delete()

    cancelled = hearings.hearing_cancel(hearing=hearing, actor=officer, reason="仲裁员回避 PRIVATE-REASON")

    assert cancelled.state == HearingState.CANCELLED
    assert not granted(arbitrator, legal_case)
    with pytest.raises(Http404):
        case_get_for_user(case_id=legal_case.case_id, user=arbitrator)
    assert state_of(legal_case) == LegalState.HEARING_SCHEDULED  # ADR 0008: no transition back
    [to_worker] = messages("hearing_cancelled")
    [to_party] = messages("hearing_cancelled_party")
    assert "PRIVATE-REASON" not in to_worker.body + to_party.body
    [event] = AuditEvent.objects.filter(event_type=HearingEvent.CANCELLED)
    assert event.new["reason"] == "仲裁员回避 PRIVATE-REASON"

    # Cancelling again changes nothing; a new hearing can be scheduled without a transition.
    before = snapshot(legal_case)
    hearings.hearing_cancel(hearing=hearing, actor=officer, reason="again")
    assert snapshot(legal_case) == before
    schedule(legal_case, officer, other_arbitrator)
    assert state_of(legal_case) == LegalState.HEARING_SCHEDULED
    assert granted(other_arbitrator, legal_case)


def test_cancelling_keeps_the_arbitrators_access_when_they_heard_the_case_before(legal_case, officer, arbitrator):
    first = started(schedule(legal_case, officer, arbitrator))
    hearings.hearing_record_outcome(hearing=first, actor=arbitrator, outcome=Outcome.ADJOURNED)
    second = schedule(legal_case, officer, arbitrator, **slot(days=20))

    hearings.hearing_cancel(hearing=second, actor=officer, reason="改期")

    assert granted(arbitrator, legal_case)


def test_cancelling_needs_the_legal_team_and_a_reason(legal_case, officer, arbitrator):
    hearing = schedule(legal_case, officer, arbitrator)
    before = snapshot(legal_case)
    with pytest.raises(NotAllowed):
        hearings.hearing_cancel(hearing=hearing, actor=arbitrator, reason="x")
    with pytest.raises(InvalidInput):
        hearings.hearing_cancel(hearing=hearing, actor=officer, reason="  ")
    assert snapshot(legal_case) == before


# --- outcomes --------------------------------------------------------------------------------


def test_an_adjourned_hearing_is_held_and_the_case_is_heard(legal_case, officer, arbitrator):
    hearing = started(schedule(legal_case, officer, arbitrator))

    held = hearings.hearing_record_outcome(hearing=hearing, actor=arbitrator, outcome=Outcome.ADJOURNED)

    assert (held.state, held.outcome) == (HearingState.HELD, "adjourned")
    assert state_of(legal_case) == LegalState.HEARD
    assert granted(arbitrator, legal_case)  # they keep reading the case they heard
    [event] = AuditEvent.objects.filter(event_type=HearingEvent.OUTCOME)
    assert (event.actor, event.old, event.new["state"]) == (arbitrator, {"state": "hearing_scheduled"}, "heard")
    assert messages("case_progress")  # the worker hears there is news
    # ... and another hearing can follow.
    schedule(legal_case, officer, arbitrator, **slot(days=20))
    assert state_of(legal_case) == LegalState.HEARING_SCHEDULED


def test_an_award_moves_the_case_to_award_issued_and_starts_the_court_deadline(officer, arbitrator):
    legal_case = make_legal_case(officer)
    Deadline.objects.create(
        legal_case=legal_case,
        rule=DeadlineRule.AWARD,
        starts_on=timezone.localdate(),
        due_on=timezone.localdate() + datetime.timedelta(days=45),
    )
    hearing = started(schedule(legal_case, officer, arbitrator))

    hearings.hearing_record_outcome(hearing=hearing, actor=officer, outcome=Outcome.AWARD)

    assert Hearing.objects.get(pk=hearing.pk).outcome == "award"
    assert state_of(legal_case) == LegalState.AWARD_ISSUED
    assert Deadline.objects.get(legal_case=legal_case, rule=DeadlineRule.AWARD).met_at is not None
    assert Deadline.objects.get(legal_case=legal_case, rule=DeadlineRule.COURT).met_at is None
    # Recording it again changes nothing.
    before = snapshot(legal_case)
    hearings.hearing_record_outcome(hearing=hearing, actor=arbitrator, outcome=Outcome.AWARD)
    assert snapshot(legal_case) == before


def test_outcome_refusals_change_nothing(legal_case, officer, arbitrator, other_arbitrator):
    hearing = schedule(legal_case, officer, arbitrator)
    before = snapshot(legal_case)

    with pytest.raises(InvalidState, match="once the hearing has started"):
        hearings.hearing_record_outcome(hearing=hearing, actor=arbitrator, outcome=Outcome.AWARD)
    hearing = started(hearing)
    before = snapshot(legal_case)
    with pytest.raises(NotAllowed):
        hearings.hearing_record_outcome(hearing=hearing, actor=other_arbitrator, outcome=Outcome.AWARD)
    with pytest.raises(NotAllowed):
        hearings.hearing_record_outcome(hearing=hearing, actor=legal_case.case.worker.user, outcome=Outcome.AWARD)
    with pytest.raises(InvalidInput):
        hearings.hearing_record_outcome(hearing=hearing, actor=arbitrator, outcome="settled")
    assert snapshot(legal_case) == before

    hearings.hearing_record_outcome(hearing=hearing, actor=arbitrator, outcome=Outcome.ADJOURNED)
    before = snapshot(legal_case)
    with pytest.raises(InvalidState):
        hearings.hearing_record_outcome(hearing=hearing, actor=arbitrator, outcome=Outcome.AWARD)
    assert snapshot(legal_case) == before


def test_no_outcome_for_a_case_withdrawn_meanwhile(officer, arbitrator):
    legal_case = make_legal_case(officer)
    hearing = started(schedule(legal_case, officer, arbitrator))
    LegalCase.objects.filter(pk=legal_case.pk).update(state=LegalState.WITHDRAWN)
    before = snapshot(legal_case)

    with pytest.raises(InvalidState):
        hearings.hearing_record_outcome(hearing=hearing, actor=arbitrator, outcome=Outcome.AWARD)

    assert snapshot(legal_case) == before
    # ... but it can still be cancelled, which ends the arbitrator's access.
    hearings.hearing_cancel(hearing=hearing, actor=officer, reason="申请人撤回")
    assert not granted(arbitrator, legal_case)


# --- who sees what ---------------------------------------------------------------------------


def test_an_arbitrator_sees_only_their_own_hearings_and_the_cases_granted(officer, arbitrator, other_arbitrator):
    mine_case, theirs_case, unrelated = make_legal_case(officer), make_legal_case(officer), make_legal_case(officer)
    mine = schedule(mine_case, officer, arbitrator)
    theirs = schedule(theirs_case, officer, other_arbitrator)

    assert list(hearings.hearings_for_arbitrator(user=arbitrator)) == [mine]
    assert hearings.hearing_get_for_user(hearing_id=mine.pk, user=arbitrator) == mine
    assert case_get_for_user(case_id=mine_case.case_id, user=arbitrator) == mine_case.case
    with pytest.raises(Http404):
        hearings.hearing_get_for_user(hearing_id=theirs.pk, user=arbitrator)
    for other in (theirs_case, unrelated):
        with pytest.raises(Http404):
            case_get_for_user(case_id=other.case_id, user=arbitrator)
    with pytest.raises(Http404):
        hearings.hearing_get_for_user(hearing_id=999999, user=arbitrator)
    assert list(hearings.hearings_for_case(legal_case=theirs_case, user=arbitrator)) == []


def test_the_worker_and_the_legal_team_see_the_hearing_and_others_do_not(legal_case, officer, arbitrator):
    hearing = schedule(legal_case, officer, arbitrator)
    worker = legal_case.case.worker.user

    for reader in (worker, officer, arbitrator):
        assert hearings.hearing_get_for_user(hearing_id=hearing.pk, user=reader) == hearing
        assert list(hearings.hearings_for_case(legal_case=legal_case, user=reader)) == [hearing]
    outsiders = [
        staff(Role.COUNSELOR, "counseling"),
        staff(Role.LEGAL_OFFICER, "legal"),
        staff(Role.MEDIATOR, "legal"),
        WorkerFactory().user,
        staff(Role.FRONT_DESK),
        staff(Role.CENTER_MANAGER),
        staff(Role.ADMINISTRATOR, is_staff=True, is_superuser=True),
    ]
    for outsider in outsiders:
        with pytest.raises(Http404):
            hearings.hearing_get_for_user(hearing_id=hearing.pk, user=outsider)
        assert list(hearings.hearings_for_arbitrator(user=outsider)) == []
        assert list(hearings.hearings_for_case(legal_case=legal_case, user=outsider)) == []


def test_a_cancelled_hearing_disappears_for_its_arbitrator_only(legal_case, officer, arbitrator):
    hearing = schedule(legal_case, officer, arbitrator)
    hearings.hearing_cancel(hearing=hearing, actor=officer, reason="改期")
    assert list(hearings.hearings_for_arbitrator(user=arbitrator)) == []
    with pytest.raises(Http404):
        hearings.hearing_get_for_user(hearing_id=hearing.pk, user=arbitrator)
    assert hearings.hearing_get_for_user(hearing_id=hearing.pk, user=legal_case.case.worker.user) == hearing


# --- what the SMS say --------------------------------------------------------------------------


def test_every_hearing_sms_is_free_of_sensitive_words_and_of_the_case(legal_case, officer):
    arbitrator = staff(Role.ARBITRATOR, mobile="+8613700000009")
    Representative.objects.create(legal_case=legal_case, side="employer", name="王经理", mobile="+8613900000003")
    user = legal_case.case.worker.user
    for language in ("en", "zh-hans"):
        user.language = language
        user.save(update_fields=["language"])
        hearing = schedule(legal_case, officer, arbitrator, **slot(days=10 if language == "en" else 30))
        hearings.hearing_reschedule(
            hearing=hearing, actor=officer, **slot(days=11 if language == "en" else 31), place="", is_video=True
        )
        hearings.hearing_cancel(hearing=hearing, actor=officer, reason="x")

    sent = messages()
    assert {m.template for m in sent} == set(HEARING_TEMPLATES)
    assert {m.language for m in sent if m.worker} == {"en", "zh-hans"}
    for message in sent:
        assert sms.contains_sensitive_word(message.body) is None, message.body
        for private in (SECRET, "青岛某制造有限公司", "18000", legal_case.case.worker.name, "仲裁员甲"):
            assert private not in message.body


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("code", HEARING_TEMPLATES)
def test_the_hearing_templates_name_no_sensitive_service(code, language):
    context = {"ref": "QD-2026-000001", "when": "2026-12-01 09:00", "where": "301", "link": "https://x/y"}
    with translation.override(language):
        body = str(sms.templates()[code].text) % context
    assert sms.contains_sensitive_word(body) is None
    for word in ("hearing", "开庭", "庭审"):
        assert word not in body.lower()


# --- pages -------------------------------------------------------------------------------------


def browser(user) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def text(response) -> str:
    return unescape(response.content.decode())


def local_input(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_my_hearings_page_lists_the_arbitrators_own_hearings_only(officer, arbitrator, other_arbitrator):
    mine_case, theirs_case = make_legal_case(officer), make_legal_case(officer)
    mine = schedule(mine_case, officer, arbitrator, is_video=True, place="")
    schedule(theirs_case, officer, other_arbitrator)

    response = browser(arbitrator).get("/legal/hearings/")

    assert response.status_code == 200
    page = text(response)
    assert mine_case.case.reference in page and f"/legal/hearings/{mine.pk}/" in page
    assert "Online (video)" in page
    assert theirs_case.case.reference not in page
    assert browser(staff(Role.COUNSELOR, "counseling")).get("/legal/hearings/").status_code == 403
    assert browser(officer).get("/legal/hearings/").status_code == 403


def test_the_hearing_page_shows_the_case_file_without_notes_or_request(
    legal_case, officer, arbitrator, other_arbitrator
):
    hearing = schedule(legal_case, officer, arbitrator)

    response = browser(arbitrator).get(f"/legal/hearings/{hearing.pk}/")

    assert response.status_code == 200
    page = text(response)
    case = legal_case.case
    for shown in (case.reference, case.worker.name, "青岛某制造有限公司", "18000.00", "香港中路100号"):
        assert shown in page
    assert NOTE_SECRET not in page and SECRET not in page
    assert "/cancel/" not in page  # no management for the arbitrator
    assert AuditEvent.objects.filter(event_type="case.viewed", actor=arbitrator).exists()
    for outsider in (other_arbitrator, staff(Role.COUNSELOR, "counseling"), staff(Role.LEGAL_OFFICER, "legal")):
        assert browser(outsider).get(f"/legal/hearings/{hearing.pk}/").status_code == 404
    assert browser(legal_case.case.worker.user).get(f"/legal/hearings/{hearing.pk}/").status_code == 200
    officer_page = text(browser(officer).get(f"/legal/hearings/{hearing.pk}/"))
    assert f"/legal/hearings/{hearing.pk}/cancel/" in officer_page


def test_the_schedule_form_page_and_post(legal_case, officer, arbitrator):
    client = browser(officer)
    form_page = client.get(f"/legal/cases/{legal_case.pk}/hearings/new/")
    assert form_page.status_code == 200
    assert arbitrator.first_name in text(form_page)

    data = {
        "arbitrator": arbitrator.pk,
        "starts_at": local_input(at(4)),
        "ends_at": local_input(at(4, 11)),
        "place": "301室",
    }
    refused = client.post(f"/legal/cases/{legal_case.pk}/hearings/new/", data)
    assert refused.status_code == 200 and "5 days" in text(refused)  # the message on the form, input kept
    assert "301室" in text(refused)
    assert not Hearing.objects.exists()

    done = client.post(f"/legal/cases/{legal_case.pk}/hearings/new/", {**data, "short_notice_reason": "双方同意"})
    assert done.status_code == 302 and done["Location"] == f"/legal/cases/{legal_case.pk}/"
    hearing = Hearing.objects.get()
    assert (hearing.starts_at, hearing.short_notice_reason) == (at(4), "双方同意")

    assert browser(arbitrator).get(f"/legal/cases/{legal_case.pk}/hearings/new/").status_code == 403
    assert browser(legal_case.case.worker.user).get(f"/legal/cases/{legal_case.pk}/hearings/new/").status_code == 403
    outsider = browser(staff(Role.LEGAL_OFFICER, "legal"))
    assert outsider.post(f"/legal/cases/{legal_case.pk}/hearings/new/", data).status_code == 404


def test_the_hearings_fragment_renders_with_its_contract(legal_case, officer, arbitrator):
    from django.template.loader import render_to_string

    from legal.hearing_views import HearingForm

    hearing = schedule(legal_case, officer, arbitrator)
    legal_case = LegalCase.objects.get(pk=legal_case.pk)
    html = render_to_string(
        "legal/_hearings.html",
        {
            "legal_case": legal_case,
            "hearings": hearings.hearings_for_case(legal_case=legal_case, user=officer),
            "can_schedule": hearings.can_schedule(user=officer, legal_case=legal_case),
            "hearing_form": HearingForm(),
        },
    )
    assert f"/legal/hearings/{hearing.pk}/" in html
    assert f"/legal/cases/{legal_case.pk}/hearings/new/" not in html  # one is scheduled already
    hearings.hearing_cancel(hearing=hearing, actor=officer, reason="x")
    assert hearings.can_schedule(user=officer, legal_case=LegalCase.objects.get(pk=legal_case.pk))


def test_reschedule_cancel_and_outcome_through_the_pages(legal_case, officer, arbitrator):
    hearing = schedule(legal_case, officer, arbitrator)
    client = browser(officer)

    assert client.get(f"/legal/hearings/{hearing.pk}/reschedule/").status_code == 200
    moved = client.post(
        f"/legal/hearings/{hearing.pk}/reschedule/",
        {"starts_at": local_input(at(15)), "ends_at": local_input(at(15, 12)), "place": "302室"},
    )
    assert moved.status_code == 302
    assert Hearing.objects.get(pk=hearing.pk).place == "302室"
    assert browser(arbitrator).get(f"/legal/hearings/{hearing.pk}/reschedule/").status_code == 403

    started(hearing)
    refused = browser(arbitrator).post(f"/legal/hearings/{hearing.pk}/cancel/", {"reason": "x"})
    assert refused.status_code == 302 and Hearing.objects.get(pk=hearing.pk).state == HearingState.SCHEDULED
    done = browser(arbitrator).post(f"/legal/hearings/{hearing.pk}/outcome/", {"outcome": "adjourned"})
    assert done.status_code == 302
    assert state_of(legal_case) == LegalState.HEARD

    second = schedule(legal_case, officer, arbitrator, **slot(days=20))
    assert client.post(f"/legal/hearings/{second.pk}/cancel/", {"reason": "改期"}).status_code == 302
    assert Hearing.objects.get(pk=second.pk).state == HearingState.CANCELLED
    assert browser(arbitrator).post(f"/legal/hearings/{second.pk}/outcome/", {"outcome": "award"}).status_code == 404


# --- API ---------------------------------------------------------------------------------------


def api(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def test_the_api_lists_schedules_and_records(legal_case, officer, arbitrator, other_arbitrator):
    body = {
        "arbitrator": arbitrator.pk,
        "starts_at": at(10).isoformat(),
        "ends_at": at(10, 11).isoformat(),
        "place": "301室",
    }

    created = post(api(officer), f"/api/v1/legal/cases/{legal_case.pk}/hearings/", body)
    assert created.status_code == 201, created.content
    hearing_id = created.json()["id"]
    assert created.json()["reference"] == legal_case.case.reference

    again = post(
        api(officer),
        f"/api/v1/legal/cases/{legal_case.pk}/hearings/",
        {**body, "starts_at": at(20).isoformat(), "ends_at": at(20, 11).isoformat()},
    )
    assert again.status_code == 409 and again.json()["code"] == "invalid_state"
    assert post(api(arbitrator), f"/api/v1/legal/cases/{legal_case.pk}/hearings/", body).status_code == 403
    assert post(api(other_arbitrator), f"/api/v1/legal/cases/{legal_case.pk}/hearings/", body).status_code == 404
    url = f"/api/v1/legal/cases/{legal_case.pk}/hearings/"
    not_arbitrator = post(api(officer), url, {**body, "arbitrator": officer.pk})
    assert not_arbitrator.status_code == 400

    mine = api(arbitrator).get("/api/v1/legal/hearings/")
    assert mine.status_code == 200 and [h["id"] for h in mine.json()["results"]] == [hearing_id]
    assert api(other_arbitrator).get("/api/v1/legal/hearings/").json()["results"] == []
    assert api(officer).get("/api/v1/legal/hearings/").status_code == 403

    early = post(api(arbitrator), f"/api/v1/legal/hearings/{hearing_id}/outcome/", {"outcome": "award"})
    assert early.status_code == 409
    started(Hearing.objects.get(pk=hearing_id))
    assert (
        post(api(other_arbitrator), f"/api/v1/legal/hearings/{hearing_id}/outcome/", {"outcome": "award"}).status_code
        == 404
    )
    done = post(api(arbitrator), f"/api/v1/legal/hearings/{hearing_id}/outcome/", {"outcome": "award"})
    assert done.status_code == 200 and done.json()["state"] == "held"
    assert state_of(legal_case) == LegalState.AWARD_ISSUED


def test_the_api_moves_and_cancels(legal_case, officer, arbitrator):
    hearing = schedule(legal_case, officer, arbitrator)
    moved = post(
        api(officer),
        f"/api/v1/legal/hearings/{hearing.pk}/reschedule/",
        {"starts_at": at(12).isoformat(), "ends_at": at(12, 10).isoformat()},
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["place"] == hearing.place
    short = post(
        api(officer),
        f"/api/v1/legal/hearings/{hearing.pk}/reschedule/",
        {"starts_at": at(1).isoformat(), "ends_at": at(1, 10).isoformat()},
    )
    assert short.status_code == 400 and short.json()["code"] == "invalid"
    assert post(api(arbitrator), f"/api/v1/legal/hearings/{hearing.pk}/cancel/", {"reason": "x"}).status_code == 403
    cancelled = post(api(officer), f"/api/v1/legal/hearings/{hearing.pk}/cancel/", {"reason": "改期"})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"


# --- racing on PostgreSQL --------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_overlapping_schedulings_for_one_arbitrator_at_once_one_wins(attempt):
    officer, arbitrator = staff(Role.LEGAL_OFFICER, "legal"), staff(Role.ARBITRATOR)
    cases = [make_legal_case(officer), make_legal_case(officer)]

    outcomes = race(
        *(
            lambda c=c, h=h: schedule(c, officer, arbitrator, **slot(hour=h))
            for c, h in zip(cases, (9, 10), strict=True)
        )
    )

    won = [o for o in outcomes if isinstance(o, Hearing)]
    lost = [o for o in outcomes if not isinstance(o, Hearing)]
    assert len(won) == 1, outcomes
    assert len(lost) == 1 and isinstance(lost[0], InvalidInput), outcomes
    assert Hearing.objects.count() == 1
    assert sorted(state_of(c) for c in cases) == [LegalState.COMMITTEE_ACCEPTED, LegalState.HEARING_SCHEDULED]
    assert OutboundSms.objects.filter(template="hearing_scheduled").count() == 1
    assert AuditEvent.objects.filter(event_type=HearingEvent.SCHEDULED).count() == 1
    assert list(audit.verify()) == []


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the exclusion constraint is PostgreSQL's")
def test_the_database_itself_refuses_overlapping_scheduled_hearings(officer, arbitrator):
    from django.db import IntegrityError, transaction

    first_case, second_case = make_legal_case(officer), make_legal_case(officer)
    schedule(first_case, officer, arbitrator)
    with pytest.raises(IntegrityError, match="hearing_no_overlap"), transaction.atomic():
        Hearing.objects.create(legal_case=second_case, arbitrator=arbitrator, place="x", **slot(hour=10))
    Hearing.objects.create(
        legal_case=second_case, arbitrator=arbitrator, place="x", state=HearingState.CANCELLED, **slot(hour=10)
    )


def test_the_legal_case_page_includes_the_hearings(legal_case, officer, arbitrator):
    hearing = schedule(legal_case, officer, arbitrator)
    page = text(browser(officer).get(f"/legal/cases/{legal_case.pk}/"))
    assert f"/legal/hearings/{hearing.pk}/" in page
    arbitrator_page = browser(arbitrator).get(f"/legal/cases/{legal_case.pk}/")
    assert arbitrator_page.status_code in (200, 404)
    assert NOTE_SECRET not in text(arbitrator_page)


def test_the_hearings_arbitrator_uploads_the_award_and_nothing_else(legal_case, officer, arbitrator, other_arbitrator):
    from legal import documents
    from legal.models import DocumentKind

    hearing = hearings.hearing_schedule(legal_case=legal_case, actor=officer, arbitrator=arbitrator,
                                        starts_at=at(10), ends_at=at(10, 11), place="301室")
    legal_case.refresh_from_db()
    assert documents.upload_kinds(arbitrator, legal_case) == [DocumentKind.AWARD]
    assert documents.upload_kinds(other_arbitrator, legal_case) == []
    page = browser(arbitrator).get(f"/legal/hearings/{hearing.pk}/")
    assert page.status_code == 200
    assert 'name="file"' in page.content.decode()


@pytest.mark.django_db
def test_a_withdrawn_case_keeps_no_scheduled_hearing(legal_case, officer, arbitrator):
    from legal.services import legal_transition

    hearing = schedule(legal_case, officer, arbitrator)
    assert granted(arbitrator, legal_case)
    worker = legal_case.case.worker
    legal_transition(legal_case=LegalCase.objects.get(pk=legal_case.pk), actor=worker.user, transition="withdraw")

    assert Hearing.objects.get(pk=hearing.pk).state == HearingState.CANCELLED
    assert not granted(arbitrator, legal_case)
    assert OutboundSms.objects.filter(template="hearing_cancelled", worker=worker).count() == 1
    [event] = AuditEvent.objects.filter(event_type=HearingEvent.CANCELLED)
    assert event.actor_id == worker.user_id and event.new["reason"] == "case ended"
    assert list(audit.verify()) == []


@pytest.mark.django_db
def test_a_held_hearing_stays_and_its_arbitrator_keeps_the_case_when_it_closes(legal_case, officer, arbitrator):
    from legal.services import legal_transition

    hearing = hearings.hearing_record_outcome(hearing=started(schedule(legal_case, officer, arbitrator)),
                                              actor=arbitrator, outcome="award")
    legal_transition(legal_case=LegalCase.objects.get(pk=legal_case.pk), actor=officer, transition="close")
    assert Hearing.objects.get(pk=hearing.pk).state == HearingState.HELD
    assert granted(arbitrator, legal_case)
