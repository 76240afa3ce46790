"""Pages of mutual-insurance claims: the member's cover and claims, filing (online and at the
front desk), the claim page with its steps, the claims office's queue, payment batches and the
center manager's figures. Thin: reads through care.claims.selectors, writes through
care.claims.services; the services decide in any case, the pages only hide what cannot be done."""

from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_fsm import can_proceed

from care import audit, uploads
from care import selectors as hall_selectors
from care.claims import permissions, selectors, services
from care.claims.forms import ClaimForm, InvoiceForm, InvoiceRows, QueueFilterForm, ReceiptForm, StepForm
from care.claims.models import BatchState, Category, Claim, ClaimState
from care.errors import HallError, NotAllowed
from care.models import Worker
from care.roles import Role
from care.views import allowed_if, form_error, paginated, role_required

# The steps a claim page may offer, in lifecycle order, with their button labels.
STEP_LABELS = {
    "start_review": gettext_lazy("Start the review"),
    "request_info": gettext_lazy("Ask the member for more information"),
    "approve": gettext_lazy("Approve the claim"),
    "approve_second": gettext_lazy("Give the second approval"),
    "return_to_review": gettext_lazy("Return to review"),
    "reject": gettext_lazy("Reject the claim"),
    "answer": gettext_lazy("Send my answer"),
    "appeal": gettext_lazy("Appeal the decision"),
    "withdraw": gettext_lazy("Withdraw the claim"),
}
# Steps that carry a message (the service says when it is missing).
MESSAGE_STEPS = {"request_info", "reject", "answer", "appeal"}
# Once decided, the member sees the computation that decided the claim.
DECIDED = (ClaimState.APPROVED, ClaimState.PAID, ClaimState.REJECTED)

EVENT_LABELS = {
    services.ClaimEvent.FILED: gettext_lazy("Claim filed"),
    services.ClaimEvent.TRANSITION: gettext_lazy("Step taken"),
    services.ClaimEvent.INVOICE_ADDED: gettext_lazy("Invoice added"),
    services.ClaimEvent.INVOICE_REMOVED: gettext_lazy("Invoice removed"),
    services.ClaimEvent.RECEIPT_UPLOADED: gettext_lazy("Receipt uploaded"),
    services.ClaimEvent.RECEIPT_DOWNLOADED: gettext_lazy("Receipt downloaded"),
    services.ClaimEvent.VIEWED: gettext_lazy("Claim viewed"),
}


def _yuan(value) -> str:
    """A yuan amount for reading, two decimals, in the page's language (as ``floatformat:"2g"``
    in the templates: ``4,600.00`` in English, ``4600.00`` in Chinese)."""
    return formats.number_format(Decimal(str(value)), 2, use_l10n=True, force_grouping=True)


def _state_label(state: str) -> str:
    try:
        return ClaimState(state).label
    except ValueError:
        return state


def _category_label(category: str) -> str:
    try:
        return Category(category).label
    except ValueError:
        return category


def _form_errors(form) -> str:
    errors = [str(e) for e in form.non_field_errors()]
    errors += [f"{form.fields[name].label}: {e}" if name in form.fields and form.fields[name].label else str(e)
               for name, field_errors in form.errors.items() if name != "__all__" for e in field_errors]
    return " ".join(errors)


# --- the member ----------------------------------------------------------------------------------


@role_required(Role.WORKER)
def my_cover(request):
    worker = hall_selectors.worker_for_user(user=request.user)
    cover = selectors.cover_for_worker(worker=worker) if worker else []
    claims = selectors.claims_for_user(user=request.user).filter(case__worker__user=request.user)
    return render(request, "claims/cover.html", {"worker": worker, "cover": cover, **paginated(request, claims)})


def _claim_form_page(request, *, worker: Worker, for_walk_in: bool):
    """The filing form, for the member themselves or for a walk-in member at the front desk."""
    cover = selectors.cover_for_worker(worker=worker)
    bound = request.method == "POST"
    form = ClaimForm(request.POST or None, cover=cover,
                     initial=None if bound else {"holder": worker.name})
    rows = InvoiceRows(request.POST or None, request.FILES or None, prefix="invoice")
    valid = bound and all([form.is_valid(), rows.is_valid()])  # both checked, so both show their errors
    if valid:
        try:
            claim = services.claim_file(actor=request.user, worker=worker, invoices=rows.invoices(),
                                        **form.claim_data())
        except HallError as error:
            form_error(form, error)
        else:
            reference = claim.case.reference
            if for_walk_in:
                messages.success(request, _("Claim %(ref)s is filed for %(name)s.")
                                 % {"ref": reference, "name": worker.name})
                return redirect(f"{reverse('care:front_desk')}?{urlencode({'q': worker.mobile})}")
            messages.success(request, _("Your claim %(ref)s has been received.") % {"ref": reference})
            return redirect("claims:claim", claim_id=claim.pk)
    return render(request, "claims/claim_form.html", {
        "form": form, "rows": rows, "worker": worker, "for_walk_in": for_walk_in, "has_cover": bool(cover),
        # A browser cannot keep chosen files in a form shown again.
        "files_lost": bound and bool(request.FILES),
    })


