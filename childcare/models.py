"""The care station (职工子女托管驿站): stations and their staff, programmes (holiday care,
after-school care) with their days, hours, ages, capacity and staff-to-child ratio; children,
with their medical notes, emergency contacts and authorised pick-up persons; enrolments (a
django-fsm-2 lifecycle with a waitlist); the daily roster (check-in, check-out); refused
pick-ups and incidents.

Everything private about a child (allergies, medical notes, the ID numbers and photos of the
pick-up persons, incidents) is encrypted at rest (care.fields). The child's name and school
stay in clear: the door's roster searches by name."""

import base64
import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from care.fields import EncryptedTextField
from care.models import Case, Worker

DEPARTMENT = "childcare"
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8), "Asia/Shanghai")


def today() -> datetime.date:
    """Today in Beijing time: the station's day."""
    return timezone.localtime(timezone.now(), SHANGHAI).date()


class Station(models.Model):
    """A care station: its coordinator (who runs its programmes and hears its alerts) and the
    staff who work there. Staff read only their own stations' rosters."""

    name = models.CharField(_("name"), max_length=80)
    address = models.CharField(_("address"), max_length=200, blank=True)
    coordinator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="coordinated_stations", verbose_name=_("coordinator"))
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="care_stations", blank=True,
                                   verbose_name=_("staff"))

    class Meta:
        verbose_name = _("care station")
        verbose_name_plural = _("care stations")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class ProgrammeKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday care")
    AFTER_SCHOOL = "after_school", _("After-school care")


class Programme(models.Model):
    """Care on given weekdays between two dates, from ``opens_at`` to ``closes_at`` (Beijing
    time), for children aged ``min_age`` to ``max_age`` on its first day, up to ``capacity``
    children, with at most ``ratio`` children present per member of staff on duty."""

    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="programmes",
                                verbose_name=_("care station"))
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=12, choices=ProgrammeKind.choices)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    # ISO weekdays it runs on, as digits: "12345" is Monday to Friday.
    weekdays = models.CharField(_("weekdays"), max_length=7, default="12345")
    opens_at = models.TimeField(_("opens"))
    closes_at = models.TimeField(_("closes"))
    min_age = models.PositiveSmallIntegerField(_("youngest age"), validators=[MaxValueValidator(17)])
    max_age = models.PositiveSmallIntegerField(_("oldest age"), validators=[MaxValueValidator(17)])
    capacity = models.PositiveSmallIntegerField(_("places"), validators=[MinValueValidator(1), MaxValueValidator(500)])
    ratio = models.PositiveSmallIntegerField(_("children per member of staff"),
                                             validators=[MinValueValidator(1), MaxValueValidator(30)])
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["starts_on", "name", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="childcare_programme_dates"),
            models.CheckConstraint(condition=Q(closes_at__gt=F("opens_at")), name="childcare_programme_hours"),
            models.CheckConstraint(condition=Q(max_age__gte=F("min_age")), name="childcare_programme_ages"),
            models.CheckConstraint(condition=Q(capacity__gte=1) & Q(ratio__gte=1), name="childcare_programme_sizes"),
        ]

    def __str__(self) -> str:
        return self.name

    def runs_on(self, day: datetime.date) -> bool:
        return self.starts_on <= day <= self.ends_on and str(day.isoweekday()) in self.weekdays

    def closing_time(self, day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(day, self.closes_at, tzinfo=SHANGHAI)

    @property
    def weekday_labels(self) -> list[str]:
        names = dict(WEEKDAY_CHOICES)
        return [str(names[int(d)]) for d in self.weekdays]


WEEKDAY_CHOICES = [(1, _("Monday")), (2, _("Tuesday")), (3, _("Wednesday")), (4, _("Thursday")),
                   (5, _("Friday")), (6, _("Saturday")), (7, _("Sunday"))]


def age_on(born: datetime.date, day: datetime.date) -> int:
    """Age in whole years on ``day`` (a birthday on 29 February counts on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Child(models.Model):
    """A worker's child. Allergies and medical notes are encrypted; they are shown to the staff
    on duty (highlighted on the roster) and to the guardian, nobody else."""

    guardian = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="children",
                                 verbose_name=_("guardian"))
    name = models.CharField(_("name"), max_length=50)
    date_of_birth = models.DateField(_("date of birth"))
    school = models.CharField(_("school"), max_length=100, blank=True)
    allergies = EncryptedTextField(_("allergies"), blank=True)
    medical_notes = EncryptedTextField(_("medical notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("child")
        verbose_name_plural = _("children")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["guardian", "name"], name="childcare_child_guardian_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def has_medical_alert(self) -> bool:
        return bool(self.allergies or self.medical_notes)


class EmergencyContact(models.Model):
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="emergency_contacts")
    name = models.CharField(_("name"), max_length=50)
    relation = models.CharField(_("relation"), max_length=30)
    mobile = models.CharField(_("mobile number"), max_length=16)  # E.164

    class Meta:
        verbose_name = _("emergency contact")
        verbose_name_plural = _("emergency contacts")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.relation})"


class PickupPerson(models.Model):
    """Someone the guardian authorises to collect the child: the guardian themselves (added with
    the child), or another person with their ID number (encrypted) and a photo if given
    (encrypted, base64 of the sniffed image). Removed persons stay, inactive, for the record."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="pickup_persons")
    name = models.CharField(_("name"), max_length=50)
    relation = models.CharField(_("relation"), max_length=30)
    mobile = models.CharField(_("mobile number"), max_length=16)  # E.164
    id_number = EncryptedTextField(_("ID number"), blank=True)
    photo = EncryptedTextField(blank=True)
    photo_type = models.CharField(max_length=40, blank=True)
    is_guardian = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    added_at = models.DateTimeField(default=timezone.now, editable=False)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("authorised pick-up person")
        verbose_name_plural = _("authorised pick-up persons")
        ordering = ["-is_guardian", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.relation})"

    @property
    def photo_data(self) -> bytes:
        return base64.b64decode(self.photo) if self.photo else b""

    @property
    def masked_id(self) -> str:
        value = self.id_number
        return f"{value[:3]}{'*' * max(len(value) - 7, 0)}{value[-4:]}" if len(value) > 7 else ""


