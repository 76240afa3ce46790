"""Every read of counseling, scoped to the user in the query."""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from care import audit, sms
from care.errors import NotAllowed
from care.models import Case
from care.roles import Role
from counseling import permissions
from counseling.models import (
    DEPARTMENT,
    HOLDING_STATES,
    Appointment,
    AppointmentState,
    CalendarException,
    CounselorProfile,
    HealthConsent,
    Mode,
    Note,
    RiskFlag,
    RiskLevel,
    Room,
    SupervisionGrant,
)
from counseling.slots import SHANGHAI, Interval, free_slots


def min_notice() -> datetime.timedelta:
    return datetime.timedelta(hours=int(getattr(settings, "COUNSELING_MIN_NOTICE_HOURS", 2)))


def max_days_ahead() -> int:
    return int(getattr(settings, "COUNSELING_MAX_DAYS_AHEAD", 28))


def max_open_per_worker() -> int:
    return int(getattr(settings, "COUNSELING_MAX_OPEN_PER_WORKER", 2))


def cancel_cutoff() -> datetime.timedelta:
    return datetime.timedelta(hours=int(getattr(settings, "COUNSELING_CANCEL_CUTOFF_HOURS", 24)))


def consent_version() -> str:
    return str(getattr(settings, "COUNSELING_CONSENT_VERSION", "2026-1"))


# --- calendars ---------------------------------------------------------------------------------


def busy_intervals(*, counselor_id: int, room_id: int | None, since: datetime.datetime, until: datetime.datetime,
                   exclude_pk: int | None = None) -> list[Interval]:
    """The time held by the holding appointments of the counselor, or of the room, that
    overlap [since, until): each from its start until its end + its buffer."""
    holder = Q(counselor_id=counselor_id)
    if room_id is not None:
        holder |= Q(room_id=room_id)
    rows = Appointment.objects.filter(holder, state__in=HOLDING_STATES, starts_at__lt=until, blocked_until__gt=since)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return list(rows.values_list("starts_at", "blocked_until"))


def _window(start_day: datetime.date, days: int) -> tuple[datetime.datetime, datetime.datetime]:
    since = datetime.datetime.combine(start_day, datetime.time(0), tzinfo=SHANGHAI)
    return since, since + datetime.timedelta(days=days)


def free_slots_for(*, profile: CounselorProfile, room: Room | None = None, start_day: datetime.date | None = None,
                   days: int | None = None, now: datetime.datetime | None = None, with_busy: bool = True,
                   exclude_pk: int | None = None) -> list[Interval]:
    """The counselor's free slots (and the room's, if one is given) from ``start_day`` (today by
    default) for ``days`` days, never past COUNSELING_MAX_DAYS_AHEAD days from today and never
    sooner than COUNSELING_MIN_NOTICE_HOURS from now. ``with_busy=False`` ignores appointments
    (the service uses it to tell "not a slot" from "taken")."""
    now = now or timezone.now()
    today = timezone.localtime(now, SHANGHAI).date()
    start_day = max(start_day or today, today)
    last_day = today + datetime.timedelta(days=max_days_ahead())
    days = (last_day - start_day).days + 1 if days is None else min(days, (last_day - start_day).days + 1)
    if days <= 0 or not profile.active:
        return []
    since, until = _window(start_day, days)
    hours = list(profile.working_hours.values_list("weekday", "starts", "ends"))
    exceptions = list(CalendarException.objects.filter(counselor=profile, starts_at__lt=until, ends_at__gt=since)
                      .values_list("starts_at", "ends_at"))
    busy = busy_intervals(counselor_id=profile.user_id, room_id=room.pk if room else None, since=since,
                          until=until + datetime.timedelta(days=1), exclude_pk=exclude_pk) if with_busy else []
    return free_slots(working_hours=hours, exceptions=exceptions, busy=busy, session_minutes=profile.session_minutes,
                      buffer_minutes=profile.buffer_minutes, start_day=start_day, days=days, now=now,
                      min_notice=min_notice(), tz=SHANGHAI)


def bookable_profiles() -> QuerySet[CounselorProfile]:
    """Counselors who take bookings (their calendars are not private: free times only)."""
    return (CounselorProfile.objects.filter(active=True, user__is_active=True, user__department=DEPARTMENT,
                                            user__groups__name=str(Role.COUNSELOR))
            .select_related("user").distinct().order_by("user__last_name", "user__first_name", "user__username"))


# --- consent, limits ---------------------------------------------------------------------------


def current_consent(*, worker) -> HealthConsent | None:
    return HealthConsent.objects.filter(worker=worker, withdrawn_at__isnull=True).first()


def open_appointments(*, worker, now: datetime.datetime | None = None) -> QuerySet[Appointment]:
    """The worker's appointments that still hold a time that has not ended."""
    return Appointment.objects.filter(case__worker=worker, state__in=HOLDING_STATES,
                                      ends_at__gt=now or timezone.now())


