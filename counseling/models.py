"""Counseling (心理咨询): services, counselors' calendars (working hours, exceptions), rooms, the
worker's consent to process health information, and appointments.

An appointment holds its counselor (and its room, if any) from ``starts_at`` to
``blocked_until`` (= ``ends_at`` + the counselor's buffer) while it is requested, confirmed or
checked in. Two holding appointments of one counselor, or of one room, never overlap:
counseling.services checks it under row locks, and on PostgreSQL exclusion constraints
(migration 0002) say the same to the database."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from care import sms
from care.fields import EncryptedTextField
from care.models import Case, Worker

DEPARTMENT = "counseling"


class ServiceKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual session")
    GROUP = "group", _("Group session")
    WORKSHOP = "workshop", _("Stress-relief workshop")


class Service(models.Model):
    """What a worker can book. Only individual sessions are booked one to one (groups and
    workshops have a capacity and come later)."""

    code = models.CharField(_("service code"), max_length=20, unique=True)
    name = models.CharField(_("service name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=ServiceKind.choices, default=ServiceKind.INDIVIDUAL)
    session_minutes = models.PositiveSmallIntegerField(
        _("session length (minutes)"), default=50, validators=[MinValueValidator(10), MaxValueValidator(480)])
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("counseling service")
        verbose_name_plural = _("counseling services")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Mode(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("By phone")
    VIDEO = "video", _("By video")


class CounselorProfile(models.Model):
    """A counselor's booking settings. The user is a staff member with the counselor role in
    the counseling department (checked by the service that books, not here)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="counselor_profile")
    session_minutes = models.PositiveSmallIntegerField(
        _("session length (minutes)"), default=50, validators=[MinValueValidator(10), MaxValueValidator(480)])
    buffer_minutes = models.PositiveSmallIntegerField(
        _("buffer between sessions (minutes)"), default=10, validators=[MaxValueValidator(240)])
    offers_in_person = models.BooleanField(_("offers sessions in person"), default=True)
    offers_phone = models.BooleanField(_("offers sessions by phone"), default=False)
    offers_video = models.BooleanField(_("offers sessions by video"), default=False)
    active = models.BooleanField(_("takes bookings"), default=True)

    class Meta:
        verbose_name = _("counselor profile")
        verbose_name_plural = _("counselor profiles")
        constraints = [
            models.CheckConstraint(condition=Q(session_minutes__gte=10), name="counseling_profile_session"),
        ]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def modes(self) -> list[str]:
        offered = [(self.offers_in_person, Mode.IN_PERSON), (self.offers_phone, Mode.PHONE),
                   (self.offers_video, Mode.VIDEO)]
        return [mode for on, mode in offered if on]


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkingHours(models.Model):
    """One range of a counselor's weekly hours (local time, Asia/Shanghai); a day may have
    several (e.g. 09:00–12:00 and 13:30–17:30)."""

    counselor = models.ForeignKey(CounselorProfile, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["counselor", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="counseling_hours_order"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="counseling_hours_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class ExceptionReason(models.TextChoices):
    LEAVE = "leave", _("Leave")
    HOLIDAY = "holiday", _("Public holiday")
    TRAINING = "training", _("Training")


class CalendarException(models.Model):
    """Time a counselor does not take appointments (leave, a public holiday, training): from
    ``starts_at`` until ``ends_at`` (half open). Whole days are stored as local midnights
    (counseling.services.exception_add takes dates or datetimes)."""

    counselor = models.ForeignKey(CounselorProfile, on_delete=models.CASCADE, related_name="exceptions")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=10, choices=ExceptionReason.choices)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["counselor", "starts_at"]
        indexes = [models.Index(fields=["counselor", "starts_at"], name="counseling_exception_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="counseling_exception_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"


class Room(models.Model):
    """A counseling room (咨询室). Its calendar is its holding appointments. Its name is sent by
    SMS, so it must not name the service."""

    name = models.CharField(_("room name"), max_length=60, unique=True,
                            help_text=_("Sent to the worker by SMS: give the room number, never the service."))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if sms.contains_sensitive_word(self.name or ""):
            raise ValidationError({"name": _("The room's name is sent by SMS: give its number, not the service.")})


class HealthConsent(models.Model):
    """The worker's separate consent to process health information (needed before a first
    appointment). Current while not withdrawn; at most one current consent per worker."""

    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="health_consents")
    text_version = models.CharField(_("version of the consent text"), max_length=20)
    given_at = models.DateTimeField(_("given"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    class Meta:
        verbose_name = _("health information consent")
        verbose_name_plural = _("health information consents")
        constraints = [
            models.UniqueConstraint(fields=["worker"], condition=Q(withdrawn_at__isnull=True),
                                    name="counseling_one_current_consent"),
        ]

    @property
    def is_current(self) -> bool:
        return self.withdrawn_at is None


class AppointmentState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    CONFIRMED = "confirmed", _("Confirmed")
    CHECKED_IN = "checked_in", _("Checked in")
    COMPLETED = "completed", _("Completed")
    REFERRED = "referred", _("Referred on")
    CANCELLED = "cancelled", _("Cancelled")
    CANCELLED_LATE = "cancelled_late", _("Cancelled late")
    NO_SHOW = "no_show", _("Did not come")


# Appointments in these states hold their counselor and room (the exclusion constraints'
# WHERE clause names the same values) and count against the worker's open appointments.
HOLDING_STATES = (AppointmentState.REQUESTED, AppointmentState.CONFIRMED, AppointmentState.CHECKED_IN)
CANCELLABLE_STATES = (AppointmentState.REQUESTED, AppointmentState.CONFIRMED)


class Appointment(FSMModelMixin, models.Model):
    """One individual session of a worker with a counselor, in a room or by phone or video.
    The hall's case (opened by the first booking) gives it a reference and the worker; a
    rescheduled appointment keeps the case and points to the one it replaced."""

    # A ForeignKey rather than a OneToOne: a rescheduled appointment stays in its case (at most one
    # holding appointment per case, see Meta).
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="appointments")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    counselor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="counseling_appointments")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments")
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.IN_PERSON)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    # ends_at + the counselor's buffer: the end of the time this appointment holds.
    blocked_until = models.DateTimeField(editable=False)
    state = FSMField(_("state"), default=AppointmentState.REQUESTED, choices=AppointmentState.choices,
                     protected=True)
    replaces = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="replaced_by")
    cancel_reason = EncryptedTextField(_("reason for cancelling"), blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["counselor", "starts_at"], name="counseling_appt_counselor_idx"),
            models.Index(fields=["room", "starts_at"], name="counseling_appt_room_idx"),
            models.Index(fields=["state", "starts_at"], name="counseling_appt_state_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="counseling_appt_order"),
            models.CheckConstraint(condition=Q(blocked_until__gte=F("ends_at")), name="counseling_appt_blocked"),
            models.CheckConstraint(condition=~Q(mode=Mode.IN_PERSON) | Q(room__isnull=False),
                                   name="counseling_appt_room_in_person"),
            models.UniqueConstraint(fields=["case"], condition=Q(state__in=HOLDING_STATES),
                                    name="counseling_one_holding_per_case"),
        ]  # no overlaps per counselor / per room: the service, and on PostgreSQL migration 0002

    def __str__(self) -> str:
        return f"{self.case.reference} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"

    @property
    def worker(self) -> Worker:
        return self.case.worker

    @property
    def is_holding(self) -> bool:
        return self.state in HOLDING_STATES

    # -- lifecycle: pure field changes; counseling.services locks, checks, audits, notifies --
    @transition(field=state, source=AppointmentState.REQUESTED, target=AppointmentState.CONFIRMED)
    def confirm(self):
        pass

    @transition(field=state, source=AppointmentState.CONFIRMED, target=AppointmentState.CHECKED_IN)
    def check_in(self, at):
        self.checked_in_at = at

    @transition(field=state, source=AppointmentState.CHECKED_IN, target=AppointmentState.COMPLETED)
    def complete(self):
        pass

    @transition(field=state, source=AppointmentState.CHECKED_IN, target=AppointmentState.REFERRED)
    def refer(self):
        pass

    @transition(field=state, source=CANCELLABLE_STATES, target=AppointmentState.CANCELLED)
    def cancel(self, by, reason: str, at):
        self.cancelled_by, self.cancel_reason, self.cancelled_at = by, reason, at

    @transition(field=state, source=CANCELLABLE_STATES, target=AppointmentState.CANCELLED_LATE)
    def cancel_late(self, by, reason: str, at):
        self.cancelled_by, self.cancel_reason, self.cancelled_at = by, reason, at

    @transition(field=state, source=CANCELLABLE_STATES, target=AppointmentState.NO_SHOW)
    def no_show(self):
        pass


