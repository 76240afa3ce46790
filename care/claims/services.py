"""Every write of mutual-insurance claims. One recipe: lock, check, change, audit, and SMS in
the same transaction (the outbox sends after commit)."""

import base64
import binascii
import datetime
import hashlib
import logging
import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from care import audit, sms, surveys, uploads
from care import permissions as hall_permissions
from care import services as hall
from care.claims import permissions, rules, selectors
from care.claims.models import (
    DEPARTMENT,
    Category,
    Claim,
    ClaimState,
    Enrolment,
    Invoice,
    PaymentBatch,
    Plan,
    PlanVersion,
    Receipt,
)
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import Case, Stage, Worker

log = logging.getLogger(__name__)


class ClaimEvent:
    FILED = "claims.filed"
    TRANSITION = "claims.transition"
    INVOICE_ADDED = "claims.invoice_added"
    INVOICE_REMOVED = "claims.invoice_removed"
    RECEIPT_UPLOADED = "claims.receipt_uploaded"
    RECEIPT_DOWNLOADED = "claims.receipt_downloaded"
    VIEWED = "claims.viewed"
    ENROLLED = "claims.enrolled"
    BATCH_CREATED = "claims.batch_created"
    BATCH_EXPORTED = "claims.batch_exported"
    BATCH_PAID = "claims.batch_paid"


sms.register_template(sms.SmsTemplate(
    "claim_update",
    gettext_lazy("Worker Service Center: there is news on your application %(ref)s. Details: %(link)s"),
    sample={"ref": "QD-2026-000123", "link": "https://example.org/claims/1/"},
))
sms.register_template(sms.SmsTemplate(
    "claim_approved",
    gettext_lazy("Worker Service Center: your application %(ref)s is approved: %(amount)s yuan will be paid "
                 "to your bank account. Details: %(link)s"),
    sample={"ref": "QD-2026-000123", "amount": "3,260.00", "link": "https://example.org/claims/1/"},
))
sms.register_template(sms.SmsTemplate(
    "claim_paid",
    gettext_lazy("Worker Service Center: %(amount)s yuan for your application %(ref)s has been paid to your "
                 "account ending in %(tail)s."),
    sample={"ref": "QD-2026-000123", "amount": "3,260.00", "tail": "1234"},
))

TRANSITIONS = ("start_review", "request_info", "answer", "approve", "approve_second", "return_to_review",
               "reject", "appeal", "withdraw")
# Transitions that need a message from the person asking.
NEEDS_MESSAGE = {
    "request_info": gettext_lazy("Say what information is missing."),
    "answer": gettext_lazy("Write your answer, or say which receipts you added."),
    "reject": gettext_lazy("Give the member the reason for rejecting the claim."),
    "appeal": gettext_lazy("Say why the decision should be reviewed again."),
}
MESSAGE_MAX = 2000
FORMULA_STARTS = set("=+-@\t\r＝＋－＠")
INVOICE_NUMBER = re.compile(r"^[0-9A-Z]{6,30}$")
RECEIPT_TYPES = (uploads.PDF, uploads.PNG, uploads.JPEG, uploads.WEBP)


def second_approval_above() -> Decimal:
    """Approvals above this amount need a second reviewer (setting CLAIMS_SECOND_APPROVAL_ABOVE)."""
    return Decimal(str(getattr(settings, "CLAIMS_SECOND_APPROVAL_ABOVE", "10000.00")))


def appeal_days() -> int:
    return int(getattr(settings, "CLAIMS_APPEAL_DAYS", 60))


def receipt_max_bytes() -> int:
    return int(getattr(settings, "CLAIMS_RECEIPT_MAX_BYTES", 10 * 1024 * 1024))


# --- input -------------------------------------------------------------------------------------


