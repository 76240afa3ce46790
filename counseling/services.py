"""Every write of counseling. One recipe: lock, check, change, audit, and SMS in the same
transaction (the outbox sends after commit).

No double booking, twice over: booking and rescheduling lock the worker's row, then the
counselor's user row, then the room's row (always in that order, so two bookings cannot
deadlock) before they check that the time is one of the free slots; under READ COMMITTED the
second of two racing bookings then sees the first one's appointment. On PostgreSQL exclusion
constraints (migration 0002) refuse overlaps from any writer; their refusal is turned into
the service's own message.

SMS say when and where, never what: no word naming the service (care.sms.SENSITIVE_WORDS)."""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from care import audit, sms, surveys
from care import permissions as hall_permissions
from care import services as hall
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import Case, Priority, Stage, Urgency, Worker
from counseling import permissions, selectors
from counseling.models import (
    ACTIVE_SIGNUP_STATES,
    CANCELLABLE_STATES,
    DEPARTMENT,
    HOLDING_STATES,
    REMINDER_OFFSETS,
    Appointment,
    AppointmentState,
    CalendarException,
    CounselorProfile,
    ExceptionReason,
    GroupSession,
    GroupSignup,
    HealthConsent,
    Mode,
    Note,
    ReminderDue,
    RiskFlag,
    RiskLevel,
    Room,
    Service,
    ServiceKind,
    SignupState,
    SupervisionGrant,
)
from counseling.slots import SHANGHAI


class CounselingEvent(models.TextChoices):
    BOOKED = "counseling.booked"
    RESCHEDULED = "counseling.rescheduled"
    TRANSITION = "counseling.transition"
    CONSENT_GIVEN = "counseling.consent_given"
    CONSENT_WITHDRAWN = "counseling.consent_withdrawn"
    EXCEPTION_ADDED = "counseling.exception_added"
    NOTE_ADDED = "counseling.note_added"
    NOTES_VIEWED = "counseling.notes_viewed"
    SUPERVISION_GRANTED = "counseling.supervision_granted"
    SUPERVISION_REVOKED = "counseling.supervision_revoked"
    RISK_FLAGGED = "counseling.risk_flagged"
    RISK_ACKNOWLEDGED = "counseling.risk_acknowledged"
    GROUP_CREATED = "counseling.group_created"
    GROUP_SESSION_CANCELLED = "counseling.group_session_cancelled"
    GROUP_SIGNED_UP = "counseling.group_signed_up"
    GROUP_PROMOTED = "counseling.group_promoted"
    GROUP_CANCELLED = "counseling.group_signup_cancelled"
    GROUP_ATTENDANCE = "counseling.group_attendance"


log = logging.getLogger(__name__)


for _code, _text in [
    ("appointment_booked", gettext_lazy(
        "Worker Service Center: your appointment %(ref)s is on %(when)s, %(where)s. Details: %(link)s")),
    ("appointment_moved", gettext_lazy(
        "Worker Service Center: your appointment %(ref)s has moved to %(when)s, %(where)s. Details: %(link)s")),
    ("appointment_cancelled", gettext_lazy(
        "Worker Service Center: your appointment %(ref)s on %(when)s is cancelled. Details: %(link)s")),
    ("appointment_reminder", gettext_lazy(
        "Worker Service Center: a reminder of your appointment %(ref)s on %(when)s, %(where)s. Details: %(link)s")),
]:
    sms.register_template(sms.SmsTemplate(
        _code, _text, sample={"when": "2026-12-01 09:00", "where": "Room 3, 2nd floor",
                              "link": "https://example.org/cases/1/"}))

# To staff (the on-call counselor, the center's crisis contact): the reference and a link, nothing
# else. Essential: a STOP sent from that phone must not silence it.
sms.register_template(sms.SmsTemplate(
    "crisis_alert",
    gettext_lazy("Worker Service Center: case %(ref)s needs an urgent response now. Details: %(link)s"),
    essential=True))

TRANSITIONS = ("confirm", "check_in", "complete", "refer", "cancel", "no_show")
TARGETS = {
    "confirm": AppointmentState.CONFIRMED,
    "check_in": AppointmentState.CHECKED_IN,
    "complete": AppointmentState.COMPLETED,
    "refer": AppointmentState.REFERRED,
    "no_show": AppointmentState.NO_SHOW,
}
AFTER_START = ("complete", "refer", "no_show")
REASON_MAX = 1000


def _slot_taken() -> InvalidState:
    return InvalidState(_("This time has just been taken: choose another free time."),
                        detail={"starts_at": "taken"})


# --- calendars ---------------------------------------------------------------------------------


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=SHANGHAI)