@role_required(Role.WORKER)
def claim_new(request):
    worker = hall_selectors.worker_for_user(user=request.user)
    if worker is None:
        raise PermissionDenied
    return _claim_form_page(request, worker=worker, for_walk_in=False)


@role_required(Role.FRONT_DESK)
def claim_new_for_worker(request, worker_id: int):
    worker = get_object_or_404(Worker, pk=worker_id)
    return _claim_form_page(request, worker=worker, for_walk_in=True)


# --- the claim page ------------------------------------------------------------------------------


def _computation_rows(computation: dict) -> list[dict]:
    """Each step of a computation (``Computation.as_json``) as a translated line with its amount."""
    rows = []
    for step in computation.get("steps", []):
        args = step.get("args", {})
        money = {k: _yuan(v) for k, v in args.items() if k in ("deductible", "cap", "used", "left") and v != ""}
        match step.get("code"):
            case "base":
                label = _("Self-paid parts of the invoices, added up (invoices: %(invoices)s)") % {
                    "invoices": args.get("invoices", "")}
            case "deductible":
                label = _("Less the deductible of %(deductible)s yuan") % money
            case "ratio":
                category = _category_label(args.get("category", ""))
                try:
                    percent = f"{(Decimal(str(args.get('ratio'))) * 100).normalize():f}%"
                except (InvalidOperation, ValueError):
                    percent = ""
                if percent:
                    label = _("Paid at %(ratio)s for %(category)s") % {"ratio": percent, "category": category}
                else:
                    label = _("%(category)s is not covered by the plan: nothing is paid") % {"category": category}
            case "per_claim_cap":
                label = _("At most the cap per claim of %(cap)s yuan") % money
            case "annual_cap":
                label = _("At most what is left of the annual cap of %(cap)s yuan (%(used)s yuan used, "
                          "%(left)s yuan left)") % money
            case other:
                label = str(other)
        rows.append({"code": step.get("code"), "label": label, "amount": _yuan(step.get("amount", "0"))})
    return rows


def _computation(claim: Claim, *, staff: bool) -> dict | None:
    """What the page shows of the computation: for the claims office, today's computation of an
    open claim (what an approval would pay) or the stored one of a closed claim; for the member,
    the stored one once decided. ``None`` when there is nothing to show."""
    if staff and claim.is_open:
        try:
            computation, version = services.claim_compute(claim)
        except HallError as error:
            return {"error": str(error.message), "rows": [], "payable": None}
        data = computation.as_json(version_id=version.pk)
    elif (staff or claim.state in DECIDED) and claim.computation:
        data = claim.computation
    else:
        return None
    payable = Decimal(str(data.get("payable", "0")))
    return {"rows": _computation_rows(data), "payable": payable, "payable_shown": _yuan(payable), "error": ""}


def _steps(user, claim: Claim, computation: dict | None) -> list[dict]:
    """The steps this user may take now: forms appear only when allowed."""
    steps = []
    for name, label in STEP_LABELS.items():
        method = getattr(claim, name)
        if not (permissions.can_act(user, claim, name) and can_proceed(method, check_conditions=name == "appeal")):
            continue
        step = {"name": name, "label": label, "message": name in MESSAGE_STEPS, "expected_amount": "",
                "ready": True, "why_not": "", "danger": name in ("reject", "withdraw", "return_to_review")}
        step["placeholder"] = services.NEEDS_MESSAGE.get(name, "")
        if name in ("approve", "approve_second"):
            payable = computation["payable"] if computation else None
            if payable is None or payable <= 0:
                step["ready"] = False
                step["why_not"] = (computation or {}).get("error") or _(
                    "Nothing is payable under the plan rules: reject the claim with the reason instead.")
            else:
                step["expected_amount"] = str(payable)
                if name == "approve_second":
                    step["label"] = _("Give the second approval: %(amount)s yuan") % {"amount": _yuan(payable)}
                elif payable > services.second_approval_above():
                    step["label"] = _("Approve %(amount)s yuan (a second reviewer confirms)") % {
                        "amount": _yuan(payable)}
                else:
                    step["label"] = _("Approve %(amount)s yuan") % {"amount": _yuan(payable)}
        steps.append(step)
    return steps