def parse_money(value, *, field: str) -> Decimal:
    try:
        amount = Decimal(str(value).replace(",", "").replace("，", "").strip())
        if not amount.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Enter the amount in yuan, e.g. 1280.50."), detail={field: "invalid"}) from None
    amount = rules.money(amount)
    if amount < 0 or amount >= Decimal("10000000000"):
        raise InvalidInput(_("Enter the amount in yuan, e.g. 1280.50."), detail={field: "range"})
    return amount


def normalize_invoice_number(number: str) -> str:
    number = re.sub(r"[\s\-]", "", str(number or "")).upper()
    if not INVOICE_NUMBER.match(number):
        raise InvalidInput(_("Enter the invoice number as printed (6–30 letters and digits)."),
                           detail={"number": "invalid"})
    return number


def _clean_bank_account(bank_account: dict) -> dict:
    bank = str(bank_account.get("bank", "")).strip()
    holder = str(bank_account.get("holder", "")).strip()
    number = re.sub(r"\s", "", str(bank_account.get("number", "")))
    if not bank or not holder:
        raise InvalidInput(_("Enter the bank and the account holder's name."), detail={"bank_account": "missing"})
    if bank[0] in FORMULA_STARTS or holder[0] in FORMULA_STARTS:  # they go into the bank's spreadsheet
        raise InvalidInput(_("Enter the bank and the account holder's name as letters."),
                           detail={"bank_account": "invalid"})
    if not re.fullmatch(r"\d{12,30}", number):
        raise InvalidInput(_("Enter the bank account number (12–30 digits)."), detail={"bank_account": "number"})
    return {"bank": bank[:60], "holder": holder[:50], "number": number}


def _message(transition: str, text: str) -> str:
    text = (text or "").strip()
    if transition in NEEDS_MESSAGE and not text:
        raise InvalidInput(NEEDS_MESSAGE[transition], detail={"reason": "missing"})
    return text[:MESSAGE_MAX]


# --- eligibility and computation ---------------------------------------------------------------


def check_cover(*, enrolment: Enrolment, admitted_on: datetime.date):
    """The plan version in force on the treatment date, if the member was covered then and past
    the waiting period; InvalidInput saying why not otherwise."""
    if not enrolment.covers(admitted_on):
        raise InvalidInput(
            _("The member was not covered by %(plan)s on %(day)s (cover %(start)s to %(end)s).")
            % {"plan": enrolment.plan.name, "day": admitted_on, "start": enrolment.starts_on,
               "end": enrolment.ends_on}, detail={"admitted_on": "not_covered"})
    version = selectors.version_in_force(plan_id=enrolment.plan_id, day=admitted_on)
    if version is None:
        raise InvalidInput(_("The plan had no rules in force on %(day)s.") % {"day": admitted_on},
                           detail={"admitted_on": "no_rules"})
    waiting_ends = selectors.cover_start(enrolment) + datetime.timedelta(days=version.waiting_days)
    if admitted_on < waiting_ends:
        raise InvalidInput(
            _("The treatment date falls in the waiting period: cover pays for treatment from %(day)s.")
            % {"day": waiting_ends}, detail={"admitted_on": "waiting_period"})
    return version


def claim_compute(claim: Claim) -> tuple[rules.Computation, PlanVersion]:
    """The claim's computation now, and the plan version it used: the version's rules, the
    claim's invoices, and what the member's other approved claims took of the year's cap."""
    version = check_cover(enrolment=claim.enrolment, admitted_on=claim.admitted_on)
    self_paid = list(claim.invoices.values_list("self_paid", flat=True))
    used = selectors.used_in_year(worker_id=claim.enrolment.worker_id, plan_id=claim.enrolment.plan_id,
                                  year=claim.cap_year, exclude_claim_id=claim.pk)
    return rules.compute(rules=rules.Rules.of(version), category=claim.category, self_paid=self_paid,
                         used_this_year=used), version


def _store_computation(claim: Claim) -> rules.Computation:
    computation, version = claim_compute(claim)
    claim.computation = computation.as_json(version_id=version.pk)
    claim.plan_version = version
    claim.payable = computation.payable
    claim.save(update_fields=["computation", "plan_version", "payable", "updated_at"])
    return computation


