"""Legal aid: one lifecycle from consultation to award, following the PRC Labour Dispute
Mediation and Arbitration Law. The hall's Case gives the reference, queue and permissions;
LegalCase is its legal detail."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy  # Signature.Party (agreement signing)
from django_fsm import FSMField, FSMModelMixin, transition

from care.fields import EncryptedTextField
from care.models import Case


class LegalState(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    AID_ACCEPTED = "aid_accepted", _("Aid accepted")
    DECLINED = "declined", _("Aid declined")
    MEDIATION = "mediation", _("In mediation")
    SETTLED = "settled", _("Settled by mediation")
    MEDIATION_FAILED = "mediation_failed", _("Mediation failed")
    APPLICATION_PREPARING = "application_preparing", _("Preparing the arbitration application")
    APPLICATION_FILED = "application_filed", _("Application filed")
    COMMITTEE_ACCEPTED = "committee_accepted", _("Accepted by the arbitration committee")
    HEARING_SCHEDULED = "hearing_scheduled", _("Hearing scheduled")
    HEARD = "heard", _("Heard")
    AWARD_ISSUED = "award_issued", _("Award issued")
    LITIGATION = "litigation", _("Referred to litigation")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


FINAL_STATES = (LegalState.DECLINED, LegalState.CLOSED, LegalState.WITHDRAWN)
OPEN_STATES = [s for s in LegalState.values if s not in FINAL_STATES]


class DisputeType(models.TextChoices):
    WAGES = "wages", _("Unpaid wages")
    DISMISSAL = "dismissal", _("Unlawful dismissal")
    INJURY = "injury", _("Injury at work")
    SOCIAL_INSURANCE = "social_insurance", _("Social insurance")
    OTHER = "other", _("Other")


class LegalCase(FSMModelMixin, models.Model):
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="legal")
    state = FSMField(_("state"), default=LegalState.CONSULTATION, choices=LegalState.choices, protected=True)
    dispute_type = models.CharField(_("dispute"), max_length=20, choices=DisputeType.choices, default=DisputeType.WAGES)
    employer_name = models.CharField(_("employer"), max_length=120, blank=True)
    employer_credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    employer_address = models.CharField(_("employer address"), max_length=200, blank=True)
    employer_contact = models.CharField(_("employer contact"), max_length=100, blank=True)
    employment_start = models.DateField(_("employment start"), null=True, blank=True)
    employment_end = models.DateField(_("employment end"), null=True, blank=True)
    dispute_date = models.DateField(_("dispute date"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    award_appealed_by = models.CharField(max_length=10, blank=True)  # "worker" / "employer"
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("legal aid case")
        verbose_name_plural = _("legal aid cases")
        indexes = [models.Index(fields=["state"], name="legal_state_idx")]

    def __str__(self) -> str:
        return self.case.reference

    @property
    def is_open(self) -> bool:
        return self.state not in FINAL_STATES

    # -- lifecycle: pure field changes; legal.services locks, checks, audits and notifies ----
    @transition(field=state, source=LegalState.CONSULTATION, target=LegalState.AID_ACCEPTED)
    def accept_aid(self):
        pass

    @transition(field=state, source=LegalState.CONSULTATION, target=LegalState.DECLINED)
    def decline(self, reason: str):
        self.decline_reason = reason

    @transition(field=state, source=LegalState.AID_ACCEPTED, target=LegalState.MEDIATION)
    def start_mediation(self):
        pass

    @transition(field=state, source=LegalState.MEDIATION, target=LegalState.SETTLED,
                conditions=[lambda self: self.has_signed_agreement()])
    def settle(self):
        pass

    @transition(field=state, source=LegalState.MEDIATION, target=LegalState.MEDIATION_FAILED)
    def fail_mediation(self):
        pass

    @transition(field=state, source=[LegalState.AID_ACCEPTED, LegalState.MEDIATION_FAILED],
                target=LegalState.APPLICATION_PREPARING)
    def prepare_application(self):
        pass

    @transition(field=state, source=LegalState.APPLICATION_PREPARING, target=LegalState.APPLICATION_FILED,
                conditions=[lambda self: self.claims.exists() and bool(self.employer_name)])
    def file_application(self):
        pass

    @transition(field=state, source=LegalState.APPLICATION_FILED, target=LegalState.COMMITTEE_ACCEPTED)
    def committee_accept(self):
        pass

    @transition(field=state, source=[LegalState.COMMITTEE_ACCEPTED, LegalState.HEARD],
                target=LegalState.HEARING_SCHEDULED)
    def schedule_hearing(self):
        pass

    @transition(field=state, source=LegalState.HEARING_SCHEDULED, target=LegalState.HEARD)
    def record_hearing(self):
        pass

    @transition(field=state, source=LegalState.HEARD, target=LegalState.AWARD_ISSUED)
    def issue_award(self):
        pass

    @transition(field=state, source=LegalState.AWARD_ISSUED, target=LegalState.LITIGATION)
    def refer_to_litigation(self, appealed_by: str):
        self.award_appealed_by = appealed_by

    @transition(field=state, source=[LegalState.SETTLED, LegalState.AWARD_ISSUED, LegalState.LITIGATION],
                target=LegalState.CLOSED)
    def close(self):
        pass

    @transition(field=state, source=OPEN_STATES, target=LegalState.WITHDRAWN)
    def withdraw(self):
        pass

    def has_signed_agreement(self) -> bool:
        return self.documents.filter(kind=DocumentKind.AGREEMENT, signed_complete=True).exists()


class ClaimKind(models.TextChoices):
    WAGES = "wages", _("Wages owed")
    COMPENSATION = "compensation", _("Compensation")
    OVERTIME = "overtime", _("Overtime pay")
    SOCIAL_INSURANCE = "social_insurance", _("Social insurance")
    INJURY = "injury", _("Work-injury benefits")


class ClaimLine(models.Model):
    """One thing the worker claims, in yuan (Decimal, two places)."""

    legal_case = models.ForeignKey(LegalCase, on_delete=models.CASCADE, related_name="claims")
    kind = models.CharField(_("claim"), max_length=20, choices=ClaimKind.choices)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2)
    note = models.CharField(_("note"), max_length=200, blank=True)


class Representative(models.Model):
    class Side(models.TextChoices):
        WORKER = "worker", _("Worker's representative")
        EMPLOYER = "employer", _("Employer's representative")

    legal_case = models.ForeignKey(LegalCase, on_delete=models.CASCADE, related_name="representatives")
    side = models.CharField(_("side"), max_length=10, choices=Side.choices)
    name = models.CharField(_("name"), max_length=50)
    mobile = models.CharField(_("mobile number"), max_length=16, blank=True)


class DocumentKind(models.TextChoices):
    EVIDENCE = "evidence", _("Evidence")
    APPLICATION = "application", _("Arbitration application")
    AGREEMENT = "agreement", _("Mediation agreement")
    AWARD = "award", _("Award")
    OTHER = "other", _("Other paper")


class Document(models.Model):
    """An uploaded file, encrypted at rest; its type is checked from its content."""

    legal_case = models.ForeignKey(LegalCase, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = EncryptedTextField()  # base64 of the file, sealed
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    # Mediation agreements: complete once every party has signed.
    signed_complete = models.BooleanField(default=False)


class Note(models.Model):
    """A caseworker's note: encrypted; only the legal team assigned reads it."""

    legal_case = models.ForeignKey(LegalCase, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = EncryptedTextField(_("note"))
    created_at = models.DateTimeField(default=timezone.now)


class DeadlineRule(models.TextChoices):
    LIMITATION = "limitation", _("Apply for arbitration within one year of the dispute")
    MEDIATION = "mediation", _("Mediation without agreement for 15 days")
    ACCEPTANCE = "acceptance", _("Committee decides on acceptance within 5 days")
    AWARD = "award", _("Award within 45 days of acceptance")
    COURT = "court", _("Worker may go to court within 15 days of the award")


class Deadline(models.Model):
    """A date the law sets for a case: its own record, met or missed, never a state."""

    legal_case = models.ForeignKey(LegalCase, on_delete=models.CASCADE, related_name="deadlines")
    rule = models.CharField(_("rule"), max_length=20, choices=DeadlineRule.choices)
    starts_on = models.DateField()
    due_on = models.DateField(_("due"))
    extended = models.BooleanField(default=False)
    met_at = models.DateTimeField(null=True, blank=True)
    suspended_on = models.DateField(null=True, blank=True)  # 中止: the clock stops ...
    suspended_days = models.PositiveIntegerField(default=0)  # ... and these days are added back
    last_warned_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["legal_case", "rule"], name="one_deadline_per_rule")]
        indexes = [models.Index(fields=["due_on"], name="deadline_due_idx", condition=models.Q(met_at__isnull=True))]

    @property
    def is_open(self) -> bool:
        return self.met_at is None

    def is_missed(self, today) -> bool:
        return self.met_at is None and self.suspended_on is None and self.due_on < today


