"""Plans, cover, claims, invoices, receipts and payment batches. Money is Decimal yuan with
two places (fen); the private parts of a claim (diagnosis, bank account, the computation,
reasons) are encrypted."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from care.fields import EncryptedJSONField, EncryptedTextField
from care.models import Case, Worker

DEPARTMENT = "claims"
MONEY = {"max_digits": 12, "decimal_places": 2}


class Category(models.TextChoices):
    """What the treatment was; each plan version says the ratio it pays for each."""

    INPATIENT = "inpatient", _("Inpatient treatment")
    SERIOUS_ILLNESS = "serious_illness", _("Serious illness")
    CHRONIC_OUTPATIENT = "chronic_outpatient", _("Outpatient treatment of a chronic illness")
    ACCIDENT = "accident", _("Accidental injury")


class Plan(models.Model):
    """A mutual-aid plan (e.g. 职工住院医疗互助保障). Its rules live in its versions."""

    code = models.CharField(_("plan code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("mutual-aid plan")
        verbose_name_plural = _("mutual-aid plans")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PlanVersion(models.Model):
    """The rules of a plan from a date on, until the next version. A claim is computed with the
    version in force on its treatment (admission) date; a version used by a claim is never
    edited (a new version is added instead)."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="versions")
    effective_from = models.DateField(_("in force from"))
    waiting_days = models.PositiveSmallIntegerField(_("waiting period (days)"), default=90)
    deductible = models.DecimalField(_("deductible per claim (yuan)"), **MONEY, validators=[MinValueValidator(0)])
    # {"inpatient": "0.50", ...}: the share of the self-paid amount above the deductible that is
    # paid, by category. A category that is missing is not covered by this version.
    ratios = models.JSONField(_("reimbursement ratios by category"))
    per_claim_cap = models.DecimalField(_("cap per claim (yuan)"), **MONEY, validators=[MinValueValidator(0)])
    annual_cap = models.DecimalField(_("annual cap (yuan)"), **MONEY, validators=[MinValueValidator(0)])
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        ordering = ["plan", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "effective_from"], name="claims_one_version_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.code} @ {self.effective_from}"