def _lock_cap(enrolment: Enrolment) -> None:
    """Serialise every decision that uses the member's annual cap in the plan: lock all their
    enrolments in it, in one order."""
    list(Enrolment.objects.select_for_update().filter(worker_id=enrolment.worker_id, plan_id=enrolment.plan_id)
         .order_by("pk").values_list("pk", flat=True))


# --- filing ------------------------------------------------------------------------------------


def _locked(claim: Claim) -> Claim:
    return (Claim.objects.select_for_update(of=("self",))
            .select_related("case", "case__worker", "enrolment", "enrolment__plan").get(pk=claim.pk))


def _link(claim: Claim) -> str:
    """The hall's page of the request: an SMS never carries an address naming the service."""
    return sms.link(reverse("care:case_detail", args=[claim.case_id]))


@transaction.atomic
def claim_file(*, actor, worker: Worker, enrolment: Enrolment, hospital: str, admitted_on: datetime.date,
               discharged_on: datetime.date, category: str, bank_account: dict, diagnosis: str = "",
               invoices: list[dict] = (), note: str = "") -> Claim:
    """A member files a claim (online, or the front desk for them). It opens a hall case in the
    claims office's queue; the invoices given are added, each checked."""
    if enrolment.worker_id != worker.pk:
        raise InvalidInput(_("Choose one of the member's plans."), detail={"enrolment": "invalid"})
    hospital = (hospital or "").strip()
    if not hospital:
        raise InvalidInput(_("Enter the hospital."), detail={"hospital": "missing"})
    if category not in Category.values:
        raise InvalidInput(_("Choose the kind of treatment from the list."), detail={"category": "invalid"})
    today = timezone.localdate()
    if admitted_on > today:
        raise InvalidInput(_("The admission date cannot be in the future."), detail={"admitted_on": "future"})
    if discharged_on < admitted_on:
        raise InvalidInput(_("Discharge cannot be before admission."), detail={"discharged_on": "order"})
    if discharged_on > today:
        raise InvalidInput(_("File the claim after you leave hospital."), detail={"discharged_on": "future"})
    check_cover(enrolment=enrolment, admitted_on=admitted_on)
    account = _clean_bank_account(bank_account or {})
    numbers = [normalize_invoice_number(i.get("number", "")) for i in invoices]
    if repeated := sorted({n for n in numbers if numbers.count(n) > 1}):
        raise InvalidInput(_("Invoice %(number)s is entered twice.") % {"number": repeated[0]},
                           detail={"number": "repeated"})
    case = hall.request_file(actor=actor, worker=worker, department=DEPARTMENT,
                             description=(note or "").strip() or _("Mutual-aid claim: %(hospital)s")
                             % {"hospital": hospital[:100]})
    claim = Claim.objects.create(
        case=case, enrolment=enrolment, hospital=hospital[:120], admitted_on=admitted_on,
        discharged_on=discharged_on, category=category, diagnosis=(diagnosis or "").strip()[:500],
        bank_account=account, cap_year=admitted_on.year,
    )
    audit.record(actor=actor, event_type=ClaimEvent.FILED, subject=claim,
                 new={"state": claim.state, "case": case.pk, "plan": enrolment.plan.code})
    for invoice in invoices:
        _invoice_add(claim, actor, **invoice)
    _store_computation(claim)
    return claim


