"""Pages of the matchmaking station, under /matchmaking/. Thin: reads through
matchmaking.selectors, writes through matchmaking.services; every POST redirects.

* the member: consent first (opt in), my profile (sent for review), preferences and the
  people I hide from, suggestions (ask for an introduction, block, report), my introductions
  (answer yes or no; the other side's contact never appears here: it comes by SMS when both
  said yes), withdrawal;
* the matchmaker: the members' profiles (never ID numbers nor contacts) to review, suspend or
  introduce, and the reports.
Another member's profile that one may not see is a 404, as for one that does not exist."""

import base64

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from care import selectors as hall_selectors
from care.errors import HallError
from care.roles import Role
from care.views import allowed_if, paginated, role_required
from matchmaking import permissions, selectors, services
from matchmaking.forms import EventForm, HideForm, OptInForm, PreferencesForm, ProfileForm, ReportForm
from matchmaking.models import Introduction, IntroState, ProfileState
from matchmaking.services import PREFERENCE_FIELDS, PUBLIC_FIELDS


def _own(request):
    """The member's profile, or to the consent page."""
    profile = selectors.profile_for_member(user=request.user)
    if profile is None or profile.state == ProfileState.WITHDRAWN:
        return None
    return profile


def _refused(request, error: HallError, to: str):
    messages.error(request, str(error.message))
    return redirect(to)


# --- the member --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.WORKER)
def home(request):
    """Consent first: without a profile, what the station does and the opt-in; with one, its
    state and the way to everything else."""
    profile = selectors.profile_for_member(user=request.user)
    form = OptInForm(request.POST or None) if profile is None else None
    if request.method == "POST" and form is not None and form.is_valid():
        worker = hall_selectors.worker_for_user(user=request.user)
        try:
            services.profile_opt_in(actor=request.user, worker=worker, gender=form.cleaned_data["gender"],
                                    seeking=form.cleaned_data["seeking"])
        except HallError as error:
            form.add_refusal(error)
        else:
            messages.success(request, _("Welcome. Fill in your profile; a matchmaker reviews it before anyone "
                                        "sees it."))
            return redirect("matchmaking:profile")
    introductions = []
    if profile is not None and profile.state != ProfileState.WITHDRAWN:
        introductions = _seen(profile, selectors.introductions_for_member(profile=profile)[:5])
    return render(request, "matchmaking/home.html", {"profile": profile, "form": form,
                                                     "introductions": introductions})


@require_http_methods(["GET", "POST"])
@role_required(Role.WORKER)
def profile_edit(request):
    profile = _own(request)
    if profile is None:
        return redirect("matchmaking:home")
    initial = {field: getattr(profile, field) for field in (*PUBLIC_FIELDS, "contact")}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            profile = services.profile_update(actor=request.user, profile=profile, **data)
            if request.POST.get("action") == "submit" and profile.state in (ProfileState.DRAFT, ProfileState.RETURNED):
                profile = services.profile_submit(actor=request.user, profile=profile)
        except HallError as error:
            form.add_refusal(error)
        else:
            messages.success(request, _("Sent for review: a matchmaker looks at it soon.")
                             if profile.state == ProfileState.SUBMITTED else _("Saved."))
            return redirect("matchmaking:home")
    return render(request, "matchmaking/profile.html", {"profile": profile, "form": form,
                                                        "photos": profile.photos.all()})