# --- appointments ------------------------------------------------------------------------------


def _visible_q(user) -> Q:
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    q = Q(pk__in=[])
    if user.has_role(Role.WORKER):
        q |= Q(case__worker__user=user)
    if permissions.is_counselor(user):
        q |= Q(counselor=user)
    return q


def appointments_for_user(*, user) -> QuerySet[Appointment]:
    """A worker's own appointments; a counselor's own. Nobody else's."""
    return (Appointment.objects.filter(_visible_q(user))
            .select_related("case", "case__worker", "counselor", "room", "service").order_by("starts_at", "pk"))


def appointment_get_for_user(*, appointment_id, user) -> Appointment:
    """The appointment, if ``user`` may see it; Http404 otherwise (absent or forbidden alike)."""
    try:
        return appointments_for_user(user=user).get(pk=appointment_id)
    except (Appointment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def no_show_count(*, worker, user) -> int:
    """How many appointments the worker missed without cancelling: for a counselor who has (or
    had) an appointment with the worker; NotAllowed for anyone else."""
    if not (permissions.is_counselor(user)
            and Appointment.objects.filter(case__worker=worker, counselor=user).exists()):
        raise NotAllowed()
    return Appointment.objects.filter(case__worker=worker, state=AppointmentState.NO_SHOW).count()


# --- session notes -----------------------------------------------------------------------------

NOTES_VIEWED = "counseling.notes_viewed"  # = counseling.services.CounselingEvent.NOTES_VIEWED


def _readable_notes_q(user) -> Q:
    """Notes a user may read: their own, and those of the cases they supervise now. Nobody
    else: not the center manager, not the administrator, not another counselor."""
    if not permissions.is_counselor(user):
        return Q(pk__in=[])
    supervised = SupervisionGrant.objects.filter(supervisor=user, revoked_at__isnull=True).values("case_id")
    return Q(author=user) | Q(case_id__in=supervised)


@transaction.atomic
def notes_for(*, case: Case, user) -> list[Note]:
    """The notes of ``case`` that ``user`` may read (none for anyone else). Every call is a
    read of a sensitive record, recorded in the audit log with the notes it returned."""
    notes = list(Note.objects.filter(_readable_notes_q(user), case_id=case.pk)
                 .select_related("author", "appointment").order_by("created_at", "pk"))
    audit.record(actor=user, event_type=NOTES_VIEWED, subject=case, new={"notes": [note.pk for note in notes]})
    return notes


def supervision_grants_for(*, case: Case, user) -> QuerySet[SupervisionGrant]:
    """The current grants of a case, for its counselor only."""
    if not permissions.is_case_counselor(user, case):
        return SupervisionGrant.objects.none()
    return SupervisionGrant.objects.filter(case_id=case.pk, revoked_at__isnull=True).select_related("supervisor")


# --- risk --------------------------------------------------------------------------------------


def risk_level(*, case: Case, user) -> str | None:
    """The case's risk level, for a counselor of the department; None for anyone else."""
    if not permissions.can_acknowledge_risk(user, case):
        return None
    flag = RiskFlag.objects.filter(case_id=case.pk).first()
    return flag.level if flag else RiskLevel.NONE


def risks_awaiting_acknowledgement(*, user) -> QuerySet[RiskFlag]:
    """High-risk cases nobody has acknowledged yet, for the counselors of the department."""
    if not permissions.is_counselor(user):
        return RiskFlag.objects.none()
    return (RiskFlag.objects.filter(level=RiskLevel.HIGH, acknowledged_at__isnull=True)
            .select_related("case").order_by("flagged_at"))


def counselor_queue(*, user) -> QuerySet[Case]:
    """The counseling cases a counselor may read, most urgent first (an unacknowledged high
    risk makes its case urgent), then newest."""
    if not permissions.is_counselor(user):
        return Case.objects.none()
    from care import permissions as hall

    return (Case.objects.filter(hall.visible_cases_q(user), department=DEPARTMENT)
            .select_related("worker", "assignee").order_by("-priority", "-opened_at", "-id"))


def where(appointment: Appointment) -> str:
    """Where an appointment is held, in the words of its SMS, pages and calendar file: the
    room's name, or the way of meeting (never a room name that would name the service)."""
    if appointment.mode == Mode.PHONE:
        return _("by phone (we will call you)")
    if appointment.mode == Mode.VIDEO:
        return _("online (video)")
    name = appointment.room.name if appointment.room else ""
    if not name or sms.contains_sensitive_word(name):
        return _("at the Worker Service Center (ask at the front desk)")
    return _("room %(room)s") % {"room": name}


def active_rooms() -> QuerySet[Room]:
    return Room.objects.filter(active=True).order_by("name", "pk")


def counselor_profile(*, user_id: int) -> CounselorProfile | None:
    return CounselorProfile.objects.filter(user_id=user_id).first()