def _invoice_add(claim: Claim, actor, *, number, issued_on, amount, self_paid, receipt=None) -> Invoice:
    number = normalize_invoice_number(number)
    amount = parse_money(amount, field="amount")
    self_paid = parse_money(self_paid, field="self_paid")
    if amount <= 0:
        raise InvalidInput(_("The invoice amount must be more than zero."), detail={"amount": "range"})
    if self_paid > amount:
        raise InvalidInput(_("The self-paid part cannot be more than the invoice amount."),
                           detail={"self_paid": "range"})
    if not isinstance(issued_on, datetime.date) or issued_on > timezone.localdate():
        raise InvalidInput(_("Enter the invoice date; it cannot be in the future."), detail={"issued_on": "invalid"})
    if claim.invoices.count() >= 50:
        raise InvalidInput(_("A claim has at most 50 invoices."))
    _refuse_duplicate(number, actor)
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(claim=claim, number=number, issued_on=issued_on, amount=amount,
                                             self_paid=self_paid)
    except IntegrityError:  # another claim took the number at the same moment
        _refuse_duplicate(number, actor)
        raise
    audit.record(actor=actor, event_type=ClaimEvent.INVOICE_ADDED, subject=claim,
                 new={"invoice": invoice.pk, "amount": str(amount), "self_paid": str(self_paid)})
    if receipt is not None:
        _receipt_store(claim, actor, receipt, invoice)
    return invoice


def _refuse_duplicate(number: str, actor) -> None:
    used = Invoice.objects.filter(number=number, released=False).select_related("claim__case").first()
    if used is None:
        return
    reference = used.claim.case.reference
    may_see = permissions.is_claims_staff(actor) or used.claim.case.worker.user_id == getattr(actor, "pk", None)
    if may_see:
        message = _("Invoice %(number)s has already been claimed in %(ref)s.") % {"number": number, "ref": reference}
    else:
        message = _("Invoice %(number)s has already been claimed.") % {"number": number}
    raise InvalidInput(message, detail={"number": "duplicate", **({"claim": reference} if may_see else {})})


@transaction.atomic
def invoice_add(*, claim: Claim, actor, number, issued_on, amount, self_paid, receipt=None) -> Invoice:
    claim = _locked(claim)
    if not permissions.can_edit_invoices(actor, claim):
        raise NotAllowed()
    invoice = _invoice_add(claim, actor, number=number, issued_on=issued_on, amount=amount, self_paid=self_paid,
                           receipt=receipt)
    _store_computation(claim)
    return invoice


@transaction.atomic
def invoice_remove(*, invoice: Invoice, actor) -> None:
    claim = _locked(invoice.claim)
    if not permissions.can_edit_invoices(actor, claim):
        raise NotAllowed()
    audit.record(actor=actor, event_type=ClaimEvent.INVOICE_REMOVED, subject=claim,
                 old={"invoice": invoice.pk, "amount": str(invoice.amount)})
    invoice.delete()
    _store_computation(claim)


# --- receipts ----------------------------------------------------------------------------------


def _receipt_store(claim: Claim, actor, uploaded_file, invoice: Invoice | None) -> Receipt:
    data = uploads.read_upload(uploaded_file, limit=receipt_max_bytes())
    not_a_receipt = InvalidInput(_("Upload the receipt as a PDF or a picture (PNG, JPEG, WEBP)."),
                                 detail={"file": "type"})
    try:
        file_type = uploads.sniff(data)
    except InvalidInput:
        raise not_a_receipt from None
    if file_type not in RECEIPT_TYPES:
        raise not_a_receipt
    digest = hashlib.sha256(data).hexdigest()
    receipt = Receipt.objects.create(
        claim=claim, invoice=invoice, filename=uploads.safe_filename(getattr(uploaded_file, "name", ""), file_type),
        content_type=file_type.content_type, size=len(data), sha256=digest,
        content=base64.b64encode(data).decode("ascii"), uploaded_by=actor,
    )
    audit.record(actor=actor, event_type=ClaimEvent.RECEIPT_UPLOADED, subject=claim,
                 new={"receipt": receipt.pk, "content_type": file_type.content_type, "size": len(data),
                      "sha256": digest})
    return receipt


