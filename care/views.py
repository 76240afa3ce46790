"""Pages of the hall. Thin: read through selectors, write through services."""

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import i18n as i18n_views
from django.views.decorators.http import require_POST

from care import figures, permissions, registry, selectors, services, surveys
from care.errors import HallError
from care.forms import QueueFilterForm, RequestForm, WorkerForm, WorkerLookupForm
from care.models import Worker
from care.roles import Role
from care.uploads import file_response

PAGE_SIZE = 25


def allowed_if(check):
    """Signed-in users passing ``check`` may open the page: 403 for others, sign-in for anonymous."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def role_required(*roles):
    return allowed_if(lambda user: user.has_role(*roles))


def permission_needed(perm: str):
    return allowed_if(lambda user: user.has_perm(perm))


def paginated(request, rows) -> dict:
    """The page asked for, and the query string that keeps the filters on the page links."""
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": f"{query.urlencode()}&" if query else "",
    }


def form_error(form, error: HallError) -> None:
    """Show a service's refusal on the form, keeping everything the user typed."""
    form.add_error(None, str(error.message))


class StaffLoginView(LoginView):
    template_name = "care/login.html"
    redirect_authenticated_user = True


@require_POST
def set_language(request):
    """Switch the page language; a signed-in user's choice is also the language of their SMS."""
    response = i18n_views.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        services.user_set_language(user=request.user, language=language)
    return response


@require_POST
def logout_view(request):
    logout(request)
    return redirect("care:login")


@login_required
def home(request):
    user = request.user
    if user.has_role(Role.WORKER):
        return redirect("care:my_requests")
    if user.has_role(Role.FRONT_DESK):
        return redirect("care:front_desk")
    if permissions.is_staff_of_any_department(user):
        return redirect("care:queue")
    if user.has_perm("care.view_figures"):
        return redirect("care:figures")
    if links := registry.nav_for(user.roles):  # e.g. an arbitrator's hearings
        return redirect(links[0].url_name)
    return render(request, "care/home.html")


# --- workers -------------------------------------------------------------------------------------


@role_required(Role.WORKER)
def my_requests(request):
    cases = selectors.cases_for_user(user=request.user).filter(worker__user=request.user)
    return render(request, "care/my_requests.html", paginated(request, cases))


@role_required(Role.WORKER)
def request_new(request):
    worker = selectors.worker_for_user(user=request.user)
    if worker is None:
        raise PermissionDenied
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.request_file(actor=request.user, worker=worker, **form.cleaned_data)
        except HallError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Your request %(ref)s has been received.") % {"ref": case.reference})
            return redirect("care:my_requests")
    return render(request, "care/request_form.html", {"form": form, "worker": worker})


# --- the front desk ------------------------------------------------------------------------------


@role_required(Role.FRONT_DESK)
def front_desk(request):
    lookup = WorkerLookupForm(request.GET or None)
    found, searched = None, False
    if lookup.is_valid():
        searched = True
        found = selectors.worker_find(query=lookup.cleaned_data["q"])
    return render(
        request,
        "care/front_desk.html",
        {"lookup": lookup, "found": found, "searched": searched,
         "actions": [{"label": a.label, "url": reverse(a.url_name, args=[found.pk])}
                     for a in registry.walk_in_actions()] if found else [],
         **paginated(request, selectors.case_summaries_for_user(user=request.user))},
    )


@role_required(Role.FRONT_DESK)
def walk_in_register(request):
    form = WorkerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            worker = services.worker_register(actor=request.user, **form.cleaned_data)
        except HallError as error:
            form_error(form, error)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": worker.name})
            return redirect("care:walk_in_request", worker_id=worker.pk)
    return render(request, "care/worker_form.html", {"form": form})


@role_required(Role.FRONT_DESK)
def walk_in_request(request, worker_id: int):
    worker = get_object_or_404(Worker, pk=worker_id)
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.request_file(actor=request.user, worker=worker, **form.cleaned_data)
        except HallError as error:
            form_error(form, error)
        else:
            messages.success(
                request,
                _("Request %(ref)s filed for %(name)s and sent to %(dept)s.")
                % {"ref": case.reference, "name": worker.name, "dept": case.department_label},
            )
            return redirect(f"{reverse('care:front_desk')}?{urlencode({'q': worker.mobile})}")
    return render(request, "care/request_form.html", {"form": form, "worker": worker})


# --- staff queue and cases -----------------------------------------------------------------------


@allowed_if(lambda user: permissions.is_staff_of_any_department(user) or user.has_role(Role.ARBITRATOR))
def queue(request):
    user = request.user
    filters = QueueFilterForm(request.GET or None)
    cases = selectors.cases_for_user(user=user)
    if filters.is_valid():
        cases = selectors.filter_cases(
            cases,
            stage=filters.cleaned_data["stage"],
            query=filters.cleaned_data["q"],
            mine_only=filters.cleaned_data["mine"],
            user=user,
        )
    return render(request, "care/queue.html", {"filters": filters, **paginated(request, cases)})


@login_required
def case_detail(request, case_id: int):
    case = selectors.case_get_for_user(case_id=case_id, user=request.user)
    services.case_record_view(case=case, actor=request.user)
    has_file = registry.has_department_file(case)  # the service's file owns how the case ends
    return render(
        request,
        "care/case_detail.html",
        {
            "case": case,
            "can_take_up": permissions.can_take_up(request.user, case) and case.assignee_id is None,
            "can_close": permissions.can_close(request.user, case) and case.stage == "in_progress" and not has_file,
            "can_withdraw": permissions.can_withdraw(request.user, case) and case.is_open and not has_file,
            "file_url": reverse(case.department_file_url_name, args=[case.pk]) if case.department_file_url_name else "",
        },
    )