class EnrolmentState(models.TextChoices):
    WAITLISTED = "waitlisted", _("On the waitlist")
    ENROLLED = "enrolled", _("Enrolled")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    FINISHED = "finished", _("Finished")


ACTIVE_ENROLMENT_STATES = (EnrolmentState.WAITLISTED, EnrolmentState.ENROLLED)


class Enrolment(FSMModelMixin, models.Model):
    """A child's place in a programme, or on its waitlist (in the order of ``queued_at``). Each
    opens a hall case for the guardian, assigned to the station's coordinator."""

    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="enrolments")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="enrolments")
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="care_enrolment")
    state = FSMField(_("state"), default=EnrolmentState.WAITLISTED, choices=EnrolmentState.choices, protected=True)
    queued_at = models.DateTimeField(default=timezone.now)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["queued_at", "pk"]
        indexes = [models.Index(fields=["programme", "state", "queued_at"], name="childcare_enrol_queue_idx")]
        constraints = [
            models.UniqueConstraint(fields=["child", "programme"], condition=Q(state__in=ACTIVE_ENROLMENT_STATES),
                                    name="childcare_one_enrolment_per_child"),
        ]

    def __str__(self) -> str:
        return f"{self.child} – {self.programme}"

    @transition(field=state, source=EnrolmentState.WAITLISTED, target=EnrolmentState.ENROLLED)
    def enrol(self, at):
        self.enrolled_at = at

    @transition(field=state, source=ACTIVE_ENROLMENT_STATES, target=EnrolmentState.WITHDRAWN)
    def withdraw(self, at):
        self.ended_at = at

    @transition(field=state, source=ACTIVE_ENROLMENT_STATES, target=EnrolmentState.FINISHED)
    def finish(self, at):
        self.ended_at = at


class Duty(models.Model):
    """A member of staff on duty for a programme on a day: the ratio counts them."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="duties")
    day = models.DateField(_("day"))
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_duties",
                              verbose_name=_("staff"))

    class Meta:
        verbose_name = _("duty")
        verbose_name_plural = _("duties")
        ordering = ["day", "pk"]
        constraints = [models.UniqueConstraint(fields=["programme", "day", "staff"], name="childcare_one_duty")]


class AttendanceState(models.TextChoices):
    CHECKED_IN = "checked_in", _("Checked in")
    CHECKED_OUT = "checked_out", _("Checked out")


class Attendance(FSMModelMixin, models.Model):
    """A child's day at the station: who brought them and when, who collected them and when.
    The pick-up code sent to the guardian at check-in is kept only as a hash."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="attendances")
    day = models.DateField(_("day"))
    state = FSMField(_("state"), default=AttendanceState.CHECKED_IN, choices=AttendanceState.choices,
                     protected=True)
    checked_in_at = models.DateTimeField(_("checked in"))
    brought_by = models.CharField(_("brought by"), max_length=50)
    checked_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    code_hash = models.CharField(max_length=64)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    collected_by = models.ForeignKey(PickupPerson, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("collected by"))
    checked_out_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                       blank=True, related_name="+")
    alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["day", "pk"]
        indexes = [models.Index(fields=["day", "state"], name="childcare_attendance_day_idx")]
        constraints = [models.UniqueConstraint(fields=["enrolment", "day"], name="childcare_one_attendance")]

    def __str__(self) -> str:
        return f"{self.enrolment.child} {self.day}"

    @transition(field=state, source=AttendanceState.CHECKED_IN, target=AttendanceState.CHECKED_OUT)
    def check_out(self, by, collector, at):
        self.checked_out_by, self.collected_by, self.checked_out_at = by, collector, at


class RefusalReason(models.TextChoices):
    NOT_AUTHORISED = "not_authorised", _("Not an authorised pick-up person")
    WRONG_CODE = "wrong_code", _("Wrong pick-up code")


class PickupRefusal(models.Model):
    """A pick-up the staff refused: who came, why, who refused. The guardian is told at once."""

    attendance = models.ForeignKey(Attendance, on_delete=models.PROTECT, related_name="refusals")
    at = models.DateTimeField(default=timezone.now)
    presented_name = models.CharField(_("name given"), max_length=50)
    reason = models.CharField(_("reason"), max_length=20, choices=RefusalReason.choices)
    refused_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("refused pick-up")
        verbose_name_plural = _("refused pick-ups")
        ordering = ["-at", "pk"]


class IncidentKind(models.TextChoices):
    INJURY = "injury", _("Injury")
    ILLNESS = "illness", _("Illness")
    BEHAVIOUR = "behaviour", _("Behaviour")
    OTHER = "other", _("Other")


class Incident(models.Model):
    """Something that happened to a child at the station, what was done, and when the guardian
    was told (by SMS, when it is recorded). What happened and what was done are encrypted."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="incidents")
    occurred_at = models.DateTimeField(_("when"))
    kind = models.CharField(_("kind"), max_length=12, choices=IncidentKind.choices)
    description = EncryptedTextField(_("what happened"))
    action_taken = EncryptedTextField(_("action taken"))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    guardian_told_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-occurred_at", "pk"]