# --- reminders ---------------------------------------------------------------------------------


class ReminderOffset(models.TextChoices):
    DAY_BEFORE = "24h", _("24 hours before")
    TWO_HOURS = "2h", _("2 hours before")


REMINDER_OFFSETS = {ReminderOffset.DAY_BEFORE: 24, ReminderOffset.TWO_HOURS: 2}  # hours before the start


class ReminderDue(models.Model):
    """One SMS reminder of one holding appointment: made when it is booked (only for times
    still ahead), deleted when it stops holding, sent once by counseling.tasks
    (``sent_at`` is set in the transaction that queues the SMS)."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="reminders")
    offset = models.CharField(max_length=4, choices=ReminderOffset.choices)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [models.Index(fields=["sent_at", "due_at"], name="counseling_reminder_due_idx")]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "offset"], name="counseling_one_reminder_per_offset"),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_id} {self.offset} {self.due_at:%Y-%m-%d %H:%M}"


# --- session notes -----------------------------------------------------------------------------


class Note(models.Model):
    """A counselor's session note (咨询记录): encrypted; read only by its author and by a
    supervisor the case's counselor named (SupervisionGrant). Never by the center manager or
    the administrator, so it is not in the admin. Every read is audited."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="counseling_notes")
    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = EncryptedTextField(_("note"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("session note")
        verbose_name_plural = _("session notes")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["case", "created_at"], name="counseling_note_case_idx")]