@transaction.atomic
def receipt_upload(*, claim: Claim, actor, uploaded_file, invoice: Invoice | None = None) -> Receipt:
    claim = _locked(claim)
    if not permissions.can_edit_invoices(actor, claim):
        raise NotAllowed()
    if invoice is not None and invoice.claim_id != claim.pk:
        raise InvalidInput(_("Choose one of this claim's invoices."))
    return _receipt_store(claim, actor, uploaded_file, invoice)


class ReceiptCorrupt(Exception):
    """A stored receipt whose bytes do not match its recorded sha256."""


@transaction.atomic
def receipt_download(*, receipt: Receipt, actor) -> bytes:
    """The bytes of a receipt for someone who may read its claim; every download is audited."""
    if not selectors.claims_for_user(user=actor).filter(pk=receipt.claim_id).exists():
        raise NotAllowed()
    try:
        data = base64.b64decode(receipt.content, validate=True)
    except (binascii.Error, ValueError, TypeError):
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != receipt.sha256:
        log.error("claim receipt %s does not match its sha256", receipt.pk)
        raise ReceiptCorrupt(receipt.pk)
    audit.record(actor=actor, event_type=ClaimEvent.RECEIPT_DOWNLOADED, subject=receipt.claim,
                 new={"receipt": receipt.pk})
    return data


@transaction.atomic
def claim_record_view(*, claim: Claim, actor) -> None:
    audit.record(actor=actor, event_type=ClaimEvent.VIEWED, subject=claim)


# --- the lifecycle -----------------------------------------------------------------------------


@transaction.atomic
def claim_transition(*, claim: Claim, actor, transition: str, message: str = "",
                     expected_amount: Decimal | str | None = None) -> Claim:
    """Move a claim along its lifecycle (see Claim). ``approve`` needs a second reviewer above
    CLAIMS_SECOND_APPROVAL_ABOVE; approvals are computed again under the member's cap lock and
    refused when the amount is not the one the reviewer saw (``expected_amount``)."""
    if transition not in TRANSITIONS:
        raise InvalidInput(_("Unknown step."))
    claim = _locked(claim)
    if not permissions.can_act(actor, claim, transition):
        if transition in ("approve_second", "return_to_review", "reject") and claim.first_approver_id == actor.pk:
            raise NotAllowed(_("The second approval must be given by another reviewer."))
        raise NotAllowed()
    method = getattr(claim, transition)
    if not can_proceed(method, check_conditions=False):
        raise InvalidState()
    if transition == "appeal" and not can_proceed(method):
        raise InvalidState(_("A decision can be appealed only once."))
    text = _message(transition, message)
    now = timezone.now()
    old = claim.state
    match transition:
        case "start_review":
            claim.start_review()
        case "request_info":
            claim.request_info(text)
        case "answer":
            claim.answer(text)
        case "appeal":
            if claim.decided_at and now - claim.decided_at > datetime.timedelta(days=appeal_days()):
                raise InvalidState(_("An appeal must be made within %(days)d days of the decision.")
                                   % {"days": appeal_days()})
            claim.appeal(text)
        case "reject":
            claim.reject(text, now)
        case "return_to_review":
            claim.return_to_review()
        case "withdraw":
            claim.withdraw()
            claim.invoices.update(released=True)
        case "approve" | "approve_second":
            amount = _approved_amount(claim, expected_amount)
            if transition == "approve_second":
                if amount != claim.approved_amount:
                    raise InvalidState(_("The amount is now %(amount)s yuan, not the %(first)s yuan first "
                                         "approved: return the claim to review.")
                                       % {"amount": amount, "first": claim.approved_amount})
                claim.approve_second(actor, amount, now)
            elif amount > second_approval_above():
                claim.approve_first(actor, amount)
            else:
                claim.approve(actor, amount, now)
    claim.save()
    if old == ClaimState.SECOND_APPROVAL:  # the second reviewer keeps sight of the claim they decided on
        hall_permissions.grant_case(case=claim.case, user=actor)
    _follow_in_hall(claim, actor, transition)
    audit.record(actor=actor, event_type=ClaimEvent.TRANSITION, subject=claim, old={"state": old},
                 new={"state": claim.state, "transition": transition,
                      **({"amount": str(claim.approved_amount)} if claim.approved_amount is not None else {})})
    _tell_member(claim)
    return claim