class Enrolment(models.Model):
    """A member covered by a plan for a period (both days included)."""

    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="enrolments")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="enrolments")
    starts_on = models.DateField(_("cover from"))
    ends_on = models.DateField(_("cover until"))
    employer_union = models.CharField(_("enrolled by (employer's union)"), max_length=120, blank=True)
    source = models.ForeignKey("EnrolmentImport", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="enrolments")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        indexes = [models.Index(fields=["worker", "plan", "starts_on"], name="claims_enrolment_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="claims_enrolment_order"),
        ]  # overlapping periods of one member in one plan: refused by the service, and on
        # PostgreSQL by an exclusion constraint (migration care 0008)

    def __str__(self) -> str:
        return f"{self.plan.code} {self.starts_on}–{self.ends_on}"

    def covers(self, day) -> bool:
        return self.starts_on <= day <= self.ends_on


class EnrolmentImport(models.Model):
    """One spreadsheet of members from an employer's union: applied whole, or not at all. The
    report says, row by row, what was refused and why (never the rows' personal data)."""

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    filename = models.CharField(max_length=200)
    employer_union = models.CharField(_("employer's union"), max_length=120)
    rows = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    applied = models.BooleanField(default=False)
    report = models.JSONField(default=list)  # [{"row": 3, "errors": ["..."]}, ...]

    class Meta:
        verbose_name = _("enrolment import")
        verbose_name_plural = _("enrolment imports")


class ClaimState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    INFO_REQUESTED = "info_requested", _("More information requested")
    SECOND_APPROVAL = "second_approval", _("Awaiting second approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    PAID = "paid", _("Paid")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Claims whose amount counts against the annual cap.
COUNTED_STATES = (ClaimState.APPROVED, ClaimState.PAID)
# While a claim is in these states, the member may still add or remove invoices.
MEMBER_EDITABLE = (ClaimState.SUBMITTED, ClaimState.INFO_REQUESTED)
OPEN_STATES = (ClaimState.SUBMITTED, ClaimState.UNDER_REVIEW, ClaimState.INFO_REQUESTED, ClaimState.SECOND_APPROVAL)


class Claim(FSMModelMixin, models.Model):
    """A member's claim for one stay in hospital (or one course of treatment). The hall's Case
    gives it a reference, a queue and an audit trail."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="claim")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="claims")
    state = FSMField(_("state"), default=ClaimState.SUBMITTED, choices=ClaimState.choices, protected=True)
    hospital = models.CharField(_("hospital"), max_length=120)
    admitted_on = models.DateField(_("admitted (treatment date)"))
    discharged_on = models.DateField(_("discharged"))
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    diagnosis = EncryptedTextField(_("diagnosis"), blank=True)
    # {"bank": ..., "holder": ..., "number": ...}
    bank_account = EncryptedJSONField(_("bank account for the payment"))
    cap_year = models.PositiveSmallIntegerField(editable=False)  # the year of admitted_on
    # The computation by the plan rules (steps and amounts), as last computed and, once
    # approved, as approved. The payable amount is kept in clear for the figures and the bank.
    computation = EncryptedJSONField(default=dict, blank=True)
    plan_version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="claims")
    payable = models.DecimalField(_("payable (yuan)"), **MONEY, null=True, blank=True)
    approved_amount = models.DecimalField(_("approved (yuan)"), **MONEY, null=True, blank=True)
    first_approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                       blank=True, related_name="+")
    second_approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                        blank=True, related_name="+")
    info_request = EncryptedTextField(_("information requested"), blank=True)
    info_response = EncryptedTextField(_("member's answer"), blank=True)
    rejection_reason = EncryptedTextField(_("reason for rejecting"), blank=True)
    appealed = models.BooleanField(default=False)
    appeal_reason = EncryptedTextField(_("reason for the appeal"), blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    batch = models.ForeignKey("PaymentBatch", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="claims")
    paid_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("mutual-aid claim")
        verbose_name_plural = _("mutual-aid claims")
        indexes = [
            models.Index(fields=["state", "submitted_at"], name="claims_state_idx"),
            models.Index(fields=["enrolment", "cap_year", "state"], name="claims_cap_idx"),
            models.Index(fields=["paid_at"], name="claims_paid_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(discharged_on__gte=models.F("admitted_on")),
                                   name="claims_stay_order"),
        ]

    def __str__(self) -> str:
        return self.case.reference

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def member_may_edit(self) -> bool:
        return self.state in MEMBER_EDITABLE

    @property
    def decided_amount(self):
        """The approved amount once it is final (approved or paid); None before, even while a
        first approval waits for the second."""
        return self.approved_amount if self.state in COUNTED_STATES else None

    @property
    def account_tail(self) -> str:
        return str((self.bank_account or {}).get("number", ""))[-4:]

    # -- lifecycle: pure field changes; care.claims.services locks, checks, audits, notifies --
    @transition(field=state, source=ClaimState.SUBMITTED, target=ClaimState.UNDER_REVIEW)
    def start_review(self):
        pass

    @transition(field=state, source=ClaimState.UNDER_REVIEW, target=ClaimState.INFO_REQUESTED)
    def request_info(self, message: str):
        self.info_request = message

    @transition(field=state, source=ClaimState.INFO_REQUESTED, target=ClaimState.UNDER_REVIEW)
    def answer(self, message: str):
        self.info_response = message

    @transition(field=state, source=ClaimState.UNDER_REVIEW, target=ClaimState.APPROVED)
    def approve(self, by, amount: Decimal, at):
        self.first_approver, self.approved_amount, self.decided_at = by, amount, at

    @transition(field=state, source=ClaimState.UNDER_REVIEW, target=ClaimState.SECOND_APPROVAL)
    def approve_first(self, by, amount: Decimal):
        self.first_approver, self.approved_amount = by, amount

    @transition(field=state, source=ClaimState.SECOND_APPROVAL, target=ClaimState.APPROVED)
    def approve_second(self, by, amount: Decimal, at):
        self.second_approver, self.approved_amount, self.decided_at = by, amount, at

    @transition(field=state, source=ClaimState.SECOND_APPROVAL, target=ClaimState.UNDER_REVIEW)
    def return_to_review(self):
        self.first_approver, self.approved_amount = None, None

    @transition(field=state, source=[ClaimState.UNDER_REVIEW, ClaimState.SECOND_APPROVAL], target=ClaimState.REJECTED)
    def reject(self, reason: str, at):
        self.rejection_reason, self.decided_at, self.approved_amount = reason, at, None

    @transition(field=state, source=ClaimState.REJECTED, target=ClaimState.UNDER_REVIEW,
                conditions=[lambda self: not self.appealed])
    def appeal(self, reason: str):
        self.appealed, self.appeal_reason = True, reason
        self.first_approver = self.second_approver = self.decided_at = None

    @transition(field=state, source=ClaimState.APPROVED, target=ClaimState.PAID)
    def mark_paid(self, at):
        self.paid_at = at

    @transition(field=state, source=[ClaimState.SUBMITTED, ClaimState.INFO_REQUESTED, ClaimState.UNDER_REVIEW],
                target=ClaimState.WITHDRAWN)
    def withdraw(self):
        pass


class Invoice(models.Model):
    """A hospital invoice (医疗收费票据) of a claim. Its number can be paid once across all
    claims: the unique constraint holds until the claim is withdrawn (then it is released)."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="invoices")
    number = models.CharField(_("invoice number"), max_length=30)
    issued_on = models.DateField(_("invoice date"))
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    self_paid = models.DecimalField(_("self-paid part (yuan)"), **MONEY)
    released = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["issued_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["number"], condition=Q(released=False), name="claims_invoice_once"),
            models.CheckConstraint(condition=Q(amount__gt=0) & Q(self_paid__gte=0)
                                   & Q(self_paid__lte=models.F("amount")), name="claims_invoice_amounts"),
        ]


class Receipt(models.Model):
    """A scan of an invoice or of a hospital paper, encrypted at rest (base64 of the file,
    sealed), its type checked from its content."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="receipts")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, null=True, blank=True, related_name="receipts")
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = EncryptedTextField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")


class BatchState(models.TextChoices):
    OPEN = "open", _("Ready for the bank")
    PAID = "paid", _("Paid")


class PaymentBatch(FSMModelMixin, models.Model):
    """Approved claims gathered for one transfer file to the bank."""

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    state = FSMField(_("state"), default=BatchState.OPEN, choices=BatchState.choices, protected=True)
    total = models.DecimalField(_("total (yuan)"), **MONEY, default=Decimal("0.00"))
    count = models.PositiveIntegerField(_("number of claims"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment batch")
        verbose_name_plural = _("payment batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.reference

    @transition(field=state, source=BatchState.OPEN, target=BatchState.PAID)
    def mark_paid(self, by, at):
        self.paid_by, self.paid_at = by, at
