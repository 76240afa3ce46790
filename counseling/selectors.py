"""Every read of counseling, scoped to the user in the query."""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, DurationField, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from care import audit, sms
from care.errors import NotAllowed
from care.figures import Percentile
from care.models import Case
from care.registry import Figure
from care.roles import Role
from counseling import permissions
from counseling.models import (
    DEPARTMENT,
    HOLDING_STATES,
    Appointment,
    AppointmentState,
    CalendarException,
    CounselorProfile,
    GroupSession,
    GroupSignup,
    HealthConsent,
    Mode,
    Note,
    RiskFlag,
    RiskLevel,
    Room,
    Service,
    ServiceKind,
    SignupState,
    SupervisionGrant,
)
from counseling.slots import SHANGHAI, Interval, free_slots, overlaps


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
    overlap [since, until): each from its start until its end + its buffer; and by the group
    sessions they lead or are held in (not cancelled), from start to end."""
    holder = Q(counselor_id=counselor_id)
    if room_id is not None:
        holder |= Q(room_id=room_id)
    rows = Appointment.objects.filter(holder, state__in=HOLDING_STATES, starts_at__lt=until, blocked_until__gt=since)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    leads = Q(facilitator_id=counselor_id)
    if room_id is not None:
        leads |= Q(room_id=room_id)
    groups = GroupSession.objects.filter(leads, cancelled_at__isnull=True, starts_at__lt=until, ends_at__gt=since)
    return list(rows.order_by().values_list("starts_at", "blocked_until").union(
        groups.order_by().values_list("starts_at", "ends_at"), all=True).order_by())


def is_away(*, counselor_id: int, since: datetime.datetime, until: datetime.datetime) -> bool:
    """Whether a calendar exception (leave, a holiday, training) of the counselor overlaps [since, until)."""
    return CalendarException.objects.filter(counselor__user_id=counselor_id, starts_at__lt=until,
                                            ends_at__gt=since).exists()


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


def bookable_services() -> QuerySet[Service]:
    """What a worker can book one to one: the active individual services."""
    return Service.objects.filter(active=True, kind=ServiceKind.INDIVIDUAL).order_by("code", "pk")


# How many days of free times the booking page shows, and the API gives at most at once.
FREE_TIMES_DAYS = 14


def free_times(*, profile: CounselorProfile, mode: str, start_day: datetime.date | None = None,
               days: int = FREE_TIMES_DAYS, exclude_pk: int | None = None) -> dict[datetime.datetime, tuple]:
    """The free times of ``profile`` for ``mode`` (start → (end, room)): for a session in person,
    the times a room is also free, each with the first such room (the worker chooses a time, not
    a room); by phone or video, every free slot, with no room. The booking pages and the API
    offer these."""
    slots = free_slots_for(profile=profile, start_day=start_day, days=days, exclude_pk=exclude_pk)
    if mode != Mode.IN_PERSON:
        return {start: (end, None) for start, end in slots}
    rooms = list(active_rooms())
    if not slots or not rooms:
        return {}
    step = datetime.timedelta(minutes=profile.session_minutes + profile.buffer_minutes)
    busy = rooms_busy(room_ids=[room.pk for room in rooms], since=slots[0][0], until=slots[-1][0] + step,
                      exclude_pk=exclude_pk)
    found: dict[datetime.datetime, tuple] = {}
    for start, end in slots:
        room = next((room for room in rooms if not overlaps(start, start + step, busy.get(room.pk, []))), None)
        if room is not None:
            found[start] = (end, room)
    return found


def rooms_busy(*, room_ids: list[int], since: datetime.datetime, until: datetime.datetime,
               exclude_pk: int | None = None) -> dict[int, list[Interval]]:
    """The time held in each of the rooms over [since, until), as busy_intervals counts it for
    one room, in one query for them all: room id → intervals."""
    rows = Appointment.objects.filter(room_id__in=room_ids, state__in=HOLDING_STATES, starts_at__lt=until,
                                      blocked_until__gt=since)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    groups = GroupSession.objects.filter(room_id__in=room_ids, cancelled_at__isnull=True, starts_at__lt=until,
                                         ends_at__gt=since)
    busy: dict[int, list[Interval]] = {}
    for room_id, starts, ends in rows.order_by().values_list("room_id", "starts_at", "blocked_until").union(
            groups.order_by().values_list("room_id", "starts_at", "ends_at"), all=True).order_by():
        busy.setdefault(room_id, []).append((starts, ends))
    return busy


def room_for_time(*, profile: CounselorProfile, mode: str, starts_at: datetime.datetime,
                  exclude_pk: int | None = None) -> Room | None:
    """The room to book with a picked time: one still free then (or any, and the service says the
    time has just been taken); None by phone or video."""
    if mode != Mode.IN_PERSON:
        return None
    local_day = timezone.localtime(starts_at, SHANGHAI).date()
    _end, room = free_times(profile=profile, mode=mode, start_day=local_day, days=1,
                            exclude_pk=exclude_pk).get(starts_at, (None, None))
    return room or active_rooms().first()


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


# --- the counselor's case pages ------------------------------------------------------------------


def _supervised_case_ids(user):
    return SupervisionGrant.objects.filter(supervisor=user, revoked_at__isnull=True).values("case_id")


def case_get_for_counselor(*, case_id, user) -> Case:
    """A counseling case, for its counselor or a counselor it is supervised by now; Http404 for
    anyone else (absent or forbidden alike: other counselors, the center manager, the
    administrator, workers)."""
    if not permissions.is_counselor(user):
        raise Http404
    try:
        return (Case.objects.filter(Q(assignee=user) | Q(pk__in=_supervised_case_ids(user)), department=DEPARTMENT)
                .select_related("worker", "assignee").get(pk=case_id))
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def supervised_cases(*, user) -> QuerySet[Case]:
    """The counseling cases ``user`` supervises now (their notes only), newest first."""
    if not permissions.is_counselor(user):
        return Case.objects.none()
    return (Case.objects.filter(department=DEPARTMENT, pk__in=_supervised_case_ids(user))
            .order_by("-opened_at", "-id"))


def case_get_for_acknowledgement(*, case_id, user) -> Case:
    """A counseling case with a high risk (acknowledged or not), for any counselor of the
    department, who may acknowledge it without reading it; Http404 for anyone else."""
    if not permissions.is_counselor(user):
        raise Http404
    try:
        return Case.objects.filter(department=DEPARTMENT, counseling_risk__level=RiskLevel.HIGH).get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def supervisor_choices(*, user):
    """The counselors of the department ``user`` may name supervisor: every other active one."""
    if not permissions.is_counselor(user):
        return get_user_model().objects.none()
    return (get_user_model().objects.filter(is_active=True, department=DEPARTMENT, groups__name=str(Role.COUNSELOR))
            .exclude(pk=user.pk).distinct().order_by("last_name", "first_name", "username"))


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


# --- group sessions and workshops --------------------------------------------------------------


def _with_seats(sessions: QuerySet[GroupSession]) -> QuerySet[GroupSession]:
    return sessions.select_related("room", "service", "facilitator").annotate(
        booked=Count("signups", filter=Q(signups__state=SignupState.BOOKED)),
        waiting=Count("signups", filter=Q(signups__state=SignupState.WAITLISTED)))


def upcoming_group_sessions(*, now: datetime.datetime | None = None) -> QuerySet[GroupSession]:
    """Sessions open for sign-up (not cancelled, not started), soonest first, with their counts
    of seats booked and places waiting. Public: a title, a time, a room, seats; no names."""
    return _with_seats(GroupSession.objects.filter(cancelled_at__isnull=True, starts_at__gt=now or timezone.now())
                       ).order_by("starts_at", "pk")


def group_session_get(*, session_id) -> GroupSession:
    """A session as the public list shows it; Http404 if there is none."""
    try:
        return _with_seats(GroupSession.objects.all()).get(pk=session_id)
    except (GroupSession.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def facilitated_sessions(*, user) -> QuerySet[GroupSession]:
    """The sessions a counselor leads (none for anyone else), latest first."""
    if not permissions.can_lead_groups(user):
        return GroupSession.objects.none()
    return _with_seats(GroupSession.objects.filter(facilitator=user)).order_by("-starts_at", "-pk")


def facilitated_session_get(*, session_id, user) -> GroupSession:
    try:
        return facilitated_sessions(user=user).get(pk=session_id)
    except (GroupSession.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def roster(*, session: GroupSession, user) -> QuerySet[GroupSignup]:
    """The places of a session, for its facilitator only: seats, then the waitlist in order."""
    if not permissions.is_facilitator(user, session):
        return GroupSignup.objects.none()
    return (GroupSignup.objects.filter(session=session).select_related("case", "worker")
            .order_by("queued_at", "pk"))


def signups_for_worker(*, user) -> QuerySet[GroupSignup]:
    """A worker's own places (none for anyone else), soonest session first."""
    if not user.is_authenticated or not user.has_role(Role.WORKER):
        return GroupSignup.objects.none()
    return (GroupSignup.objects.filter(worker__user=user).select_related("session", "session__room", "case")
            .order_by("session__starts_at", "pk"))