class SupervisionGrant(models.Model):
    """The case's counselor lets a named supervisor (a counselor) read that one case's notes,
    until revoked. At most one current grant per case and supervisor."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="supervision_grants")
    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("supervision grant")
        verbose_name_plural = _("supervision grants")
        constraints = [
            models.UniqueConstraint(fields=["case", "supervisor"], condition=Q(revoked_at__isnull=True),
                                    name="counseling_one_current_grant"),
        ]

    @property
    def is_current(self) -> bool:
        return self.revoked_at is None


# --- risk --------------------------------------------------------------------------------------


class RiskLevel(models.TextChoices):
    NONE = "none", _("No risk")
    LOW = "low", _("Low risk")
    MEDIUM = "medium", _("Medium risk")
    HIGH = "high", _("High risk (crisis)")


class RiskFlag(models.Model):
    """The current risk level of a counseling case (its history is in the audit log). A high
    level raises the hall case to urgent (``priority_before`` keeps what it was) until someone
    acknowledges it."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="counseling_risk")
    level = models.CharField(_("risk level"), max_length=6, choices=RiskLevel.choices, default=RiskLevel.NONE)
    flagged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    flagged_at = models.DateTimeField(default=timezone.now)
    priority_before = models.SmallIntegerField(null=True, blank=True, editable=False)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("risk flag")
        verbose_name_plural = _("risk flags")
        indexes = [models.Index(fields=["level", "acknowledged_at"], name="counseling_risk_open_idx")]

    @property
    def awaiting_acknowledgement(self) -> bool:
        return self.level == RiskLevel.HIGH and self.acknowledged_at is None


# --- group sessions and workshops (团体辅导, 减压辅导) -------------------------------------------


class GroupSession(models.Model):
    """A group session or a workshop: a date, a room, a capacity and a description, led by a
    counselor (its facilitator). Signing up takes a seat while there is one, else a place on the
    waitlist; a seat given back goes to the first of the waitlist. It holds its room and its
    facilitator like an appointment does (from ``starts_at`` to ``ends_at``), so neither is
    booked twice; cancelled, it holds nothing."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="group_sessions")
    facilitator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="counseling_group_sessions")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="group_sessions")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveSmallIntegerField(_("seats"), validators=[MinValueValidator(1), MaxValueValidator(200)])
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("about the session"), max_length=2000, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("group session")
        verbose_name_plural = _("group sessions")
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["starts_at"], name="counseling_group_start_idx"),
            models.Index(fields=["room", "starts_at"], name="counseling_group_room_idx"),
            models.Index(fields=["facilitator", "starts_at"], name="counseling_group_fac_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="counseling_group_order"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="counseling_group_capacity"),
        ]

    def __str__(self) -> str:
        return f"{self.title} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class SignupState(models.TextChoices):
    BOOKED = "booked", _("Seat booked")
    WAITLISTED = "waitlisted", _("On the waitlist")
    CANCELLED = "cancelled", _("Cancelled")
    ATTENDED = "attended", _("Attended")
    ABSENT = "absent", _("Did not come")


ACTIVE_SIGNUP_STATES = (SignupState.BOOKED, SignupState.WAITLISTED)


class GroupSignup(FSMModelMixin, models.Model):
    """A worker's place in a group session: a seat, or a place on the waitlist (in the order of
    ``queued_at``). Each opens a hall case assigned to the facilitator, as an appointment does."""

    session = models.ForeignKey(GroupSession, on_delete=models.PROTECT, related_name="signups")
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="group_signups")  # = case.worker
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="group_signup")
    state = FSMField(_("state"), default=SignupState.WAITLISTED, choices=SignupState.choices, protected=True)
    queued_at = models.DateTimeField(default=timezone.now)
    promoted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("group session sign-up")
        verbose_name_plural = _("group session sign-ups")
        ordering = ["queued_at", "pk"]
        indexes = [models.Index(fields=["session", "state", "queued_at"], name="counseling_signup_queue_idx")]
        constraints = [
            # One place per worker and session (given back, the worker may sign up again).
            models.UniqueConstraint(fields=["session", "worker"], condition=~Q(state=SignupState.CANCELLED),
                                    name="counseling_one_signup_per_worker"),
        ]

    def __str__(self) -> str:
        return f"{self.case.reference} {self.get_state_display()}"

    @transition(field=state, source=SignupState.WAITLISTED, target=SignupState.BOOKED)
    def promote(self, at):
        self.promoted_at = at

    @transition(field=state, source=ACTIVE_SIGNUP_STATES, target=SignupState.CANCELLED)
    def cancel(self, by, at):
        self.cancelled_by, self.cancelled_at = by, at

    @transition(field=state, source=(SignupState.BOOKED, SignupState.ABSENT), target=SignupState.ATTENDED)
    def attend(self):
        pass

    @transition(field=state, source=(SignupState.BOOKED, SignupState.ATTENDED), target=SignupState.ABSENT)
    def miss(self):
        pass
