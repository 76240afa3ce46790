"""Pages of legal aid: the legal queue, the case page with its steps, details, claims, notes."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from care import audit
from care import permissions as hall
from care import selectors as hall_selectors
from care import services as hall_services
from care.errors import HallError
from care.views import allowed_if, paginated
from legal import documents, hearings, permissions, selectors, services, signing
from legal.document_views import DocumentForm
from legal.forms import ClaimForm, DetailsForm, NoteForm, QueueFilterForm, RepresentativeForm, StepForm
from legal.hearing_views import HearingForm

# The steps a page may offer as buttons, in lifecycle order, with their labels.
STEP_LABELS = {
    "accept_aid": gettext_lazy("Accept for legal aid"),
    "decline": gettext_lazy("Decline aid"),
    "start_mediation": gettext_lazy("Start mediation"),
    "settle": gettext_lazy("Settled by agreement"),
    "fail_mediation": gettext_lazy("Mediation failed"),
    "prepare_application": gettext_lazy("Prepare arbitration application"),
    "file_application": gettext_lazy("Application filed"),
    "committee_accept": gettext_lazy("Accepted by the committee"),
    "issue_award": gettext_lazy("Award issued"),
    "refer_to_litigation": gettext_lazy("Referred to litigation"),
    "close": gettext_lazy("Close"),
    "withdraw": gettext_lazy("Withdraw"),
}


def _is_legal_staff(user) -> bool:
    return hall.works_department(user, permissions.DEPARTMENT)


@allowed_if(_is_legal_staff)
def legal_queue(request):
    filters = QueueFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    rows = selectors.legal_queue(user=request.user, state=data.get("state") or "",
                                 due_within_days=data.get("due_within"))
    return render(request, "legal/queue.html",
                  {"filters": filters, "today": timezone.localdate(), **paginated(request, rows)})


@login_required
def open_case(request, case_id: int):
    """The legal file of a hall case: shown if it exists; opened (POST) by the legal team."""
    case = hall_selectors.case_get_for_user(case_id=case_id, user=request.user)
    existing = selectors.legal_cases_for_user(user=request.user).filter(case=case).first()
    if existing:
        return redirect("legal:case", legal_case_id=existing.pk)
    if not _is_legal_staff(request.user):
        raise Http404
    if request.method != "POST":
        return render(request, "legal/open.html", {"case": case})
    try:
        legal_case = services.legal_case_open(case=case, actor=request.user)
    except HallError as error:
        messages.error(request, str(error.message))
        return redirect("care:case_detail", case_id=case.pk)
    return redirect("legal:case", legal_case_id=legal_case.pk)


def available_steps(user, legal_case) -> list[dict]:
    """The steps this user may take now: buttons appear only when allowed."""
    steps = []
    for name, label in STEP_LABELS.items():
        method = getattr(legal_case, name)
        if permissions.can_act(user, legal_case, name) and can_proceed(method, check_conditions=False):
            steps.append({"name": name, "label": label, "ready": can_proceed(method),
                          "why_not": services.CONDITION_MESSAGES.get(name, "")})
    return steps


@login_required
def case_page(request, legal_case_id: int):
    legal_case = selectors.legal_case_get_for_user(legal_case_id=legal_case_id, user=request.user)
    team = permissions.is_legal_team(request.user, legal_case)
    hall_services.case_record_view(case=legal_case.case, actor=request.user)
    if team:
        services.notes_record_view(legal_case=legal_case, actor=request.user)
    context = {
        "legal_case": legal_case,
        "case": legal_case.case,
        "team": team,
        "today": timezone.localdate(),
        "claims": legal_case.claims.all(),
        "deadlines": legal_case.deadlines.order_by("due_on"),
        "notes": legal_case.notes.select_related("author").order_by("-created_at") if team else None,
        "timeline": audit.events_for(legal_case).order_by("-seq")[:50] if team else None,
        "steps": available_steps(request.user, legal_case),
        "step_form": StepForm(),
        "details_form": DetailsForm(initial={f: getattr(legal_case, f) for f in services.DETAIL_FIELDS}),
        "claim_form": ClaimForm(),
        "representatives": legal_case.representatives.order_by("side", "pk"),
        "representative_form": RepresentativeForm(),
        "note_form": NoteForm(),
        **_department_fragments(request.user, legal_case),
    }
    return render(request, "legal/case.html", context)


def _department_fragments(user, legal_case) -> dict:
    """Context of the documents and hearings fragments (legal/_documents.html, _hearings.html)."""
    return {
        "documents": documents.documents_for_user(legal_case=legal_case, user=user),
        "can_upload": documents.can_upload(user, legal_case),
        "document_form": DocumentForm(kinds=documents.upload_kinds(user, legal_case)),
        "hearings": hearings.hearings_for_case(legal_case=legal_case, user=user),
        "can_schedule": hearings.can_schedule(user=user, legal_case=legal_case),
        "hearing_form": HearingForm(),
        "signing": signing.signing_panel(legal_case=legal_case, user=user),  # legal/_signing.html (ADR 0009)
    }


def _act(request, legal_case_id: int, action, done: str):
    legal_case = selectors.legal_case_get_for_user(legal_case_id=legal_case_id, user=request.user)
    try:
        action(legal_case)
    except HallError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, done)
    return redirect("legal:case", legal_case_id=legal_case.pk)


@require_POST
@login_required
def step(request, legal_case_id: int, transition: str):
    form = StepForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    return _act(
        request, legal_case_id,
        lambda lc: services.legal_transition(legal_case=lc, actor=request.user, transition=transition,
                                             reason=data.get("reason", ""), appealed_by=data.get("appealed_by", "")),
        _("Done: %(step)s.") % {"step": STEP_LABELS.get(transition, transition)},
    )


def _form_act(request, legal_case_id: int, form_class, service, done: str):
    """A POSTed form of the case page: its errors, or the service's, are shown as messages."""
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("legal:case", legal_case_id=legal_case_id)
    return _act(request, legal_case_id,
                lambda lc: service(legal_case=lc, actor=request.user, **form.cleaned_data), done)


@require_POST
@login_required
def edit_details(request, legal_case_id: int):
    return _form_act(request, legal_case_id, DetailsForm, services.legal_case_update_details,
                     _("The case details are saved."))


@require_POST
@login_required
def add_claim(request, legal_case_id: int):
    return _form_act(request, legal_case_id, ClaimForm, services.claim_add, _("The claim is added."))


@require_POST
@login_required
def add_representative(request, legal_case_id: int):
    return _form_act(request, legal_case_id, RepresentativeForm, services.representative_add,
                     _("The representative is added."))


@require_POST
@login_required
def add_note(request, legal_case_id: int):
    return _form_act(request, legal_case_id, NoteForm, services.note_add, _("The note is saved."))


DEADLINE_ACTIONS = {
    "extend-award": services.deadline_extend_award,
    "suspend-limitation": services.limitation_suspend,
    "resume-limitation": services.limitation_resume,
}


@require_POST
@login_required
def deadline_action(request, legal_case_id: int, action: str):
    service = DEADLINE_ACTIONS.get(action)
    if service is None:
        return redirect("legal:case", legal_case_id=legal_case_id)
    return _act(request, legal_case_id, lambda lc: service(legal_case=lc, actor=request.user),
                _("The deadline is updated."))