@transaction.atomic
def exception_add(*, profile: CounselorProfile, actor, starts, ends, reason: str) -> CalendarException:
    """Block time in a counselor's calendar: the counselor themselves. ``starts``/``ends`` are
    dates (whole days, both included) or aware datetimes (half open). Appointments already
    booked in it stay: the counselor moves or cancels them."""
    if not (permissions.is_counselor(actor) and profile.user_id == actor.pk):
        raise NotAllowed()
    if isinstance(starts, datetime.datetime) != isinstance(ends, datetime.datetime):
        raise InvalidInput(_("Give both ends as dates, or both as times."))
    if not isinstance(starts, datetime.datetime):
        starts, ends = _local_midnight(starts), _local_midnight(ends + datetime.timedelta(days=1))
    starts, ends = _aware(starts), _aware(ends)
    if ends <= starts:
        raise InvalidInput(_("The end must come after the start."), detail={"ends": "order"})
    if reason not in ExceptionReason.values:
        raise InvalidInput(_("Choose the reason from the list."), detail={"reason": "invalid"})
    exception = CalendarException.objects.create(counselor=profile, starts_at=starts, ends_at=ends, reason=reason)
    audit.record(actor=actor, event_type=CounselingEvent.EXCEPTION_ADDED, subject=exception,
                 new={"counselor": profile.user_id, "starts_at": starts, "ends_at": ends, "reason": reason})
    return exception


# --- consent -----------------------------------------------------------------------------------


def _locked_worker(worker: Worker) -> Worker:
    return Worker.objects.select_for_update(of=("self",)).select_related("user").get(pk=worker.pk)


@transaction.atomic
def consent_give(*, worker: Worker, actor, text_version: str = "") -> HealthConsent:
    """The worker's consent to process health information (online, or their signed form
    recorded by the front desk). Already given for this text: returned as it is; given for an
    older text: that one ends and this one replaces it."""
    worker = _locked_worker(worker)
    if not permissions.can_record_consent(actor, worker):
        raise NotAllowed()
    version = (text_version or selectors.consent_version()).strip()[:20]
    current = selectors.current_consent(worker=worker)
    if current is not None and current.text_version == version:
        return current
    now = timezone.now()
    if current is not None:
        current.withdrawn_at = now
        current.save(update_fields=["withdrawn_at"])
    consent = HealthConsent.objects.create(worker=worker, text_version=version, given_at=now, recorded_by=actor)
    audit.record(actor=actor, event_type=CounselingEvent.CONSENT_GIVEN, subject=consent,
                 old={"consent": current.pk if current else None},
                 new={"consent": consent.pk, "worker": worker.pk, "text_version": version})
    return consent


@transaction.atomic
def consent_withdraw(*, worker: Worker, actor) -> HealthConsent | None:
    """The worker withdraws their consent: no new appointment can be booked until they give it
    again. Appointments already booked are left to the counselor. None if there was none."""
    worker = _locked_worker(worker)
    if not permissions.can_record_consent(actor, worker):
        raise NotAllowed()
    current = selectors.current_consent(worker=worker)
    if current is None:
        return None
    current.withdrawn_at = timezone.now()
    current.save(update_fields=["withdrawn_at"])
    audit.record(actor=actor, event_type=CounselingEvent.CONSENT_WITHDRAWN, subject=current,
                 old={"withdrawn_at": None}, new={"withdrawn_at": current.withdrawn_at, "worker": worker.pk})
    return current


# --- booking -----------------------------------------------------------------------------------


def _aware(value) -> datetime.datetime:
    if not isinstance(value, datetime.datetime):
        raise InvalidInput(_("Choose a date and time."), detail={"starts_at": "missing"})
    return timezone.make_aware(value, SHANGHAI) if timezone.is_naive(value) else value


def _lock_counselor(counselor) -> CounselorProfile:
    """Serialises every booking of one counselor (the user row, as for arbitrators)."""
    if counselor is None:
        raise InvalidInput(_("Choose a counselor."), detail={"counselor": "missing"})
    user = get_user_model().objects.select_for_update().get(pk=counselor.pk)
    profile = CounselorProfile.objects.filter(user=user).first()
    if profile is None or not profile.active or not permissions.is_counselor(user):
        raise InvalidInput(_("Choose a counselor from the list."), detail={"counselor": "invalid"})
    return profile


def _lock_room(room: Room | None) -> Room | None:
    """Serialises every booking of one room (after the counselor: one order everywhere)."""
    if room is None:
        return None
    room = Room.objects.select_for_update().get(pk=room.pk)
    if not room.active:
        raise InvalidInput(_("Choose a room from the list."), detail={"room": "invalid"})
    return room


