"""Pages of counseling appointments: booking (the worker online, the front desk for a walk-in),
the worker's appointments, one appointment with its steps, its calendar file, and the
counselor's day. Thin: reads through counseling.selectors, writes through counseling.services;
the services decide in any case, the pages only hide what cannot be done.

The pages never show a worker's consent to anyone, and the calendar file never names the
service (it may be read on a shared phone)."""

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_fsm import can_proceed

from care import selectors as hall_selectors
from care import services as hall_services
from care import uploads
from care.errors import HallError
from care.models import Worker
from care.roles import Role
from care.views import allowed_if, paginated, role_required
from counseling import permissions, selectors, services
from counseling.forms import CancelForm, ChooseForm, DayForm, SlotForm
from counseling.models import (
    CANCELLABLE_STATES,
    HOLDING_STATES,
    Appointment,
)
from counseling.slots import SHANGHAI

# How many days of free times the booking page offers.
BOOKING_DAYS = selectors.FREE_TIMES_DAYS

# The steps an appointment page may offer the counselor, in lifecycle order, with their labels.
STEP_LABELS = {
    "confirm": gettext_lazy("Confirm the appointment"),
    "check_in": gettext_lazy("Check the worker in"),
    "complete": gettext_lazy("Record the session as held"),
    "refer": gettext_lazy("Record a referral elsewhere"),
    "no_show": gettext_lazy("Record that the worker did not come"),
    "cancel": gettext_lazy("Cancel the appointment"),
}
DANGER_STEPS = {"no_show", "cancel"}

ICS_SUMMARY = gettext_lazy("Appointment at the Worker Service Center")


def where(appointment: Appointment) -> str:
    """Where the session takes place, for the worker's and the counselor's pages and the calendar
    file: the room's name, or the way of meeting (the same words as the SMS)."""
    return str(selectors.where(appointment))  # one wording for SMS, pages and calendars


# --- free times (read by counseling.selectors.free_times, which the API offers too) -------------


def _by_day(slots: dict) -> list[dict]:
    days: dict[datetime.date, list] = {}
    for start, (end, _room) in slots.items():
        local = timezone.localtime(start, SHANGHAI)
        days.setdefault(local.date(), []).append({"value": start.isoformat(), "starts": local,
                                                  "ends": timezone.localtime(end, SHANGHAI)})
    return [{"day": day, "slots": rows} for day, rows in days.items()]


def _when(value: datetime.datetime) -> str:
    return timezone.localtime(value, SHANGHAI).strftime("%Y-%m-%d %H:%M")


# --- booking -------------------------------------------------------------------------------------


def _book_page(request, *, worker: Worker, for_walk_in: bool):
    """Consent first (once), then the service, counselor and way of meeting, then a free time."""
    post = request.method == "POST"
    if post and request.POST.get("action") == "consent":
        try:
            services.consent_give(worker=worker, actor=request.user)
        except HallError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The consent is recorded.") if for_walk_in
                             else _("Thank you: your consent is recorded. Now choose a time."))
        return redirect(request.get_full_path())
    context = {"worker": worker, "for_walk_in": for_walk_in}
    if selectors.current_consent(worker=worker) is None:
        return render(request, "counseling/book.html", {**context, "consent_needed": True})
    choose = ChooseForm(request.POST if post else (request.GET or None))
    error = ""
    if post and choose.is_valid():
        slot = SlotForm(request.POST)
        data = choose.cleaned_data
        if not slot.is_valid():
            error = _("Choose one of the free times offered.")
        else:
            profile, mode, starts_at = data["counselor"], data["mode"], slot.cleaned_data["starts_at"]
            try:
                appointment = services.appointment_book(
                    actor=request.user, worker=worker, service=data["service"], counselor=profile.user,
                    starts_at=starts_at, mode=mode,
                    room=selectors.room_for_time(profile=profile, mode=mode, starts_at=starts_at))
            except HallError as refusal:
                error = str(refusal.message)
            else:
                when = _when(appointment.starts_at)
                if for_walk_in:
                    messages.success(request, _("Appointment %(ref)s is booked for %(name)s on %(when)s.")
                                     % {"ref": appointment.case.reference, "name": worker.name, "when": when})
                    return redirect(f"{reverse('care:front_desk')}?{urlencode({'q': worker.mobile})}")
                messages.success(request, _("Your appointment is booked for %(when)s.") % {"when": when})
                return redirect("counseling:appointment", appointment_id=appointment.pk)
    days = []
    if choose.is_valid():
        data = choose.cleaned_data
        days = _by_day(selectors.free_times(profile=data["counselor"], mode=data["mode"], days=BOOKING_DAYS))
    return render(request, "counseling/book.html", {**context, "choose": choose, "chosen": choose.is_valid(),
                                                    "days": days, "error": error})