def _history(claim: Claim) -> list[dict]:
    rows = []
    for event in audit.events_for(claim).order_by("-seq")[:100]:
        new, old = event.new or {}, event.old or {}
        label = EVENT_LABELS.get(event.event_type, event.event_type)
        if event.event_type == services.ClaimEvent.TRANSITION:
            step = new.get("transition")
            label = STEP_LABELS.get(step, _("Paid by the bank") if "batch" in new else step or label)
        detail = ""
        if "state" in new and event.event_type in (services.ClaimEvent.TRANSITION, services.ClaimEvent.FILED):
            detail = (f"{_state_label(old['state'])} → " if "state" in old else "") + _state_label(new["state"])
            if new.get("amount"):
                detail += " · " + _("%(amount)s yuan") % {"amount": _yuan(new["amount"])}
        elif "amount" in new or "amount" in old:
            detail = _("%(amount)s yuan") % {"amount": _yuan(new.get("amount") or old.get("amount"))}
        rows.append({"at": event.at, "actor": event.actor.username if event.actor else "", "label": label,
                     "detail": detail})
    return rows


@login_required
def claim_page(request, claim_id: int):
    user = request.user
    claim = selectors.claim_get_for_user(claim_id=claim_id, user=user)
    member = permissions.is_the_member(user, claim)
    staff = permissions.is_claims_staff(user)
    if not member:
        services.claim_record_view(claim=claim, actor=user)
    invoices = list(claim.invoices.all())
    receipts = list(claim.receipts.defer("content").order_by("uploaded_at", "pk"))
    for invoice in invoices:
        invoice.receipt_list = [r for r in receipts if r.invoice_id == invoice.pk]
    computation = _computation(claim, staff=staff)
    can_edit = permissions.can_edit_invoices(user, claim)
    context = {
        "claim": claim,
        "case": claim.case,
        "member": member,
        "staff": staff,
        "invoices": invoices,
        "loose_receipts": [r for r in receipts if r.invoice_id is None],
        "computation": computation,
        "approved_shown": (_yuan(claim.approved_amount) if claim.approved_amount is not None
                           and claim.state in (ClaimState.APPROVED, ClaimState.PAID) else ""),
        "first_approval": (_yuan(claim.approved_amount) if staff and claim.state == ClaimState.SECOND_APPROVAL
                           and claim.approved_amount is not None else ""),
        "bank": claim.bank_account if staff else None,
        "steps": _steps(user, claim, computation),
        "can_edit": can_edit,
        "invoice_form": InvoiceForm(prefix="new") if can_edit else None,
        "receipt_form": ReceiptForm(invoices=invoices) if can_edit else None,
        "history": _history(claim) if staff else None,
        "second_approval_above": _yuan(services.second_approval_above()),
    }
    return render(request, "claims/claim.html", context)


def _back(request, claim: Claim):
    """Back to the claim page, or to the user's list if the step took the claim out of their sight
    (e.g. a reviewer's second approval of a claim handled by an officer)."""
    if selectors.claims_for_user(user=request.user).filter(pk=claim.pk).exists():
        return redirect("claims:claim", claim_id=claim.pk)
    if permissions.is_claims_staff(request.user):
        return redirect("claims:queue")
    return redirect("claims:cover")


def _act(request, claim: Claim, action, done) -> HttpResponse:
    """Run ``action``; ``done(result)`` is the message shown when it succeeds."""
    try:
        result = action()
    except HallError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, done(result))
    return _back(request, claim)


@require_POST
@login_required
def invoice_add(request, claim_id: int):
    claim = selectors.claim_get_for_user(claim_id=claim_id, user=request.user)
    form = InvoiceForm(request.POST, request.FILES, prefix="new")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("claims:claim", claim_id=claim.pk)
    data = form.invoice_data()
    return _act(request, claim, lambda: services.invoice_add(claim=claim, actor=request.user, **data),
                lambda invoice: _("Invoice %(number)s is added.") % {"number": invoice.number})


@require_POST
@login_required
def invoice_remove(request, claim_id: int, invoice_id: int):
    claim = selectors.claim_get_for_user(claim_id=claim_id, user=request.user)
    invoice = claim.invoices.filter(pk=invoice_id).first()  # the claim is already the user's to read
    if invoice is None:
        raise Http404
    return _act(request, claim, lambda: services.invoice_remove(invoice=invoice, actor=request.user),
                lambda _removed: _("Invoice %(number)s is removed.") % {"number": invoice.number})


@require_POST
@login_required
def receipt_upload(request, claim_id: int):
    claim = selectors.claim_get_for_user(claim_id=claim_id, user=request.user)
    invoices = list(claim.invoices.all())
    form = ReceiptForm(request.POST, request.FILES, invoices=invoices)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("claims:claim", claim_id=claim.pk)
    invoice = next((i for i in invoices if i.pk == form.cleaned_data["invoice"]), None)
    return _act(request, claim,
                lambda: services.receipt_upload(claim=claim, actor=request.user,
                                                uploaded_file=form.cleaned_data["file"], invoice=invoice),
                lambda receipt: _("%(name)s is uploaded.") % {"name": receipt.filename})


