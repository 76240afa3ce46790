"""The hall's data: people, the shared case record, object permissions and the audit log."""

import hashlib
import json

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from care import registry
from care.crypto import blind_index
from care.fields import EncryptedJSONField, EncryptedTextField
from care.roles import Role
from care.validators import mask_mobile


class User(AbstractUser):
    """Anyone who signs in: staff with a password, workers (later) with an SMS code."""

    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    # Staff only: the department whose queue the user works, and a mobile for alerts (E.164).
    department = models.CharField(_("department"), max_length=20, blank=True)
    mobile = models.CharField(_("mobile number"), max_length=16, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def roles(self) -> set[str]:
        if not hasattr(self, "_roles"):
            self._roles = set(self.groups.values_list("name", flat=True))
        return self._roles

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


class Worker(models.Model):
    """A union member the hall serves. The national ID is encrypted; its blind index finds it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="worker", null=True, blank=True
    )
    name = models.CharField(_("name"), max_length=50)
    mobile = models.CharField(_("mobile number"), max_length=16, unique=True)  # E.164
    national_id = EncryptedTextField(_("national ID number"))
    national_id_index = models.CharField(max_length=64, unique=True, editable=False)
    employer = models.CharField(_("employer"), max_length=120, blank=True)
    membership_number = models.CharField(_("union membership number"), max_length=30, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("worker")
        verbose_name_plural = _("workers")

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def index_for(national_id: str) -> str:
        """The blind index of a (normalized) national ID number."""
        return blind_index(national_id, purpose="national_id")

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)

    @property
    def language(self) -> str:
        return self.user.language if self.user_id else settings.LANGUAGE_CODE


class ReferenceCounter(models.Model):
    """The last number handed out for a reference prefix and year (one row each)."""

    prefix = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="unique_reference_counter")]


class Stage(models.TextChoices):
    RECEIVED = "received", _("Received")
    IN_PROGRESS = "in_progress", _("In progress")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STAGES = (Stage.RECEIVED, Stage.IN_PROGRESS)


class Priority(models.IntegerChoices):
    NORMAL = 0, _("Normal")
    HIGH = 1, _("High")
    URGENT = 2, _("Urgent")


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    FRONT_DESK = "front_desk", _("Front desk")


class ContactTime(models.TextChoices):
    ANY = "any", _("Any time")
    MORNING = "morning", _("Mornings (9:00–12:00)")
    AFTERNOON = "afternoon", _("Afternoons (13:30–17:30)")
    EVENING = "evening", _("Evenings (18:00–20:00)")


class Case(FSMModelMixin, models.Model):
    """One piece of work in one department. Departments attach their own detail and lifecycle;
    the core gives every case one reference, one queue, one audit trail, one permission check."""

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="cases")
    department = models.CharField(_("department"), max_length=20, db_index=True)
    stage = FSMField(_("stage"), default=Stage.RECEIVED, choices=Stage.choices, protected=True)
    priority = models.SmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    description = EncryptedTextField(_("description"))
    preferred_contact_time = models.CharField(
        _("preferred contact time"), max_length=12, choices=ContactTime.choices, default=ContactTime.ANY
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="assigned_cases"
    )
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="filed_cases")
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        permissions = [
            ("view_case_summary", "Can see who filed a case and for which department"),
            ("view_figures", "Can see the hall's figures"),
        ]
        indexes = [
            models.Index(fields=["department", "stage", "-opened_at"], name="case_queue_idx"),
            models.Index(fields=["assignee", "stage"], name="case_assignee_idx"),
            models.Index(fields=["worker", "-opened_at"], name="case_worker_idx"),
            # The manager's figures (care.figures) count by the day a case was opened or ended.
            models.Index(fields=["opened_at", "department"], name="case_opened_idx"),
            models.Index(fields=["closed_at", "department"], name="case_closed_idx", include=["stage", "opened_at"],
                         condition=models.Q(closed_at__isnull=False)),
            models.Index(fields=["department", "due_at"], name="case_open_idx",
                         condition=models.Q(stage__in=OPEN_STAGES)),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def department_label(self):
        return registry.department(self.department).label

    @property
    def department_file_url_name(self) -> str:
        return registry.department(self.department).file_url_name

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at < timezone.now()

    # -- lifecycle: pure field changes; services lock, check, audit and notify ---------------
    @transition(field=stage, source=[Stage.RECEIVED, Stage.IN_PROGRESS], target=Stage.IN_PROGRESS)
    def take_up(self, assignee):
        self.assignee = assignee

    @transition(field=stage, source=[Stage.IN_PROGRESS], target=Stage.CLOSED)
    def close(self, at):
        self.closed_at = at

    @transition(field=stage, source=[Stage.RECEIVED, Stage.IN_PROGRESS], target=Stage.WITHDRAWN)
    def withdraw(self, at):
        self.closed_at = at

    @transition(field=stage, source=[Stage.CLOSED], target=Stage.IN_PROGRESS)
    def reopen(self):
        """A department reopens its case (e.g. a rejected claim appealed)."""
        self.closed_at = None


class CaseUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign-key object permissions for cases (guardian's generic table is slow)."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class AuditEvent(models.Model):
    """Append-only, hash-chained record of who did what to which record, and who read it.

    Each event's hash covers its own content and the previous event's hash, so editing or
    deleting any row breaks the chain (``manage.py verify_audit_log``). Values recorded here
    are states and identifiers, never the private content of a record.
    """

    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    at = models.DateTimeField(default=timezone.now, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    event_type = models.CharField(max_length=60, db_index=True)
    subject_type = models.CharField(max_length=60)
    subject_id = models.CharField(max_length=40)
    old = models.JSONField(default=dict, encoder=DjangoJSONEncoder, blank=True)
    new = models.JSONField(default=dict, encoder=DjangoJSONEncoder, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["subject_type", "subject_id", "seq"], name="audit_subject_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event_type} {self.subject_type}:{self.subject_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("audit events are append-only")

    def compute_hash(self) -> str:
        body = json.dumps(
            {
                "seq": self.seq,
                "at": self.at.isoformat(),
                "actor": self.actor_id,
                "event_type": self.event_type,
                "subject": f"{self.subject_type}:{self.subject_id}",
                "old": self.old,
                "new": self.new,
                "prev": self.prev_hash,
            },
            sort_keys=True,
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
        )
        return hashlib.sha256(body.encode()).hexdigest()



class AuditChainHead(models.Model):
    """One row: the last event of the chain. Appending locks it, so the chain stays a line;
    deleting the newest events is caught because the head still names them."""

    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)


def role_label(role: str) -> str:
    return Role(role).label


# --- SMS ---------------------------------------------------------------------------------------


class SmsStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    UNDELIVERED = "undelivered", _("Undelivered")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not sent (opted out)")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class OutboundSms(FSMModelMixin, models.Model):
    """The outbox: one row per message, written in the transaction of the change it tells
    about. The body never carries private content, but is encrypted all the same (sign-in
    codes)."""

    to = models.CharField(_("to"), max_length=16, db_index=True)  # E.164
    worker = models.ForeignKey(Worker, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    template = models.CharField(_("template"), max_length=40, db_index=True)
    language = models.CharField(max_length=10)
    body = EncryptedTextField(_("text"))
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    essential = models.BooleanField(default=False)
    status = FSMField(_("status"), default=SmsStatus.QUEUED, choices=SmsStatus.choices, protected=True)
    send_after = models.DateTimeField(_("send after"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    provider_sid = models.CharField(max_length=40, null=True, blank=True, unique=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    status_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("SMS")
        verbose_name_plural = _("SMS outbox")
        permissions = [("retry_outboundsms", "Can retry a failed SMS")]
        indexes = [models.Index(fields=["status", "-created_at"], name="sms_status_idx")]

    def __str__(self) -> str:
        return f"{self.template} → {self.to} ({self.status})"

    # -- lifecycle: pure field changes; care.sms owns the I/O --------------------------------
    @transition(field=status, source=[SmsStatus.QUEUED, SmsStatus.SENDING], target=SmsStatus.SENDING)
    def start_attempt(self, at):
        self.attempts += 1
        self.attempt_started_at = at

    @transition(field=status, source=[SmsStatus.SENDING], target=SmsStatus.SENT)
    def accepted(self, sid, at):
        self.provider_sid = sid
        self.sent_at = at
        self.error = ""

    @transition(field=status, source=[SmsStatus.QUEUED, SmsStatus.SENDING], target=SmsStatus.QUEUED)
    def postpone(self, until, error=""):
        self.send_after = until
        self.error = error[:300]

    @transition(field=status, source=[SmsStatus.QUEUED, SmsStatus.SENDING, SmsStatus.SENT], target=SmsStatus.FAILED)
    def fail(self, error, at=None):
        self.error = error[:300]
        self.status_at = at

    @transition(field=status, source=[SmsStatus.QUEUED, SmsStatus.SENDING], target=SmsStatus.SKIPPED)
    def skip(self, reason):
        self.error = reason[:300]

    @transition(field=status, source=[SmsStatus.FAILED], target=SmsStatus.QUEUED)
    def retry(self, at):
        self.send_after = at
        self.attempts = 0
        self.attempt_started_at = None

    # Delivery reports: only forward moves exist, so a late or repeated report changes nothing.
    @transition(field=status, source=[SmsStatus.SENDING], target=SmsStatus.SENT)
    def report_sent(self, sid, at):
        self.provider_sid = self.provider_sid or sid
        self.sent_at = self.sent_at or at

    @transition(field=status, source=[SmsStatus.SENDING, SmsStatus.SENT], target=SmsStatus.DELIVERED)
    def report_delivered(self, at):
        self.status_at = at

    @transition(field=status, source=[SmsStatus.SENDING, SmsStatus.SENT], target=SmsStatus.UNDELIVERED)
    def report_undelivered(self, error, at):
        self.status_at = at
        self.error = error[:300]


class SmsReport(models.Model):
    """Every delivery report and inbound SMS, stored raw before it is processed."""

    kind = models.CharField(max_length=10)  # "status" or "inbound"
    message = models.ForeignKey(OutboundSms, on_delete=models.CASCADE, null=True, blank=True, related_name="reports")
    payload = EncryptedJSONField()  # an inbound SMS carries the worker's own words
    received_at = models.DateTimeField(default=timezone.now)


class SmsOptOut(models.Model):
    """A number that replied STOP/退订: it gets essential messages only, until START/订阅."""

    mobile = models.CharField(max_length=16, unique=True)
    at = models.DateTimeField(default=timezone.now)


class SignInCode(models.Model):
    """A one-time sign-in code sent by SMS, stored as a keyed hash."""

    mobile = models.CharField(max_length=16, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["mobile", "-created_at"], name="signin_code_idx")]


class Survey(models.Model):
    """A satisfaction survey of one delivered service (a case that ended with the service
    given: a session held, a claim paid, ...): a personal link by SMS, answered once with a
    rating of 1–5 and an optional comment, within care.surveys.VALID_DAYS. Only the sha256 of
    the link's token is stored. The rating feeds the figures; the comment is encrypted."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="survey")
    department = models.CharField(max_length=30)  # the case's, for figures without a join
    token_hash = models.CharField(max_length=64, unique=True)
    sent_at = models.DateTimeField()
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    comment = EncryptedTextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # A low rating (care.surveys.LOW_RATINGS) goes to the manager's follow-up list; the worker
    # may allow a call back, which alone shows the manager their name and number.
    call_back = models.BooleanField(_("may be called back"), default=False)
    followed_up_at = models.DateTimeField(_("followed up"), null=True, blank=True)
    followed_up_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+")
    follow_up_note = EncryptedTextField(_("follow-up note"), blank=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        indexes = [models.Index(fields=["department", "answered_at"], name="survey_department_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__isnull=True, answered_at__isnull=True)
                                   | models.Q(rating__gte=1, rating__lte=5, answered_at__isnull=False),
                                   name="survey_rating_answered"),
        ]


# Mutual-insurance claims live in their own module of the hall (ADR 0010).
from care.claims.models import (  # noqa: E402, F401
    Claim,
    Enrolment,
    EnrolmentImport,
    Invoice,
    PaymentBatch,
    Plan,
    PlanVersion,
    Receipt,
)


class FiguresReport(models.Model):
    """The monthly report of the manager's figures (care.figures), made once per month by a
    daily task: the same workbook as the page's export, kept for download. It holds suppressed
    aggregates only."""

    month = models.DateField(_("month"), unique=True)  # its first day
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    workbook = models.BinaryField()

    class Meta:
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"