def _approved_amount(claim: Claim, expected_amount) -> Decimal:
    _lock_cap(claim.enrolment)
    computation = _store_computation(claim)
    amount = computation.payable
    if amount <= 0:
        raise InvalidState(_("Nothing is payable under the plan rules: reject the claim with the reason instead."))
    if expected_amount not in (None, ""):
        expected = parse_money(expected_amount, field="expected_amount")
        if expected != amount:
            raise InvalidState(
                _("The payable amount is now %(amount)s yuan, not %(expected)s yuan: another claim of the "
                  "member used part of the annual cap, or the invoices changed. Check the new computation.")
                % {"amount": amount, "expected": expected}, detail={"payable": str(amount)})
    return amount


def _follow_in_hall(claim: Claim, actor, transition: str) -> None:
    """The hall's case follows the claim: taken up by the reviewer, closed when decided
    against or paid, reopened by an appeal, withdrawn with it."""
    case = Case.objects.select_for_update().get(pk=claim.case_id)
    if transition == "start_review" and case.is_open:
        if case.assignee_id is None:
            hall.case_take_up(case=case, actor=actor)
    elif claim.state == ClaimState.WITHDRAWN and case.is_open:
        case.withdraw(timezone.now())
        case.save(update_fields=["stage", "closed_at"])
    elif claim.state in (ClaimState.REJECTED, ClaimState.PAID) and case.stage == Stage.IN_PROGRESS:
        case.close(timezone.now())
        case.save(update_fields=["stage", "closed_at"])
        surveys.survey_invite(case=case, actor=actor)  # how was the service? (the manager's figures)
    elif transition == "appeal" and case.stage == Stage.CLOSED:
        case.reopen()
        case.save(update_fields=["stage", "closed_at"])


def _tell_member(claim: Claim) -> None:
    """The member hears of the steps that wait on them or decide: more information asked,
    approved (with the amount), rejected. Filing and take-up are told by the hall; steps
    between reviewers, and the member's own steps, send nothing."""
    if claim.state == ClaimState.APPROVED:
        sms.notify(recipient=claim.case.worker, template="claim_approved",
                   context={"ref": claim.case.reference, "amount": f"{claim.approved_amount:,.2f}",
                            "link": _link(claim)})
    elif claim.state in (ClaimState.INFO_REQUESTED, ClaimState.REJECTED):
        sms.notify(recipient=claim.case.worker, template="claim_update",
                   context={"ref": claim.case.reference, "link": _link(claim)})


# --- enrolment ---------------------------------------------------------------------------------


def enrolment_overlaps(*, worker_id: int, plan_id: int, starts_on, ends_on) -> bool:
    return Enrolment.objects.filter(worker_id=worker_id, plan_id=plan_id, starts_on__lte=ends_on,
                                     ends_on__gte=starts_on).exists()


def enrol(*, actor, worker: Worker, plan: Plan, starts_on: datetime.date, ends_on: datetime.date,
          employer_union: str = "", source=None) -> Enrolment:
    """Cover ``worker`` by ``plan`` for a period (inside the caller's transaction)."""
    if ends_on < starts_on:
        raise InvalidInput(_("Cover cannot end before it starts."))
    if enrolment_overlaps(worker_id=worker.pk, plan_id=plan.pk, starts_on=starts_on, ends_on=ends_on):
        raise InvalidInput(_("The member is already covered by this plan for part of that period."))
    try:
        with transaction.atomic():
            enrolment = Enrolment.objects.create(worker=worker, plan=plan, starts_on=starts_on, ends_on=ends_on,
                                                 employer_union=employer_union[:120], source=source)
    except IntegrityError:  # PostgreSQL's exclusion constraint: an overlapping enrolment raced this one
        raise InvalidInput(_("The member is already covered by this plan for part of that period.")) from None
    audit.record(actor=actor, event_type=ClaimEvent.ENROLLED, subject=enrolment,
                 new={"worker": worker.pk, "plan": plan.code, "starts_on": starts_on, "ends_on": ends_on})
    return enrolment