@role_required(Role.WORKER)
def book(request):
    worker = hall_selectors.worker_for_user(user=request.user)
    if worker is None:
        raise PermissionDenied
    return _book_page(request, worker=worker, for_walk_in=False)


@role_required(Role.FRONT_DESK)
def book_for_worker(request, worker_id: int):
    worker = get_object_or_404(Worker, pk=worker_id)
    return _book_page(request, worker=worker, for_walk_in=True)


# --- the worker's appointments -------------------------------------------------------------------


def _worker_actions(user, appointment: Appointment, now: datetime.datetime) -> None:
    """What the worker may still do with an appointment (the services decide in any case)."""
    open_ = appointment.state in CANCELLABLE_STATES and appointment.starts_at > now
    appointment.can_cancel = open_ and permissions.can_act(user, appointment, "cancel")
    appointment.can_reschedule = open_ and permissions.can_reschedule(user, appointment)
    appointment.late = appointment.starts_at - now < selectors.cancel_cutoff()


@role_required(Role.WORKER)
def mine(request):
    user, now = request.user, timezone.now()
    rows = selectors.appointments_for_user(user=user).filter(case__worker__user=user)
    upcoming = list(rows.filter(state__in=HOLDING_STATES, ends_at__gt=now))
    for appointment in upcoming:
        _worker_actions(user, appointment, now)
    past = rows.exclude(pk__in=[a.pk for a in upcoming]).order_by("-starts_at", "-pk")
    return render(request, "counseling/mine.html", {
        "upcoming": upcoming, "cancel_form": CancelForm(), "cutoff_hours": _cutoff_hours(),
        **paginated(request, past)})


def _cutoff_hours() -> int:
    return selectors.cancel_cutoff() // datetime.timedelta(hours=1)


# --- one appointment -----------------------------------------------------------------------------


def _steps(user, appointment: Appointment, now: datetime.datetime) -> list[dict]:
    steps = []
    for name, label in STEP_LABELS.items():
        if not (permissions.is_its_counselor(user, appointment) and permissions.can_act(user, appointment, name)):
            continue
        if name == "cancel":
            if appointment.state not in CANCELLABLE_STATES:
                continue
        elif not can_proceed(getattr(appointment, name)):
            continue
        if name in services.AFTER_START and appointment.starts_at > now:
            continue
        steps.append({"name": name, "label": label, "reason": name == "cancel", "danger": name in DANGER_STEPS})
    return steps


@login_required
def appointment_page(request, appointment_id: int):
    user, now = request.user, timezone.now()
    appointment = selectors.appointment_get_for_user(appointment_id=appointment_id, user=user)
    visible = selectors.appointments_for_user(user=user)
    worker_view = permissions.is_the_worker(user, appointment.case.worker)
    counselor_view = permissions.is_its_counselor(user, appointment)
    _worker_actions(user, appointment, now)
    hall_services.case_record_view(case=appointment.case, actor=user)
    context = {
        "appointment": appointment,
        "case": appointment.case,
        "where": where(appointment),
        "worker_view": worker_view,
        "counselor_view": counselor_view,
        "replaces": visible.filter(pk=appointment.replaces_id).first() if appointment.replaces_id else None,
        "replaced_by": visible.filter(replaces=appointment).first(),
        "steps": _steps(user, appointment, now) if counselor_view else [],
        "no_shows": (selectors.no_show_count(worker=appointment.case.worker, user=user)
                     if counselor_view else None),
        "cancel_form": CancelForm(),
        "cutoff_hours": _cutoff_hours(),
    }
    return render(request, "counseling/appointment.html", context)


@require_POST
@login_required
def step(request, appointment_id: int, transition: str):
    appointment = selectors.appointment_get_for_user(appointment_id=appointment_id, user=request.user)
    form = CancelForm(request.POST)
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    try:
        moved = services.appointment_transition(appointment=appointment, actor=request.user, transition=transition,
                                                reason=reason)
    except HallError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Done: the appointment is now “%(state)s”.")
                         % {"state": moved.get_state_display()})
    return redirect("counseling:appointment", appointment_id=appointment.pk)