def signup_get_for_user(*, signup_id, user) -> GroupSignup:
    """A place, for its worker or the session's facilitator; Http404 for anyone else."""
    visible = Q(pk__in=[])
    if user.is_authenticated and user.has_role(Role.WORKER):
        visible |= Q(worker__user=user)
    if permissions.is_counselor(user):
        visible |= Q(session__facilitator=user)
    try:
        return (GroupSignup.objects.filter(visible).select_related("session", "session__room", "case", "worker")
                .get(pk=signup_id))
    except (GroupSignup.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def waitlist_position(*, signup: GroupSignup) -> int | None:
    """1 for the first of the waitlist; None for a place not waiting."""
    if signup.state != SignupState.WAITLISTED:
        return None
    ahead = GroupSignup.objects.filter(session_id=signup.session_id, state=SignupState.WAITLISTED).filter(
        Q(queued_at__lt=signup.queued_at) | Q(queued_at=signup.queued_at, pk__lt=signup.pk))
    return ahead.count() + 1


def group_services() -> QuerySet[Service]:
    """What a counselor can schedule for a group: the active group sessions and workshops."""
    return (Service.objects.filter(active=True, kind__in=(ServiceKind.GROUP, ServiceKind.WORKSHOP))
            .order_by("code", "pk"))


def roster_in_order(*, session: GroupSession, user) -> QuerySet[GroupSignup]:
    """The roster (its facilitator only), each place with ``queue_number``: its order among the
    places of its state, so that of a waitlisted place is its waitlist position (1 = next)."""
    return roster(session=session, user=user).annotate(queue_number=Window(
        RowNumber(), partition_by=[F("state")], order_by=[F("queued_at").asc(), F("pk").asc()]))


def figures(*, since, until) -> list[Figure]:
    """The manager's counseling figures (care.registry.register_figures): how long workers wait
    from booking to their appointment (median, of appointments booked in the period), and the
    appointments held."""
    booked = Appointment.objects.filter(created_at__gte=since, created_at__lt=until)
    wait = booked.aggregate(n=Count("id"), median=Percentile(F("starts_at") - F("created_at"), 0.5,
                                                             output_field=DurationField()))
    held = Appointment.objects.filter(state__in=(AppointmentState.COMPLETED, AppointmentState.REFERRED),
                                      starts_at__gte=since, starts_at__lt=until).count()
    median = wait["median"]
    return [Figure(gettext_lazy("Median days from booking to appointment"),
                   None if median is None else round(median.total_seconds() / 86400, 1), unit="days",
                   people=wait["n"]),
            Figure(gettext_lazy("Appointments held"), held)]