def enrol_many(*, actor, rows: list[dict], employer_union: str, source) -> list[Enrolment]:
    """Enrol many members at once (an import whose rows were all checked): written in bulk,
    audited once by the caller. Overlaps that appeared meanwhile are refused by PostgreSQL's
    exclusion constraint (InvalidInput)."""
    enrolments = [Enrolment(worker=row["worker"], plan=row["plan"], starts_on=row["starts_on"],
                            ends_on=row["ends_on"], employer_union=employer_union[:120], source=source)
                  for row in rows]
    if any(e.ends_on < e.starts_on for e in enrolments):
        raise InvalidInput(_("Cover cannot end before it starts."))
    try:
        with transaction.atomic():
            return Enrolment.objects.bulk_create(enrolments, batch_size=1000)
    except IntegrityError:
        raise InvalidInput(_("The member is already covered by this plan for part of that period.")) from None


# --- payments ----------------------------------------------------------------------------------


@transaction.atomic
def batch_create(*, actor) -> PaymentBatch:
    """Gather every approved claim not yet in a batch into a new payment batch."""
    if not permissions.can_make_batches(actor):
        raise NotAllowed()
    claims = list(selectors.ready_to_pay().select_for_update(skip_locked=True).order_by("decided_at", "pk"))
    if not claims:
        raise InvalidState(_("There are no approved claims waiting for payment."))
    batch = PaymentBatch.objects.create(reference=hall.next_reference(prefix="PB"), created_by=actor,
                                        count=len(claims), total=sum((c.approved_amount for c in claims),
                                                                     Decimal("0.00")))
    Claim.objects.filter(pk__in=[c.pk for c in claims]).update(batch=batch)
    audit.record(actor=actor, event_type=ClaimEvent.BATCH_CREATED, subject=batch,
                 new={"claims": len(claims), "total": str(batch.total)})
    return batch


@transaction.atomic
def batch_record_export(*, batch: PaymentBatch, actor) -> None:
    if not permissions.can_make_batches(actor):
        raise NotAllowed()
    audit.record(actor=actor, event_type=ClaimEvent.BATCH_EXPORTED, subject=batch, new={"claims": batch.count})


@transaction.atomic
def batch_mark_paid(*, batch: PaymentBatch, actor) -> PaymentBatch:
    """The bank has paid the batch: its claims are paid, each member is told by SMS."""
    if not permissions.can_pay_batches(actor):
        raise NotAllowed()
    batch = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
    if not can_proceed(batch.mark_paid):
        raise InvalidState(_("This batch has already been paid."))
    now = timezone.now()
    batch.mark_paid(actor, now)
    batch.save()
    claims = Claim.objects.select_for_update(of=("self",)).filter(batch=batch).select_related("case__worker")
    for claim in claims:
        claim.mark_paid(now)
        claim.save(update_fields=["state", "paid_at", "updated_at"])
        _follow_in_hall(claim, actor, "mark_paid")
        audit.record(actor=actor, event_type=ClaimEvent.TRANSITION, subject=claim,
                     old={"state": ClaimState.APPROVED}, new={"state": claim.state, "batch": batch.pk})
        sms.notify(recipient=claim.case.worker, template="claim_paid",
                   context={"ref": claim.case.reference, "amount": f"{claim.approved_amount:,.2f}",
                            "tail": claim.account_tail})
    audit.record(actor=actor, event_type=ClaimEvent.BATCH_PAID, subject=batch,
                 old={"state": "open"}, new={"state": batch.state})
    return batch