class HearingState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class Hearing(FSMModelMixin, models.Model):
    legal_case = models.ForeignKey(LegalCase, on_delete=models.CASCADE, related_name="hearings")
    arbitrator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="hearings")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    is_video = models.BooleanField(_("by video (cloud arbitration)"), default=False)
    state = FSMField(default=HearingState.SCHEDULED, choices=HearingState.choices, protected=True)
    short_notice_reason = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=20, blank=True)  # "award" / "adjourned"

    class Meta:
        indexes = [models.Index(fields=["arbitrator", "starts_at"], name="hearing_arbitrator_idx")]

    @transition(field=state, source=HearingState.SCHEDULED, target=HearingState.HELD)
    def hold(self, outcome: str):
        self.outcome = outcome

    @transition(field=state, source=HearingState.SCHEDULED, target=HearingState.CANCELLED)
    def cancel(self):
        pass


# --- added for agreement signing (legal.signing, ADR 0009) -------------------------------------


class Signature(models.Model):
    """One party's signature on a mediation agreement, signed online through a personal link
    (legal.signing). Only the sha256 of the link's token is stored; the token travels in the
    SMS alone."""

    class Party(models.TextChoices):
        WORKER = "worker", _("Worker")
        EMPLOYER = "employer", pgettext_lazy("party to a dispute", "Employer")

    legal_case = models.ForeignKey(LegalCase, on_delete=models.CASCADE, related_name="signatures")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="signatures")
    party = models.CharField(_("party"), max_length=10, choices=Party.choices)
    name = models.CharField(_("name"), max_length=50)  # the signatory's name on record
    mobile = models.CharField(_("mobile number"), max_length=16)  # E.164
    token_hash = models.CharField(max_length=64, unique=True)  # sha256 of the token in the link
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField()  # the current link's; it expires legal.signing.LINK_DAYS later
    viewed_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_name = models.CharField(max_length=50, blank=True)  # as typed
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    document_sha256 = models.CharField(max_length=64)  # of the agreement as sent, and as signed
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Several representatives of the employer may sign: one signature per party and number.
            models.UniqueConstraint(fields=["document", "party", "mobile"], name="one_signature_per_signatory"),
        ]


