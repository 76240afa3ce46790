"""Pages of group sessions and workshops (团体辅导, 减压辅导), under /counseling/groups/: the
worker signs up (a seat, or a place on the waitlist) and gives a place back; the front desk
signs up a walk-in; the facilitator (a counselor) schedules sessions, reads the roster, marks
who came and cancels a place or the whole session. Thin: reads through counseling.selectors,
writes through counseling.services (which decide in any case: the pages only hide what cannot
be done), and every POST redirects (POST/redirect/GET).

The list of sessions is public within the hall (a title, a time, a room, seats): no names. Only
the facilitator reads a roster; anyone else gets 404, as for a session that does not exist."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from care import selectors as hall_selectors
from care.errors import HallError
from care.models import Worker
from care.roles import Role
from care.views import allowed_if, paginated, role_required
from counseling import permissions, selectors, services
from counseling.forms import GroupSessionForm
from counseling.models import ACTIVE_SIGNUP_STATES, GroupSession, GroupSignup, ServiceKind, SignupState
from counseling.slots import SHANGHAI

MARKABLE_STATES = (SignupState.BOOKED, SignupState.ATTENDED, SignupState.ABSENT)


def _when(value: datetime.datetime) -> str:
    return timezone.localtime(value, SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _own_worker(request) -> Worker:
    worker = hall_selectors.worker_for_user(user=request.user)
    if worker is None:
        raise PermissionDenied
    return worker


def _consent(request, *, worker: Worker, for_walk_in: bool):
    """The worker's consent to the processing of health information, given on the page (a
    group session needs it, a workshop does not), as on the booking page."""
    if request.POST.get("action") == "consent":
        try:
            services.consent_give(worker=worker, actor=request.user)
        except HallError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The consent is recorded.") if for_walk_in
                             else _("Thank you: your consent is recorded. You can now sign up."))
    return redirect(request.get_full_path())


def _session_rows(request, *, worker: Worker, sign_up_url, places: dict) -> dict:
    """The upcoming sessions, a page of them, each with its seats left, whether it needs the
    worker's consent first, the worker's place in it (if any) and where to sign up."""
    context = paginated(request, selectors.upcoming_group_sessions())
    consented = selectors.current_consent(worker=worker) is not None
    for session in context["page"]:
        session.seats_left = max(session.capacity - session.booked, 0)
        session.needs_consent = session.service.kind == ServiceKind.GROUP and not consented
        session.place = places.get(session.pk)
        session.sign_up_url = sign_up_url(session)
    context["consent_needed"] = not consented and any(s.needs_consent for s in context["page"])
    return context


def _signed_up(signup: GroupSignup, *, name: str = "") -> str:
    """What the page says after a sign-up (a new place, or the one the worker already had)."""
    values = {"ref": signup.case.reference, "when": _when(signup.session.starts_at), "name": name,
              "position": selectors.waitlist_position(signup=signup), "state": signup.get_state_display()}
    if signup.state == SignupState.BOOKED:
        return (_("%(name)s has a seat on %(when)s (%(ref)s).") if name
                else _("Your seat on %(when)s is booked (%(ref)s).")) % values
    if signup.state == SignupState.WAITLISTED:
        return (_("The session is full: %(name)s is number %(position)s on the waitlist (%(ref)s).") if name
                else _("The session is full: you are number %(position)s on the waitlist (%(ref)s). We will "
                       "tell you by SMS if a seat frees up.")) % values
    return _("There is already a place (%(ref)s): %(state)s.") % values


def _refused(request, error: HallError, *, to: str):
    messages.error(request, str(error.message))
    if error.detail.get("consent") == "missing":
        return redirect(f"{to}#consent")  # the consent is offered right there
    return redirect(to)


# --- the worker ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.WORKER)
def groups(request):
    """The upcoming sessions with a sign-up button, and the worker's own places. POST: the
    worker's consent."""
    worker = _own_worker(request)
    if request.method == "POST":
        return _consent(request, worker=worker, for_walk_in=False)
    now = timezone.now()
    places = list(selectors.signups_for_worker(user=request.user).filter(session__ends_at__gt=now)
                  .select_related("session__service"))
    for place in places:
        place.position = selectors.waitlist_position(signup=place)
        place.can_give_back = (place.state in ACTIVE_SIGNUP_STATES and place.session.starts_at > now
                               and not place.session.is_cancelled)
    active = {place.session_id: place for place in places if place.state != SignupState.CANCELLED}
    context = _session_rows(request, worker=worker, places=active,
                            sign_up_url=lambda session: reverse("counseling:group_sign_up", args=[session.pk]))
    return render(request, "counseling/groups.html", {**context, "worker": worker, "for_walk_in": False,
                                                      "places": places})


@require_POST
@role_required(Role.WORKER)
def group_sign_up(request, session_id: int):
    worker = _own_worker(request)
    session = selectors.group_session_get(session_id=session_id)
    try:
        signup = services.group_signup(actor=request.user, session=session, worker=worker)
    except HallError as error:
        return _refused(request, error, to=reverse("counseling:groups"))
    messages.success(request, _signed_up(signup))
    return redirect("counseling:groups")


