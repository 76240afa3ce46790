"""The counselor's pages of counseling cases, under /counseling/cases/: the queue (crises first,
and above it every crisis of the department still to acknowledge), one case (its appointments,
its notes, its risk level, its supervisors), and writing a session note from an appointment's
page. Thin: reads through counseling.selectors, writes through counseling.services.

Notes are read on the case page only, once per request: selectors.notes_for records every
read in the audit log. The appointment page offers the note form but never shows notes."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from care import services as hall_services
from care.errors import HallError
from care.views import allowed_if, paginated
from counseling import permissions, selectors, services, views
from counseling.forms import counselor_name
from counseling.models import RiskLevel

# --- forms -----------------------------------------------------------------------------------------


class NoteForm(forms.Form):
    body = forms.CharField(label=gettext_lazy("Session note"), widget=forms.Textarea(attrs={"rows": 6}),
                           error_messages={"required": gettext_lazy("Write the note.")})


class RiskForm(forms.Form):
    level = forms.ChoiceField(label=gettext_lazy("Risk level"), choices=RiskLevel.choices,
                              error_messages={"required": gettext_lazy("Choose the risk level from the list."),
                                              "invalid_choice": gettext_lazy("Choose the risk level from the list.")})


class SupervisorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return counselor_name(obj)


class SupervisorForm(forms.Form):
    """Another counselor of the department, to name supervisor of the case."""

    supervisor = SupervisorChoiceField(
        label=gettext_lazy("Counselor"), queryset=None,  # set per user in __init__
        error_messages={"required": gettext_lazy("Choose another counselor as supervisor."),
                        "invalid_choice": gettext_lazy("Choose another counselor as supervisor.")})

    def __init__(self, *args, user, exclude=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supervisor"].queryset = selectors.supervisor_choices(user=user).exclude(pk__in=exclude)


def _first_error(form) -> str:
    return next(str(error) for errors in form.errors.values() for error in errors)


def _back(request, default: str):
    """Where a POST came from (the queue with its page, or a case page), if it is ours."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return redirect(target)
    return redirect(default)


# --- the queue -------------------------------------------------------------------------------------


@allowed_if(permissions.is_counselor)
def queue(request):
    user = request.user
    context = paginated(request, selectors.counselor_queue(user=user).select_related("counseling_risk"))
    for case in context["page"]:
        flag = getattr(case, "counseling_risk", None)  # None when the case has never been flagged
        case.crisis = bool(flag and flag.awaiting_acknowledgement)
        case.mine = case.assignee_id == user.pk  # the case page; else the hall's page (to take it up)
    context["awaiting"] = list(selectors.risks_awaiting_acknowledgement(user=user).select_related("case__assignee"))
    context["supervised"] = list(selectors.supervised_cases(user=user))
    return render(request, "counseling/queue.html", context)


@require_POST
@login_required
def risk_acknowledge(request, case_id: int):
    """Any counselor of the department takes a crisis alert (it reads nothing of the case)."""
    case = selectors.case_get_for_acknowledgement(case_id=case_id, user=request.user)
    try:
        flag = services.risk_acknowledge(case=case, actor=request.user)
    except HallError as error:
        messages.error(request, str(error.message))
    else:
        if flag.acknowledged_by_id == request.user.pk:
            messages.success(request, _("You have acknowledged the crisis of %(ref)s.") % {"ref": case.reference})
        else:
            messages.info(request, _("The crisis of %(ref)s had already been acknowledged.") % {"ref": case.reference})
    return _back(request, reverse("counseling:queue"))


# --- one case ----------------------------------------------------------------------------------------


@login_required
def case_page(request, case_id: int):
    """For the case's counselor: everything; for a supervisor named by them: the notes only."""
    user = request.user
    case = selectors.case_get_for_counselor(case_id=case_id, user=user)
    counselor_view = permissions.is_case_counselor(user, case)
    if counselor_view:  # a supervisor reads the notes only: that read is its own audit event
        hall_services.case_record_view(case=case, actor=user)
    context = {"case": case, "counselor_view": counselor_view,
               "notes": selectors.notes_for(case=case, user=user)}  # audited: once per request
    if counselor_view:
        grants = list(selectors.supervision_grants_for(case=case, user=user))
        level = selectors.risk_level(case=case, user=user) or RiskLevel.NONE
        context.update({
            "appointments": selectors.appointments_for_user(user=user).filter(case_id=case.pk)
                                     .order_by("-starts_at", "-pk"),
            "risk": RiskLevel(level),
            "crisis": selectors.risks_awaiting_acknowledgement(user=user).filter(case_id=case.pk).exists(),
            "risk_form": RiskForm(initial={"level": level}) if permissions.can_flag_risk(user, case) else None,
            "grants": grants,
            "grant_form": (SupervisorForm(user=user, exclude=[g.supervisor_id for g in grants])
                           if permissions.can_grant_supervision(user, case) else None),
        })
    return render(request, "counseling/case.html", context)


@require_POST
@login_required
def risk_flag(request, case_id: int):
    case = selectors.case_get_for_counselor(case_id=case_id, user=request.user)
    form = RiskForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
    else:
        try:
            flag = services.risk_flag(case=case, actor=request.user, level=form.cleaned_data["level"])
        except HallError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The risk level of %(ref)s is now “%(level)s”.")
                             % {"ref": case.reference, "level": flag.get_level_display()})
    return redirect("counseling:case", case_id=case.pk)


@require_POST
@login_required
def supervision_grant(request, case_id: int):
    case = selectors.case_get_for_counselor(case_id=case_id, user=request.user)
    form = SupervisorForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _first_error(form))
    else:
        supervisor = form.cleaned_data["supervisor"]
        try:
            services.supervision_grant(case=case, supervisor=supervisor, actor=request.user)
        except HallError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("%(name)s may now read the notes of %(ref)s.")
                             % {"name": counselor_name(supervisor), "ref": case.reference})
    return redirect("counseling:case", case_id=case.pk)


@require_POST
@login_required
def supervision_revoke(request, case_id: int, supervisor_id: int):
    case = selectors.case_get_for_counselor(case_id=case_id, user=request.user)
    grant = selectors.supervision_grants_for(case=case, user=request.user).filter(supervisor_id=supervisor_id).first()
    if grant is None:
        messages.info(request, _("This counselor does not supervise the case (any more)."))
        return redirect("counseling:case", case_id=case.pk)
    try:
        services.supervision_revoke(case=case, supervisor=grant.supervisor, actor=request.user)
    except HallError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("%(name)s may no longer read the notes of %(ref)s.")
                         % {"name": counselor_name(grant.supervisor), "ref": case.reference})
    return redirect("counseling:case", case_id=case.pk)


# --- a session note, from the appointment page ------------------------------------------------------


@require_POST
@login_required
def note_add(request, appointment_id: int):
    """Saved: back to the appointment page. Refused: the appointment page again, with the message
    and the text as typed (appointment.html puts the posted text back in the form)."""
    appointment = selectors.appointment_get_for_user(appointment_id=appointment_id, user=request.user)
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
    else:
        try:
            services.note_add(appointment=appointment, actor=request.user, body=form.cleaned_data["body"])
        except HallError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The note is saved. You can read it on the case page."))
            return redirect("counseling:appointment", appointment_id=appointment.pk)
    return views.appointment_page(request, appointment_id=appointment.pk)