@require_GET
@login_required
def receipt_download(request, receipt_id: int):
    receipt = selectors.receipt_get_for_user(receipt_id=receipt_id, user=request.user)
    try:
        data = services.receipt_download(receipt=receipt, actor=request.user)
    except NotAllowed:
        raise PermissionDenied from None
    except services.ReceiptCorrupt:
        messages.error(request, _("This file is damaged and cannot be opened. Upload the receipt again, or ask "
                                  "the claims office."))
        return redirect("claims:claim", claim_id=receipt.claim_id)
    return uploads.file_response(data, filename=receipt.filename, content_type=receipt.content_type)


@require_POST
@login_required
def step(request, claim_id: int, transition: str):
    claim = selectors.claim_get_for_user(claim_id=claim_id, user=request.user)
    form = StepForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    return _act(
        request, claim,
        lambda: services.claim_transition(claim=claim, actor=request.user, transition=transition,
                                          message=data.get("message", ""),
                                          expected_amount=data.get("expected_amount") or None),
        lambda moved: _("Approved by you: the claim now waits for a second reviewer.")
        if moved.state == ClaimState.SECOND_APPROVAL
        else _("Done: %(step)s.") % {"step": STEP_LABELS.get(transition, transition)},
    )


@login_required
def for_case(request, case_id: int):
    """The claim of a hall case (the case page's link to the department's file)."""
    case = hall_selectors.case_get_for_user(case_id=case_id, user=request.user)
    claim = selectors.claims_for_user(user=request.user).filter(case=case).first()
    if claim is None:
        raise Http404
    return redirect("claims:claim", claim_id=claim.pk)


# --- the claims office ---------------------------------------------------------------------------


@allowed_if(permissions.is_claims_staff)
def queue(request):
    user = request.user
    filters = QueueFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    rows = selectors.claim_queue(user=user, state=data.get("state") or "", query=data.get("q") or "")
    reviewer = permissions.is_reviewer(user)
    return render(request, "claims/queue.html", {
        "filters": filters,
        "now": timezone.now(),
        "reviewer": reviewer,
        "second_approval": ClaimState.SECOND_APPROVAL.value,
        "waiting_second": (selectors.claim_queue(user=user, state=ClaimState.SECOND_APPROVAL)
                           .exclude(first_approver=user).count() if reviewer else 0),
        "can_import": permissions.can_import_enrolments(user),
        **paginated(request, rows),
    })


@allowed_if(permissions.is_claims_staff)
def batches(request):
    user = request.user
    can_make = permissions.can_make_batches(user)
    if request.method == "POST":
        try:
            batch = services.batch_create(actor=user)
        except HallError as error:
            messages.error(request, str(error.message))
            return redirect("claims:batches")
        messages.success(request, _("Batch %(ref)s holds %(count)s claims, %(total)s yuan in all.")
                         % {"ref": batch.reference, "count": batch.count, "total": _yuan(batch.total)})
        return redirect("claims:batch", batch_id=batch.pk)
    ready = selectors.ready_to_pay().count() if can_make else 0
    return render(request, "claims/batches.html",
                  {"can_make": can_make, "ready": ready, **paginated(request, selectors.batches_for_user(user=user))})


@allowed_if(permissions.is_claims_staff)
def batch_page(request, batch_id: int):
    user = request.user
    batch = selectors.batch_get_for_user(batch_id=batch_id, user=user)
    # The batch is the user's to read (selectors.batch_get_for_user): so are its claims' payment lines.
    claims = batch.claims.select_related("case__worker").order_by("decided_at", "pk")
    return render(request, "claims/batch.html", {
        "batch": batch,
        "claims": claims,
        "open": batch.state == BatchState.OPEN,
        "can_pay": permissions.can_pay_batches(user),
        "can_export": permissions.can_make_batches(user),
    })


@require_POST
@allowed_if(permissions.is_claims_staff)
def batch_paid(request, batch_id: int):
    batch = selectors.batch_get_for_user(batch_id=batch_id, user=request.user)
    try:
        batch = services.batch_mark_paid(batch=batch, actor=request.user)
    except HallError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Batch %(ref)s is paid: %(count)s claims.")
                         % {"ref": batch.reference, "count": batch.count})
    return redirect("claims:batch", batch_id=batch.pk)


# --- the center manager --------------------------------------------------------------------------


@allowed_if(permissions.can_see_figures)
def figures(request):
    rows = [{"month": row["month"], "category": _category_label(row["category"]), "claims": row["claims"],
             "total": None if row["total"] is None else _yuan(row["total"])}
            for row in selectors.paid_by_month_and_category()]
    return render(request, "claims/figures.html", {"rows": rows})