@require_POST
@login_required
def group_place_cancel(request, signup_id: int):
    """The worker gives their place back; the facilitator cancels a place of their session."""
    signup = selectors.signup_get_for_user(signup_id=signup_id, user=request.user)
    by_facilitator = permissions.is_facilitator(request.user, signup.session)
    try:
        services.group_signup_cancel(actor=request.user, signup=signup)
    except HallError as error:
        messages.error(request, str(error.message))
    else:
        if by_facilitator:
            messages.success(request, _("The place %(ref)s of %(name)s is cancelled; they are told by SMS.")
                             % {"ref": signup.case.reference, "name": signup.worker.name})
        else:
            messages.success(request, _("You have given back your place %(ref)s.") % {"ref": signup.case.reference})
    if by_facilitator:
        return redirect("counseling:group_roster", session_id=signup.session_id)
    return redirect("counseling:groups")


# --- the front desk, for a walk-in ---------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.FRONT_DESK)
def groups_for_worker(request, worker_id: int):
    """The upcoming sessions with a sign-up button for the walk-in worker. POST: their signed
    consent form, recorded."""
    worker = get_object_or_404(Worker, pk=worker_id)
    if request.method == "POST":
        return _consent(request, worker=worker, for_walk_in=True)
    context = _session_rows(request, worker=worker, places={}, sign_up_url=lambda session: reverse(
        "counseling:group_sign_up_for_worker", args=[worker.pk, session.pk]))
    return render(request, "counseling/groups.html", {**context, "worker": worker, "for_walk_in": True})


@require_POST
@role_required(Role.FRONT_DESK)
def group_sign_up_for_worker(request, worker_id: int, session_id: int):
    worker = get_object_or_404(Worker, pk=worker_id)
    session = selectors.group_session_get(session_id=session_id)
    to = reverse("counseling:groups_for_worker", args=[worker.pk])
    try:
        signup = services.group_signup(actor=request.user, session=session, worker=worker)
    except HallError as error:
        return _refused(request, error, to=to)
    messages.success(request, _signed_up(signup, name=worker.name))
    return redirect(to)


# --- the facilitator -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@allowed_if(permissions.can_lead_groups)
def groups_lead(request):
    """The sessions the counselor leads (latest first), and the form to schedule one."""
    form = GroupSessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.group_session_create(actor=request.user, **form.service_arguments())
        except HallError as error:
            form.add_refusal(error)  # everything typed stays on the form
        else:
            messages.success(request, _("“%(title)s” is scheduled for %(when)s.")
                             % {"title": session.title, "when": _when(session.starts_at)})
            return redirect("counseling:group_roster", session_id=session.pk)
    context = paginated(request, selectors.facilitated_sessions(user=request.user))
    now = timezone.now()
    for session in context["page"]:
        session.seats_left = max(session.capacity - session.booked, 0)
        session.is_past = session.starts_at <= now
    return render(request, "counseling/groups_lead.html", {**context, "form": form})


def _roster_rows(session: GroupSession, user, now: datetime.datetime) -> list[GroupSignup]:
    started = session.starts_at <= now
    places = list(selectors.roster_in_order(session=session, user=user))
    for place in places:
        place.waitlist_order = place.queue_number if place.state == SignupState.WAITLISTED else None
        place.can_mark = started and place.state in MARKABLE_STATES
        place.can_cancel = place.state in ACTIVE_SIGNUP_STATES
    return places


@login_required
def group_roster(request, session_id: int):
    """One session of the facilitator's: who has a seat, the waitlist in order, attendance once
    it has started, cancelling a place or the session. Anyone else: 404."""
    user, now = request.user, timezone.now()
    session = selectors.facilitated_session_get(session_id=session_id, user=user)
    return render(request, "counseling/groups_roster.html", {
        "session": session, "places": _roster_rows(session, user, now),
        "seats_left": max(session.capacity - session.booked, 0), "started": session.starts_at <= now,
        "can_cancel_session": not session.is_cancelled and session.starts_at > now})


def _facilitated_place(request, signup_id: int) -> GroupSignup:
    """A place of a session the user leads; Http404 for anyone else (its worker included)."""
    signup = selectors.signup_get_for_user(signup_id=signup_id, user=request.user)
    if not permissions.is_facilitator(request.user, signup.session):
        raise Http404
    return signup


@require_POST
@login_required
def group_attendance(request, signup_id: int):
    signup = _facilitated_place(request, signup_id)
    answer = request.POST.get("attended")
    if answer not in ("yes", "no"):
        messages.error(request, _("Choose whether the worker came or not."))
        return redirect("counseling:group_roster", session_id=signup.session_id)
    try:
        marked = services.group_attendance(actor=request.user, signup=signup, attended=answer == "yes")
    except HallError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("%(name)s: %(state)s.") % {"name": signup.worker.name,
                                                              "state": marked.get_state_display()})
    return redirect("counseling:group_roster", session_id=signup.session_id)


@require_POST
@login_required
def group_session_cancel(request, session_id: int):
    session = selectors.facilitated_session_get(session_id=session_id, user=request.user)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm that the whole session is cancelled."))
    else:
        try:
            services.group_session_cancel(actor=request.user, session=session)
        except HallError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The session is cancelled; every worker with a place is told by SMS."))
    return redirect("counseling:group_roster", session_id=session.pk)