@login_required
def reschedule(request, appointment_id: int):
    """Move an appointment to another free time of the same counselor, the same way of meeting."""
    user = request.user
    appointment = selectors.appointment_get_for_user(appointment_id=appointment_id, user=user)
    if not permissions.can_reschedule(user, appointment):
        raise PermissionDenied
    profile = selectors.counselor_profile(user_id=appointment.counselor_id)
    error = ""
    if request.method == "POST":
        slot = SlotForm(request.POST)
        if not slot.is_valid() or profile is None:
            error = _("Choose one of the free times offered.")
        else:
            starts_at = slot.cleaned_data["starts_at"]
            try:
                new = services.appointment_reschedule(
                    appointment=appointment, actor=user, starts_at=starts_at,
                    room=selectors.room_for_time(profile=profile, mode=appointment.mode, starts_at=starts_at,
                                                 exclude_pk=appointment.pk))
            except HallError as refusal:
                error = str(refusal.message)
            else:
                messages.success(request, _("The appointment has moved to %(when)s.") % {"when": _when(new.starts_at)})
                return redirect("counseling:appointment", appointment_id=new.pk)
    days = (_by_day(selectors.free_times(profile=profile, mode=appointment.mode, days=BOOKING_DAYS,
                                         exclude_pk=appointment.pk)) if profile else [])
    return render(request, "counseling/reschedule.html", {
        "appointment": appointment, "where": where(appointment), "days": days, "error": error,
        "movable": appointment.state in CANCELLABLE_STATES})


# --- the calendar file ---------------------------------------------------------------------------


def ics_escape(value: str) -> str:
    """A TEXT value of RFC 5545 (section 3.3.11)."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def ics_fold(line: str) -> str:
    """Lines longer than 75 octets folded (CRLF and a space), never inside a UTF-8 character."""
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        if size + width > (75 if not parts else 74):
            parts.append(current)
            current, size = "", 0
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _ics_time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def appointment_ics(appointment: Appointment, *, host: str) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Worker Service Center//Appointments//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:appointment-{appointment.pk}@{host}",
        f"DTSTAMP:{_ics_time(timezone.now())}",
        f"DTSTART:{_ics_time(appointment.starts_at)}",
        f"DTEND:{_ics_time(appointment.ends_at)}",
        f"SUMMARY:{ics_escape(str(ICS_SUMMARY))}",
        f"LOCATION:{ics_escape(where(appointment))}",
        f"STATUS:{'CONFIRMED' if appointment.is_holding else 'CANCELLED'}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(f"{ics_fold(line)}\r\n" for line in lines)


@require_GET
@login_required
def ics(request, appointment_id: int):
    user = request.user
    appointment = selectors.appointment_get_for_user(appointment_id=appointment_id, user=user)
    if not (permissions.is_the_worker(user, appointment.case.worker)
            or permissions.is_its_counselor(user, appointment)):
        raise PermissionDenied
    hall_services.case_record_view(case=appointment.case, actor=user)
    host = request.get_host().split(":")[0] or "localhost"
    body = appointment_ics(appointment, host=host).encode()
    return uploads.file_response(body, filename=f"appointment-{appointment.case.reference}.ics",
                                 content_type="text/calendar; charset=utf-8")


# --- the counselor -------------------------------------------------------------------------------


@allowed_if(permissions.is_counselor)
def day(request):
    user = request.user
    form = DayForm(request.GET or None)
    chosen = (form.cleaned_data.get("day") if form.is_valid() else None) or timezone.localtime(
        timezone.now(), SHANGHAI).date()
    since = datetime.datetime.combine(chosen, datetime.time(0), tzinfo=SHANGHAI)
    rows = (selectors.appointments_for_user(user=user)
            .filter(counselor=user, starts_at__gte=since, starts_at__lt=since + datetime.timedelta(days=1))
            .order_by("starts_at", "pk"))
    appointments = list(rows)
    for appointment in appointments:
        appointment.where = where(appointment)
    profile = selectors.counselor_profile(user_id=user.pk)
    week_free = len(selectors.free_slots_for(profile=profile, days=7)) if profile else 0
    return render(request, "counseling/day.html", {
        "form": form, "day": chosen, "appointments": appointments, "week_free": week_free,
        "has_profile": profile is not None,
        "previous": (chosen - datetime.timedelta(days=1)).isoformat(),
        "next": (chosen + datetime.timedelta(days=1)).isoformat()})