def _check_booking(*, worker: Worker, service: Service, profile: CounselorProfile, mode: str, room: Room | None,
                   starts_at: datetime.datetime, now: datetime.datetime, replacing: Appointment | None = None) -> None:
    """Everything a booking must satisfy, the cheapest first. Runs under the locks."""
    if service is None or not service.active or service.kind != ServiceKind.INDIVIDUAL:
        raise InvalidInput(_("Choose a service from the list."), detail={"service": "invalid"})
    if mode not in Mode.values or mode not in profile.modes:
        raise InvalidInput(_("Choose one of the ways this counselor offers (in person, by phone or by video)."),
                           detail={"mode": "invalid"})
    if mode == Mode.IN_PERSON and room is None:
        raise InvalidInput(_("Choose a room for a session in person."), detail={"room": "missing"})
    if selectors.current_consent(worker=worker) is None:
        raise InvalidState(_("Before a first appointment the worker must consent to the processing of health "
                             "information."), detail={"consent": "missing"})
    if starts_at < now + selectors.min_notice():
        raise InvalidInput(_("Appointments must be booked at least %(hours)d hours ahead.")
                           % {"hours": selectors.min_notice() // datetime.timedelta(hours=1)},
                           detail={"starts_at": "notice"})
    local_day = timezone.localtime(starts_at, SHANGHAI).date()
    if local_day > timezone.localtime(now, SHANGHAI).date() + datetime.timedelta(days=selectors.max_days_ahead()):
        raise InvalidInput(_("Appointments can be booked at most %(days)d days ahead.")
                           % {"days": selectors.max_days_ahead()}, detail={"starts_at": "too_far"})
    still_open = selectors.open_appointments(worker=worker, now=now)
    if replacing is not None:
        still_open = still_open.exclude(pk=replacing.pk)
    if still_open.count() >= selectors.max_open_per_worker():
        raise InvalidState(_("The worker already has %(count)d open appointments: keep, move or cancel one of them "
                             "first.") % {"count": selectors.max_open_per_worker()}, detail={"open": "limit"})
    exclude = replacing.pk if replacing is not None else None
    day = {"profile": profile, "start_day": local_day, "days": 1, "now": now, "exclude_pk": exclude}
    if not any(start == starts_at for start, _end in selectors.free_slots_for(**day, with_busy=False)):
        raise InvalidInput(_("Choose one of the free times offered."), detail={"starts_at": "not_a_slot"})
    if not any(start == starts_at for start, _end in selectors.free_slots_for(**day, room=room)):
        raise _slot_taken()


def _save_or_clash(appointment: Appointment) -> None:
    """Insert in a savepoint; PostgreSQL's exclusion constraints refuse as the service does."""
    try:
        with transaction.atomic():
            appointment.save(force_insert=True)
    except IntegrityError as error:
        if "no_overlap" not in str(error):
            raise
        raise _slot_taken() from None


def _assign(case: Case, counselor) -> None:
    """The hall's case is the counselor's: only they (and the worker) see it. A case moved to
    another counselor is no longer the former one's."""
    if case.assignee_id != counselor.pk:
        former = case.assignee
        case.take_up(counselor)
        case.save(update_fields=["stage", "assignee"])
        if former is not None:
            hall_permissions.revoke_case(case=case, user=former)
    hall_permissions.grant_case(case=case, user=counselor)


@transaction.atomic
def appointment_book(*, actor, worker: Worker, service: Service, counselor, starts_at, mode: str = Mode.IN_PERSON,
                     room: Room | None = None) -> Appointment:
    """A worker books a free slot (online, or the front desk for a walk-in). It opens a hall
    case assigned to the counselor; the worker is told when and where by SMS."""
    if not permissions.can_book(actor, worker):
        raise NotAllowed()
    starts_at = _aware(starts_at)
    worker = _locked_worker(worker)
    profile = _lock_counselor(counselor)
    room = _lock_room(room)
    same = selectors.open_appointments(worker=worker).filter(counselor_id=profile.user_id, starts_at=starts_at,
                                                             mode=mode, room=room).first()
    if same is not None:
        return same  # the same form sent twice
    now = timezone.now()
    _check_booking(worker=worker, service=service, profile=profile, mode=mode, room=room, starts_at=starts_at,
                   now=now)
    when = _when(starts_at)
    case = hall.request_file(actor=actor, worker=worker, department=DEPARTMENT, tell_worker=False,
                             description=_("Appointment on %(when)s") % {"when": when})
    _assign(case, profile.user)
    appointment = _new_appointment(case=case, service=service, profile=profile, room=room, mode=mode,
                                   starts_at=starts_at)
    _save_or_clash(appointment)
    _schedule_reminders(appointment, now)
    audit.record(actor=actor, event_type=CounselingEvent.BOOKED, subject=appointment,
                 new={"state": appointment.state, "case": case.pk, "counselor": profile.user_id,
                      "room": room.pk if room else None, "mode": mode, "starts_at": starts_at,
                      "ends_at": appointment.ends_at})
    _tell_worker(appointment, "appointment_booked")
    return appointment


def _new_appointment(*, case, service, profile, room, mode, starts_at, replaces=None) -> Appointment:
    ends_at = starts_at + datetime.timedelta(minutes=profile.session_minutes)
    return Appointment(case=case, service=service, counselor=profile.user, room=room, mode=mode,
                       starts_at=starts_at, ends_at=ends_at,
                       blocked_until=ends_at + datetime.timedelta(minutes=profile.buffer_minutes), replaces=replaces)


_UNCHANGED = object()


@transaction.atomic
def appointment_reschedule(*, appointment: Appointment, actor, starts_at, counselor=None, mode: str | None = None,
                           room=_UNCHANGED, reason: str = "") -> Appointment:
    """Move a requested or confirmed appointment: a new one (requested, in the same hall case,
    ``replaces`` the old) is booked and the old one cancelled, in one transaction. The worker
    or the appointment's counselor; another counselor may be chosen."""
    worker = _locked_worker(Case.objects.get(pk=appointment.case_id).worker)
    old = _locked(appointment)
    if not permissions.can_reschedule(actor, old):
        raise NotAllowed()
    if old.state not in CANCELLABLE_STATES:
        raise InvalidState(_("Only a requested or confirmed appointment can be moved."))
    starts_at = _aware(starts_at)
    counselor = counselor or old.counselor
    mode = mode or old.mode
    room = old.room if room is _UNCHANGED else room
    if (starts_at, counselor.pk, mode, getattr(room, "pk", None)) == (old.starts_at, old.counselor_id, old.mode,
                                                                       old.room_id):
        return old  # nothing moves
    profile = _lock_counselor(counselor)
    room = _lock_room(room)
    now = timezone.now()
    _check_booking(worker=worker, service=old.service, profile=profile, mode=mode, room=room, starts_at=starts_at,
                   now=now, replacing=old)
    old.cancel(actor, (reason or "").strip()[:REASON_MAX], now)
    old.save(update_fields=["state", "cancelled_by", "cancel_reason", "cancelled_at", "updated_at"])
    new = _new_appointment(case=old.case, service=old.service, profile=profile, room=room, mode=mode,
                           starts_at=starts_at, replaces=old)
    _save_or_clash(new)
    _drop_reminders(old)
    _schedule_reminders(new, now)
    if profile.user_id != old.counselor_id:
        _assign(Case.objects.select_for_update().get(pk=old.case_id), profile.user)
    audit.record(actor=actor, event_type=CounselingEvent.RESCHEDULED, subject=new,
                 old={"appointment": old.pk, "state": AppointmentState.CANCELLED, "counselor": old.counselor_id,
                      "room": old.room_id, "mode": old.mode, "starts_at": old.starts_at},
                 new={"appointment": new.pk, "state": new.state, "counselor": new.counselor_id,
                      "room": new.room_id, "mode": new.mode, "starts_at": new.starts_at, "ends_at": new.ends_at})
    _tell_worker(new, "appointment_moved")
    return new


# --- the lifecycle -----------------------------------------------------------------------------


def _locked(appointment: Appointment) -> Appointment:
    return (Appointment.objects.select_for_update(of=("self",))
            .select_related("case", "case__worker", "counselor", "room", "service").get(pk=appointment.pk))


@transaction.atomic
def appointment_transition(*, appointment: Appointment, actor, transition: str, reason: str = "") -> Appointment:
    """Move an appointment along its lifecycle (see Appointment). ``cancel`` by the worker
    inside COUNSELING_CANCEL_CUTOFF_HOURS of the start is recorded as a late cancellation;
    the worker hears by SMS when the counselor cancels."""
    if transition not in TRANSITIONS:
        raise InvalidInput(_("Unknown step."))
    appointment = _locked(appointment)
    if not permissions.can_act(actor, appointment, transition):
        raise NotAllowed()
    now = timezone.now()
    by_worker = permissions.is_the_worker(actor, appointment.case.worker)
    if transition == "cancel":
        if appointment.state in (AppointmentState.CANCELLED, AppointmentState.CANCELLED_LATE):
            return appointment
        if by_worker and appointment.starts_at <= now and appointment.is_holding:
            raise InvalidState(_("The appointment has already started."))
        late = by_worker and appointment.starts_at - now < selectors.cancel_cutoff()
        name = "cancel_late" if late else "cancel"
    else:
        if appointment.state == TARGETS[transition]:
            return appointment
        name = transition
    method = getattr(appointment, name)
    if not can_proceed(method):
        raise InvalidState()
    if transition in AFTER_START and appointment.starts_at > now:
        raise InvalidState(_("This can be recorded once the appointment has started."))
    old = appointment.state
    match name:
        case "cancel" | "cancel_late":
            method(actor, (reason or "").strip()[:REASON_MAX], now)
        case "check_in":
            method(now)
        case _:
            method()
    appointment.save(update_fields=["state", "cancelled_by", "cancel_reason", "cancelled_at", "checked_in_at",
                                    "updated_at"])
    _follow_in_hall(appointment)
    if not appointment.is_holding:
        _drop_reminders(appointment)
    audit.record(actor=actor, event_type=CounselingEvent.TRANSITION, subject=appointment, old={"state": old},
                 new={"state": appointment.state, "transition": name,
                      **({"reason_given": bool(appointment.cancel_reason)} if name.startswith("cancel") else {})})
    if name == "cancel" and not by_worker:
        _tell_worker(appointment, "appointment_cancelled")
    if appointment.state in (AppointmentState.COMPLETED, AppointmentState.REFERRED):
        surveys.survey_invite(case=appointment.case, actor=actor)  # the session was held
    return appointment


def _follow_in_hall(appointment: Appointment) -> None:
    """The hall's case follows: closed once the session happened or was missed, withdrawn when
    the appointment is cancelled (a rescheduled one keeps its case open)."""
    case = Case.objects.select_for_update().get(pk=appointment.case_id)
    if appointment.state in (AppointmentState.COMPLETED, AppointmentState.REFERRED, AppointmentState.NO_SHOW):
        if case.stage == Stage.IN_PROGRESS:
            case.close(timezone.now())
            case.save(update_fields=["stage", "closed_at"])
    elif appointment.state in (AppointmentState.CANCELLED, AppointmentState.CANCELLED_LATE) and case.is_open:
        case.withdraw(timezone.now())
        case.save(update_fields=["stage", "closed_at"])
    appointment.case = case


# --- SMS ---------------------------------------------------------------------------------------


def _when(starts_at: datetime.datetime) -> str:
    return timezone.localtime(starts_at, SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _tell_worker(appointment: Appointment, template: str) -> None:
    """Time and place only, in the worker's language; the link is the hall's page of the request
    (an address under /counseling/ would name the service)."""
    case = appointment.case
    worker = case.worker
    with translation.override(worker.language):
        context = {"ref": case.reference, "when": _when(appointment.starts_at),
                   "where": str(selectors.where(appointment)),
                   "link": sms.link(reverse("care:case_detail", args=[case.pk]))}
    sms.notify(recipient=worker, template=template, context=context)



# --- reminders ---------------------------------------------------------------------------------


def _schedule_reminders(appointment: Appointment, now: datetime.datetime) -> None:
    """A reminder 24 h and 2 h before the start, for each of those times still ahead. Each one
    also wakes the sweep at its time (a task row stored in this transaction): a reminder whose
    appointment is cancelled or moved meanwhile is gone, and its wake-up finds nothing."""
    from counseling.tasks import wake_reminders

    for offset, hours in REMINDER_OFFSETS.items():
        due_at = appointment.starts_at - datetime.timedelta(hours=hours)
        if due_at <= now:
            continue  # booked too late for this one
        ReminderDue.objects.create(appointment=appointment, offset=offset, due_at=due_at)
        wake_reminders.using(run_after=due_at).enqueue()


def _drop_reminders(appointment: Appointment) -> None:
    """The appointment no longer holds its time: its reminders not yet sent never go."""
    ReminderDue.objects.filter(appointment=appointment, sent_at__isnull=True).delete()


REMINDER_BATCH = 100


def reminders_send_due(*, now: datetime.datetime | None = None) -> int:
    """Send every reminder that is due, of an appointment that still holds and has not started,
    exactly once: each batch is locked (SKIP LOCKED, so two sweeps share the work) and marked
    sent in the transaction that queues its SMS. When both reminders of an appointment are
    due (the sweep ran late), only the nearer one is sent. Returns how many SMS were queued."""
    sent = 0
    while True:
        with transaction.atomic():
            at = now or timezone.now()
            due = list(ReminderDue.objects.select_for_update(skip_locked=True, of=("self",))
                       .filter(sent_at__isnull=True, due_at__lte=at, appointment__state__in=HOLDING_STATES,
                               appointment__starts_at__gt=at)
                       .select_related("appointment", "appointment__case", "appointment__case__worker",
                                       "appointment__room")
                       .order_by("due_at", "pk")[:REMINDER_BATCH])
            latest: dict[int, ReminderDue] = {}
            for reminder in due:  # ordered by due_at: the last one per appointment is the nearest
                latest[reminder.appointment_id] = reminder
            for reminder in latest.values():
                _tell_worker(reminder.appointment, "appointment_reminder")
                sent += 1
            ReminderDue.objects.filter(pk__in=[r.pk for r in due]).update(sent_at=at)
        if len(due) < REMINDER_BATCH:
            return sent


# --- session notes and supervision -------------------------------------------------------------


@transaction.atomic
def note_add(*, appointment: Appointment, actor, body: str) -> Note:
    """The appointment's counselor writes a session note (encrypted; only they, and a supervisor
    they name for the case, will read it)."""
    appointment = _locked(appointment)
    if not permissions.can_add_note(actor, appointment):
        raise NotAllowed()
    body = (body or "").strip()
    if not body:
        raise InvalidInput(_("Write the note."), detail={"body": "missing"})
    note = Note.objects.create(case=appointment.case, appointment=appointment, author=actor, body=body)
    audit.record(actor=actor, event_type=CounselingEvent.NOTE_ADDED, subject=note,
                 new={"case": appointment.case_id, "appointment": appointment.pk})
    return note


def _locked_case(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


@transaction.atomic
def supervision_grant(*, case: Case, supervisor, actor) -> SupervisionGrant:
    """The case's counselor lets ``supervisor`` (another counselor) read this case's notes.
    Already granted: the current grant is returned."""
    case = _locked_case(case)
    if not permissions.can_grant_supervision(actor, case):
        raise NotAllowed()
    if supervisor is None or supervisor.pk == actor.pk or not permissions.can_supervise(supervisor):
        raise InvalidInput(_("Choose another counselor as supervisor."), detail={"supervisor": "invalid"})
    current = SupervisionGrant.objects.filter(case=case, supervisor=supervisor, revoked_at__isnull=True).first()
    if current is not None:
        return current
    grant = SupervisionGrant.objects.create(case=case, supervisor=supervisor, granted_by=actor,
                                            granted_at=timezone.now())
    audit.record(actor=actor, event_type=CounselingEvent.SUPERVISION_GRANTED, subject=grant,
                 new={"case": case.pk, "supervisor": supervisor.pk})
    return grant


@transaction.atomic
def supervision_revoke(*, case: Case, supervisor, actor) -> SupervisionGrant | None:
    """The case's counselor ends the supervisor's access. None if there was no current grant."""
    case = _locked_case(case)
    if not permissions.can_grant_supervision(actor, case):
        raise NotAllowed()
    grant = (SupervisionGrant.objects.select_for_update()
             .filter(case=case, supervisor=supervisor, revoked_at__isnull=True).first())
    if grant is None:
        return None
    grant.revoked_at = timezone.now()
    grant.save(update_fields=["revoked_at"])
    audit.record(actor=actor, event_type=CounselingEvent.SUPERVISION_REVOKED, subject=grant,
                 old={"revoked_at": None}, new={"case": case.pk, "supervisor": supervisor.pk,
                                                "revoked_at": grant.revoked_at})
    return grant


# --- risk and crisis ---------------------------------------------------------------------------


def _crisis_numbers() -> list[tuple[str, str]]:
    return [(name, str(getattr(settings, name, "") or "").strip())
            for name in ("COUNSELING_ON_CALL_MOBILE", "COUNSELING_CRISIS_CONTACT_MOBILE")]


def _alert_crisis(case: Case) -> None:
    """Urgent SMS (quiet hours do not hold it back) to the on-call counselor and the center's
    crisis contact: the reference and the hall's page only."""
    with translation.override(settings.LANGUAGE_CODE):
        context = {"ref": case.reference, "link": sms.link(reverse("care:case_detail", args=[case.pk]))}
        for name, number in _crisis_numbers():
            if not number:
                log.warning("%s is not set: no SMS alert for case %s", name, case.reference)
                continue
            sms.notify(recipient=number, template="crisis_alert", context=context, urgency=Urgency.URGENT)


@transaction.atomic
def risk_flag(*, case: Case, actor, level: str) -> RiskFlag:
    """The case's counselor sets its risk level. High (危机): the hall case goes to urgent, at
    the top of the queue, until someone acknowledges it, and the on-call counselor and the
    crisis contact are alerted by urgent SMS. Lowered before acknowledgement: the priority
    goes back. The same level again: nothing happens."""
    if level not in RiskLevel.values:
        raise InvalidInput(_("Choose the risk level from the list."), detail={"level": "invalid"})
    case = _locked_case(case)
    if not permissions.can_flag_risk(actor, case):
        raise NotAllowed()
    flag = RiskFlag.objects.select_for_update().filter(case=case).first()
    if flag is not None and flag.level == level:
        return flag
    now = timezone.now()
    old_level = flag.level if flag is not None else RiskLevel.NONE
    old_priority = case.priority
    if flag is None:
        flag = RiskFlag(case=case)
    flag.level, flag.flagged_by, flag.flagged_at = level, actor, now
    if level == RiskLevel.HIGH:
        if flag.priority_before is None:
            flag.priority_before = case.priority
        flag.acknowledged_by, flag.acknowledged_at = None, None
        case.priority = Priority.URGENT
    elif flag.priority_before is not None:  # no longer high, never acknowledged
        case.priority, flag.priority_before = flag.priority_before, None
    flag.save()
    if case.priority != old_priority:
        case.save(update_fields=["priority"])
    audit.record(actor=actor, event_type=CounselingEvent.RISK_FLAGGED, subject=flag,
                 old={"level": old_level, "priority": old_priority},
                 new={"case": case.pk, "level": level, "priority": case.priority})
    if level == RiskLevel.HIGH:
        _alert_crisis(case)
    return flag


@transaction.atomic
def risk_acknowledge(*, case: Case, actor) -> RiskFlag:
    """A counselor (the on-call counselor, the case's own) takes the alert of a high-risk case:
    who and when are recorded and the case's priority goes back to what it was. Already
    acknowledged: returned as it is."""
    case = _locked_case(case)
    if not permissions.can_acknowledge_risk(actor, case):
        raise NotAllowed()
    flag = RiskFlag.objects.select_for_update().filter(case=case).first()
    if flag is None or flag.level != RiskLevel.HIGH:
        raise InvalidState(_("This case has no high risk to acknowledge."))
    if flag.acknowledged_at is not None:
        return flag
    old_priority = case.priority
    flag.acknowledged_by, flag.acknowledged_at = actor, timezone.now()
    case.priority = flag.priority_before if flag.priority_before is not None else Priority.NORMAL
    flag.priority_before = None
    flag.save(update_fields=["acknowledged_by", "acknowledged_at", "priority_before"])
    case.save(update_fields=["priority"])
    audit.record(actor=actor, event_type=CounselingEvent.RISK_ACKNOWLEDGED, subject=flag,
                 old={"acknowledged_at": None, "priority": old_priority},
                 new={"case": case.pk, "acknowledged_at": flag.acknowledged_at, "priority": case.priority})
    return flag


# --- group sessions and workshops --------------------------------------------------------------

GROUP_KINDS = (ServiceKind.GROUP, ServiceKind.WORKSHOP)
TITLE_MAX = 100
DESCRIPTION_MAX = 2000
CAPACITY_MAX = 200

for _code, _text in [
    ("group_booked", gettext_lazy(
        "Worker Service Center: your seat %(ref)s for the group activity on %(when)s, %(where)s is booked. "
        "Details: %(link)s")),
    ("group_waitlisted", gettext_lazy(
        "Worker Service Center: the group activity on %(when)s is full; you are number %(position)s on the "
        "waitlist (%(ref)s). We will tell you if a seat frees up. Details: %(link)s")),
    ("group_promoted", gettext_lazy(
        "Worker Service Center: a seat has freed up: your seat %(ref)s for the group activity on %(when)s, "
        "%(where)s is now booked. Details: %(link)s")),
    ("group_cancelled", gettext_lazy(
        "Worker Service Center: your place %(ref)s for the group activity on %(when)s is cancelled. "
        "Details: %(link)s")),
]:
    sms.register_template(sms.SmsTemplate(
        _code, _text, sample={"when": "2026-12-01 09:00", "where": "Room 3, 2nd floor", "position": 2,
                              "link": "https://example.org/cases/1/"}))


def _group_where(session: GroupSession) -> str:
    name = session.room.name
    if not name or sms.contains_sensitive_word(name):
        return _("at the Worker Service Center (ask at the front desk)")
    return _("room %(room)s") % {"room": name}


def _tell_signup(signup: GroupSignup, template: str, **extra) -> None:
    case, session = signup.case, signup.session
    with translation.override(signup.worker.language):
        context = {"ref": case.reference, "when": _when(session.starts_at), "where": _group_where(session),
                   "link": sms.link(reverse("care:case_detail", args=[case.pk])), **extra}
    sms.notify(recipient=signup.worker, template=template, context=context)


def _clean_text(value: str, *, limit: int, field: str, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("This field is required."), detail={field: "missing"})
    if len(value) > limit:
        raise InvalidInput(_("Write at most %(max)d characters.") % {"max": limit}, detail={field: "too_long"})
    return value


@transaction.atomic
def group_session_create(*, actor, service: Service, room: Room, starts_at, ends_at, capacity, title: str,
                         description: str = "") -> GroupSession:
    """A counselor schedules a group session or a workshop that they lead, in a room. Neither
    they nor the room may be held then (by an appointment, its buffer, or another session):
    checked under the same locks as a booking (the counselor's user row, then the room's)."""
    if not permissions.can_lead_groups(actor):
        raise NotAllowed()
    if service is None or not service.active or service.kind not in GROUP_KINDS:
        raise InvalidInput(_("Choose a group session or workshop from the list."), detail={"service": "invalid"})
    if room is None:
        raise InvalidInput(_("Choose a room."), detail={"room": "missing"})
    starts_at, ends_at = _aware(starts_at), _aware(ends_at)
    if ends_at <= starts_at:
        raise InvalidInput(_("The end must come after the start."), detail={"ends_at": "order"})
    if starts_at <= timezone.now():
        raise InvalidInput(_("Choose a time in the future."), detail={"starts_at": "past"})
    try:
        capacity = int(capacity)
    except (TypeError, ValueError):
        capacity = 0
    if not 1 <= capacity <= CAPACITY_MAX:
        raise InvalidInput(_("The number of seats must be between 1 and %(max)d.") % {"max": CAPACITY_MAX},
                           detail={"capacity": "invalid"})
    title = _clean_text(title, limit=TITLE_MAX, field="title", required=True)
    description = _clean_text(description, limit=DESCRIPTION_MAX, field="description", required=False)
    get_user_model().objects.select_for_update().get(pk=actor.pk)
    room = _lock_room(room)
    if selectors.is_away(counselor_id=actor.pk, since=starts_at, until=ends_at):
        raise InvalidState(_("Your calendar is blocked then (leave, a holiday or training): choose another time."),
                           detail={"starts_at": "away"})
    if selectors.busy_intervals(counselor_id=actor.pk, room_id=room.pk, since=starts_at, until=ends_at):
        raise InvalidState(_("You or the room are already booked at that time: choose another time or room."),
                           detail={"starts_at": "taken"})
    session = GroupSession.objects.create(service=service, facilitator=actor, room=room, starts_at=starts_at,
                                          ends_at=ends_at, capacity=capacity, title=title, description=description)
    audit.record(actor=actor, event_type=CounselingEvent.GROUP_CREATED, subject=session,
                 new={"service": service.pk, "room": room.pk, "starts_at": starts_at, "ends_at": ends_at,
                      "capacity": capacity})
    return session


def _locked_session(session: GroupSession) -> GroupSession:
    return GroupSession.objects.select_for_update(of=("self",)).select_related("room", "service").get(pk=session.pk)


@transaction.atomic
def group_signup(*, actor, session: GroupSession, worker: Worker) -> GroupSignup:
    """A worker takes a seat (or, when the session is full, a place on its waitlist), online or
    by the front desk. Seats are counted under the session's row lock, so two sign-ups for the
    last seat never both get it. Already signed up: that place is returned."""
    if not permissions.can_book(actor, worker):
        raise NotAllowed()
    worker = _locked_worker(worker)
    session = _locked_session(session)
    existing = (GroupSignup.objects.filter(session=session, worker=worker)
                .exclude(state=SignupState.CANCELLED).select_related("case").first())
    if existing is not None:
        return existing
    now = timezone.now()
    if session.is_cancelled:
        raise InvalidState(_("This session has been cancelled."))
    if session.starts_at <= now:
        raise InvalidState(_("This session has already started: sign-up is closed."))
    if session.service.kind == ServiceKind.GROUP and selectors.current_consent(worker=worker) is None:
        raise InvalidState(_("Before a first appointment the worker must consent to the processing of health "
                             "information."), detail={"consent": "missing"})
    seated = session.signups.filter(state=SignupState.BOOKED).count()
    state = SignupState.BOOKED if seated < session.capacity else SignupState.WAITLISTED
    case = hall.request_file(actor=actor, worker=worker, department=DEPARTMENT, tell_worker=False,
                             description=_("Group activity on %(when)s") % {"when": _when(session.starts_at)})
    _assign(case, session.facilitator)
    signup = GroupSignup.objects.create(session=session, worker=worker, case=case, state=state, queued_at=now)
    audit.record(actor=actor, event_type=CounselingEvent.GROUP_SIGNED_UP, subject=signup,
                 new={"session": session.pk, "case": case.pk, "state": state})
    if state == SignupState.BOOKED:
        _tell_signup(signup, "group_booked")
    else:
        _tell_signup(signup, "group_waitlisted", position=selectors.waitlist_position(signup=signup))
    return signup


def _promote_waitlist(session: GroupSession, actor, now) -> list[GroupSignup]:
    """Fill the seats given back with the first of the waitlist, in order; each is told by SMS."""
    free = session.capacity - session.signups.filter(state=SignupState.BOOKED).count()
    if free <= 0 or session.is_cancelled or session.starts_at <= now:
        return []
    promoted = list(GroupSignup.objects.select_for_update(of=("self",))
                    .filter(session=session, state=SignupState.WAITLISTED)
                    .select_related("case", "worker").order_by("queued_at", "pk")[:free])
    for signup in promoted:
        signup.session = session
        signup.promote(now)
        signup.save(update_fields=["state", "promoted_at", "updated_at"])
        audit.record(actor=actor, event_type=CounselingEvent.GROUP_PROMOTED, subject=signup,
                     old={"state": SignupState.WAITLISTED}, new={"state": signup.state, "session": session.pk})
        _tell_signup(signup, "group_promoted")
    return promoted


def _withdraw_case(case_id: int) -> None:
    case = Case.objects.select_for_update().get(pk=case_id)
    if case.is_open:
        case.withdraw(timezone.now())
        case.save(update_fields=["stage", "closed_at"])


@transaction.atomic
def group_signup_cancel(*, actor, signup: GroupSignup) -> GroupSignup:
    """The worker gives their place back (until the session starts), or the facilitator cancels
    it (any time before it is marked). A seat given back goes to the first of the waitlist."""
    session = _locked_session(signup.session)
    signup = (GroupSignup.objects.select_for_update(of=("self",)).select_related("case", "worker")
              .get(pk=signup.pk))
    signup.session = session
    if not permissions.can_cancel_signup(actor, signup):
        raise NotAllowed()
    if signup.state == SignupState.CANCELLED:
        return signup
    if not can_proceed(signup.cancel):
        raise InvalidState()
    now = timezone.now()
    by_worker = permissions.is_the_worker(actor, signup.worker)
    if by_worker and session.starts_at <= now:
        raise InvalidState(_("The session has already started."))
    old = signup.state
    signup.cancel(actor, now)
    signup.save(update_fields=["state", "cancelled_by", "cancelled_at", "updated_at"])
    _withdraw_case(signup.case_id)
    audit.record(actor=actor, event_type=CounselingEvent.GROUP_CANCELLED, subject=signup,
                 old={"state": old}, new={"state": signup.state, "session": session.pk})
    if not by_worker:
        _tell_signup(signup, "group_cancelled")
    if old == SignupState.BOOKED:
        _promote_waitlist(session, actor, now)
    return signup


@transaction.atomic
def group_attendance(*, actor, signup: GroupSignup, attended: bool) -> GroupSignup:
    """The facilitator marks a seat, once the session has started: came (the worker is asked
    for a satisfaction rating) or did not come. A mark can be corrected; the case is closed."""
    session = _locked_session(signup.session)
    signup = (GroupSignup.objects.select_for_update(of=("self",)).select_related("case", "worker")
              .get(pk=signup.pk))
    signup.session = session
    if not permissions.is_facilitator(actor, session):
        raise NotAllowed()
    target = SignupState.ATTENDED if attended else SignupState.ABSENT
    if signup.state == target:
        return signup
    method = signup.attend if attended else signup.miss
    if not can_proceed(method):
        raise InvalidState(_("Only a booked seat can be marked."))
    if session.starts_at > timezone.now():
        raise InvalidState(_("This can be recorded once the session has started."))
    old = signup.state
    method()
    signup.save(update_fields=["state", "updated_at"])
    case = Case.objects.select_for_update().get(pk=signup.case_id)
    if case.stage == Stage.IN_PROGRESS:
        case.close(timezone.now())
        case.save(update_fields=["stage", "closed_at"])
    audit.record(actor=actor, event_type=CounselingEvent.GROUP_ATTENDANCE, subject=signup,
                 old={"state": old}, new={"state": signup.state, "session": session.pk})
    if attended:
        surveys.survey_invite(case=case, actor=actor)
    return signup


@transaction.atomic
def group_session_cancel(*, actor, session: GroupSession) -> GroupSession:
    """The facilitator cancels a session before it starts: every seat and waitlist place is
    cancelled and each worker told by SMS."""
    session = _locked_session(session)
    if not permissions.is_facilitator(actor, session):
        raise NotAllowed()
    if session.is_cancelled:
        return session
    now = timezone.now()
    if session.starts_at <= now:
        raise InvalidState(_("The session has already started."))
    session.cancelled_at = now
    session.save(update_fields=["cancelled_at"])
    places = list(GroupSignup.objects.select_for_update(of=("self",))
                  .filter(session=session, state__in=ACTIVE_SIGNUP_STATES).select_related("case", "worker"))
    for signup in places:
        signup.session = session
        signup.cancel(actor, now)
        signup.save(update_fields=["state", "cancelled_by", "cancelled_at", "updated_at"])
        _withdraw_case(signup.case_id)
        _tell_signup(signup, "group_cancelled")
    audit.record(actor=actor, event_type=CounselingEvent.GROUP_SESSION_CANCELLED, subject=session,
                 old={"cancelled_at": None}, new={"cancelled_at": now, "places": [s.pk for s in places]})
    return session