# --- added for cloud arbitration (legal.video, ADR 0017) --------------------------------------


class RoomState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    OPEN = "open", _("Open: the waiting room")
    IN_SESSION = "in_session", _("In session")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")


LIVE_ROOM_STATES = (RoomState.OPEN, RoomState.IN_SESSION, RoomState.PAUSED)


class VideoRoom(FSMModelMixin, models.Model):
    """The live room of a video hearing (云仲裁): one per hearing held by video. The media go
    through a provider chosen by settings (``VIDEO_PROVIDER``: built-in WebRTC or Twilio Video);
    ``provider_room`` is the provider's name for the room (a Twilio room SID)."""

    hearing = models.OneToOneField(Hearing, on_delete=models.CASCADE, related_name="room")
    state = FSMField(_("state"), default=RoomState.SCHEDULED, choices=RoomState.choices, protected=True)
    provider = models.CharField(max_length=20)
    provider_room = models.CharField(max_length=64, blank=True)
    recorded = models.BooleanField(_("recorded"), default=False)
    # The side the mediator has taken into the private room (背靠背), if any.
    private_side = models.CharField(max_length=10, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    @transition(field=state, source=RoomState.SCHEDULED, target=RoomState.OPEN)
    def open(self, at):
        self.opened_at = at

    @transition(field=state, source=[RoomState.OPEN, RoomState.PAUSED], target=RoomState.IN_SESSION)
    def start(self):
        pass

    @transition(field=state, source=RoomState.IN_SESSION, target=RoomState.PAUSED)
    def pause(self):
        pass

    @transition(field=state, source=[RoomState.SCHEDULED, *LIVE_ROOM_STATES], target=RoomState.ENDED)
    def end(self, at):
        self.ended_at, self.private_side = at, ""


class ParticipantRole(models.TextChoices):
    ARBITRATOR = "arbitrator", _("Arbitrator")
    WORKER = "worker", _("Worker")
    WORKER_REP = "worker_rep", _("Worker's representative")
    EMPLOYER_REP = "employer_rep", _("Employer's representative")
    LEGAL_OFFICER = "legal_officer", _("Legal aid officer")


# The sides of a mediation: who goes into the private room together.
SIDES = {
    ParticipantRole.WORKER: "worker", ParticipantRole.WORKER_REP: "worker", ParticipantRole.LEGAL_OFFICER: "worker",
    ParticipantRole.EMPLOYER_REP: "employer",
}


class ParticipantState(models.TextChoices):
    INVITED = "invited", _("Invited")
    CHECKING = "checking", _("Checking camera and microphone")
    WAITING = "waiting", _("In the waiting room")
    IN_SESSION = "in_session", _("In session")
    PRIVATE = "private", _("In the private room")
    DISCONNECTED = "disconnected", _("Disconnected")
    LEFT = "left", _("Left")
    REMOVED = "removed", _("Removed")


# Admitted: media flow to and from them (within their space: the room or the private room).
ADMITTED_STATES = (ParticipantState.IN_SESSION, ParticipantState.PRIVATE)


class Participant(FSMModelMixin, models.Model):
    """Someone invited to a video hearing. Staff and the worker join signed in; the other parties
    by the personal link of their SMS, whose token is kept only as a hash and is bound to the
    first device that opens it (``device_hash``)."""

    room = models.ForeignKey(VideoRoom, on_delete=models.CASCADE, related_name="participants")
    role = models.CharField(_("role"), max_length=20, choices=ParticipantRole.choices)
    name = models.CharField(_("name"), max_length=50)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+")
    mobile = models.CharField(max_length=16, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    device_hash = models.CharField(max_length=64, blank=True)
    state = FSMField(_("state"), default=ParticipantState.INVITED, choices=ParticipantState.choices, protected=True)
    admitted = models.BooleanField(default=False)  # once admitted, a reconnect goes straight back in
    muted = models.BooleanField(default=False)
    consent_at = models.DateTimeField(_("consent to recording"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["room", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def side(self) -> str:
        return SIDES.get(self.role, "")

    @transition(field=state, source=[ParticipantState.INVITED, ParticipantState.LEFT, ParticipantState.CHECKING],
                target=ParticipantState.CHECKING)
    def check_devices(self):
        pass

    @transition(field=state, source=ParticipantState.CHECKING, target=ParticipantState.WAITING)
    def wait(self, consent_at):
        self.consent_at = self.consent_at or consent_at

    @transition(field=state, source=ParticipantState.WAITING, target=ParticipantState.IN_SESSION)
    def admit(self):
        self.admitted = True

    @transition(field=state, source=ParticipantState.IN_SESSION, target=ParticipantState.PRIVATE)
    def go_private(self):
        pass

    @transition(field=state, source=ParticipantState.PRIVATE, target=ParticipantState.IN_SESSION)
    def come_back(self):
        pass

    @transition(field=state, source=[ParticipantState.WAITING, *ADMITTED_STATES, ParticipantState.CHECKING],
                target=ParticipantState.DISCONNECTED)
    def drop(self):
        pass

    @transition(field=state, source=ParticipantState.DISCONNECTED, target=ParticipantState.IN_SESSION,
                conditions=[lambda p: p.admitted])
    def rejoin(self):
        pass

    @transition(field=state, source=ParticipantState.DISCONNECTED, target=ParticipantState.WAITING,
                conditions=[lambda p: not p.admitted])
    def rejoin_waiting(self):
        pass

    @transition(field=state, source=[ParticipantState.CHECKING, ParticipantState.WAITING, *ADMITTED_STATES,
                                     ParticipantState.DISCONNECTED], target=ParticipantState.LEFT)
    def leave(self):
        pass

    @transition(field=state, source=[ParticipantState.INVITED, ParticipantState.CHECKING, ParticipantState.WAITING,
                                     *ADMITTED_STATES, ParticipantState.DISCONNECTED, ParticipantState.LEFT],
                target=ParticipantState.REMOVED)
    def remove(self):
        self.admitted = False


class ProviderCallback(models.Model):
    """A video provider's status callback, stored raw (and its signature's verdict) before it is
    processed, so that nothing the provider said is lost when processing fails."""

    provider = models.CharField(max_length=20)
    received_at = models.DateTimeField(default=timezone.now)
    body = models.TextField()
    signature_valid = models.BooleanField(default=False)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