@require_http_methods(["GET", "POST"])
@role_required(Role.WORKER)
def preferences(request):
    profile = _own(request)
    if profile is None:
        return redirect("matchmaking:home")
    initial = {field: getattr(profile, field) for field in PREFERENCE_FIELDS}
    initial["pref_districts"] = "，".join(profile.pref_districts)
    form = PreferencesForm(request.POST if request.POST.get("action") != "hide" else None, initial=initial)
    hide = HideForm(request.POST if request.POST.get("action") == "hide" else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "hide" and hide.is_valid():
                services.hide_from(actor=request.user, profile=profile, mobile=hide.cleaned_data["mobile"])
                messages.success(request, _("Done: you and that person will never be suggested to each other."))
                return redirect("matchmaking:preferences")
            if request.POST.get("action") != "hide" and form.is_valid():
                services.profile_update(actor=request.user, profile=profile, **form.cleaned_data)
                messages.success(request, _("Saved."))
                return redirect("matchmaking:preferences")
        except HallError as error:
            (hide if request.POST.get("action") == "hide" else form).add_refusal(error)
    return render(request, "matchmaking/preferences.html", {
        "profile": profile, "form": form, "hide": hide, "hidden": profile.hidden_from.order_by("created_at")})


@require_POST
@role_required(Role.WORKER)
def photo_add(request):
    profile = _own(request)
    if profile is None:
        return redirect("matchmaking:home")
    try:
        services.photo_add(actor=request.user, profile=profile, uploaded_file=request.FILES.get("photo"))
    except HallError as error:
        return _refused(request, error, "matchmaking:profile")
    messages.success(request, _("The photo is added; a matchmaker reviews it before others see it."))
    return redirect("matchmaking:profile")


@require_POST
@role_required(Role.WORKER)
def photo_remove(request, photo_id: int):
    photo = selectors.photo_get_for_user(photo_id=photo_id, user=request.user)
    try:
        services.photo_remove(actor=request.user, photo=photo)
    except HallError as error:
        return _refused(request, error, "matchmaking:profile")
    messages.success(request, _("The photo is removed."))
    return redirect("matchmaking:profile")


@require_GET
@login_required
def photo(request, photo_id: int):
    """A photo, for whom it is meant (its member, the matchmakers, a match the member said yes
    to): never cached, never as a page."""
    found = selectors.photo_get_for_user(photo_id=photo_id, user=request.user)
    response = HttpResponse(base64.b64decode(found.data), content_type=found.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@role_required(Role.WORKER)
def suggestions(request):
    profile = _own(request)
    if profile is None:
        return redirect("matchmaking:home")
    return render(request, "matchmaking/suggestions.html", {
        "profile": profile, "suggestions": selectors.suggestions(profile=profile),
        "left": max(services.weekly_request_limit() - selectors.requests_this_week(profile=profile), 0)})


def _seen(profile, introductions) -> list[Introduction]:
    rows = list(introductions)
    for intro in rows:
        intro.other_profile = intro.other(profile)
        intro.seen = selectors.as_seen_by(intro, profile)
        intro.mine = intro.answer_of(profile)
        intro.photos = (list(intro.other_profile.photos.values_list("pk", flat=True))
                        if selectors.photos_visible(owner=intro.other_profile, viewer=profile) else [])
    return rows


@require_GET
@role_required(Role.WORKER)
def introductions(request):
    profile = _own(request)
    if profile is None:
        return redirect("matchmaking:home")
    context = paginated(request, selectors.introductions_for_member(profile=profile))
    context["rows"] = _seen(profile, context["page"])
    return render(request, "matchmaking/introductions.html", {"profile": profile, **context})


@require_POST
@role_required(Role.WORKER)
def ask(request, profile_id: int):
    own, other = selectors.other_get_for_member(profile_id=profile_id, user=request.user)
    try:
        services.introduction_request(actor=request.user, profile=own, other=other)
    except HallError as error:
        return _refused(request, error, "matchmaking:suggestions")
    messages.success(request, _("Asked: %(name)s is told there is news. You hear by SMS if they say yes too.")
                     % {"name": other.display_name})
    return redirect("matchmaking:introductions")


@require_POST
@role_required(Role.WORKER)
def answer(request, introduction_id: int):
    intro = selectors.introduction_get_for_member(introduction_id=introduction_id, user=request.user)
    try:
        intro = services.introduction_answer(actor=request.user, introduction=intro,
                                             accept=request.POST.get("accept") == "yes")
    except HallError as error:
        return _refused(request, error, "matchmaking:introductions")
    messages.success(request, _("You both said yes: the contact comes by SMS.") if intro.state == "contact_shared"
                     else _("Your answer is recorded."))
    return redirect("matchmaking:introductions")


@require_POST
@role_required(Role.WORKER)
def block(request, profile_id: int):
    own, other = selectors.other_get_for_member(profile_id=profile_id, user=request.user)
    try:
        services.block(actor=request.user, profile=own, other=other)
    except HallError as error:
        return _refused(request, error, "matchmaking:suggestions")
    messages.success(request, _("Blocked. Neither of you will be suggested to the other again; they are not "
                                "told."))
    return redirect("matchmaking:suggestions")


@require_http_methods(["GET", "POST"])
@role_required(Role.WORKER)
def report(request, profile_id: int):
    own, other = selectors.other_get_for_member(profile_id=profile_id, user=request.user)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_file(actor=request.user, profile=own, reported=other, reason=form.cleaned_data["reason"])
        except HallError as error:
            form.add_refusal(error)
        else:
            messages.success(request, _("Thank you: a matchmaker looks at your report."))
            return redirect("matchmaking:suggestions")
    return render(request, "matchmaking/report.html", {"other": other, "form": form})


@require_POST
@role_required(Role.WORKER)
def withdraw(request):
    profile = _own(request)
    if profile is None or request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm."))
        return redirect("matchmaking:home")
    services.profile_withdraw(actor=request.user, profile=profile)
    messages.success(request, _("Your profile is hidden now and its content will be erased."))
    return redirect("matchmaking:home")


# --- the matchmaker ------------------------------------------------------------------------------


@require_GET
@allowed_if(permissions.is_matchmaker)
def members(request):
    state = request.GET.get("state", ProfileState.SUBMITTED)
    state = state if state in ProfileState.values else ""
    context = paginated(request, selectors.profiles_for_matchmaker(user=request.user, state=state))
    return render(request, "matchmaking/members.html", {**context, "state": state, "states": ProfileState.choices})


@require_http_methods(["GET", "POST"])
@allowed_if(permissions.is_matchmaker)
def member(request, profile_id: int):
    """A profile for the matchmaker: review it, and introduce it to someone from its pool.
    Reading it is an audit event."""
    profile = selectors.profile_get_for_matchmaker(profile_id=profile_id, user=request.user)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "propose":
                other = selectors.profile_get_for_matchmaker(profile_id=int(request.POST.get("other") or 0),
                                                             user=request.user)
                services.introduction_propose(actor=request.user, first=profile, second=other,
                                              note=request.POST.get("note", ""))
                messages.success(request, _("Introduction proposed; both are told there is news."))
            else:
                services.profile_review(actor=request.user, profile=profile, step=request.POST.get("step", ""),
                                        reason=request.POST.get("reason", ""))
                messages.success(request, _("Saved."))
        except HallError as error:
            messages.error(request, str(error.message))
        return redirect("matchmaking:member", profile_id=profile.pk)
    services.profile_record_view(actor=request.user, profile=profile)
    candidates = selectors.suggestions(profile=profile, limit=10) if profile.is_shown else []
    return render(request, "matchmaking/member.html", {"profile": profile, "candidates": candidates})


@require_http_methods(["GET", "POST"])
@allowed_if(permissions.is_matchmaker)
def reports(request):
    if request.method == "POST":
        report_ = selectors.reports_for_matchmaker(user=request.user).filter(
            pk=int(request.POST.get("report") or 0)).first()
        if report_ is None:
            raise Http404
        try:
            services.report_handle(actor=request.user, report=report_, step=request.POST.get("step", ""),
                                   outcome=request.POST.get("outcome", ""),
                                   suspend=request.POST.get("suspend") == "yes")
        except HallError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("Saved."))
        return redirect("matchmaking:reports")
    return render(request, "matchmaking/reports.html", {"reports": selectors.reports_for_matchmaker(user=request.user)})


# --- social events -------------------------------------------------------------------------------


@require_GET
@role_required(Role.WORKER)
def events(request):
    """Upcoming events (seats left), my places, and past events I came to (to mark whom to meet)."""
    profile = _own(request)
    if profile is None:
        return redirect("matchmaking:home")
    places = list(selectors.signups_for_member(profile=profile))
    for place in places:
        place.position = services.event_waitlist_position(place)
    return render(request, "matchmaking/events.html", {
        "profile": profile, "events": selectors.upcoming_events(), "places": places,
        "mine": {p.event_id for p in places if p.state != "cancelled"}})


@require_POST
@role_required(Role.WORKER)
def event_sign_up(request, event_id: int):
    profile = _own(request)
    if profile is None:
        return redirect("matchmaking:home")
    try:
        signup = services.event_signup(actor=request.user, profile=profile,
                                       event=selectors.event_get(event_id=event_id))
    except HallError as error:
        return _refused(request, error, "matchmaking:events")
    messages.success(request, _("Your seat is booked; the SMS has the details.") if signup.state == "booked"
                     else _("The event is full: you are number %(position)s on the waitlist.")
                     % {"position": services.event_waitlist_position(signup)})
    return redirect("matchmaking:events")


@require_POST
@role_required(Role.WORKER)
def event_give_back(request, signup_id: int):
    signup = selectors.signup_get_for_member(signup_id=signup_id, user=request.user)
    try:
        services.event_signup_cancel(actor=request.user, signup=signup)
    except HallError as error:
        return _refused(request, error, "matchmaking:events")
    messages.success(request, _("Your place is given back."))
    return redirect("matchmaking:events")


@require_http_methods(["GET", "POST"])
@role_required(Role.WORKER)
def event_marks(request, event_id: int):
    """After an event, whom I would like to meet again (those who came). Two marks that meet
    make an introduction both accepted; nobody learns of a mark that is not returned."""
    profile = _own(request)
    if profile is None:
        return redirect("matchmaking:home")
    event = selectors.event_get(event_id=event_id)
    people = selectors.event_attendees_for_member(event=event, profile=profile)
    if not people and request.method == "GET":
        raise Http404
    if request.method == "POST":
        chosen = {str(p.pk): p for p in people}
        made = 0
        try:
            for pk in request.POST.getlist("marked"):
                if pk in chosen and services.event_mark(actor=request.user, profile=profile, event=event,
                                                        other=chosen[pk]) is not None:
                    made += 1
        except HallError as error:
            return _refused(request, error, "matchmaking:events")
        messages.success(request, _("Saved. You both said yes with %(count)d: the contacts come by SMS.")
                         % {"count": made} if made else _("Saved. If they mark you too, you will hear by SMS."))
        return redirect("matchmaking:events")
    return render(request, "matchmaking/event_marks.html", {"event": event, "people": people})


@require_http_methods(["GET", "POST"])
@allowed_if(permissions.is_matchmaker)
def events_manage(request):
    form = EventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            event = services.event_create(actor=request.user, **form.cleaned_data)
        except HallError as error:
            form.add_refusal(error)
        else:
            messages.success(request, _("“%(title)s” is open for sign-up.") % {"title": event.title})
            return redirect("matchmaking:event_roster", event_id=event.pk)
    return render(request, "matchmaking/events_manage.html", {"events": selectors.upcoming_events(), "form": form})


@require_http_methods(["GET", "POST"])
@allowed_if(permissions.is_matchmaker)
def event_roster(request, event_id: int):
    event = selectors.event_get(event_id=event_id)
    roster = selectors.event_roster(event=event, user=request.user)
    if request.method == "POST":
        signup = roster.filter(pk=int(request.POST.get("signup") or 0)).first()
        if signup is None:
            raise Http404
        try:
            services.event_check_in(actor=request.user, signup=signup)
        except HallError as error:
            messages.error(request, str(error.message))
        return redirect("matchmaking:event_roster", event_id=event.pk)
    return render(request, "matchmaking/event_roster.html", {"event": event, "roster": roster})


@require_GET
@allowed_if(permissions.is_matchmaker)
def introductions_all(request):
    """Every introduction, latest first, with its state (not who said no), for the matchmakers."""
    state = request.GET.get("state", "")
    rows = selectors.introductions_for_matchmaker(user=request.user)
    if state in IntroState.values:
        rows = rows.filter(state=state)
    return render(request, "matchmaking/introductions_all.html", {
        **paginated(request, rows), "state": state, "states": IntroState.choices})