def _case_action(service, done_message):
    @require_POST
    @login_required
    def view(request, case_id: int):
        case = selectors.case_get_for_user(case_id=case_id, user=request.user)
        try:
            service(case=case, actor=request.user)
        except HallError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, done_message() % {"ref": case.reference})
        return redirect("care:case_detail", case_id=case.pk)

    return view


case_take_up = _case_action(services.case_take_up, lambda: _("You have taken up %(ref)s."))
case_close = _case_action(services.case_close, lambda: _("%(ref)s is closed."))
case_withdraw = _case_action(services.case_withdraw, lambda: _("Your request %(ref)s is withdrawn."))


# --- figures -------------------------------------------------------------------------------------


def _period(request) -> tuple[figures.Period, str]:
    """The period asked for (``since``, ``until``), or the default one with the reason why."""
    since, until = request.GET.get("since", ""), request.GET.get("until", "")
    if not (since or until):
        return figures.Period.default(), ""
    try:
        return figures.Period.parse(since, until), ""
    except HallError as refusal:
        return figures.Period.default(), str(refusal.message)


@permission_needed("care.view_figures")
def figures_page(request):
    """The manager's figures for a period: tables, charts (static/care/figures.js draws them
    from the same data), links to the workbook, the monthly reports and the follow-up list."""
    period, error = _period(request)
    data = figures.hall_figures(period)
    series = data["trend"]["series"]
    return render(request, "care/figures.html", {
        "figures": data, "error": error, "since": request.GET.get("since", data["since"]),
        "until": request.GET.get("until", data["until"]), "columns": figures.SERVICE_COLUMNS,
        "service_rows": [{"label": row["label"], "cells": [(row[key], key in figures.COUNT_KEYS)
                                                           for key, _label in figures.SERVICE_COLUMNS]}
                         for row in data["services"]],
        "trend_rows": [(label, [s["data"][i] for s in series]) for i, label in enumerate(data["trend"]["labels"])],
        "sms_cells": [(label, data["sms"][key]) for key, label, _statuses in figures.SMS_COLUMNS],
        "charts": {"trend": data["trend"], "satisfaction": [
            {"label": row["label"], "average": row["average"]} for row in data["satisfaction"][:-1]]},
        "reports": figures.reports()[:24], "follow_ups": surveys.low_ratings_for_user(user=request.user).count(),
        "can_follow_up": surveys.can_follow_up(request.user),
        "query": urlencode({"since": data["since"], "until": data["until"]})})


@permission_needed("care.view_figures")
def figures_export(request):
    period, error = _period(request)
    if error:
        messages.error(request, error)
        return redirect("care:figures")
    data = figures.workbook(figures.hall_figures(period))
    figures.exported(actor=request.user, period=period)
    return file_response(data, filename=f"figures-{period.first:%Y%m%d}-{period.last:%Y%m%d}.xlsx",
                         content_type=figures.XLSX)


@permission_needed("care.view_figures")
def figures_report(request, month: str):
    report = figures.report_get(month=month)
    return file_response(bytes(report.workbook), filename=f"figures-{month}.xlsx", content_type=figures.XLSX)


@allowed_if(surveys.can_follow_up)
def follow_ups(request):
    """Low ratings to follow up (or, with ?done=1, those followed up): the comment, and the
    worker's name and mobile when they allowed a call back. Each page read is audited."""
    done = request.GET.get("done") == "1"
    page = Paginator(surveys.low_ratings_for_user(user=request.user, pending=not done), PAGE_SIZE).get_page(
        request.GET.get("page"))
    surveys.follow_ups_read(user=request.user, surveys=list(page))
    return render(request, "care/follow_ups.html", {"page": page, "done": done, "note_max": surveys.NOTE_MAX})


@require_POST
@allowed_if(surveys.can_follow_up)
def follow_up(request, survey_id: int):
    try:
        surveys.survey_follow_up(survey_id=survey_id, actor=request.user, note=request.POST.get("note", ""))
    except HallError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("Recorded as followed up."))
    return redirect("care:follow_ups")


# --- satisfaction surveys ------------------------------------------------------------------------


def survey(request, token: str):
    """The worker's survey by personal link (no sign-in): a rating of 1–5 and a comment, once."""
    found = surveys.survey_for_token(token)
    error = ""
    if request.method == "POST":
        try:  # an answered survey is refused with its own message, not thanked as if recorded again
            surveys.survey_answer(token=token, rating=request.POST.get("rating"),
                                  comment=request.POST.get("comment", ""),
                                  call_back=bool(request.POST.get("call_back")))
        except HallError as refusal:
            error = str(refusal.message)
            found.refresh_from_db(fields=["rating", "answered_at"])  # answered meanwhile (another tab)?
        else:
            return redirect("care:survey", token=token)
    return render(request, "care/survey.html", {
        "survey": found, "answered": found.answered_at is not None, "error": error, "ratings": surveys.RATINGS,
        "chosen": request.POST.get("rating", ""), "comment": request.POST.get("comment", ""),
        "comment_max": surveys.COMMENT_MAX, "call_back": bool(request.POST.get("call_back"))})
