"""Pages of the care station, under /childcare/. Thin: reads through childcare.selectors, writes
through childcare.services (which decide in any case: pages only hide what cannot be done);
every POST redirects (POST/redirect/GET), except the door's check-in, which also answers JSON
to the roster's script (it retries a save that failed on a spotty connection).

* the guardian (a worker): my children, a child's page (medical information, pick-up persons,
  enrolments, incidents), enrolment in an open programme, withdrawal;
* the staff of a station: today's roster (check-in, check-out with the pick-up code), incidents;
* the coordinator: programmes, the staff on duty, the attendance export (Excel).
Someone else's child, enrolment or attendance is a 404, as for one that does not exist."""

import datetime
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from care import permissions as hall_permissions
from care import selectors as hall_selectors
from care.errors import HallError
from care.models import Worker
from care.roles import Role
from care.uploads import file_response
from care.views import allowed_if, paginated, role_required
from childcare import permissions, selectors, services
from childcare.forms import ChildForm, ExportForm, IncidentForm, MedicalForm, PickupPersonForm, ProgrammeForm
from childcare.models import SHANGHAI, AttendanceState, EnrolmentState, today


def _guardian(request):
    worker = hall_selectors.worker_for_user(user=request.user)
    if worker is None:
        raise PermissionDenied
    return worker


def _local(value) -> str:
    return timezone.localtime(value, SHANGHAI).strftime("%H:%M")


# --- the guardian --------------------------------------------------------------------------------


@require_GET
@role_required(Role.WORKER)
def mine(request):
    """My children with today's status, my enrolments, and the programmes open for enrolment."""
    _guardian(request)
    day = today()
    children = list(selectors.children_for_guardian(user=request.user))
    enrolments = list(selectors.enrolments_for_guardian(user=request.user))
    todays = {a.enrolment.child_id: a for a in selectors.attendance_today_for_guardian(user=request.user, day=day)}
    for child in children:
        child.today = todays.get(child.pk)
    for enrolment in enrolments:
        enrolment.position = services.waitlist_position(enrolment)
    return render(request, "childcare/mine.html", {
        "children": children, "enrolments": enrolments, "programmes": selectors.open_programmes(),
        "active_states": (EnrolmentState.WAITLISTED, EnrolmentState.ENROLLED)})


@require_http_methods(["GET", "POST"])
@role_required(Role.WORKER)
def child_new(request):
    worker = _guardian(request)
    form = ChildForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            child = services.child_register(actor=request.user, guardian=worker, **form.service_arguments())
        except HallError as error:
            form.add_refusal(error)
        else:
            messages.success(request, _("%(child)s is registered. You can now enrol them in a programme.")
                             % {"child": child.name})
            return redirect("childcare:child", child_id=child.pk)
    return render(request, "childcare/child_new.html", {"form": form})


@require_http_methods(["GET", "POST"])
@role_required(Role.WORKER)
def child_page(request, child_id: int):
    """The guardian's page of a child. POST: the school and medical information."""
    child = selectors.child_get_for_guardian(child_id=child_id, user=request.user)
    form = MedicalForm(request.POST or None, initial={"school": child.school, "allergies": child.allergies,
                                                      "medical_notes": child.medical_notes})
    if request.method == "POST" and form.is_valid():
        try:
            services.child_update(actor=request.user, child=child, **form.cleaned_data)
        except HallError as error:
            form.add_refusal(error)
        else:
            messages.success(request, _("Saved."))
            return redirect("childcare:child", child_id=child.pk)
    return render(request, "childcare/child.html", {
        "child": child, "form": form, "pickup_form": PickupPersonForm(),
        "persons": child.pickup_persons.filter(active=True),
        "contacts": child.emergency_contacts.all(),
        "enrolments": selectors.enrolments_for_guardian(user=request.user).filter(child=child),
        "incidents": selectors.incidents_for_guardian(user=request.user).filter(enrolment__child=child),
        "programmes": selectors.open_programmes()})


@require_http_methods(["GET", "POST"])
@role_required(Role.WORKER)
def pickup_add(request, child_id: int):
    child = selectors.child_get_for_guardian(child_id=child_id, user=request.user)
    form = PickupPersonForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.pickup_person_add(actor=request.user, child=child, **form.cleaned_data)
        except HallError as error:
            form.add_refusal(error)
        else:
            messages.success(request, _("%(name)s may now collect %(child)s.") % {"name": person.name,
                                                                                 "child": child.name})
            return redirect("childcare:child", child_id=child.pk)
    return render(request, "childcare/pickup_add.html", {"child": child, "form": form})


@require_POST
@role_required(Role.WORKER)
def pickup_remove(request, person_id: int):
    person = selectors.pickup_person_get_for_guardian(person_id=person_id, user=request.user)
    try:
        services.pickup_person_remove(actor=request.user, person=person)
    except HallError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("%(name)s may no longer collect the child.") % {"name": person.name})
    return redirect("childcare:child", child_id=person.child_id)


@require_POST
@role_required(Role.WORKER)
def enrol(request, child_id: int):
    child = selectors.child_get_for_guardian(child_id=child_id, user=request.user)
    programme = selectors.open_programmes().filter(pk=request.POST.get("programme") or 0).first()
    if programme is None:
        messages.error(request, _("Choose a programme from the list."))
        return redirect("childcare:child", child_id=child.pk)
    try:
        enrolment = services.enrol(actor=request.user, child=child, programme=programme)
    except HallError as error:
        messages.error(request, str(error.message))
    else:
        values = {"child": child.name, "programme": programme.name, "ref": enrolment.case.reference,
                  "position": services.waitlist_position(enrolment)}
        messages.success(request, _("%(child)s has a place in %(programme)s (%(ref)s).") % values
                         if enrolment.state == EnrolmentState.ENROLLED else
                         _("%(programme)s is full: %(child)s is number %(position)s on the waitlist (%(ref)s). "
                           "We will tell you by SMS if a place frees up.") % values)
    return redirect("childcare:child", child_id=child.pk)


@require_POST
@login_required
def withdraw(request, enrolment_id: int):
    """The guardian gives the place back (or the coordinator, from the programme's page)."""
    enrolment = selectors.enrolment_get_for_user(enrolment_id=enrolment_id, user=request.user)
    try:
        services.enrolment_withdraw(actor=request.user, enrolment=enrolment)
    except HallError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The place of %(child)s in %(programme)s is given back.")
                         % {"child": enrolment.child.name, "programme": enrolment.programme.name})
    if permissions.is_the_guardian(request.user, enrolment.child):
        return redirect("childcare:child", child_id=enrolment.child_id)
    return redirect("childcare:programme", programme_id=enrolment.programme_id)


@require_GET
@login_required
def pickup_photo(request, person_id: int):
    """A pick-up person's photo: for the guardian, and for the staff of a station where the
    child is enrolled (to recognise them at the door)."""
    if request.user.has_role(Role.WORKER):
        person = selectors.pickup_person_get_for_guardian(person_id=person_id, user=request.user)
    else:
        person = selectors.pickup_person_get_for_staff(person_id=person_id, user=request.user)
    if not person.photo:
        raise Http404
    response = HttpResponse(person.photo_data, content_type=person.photo_type)
    response["Cache-Control"] = "private, no-store"
    return response


# --- the door: today's roster ----------------------------------------------------------------------


@require_GET
@allowed_if(permissions.is_care_staff)
def roster(request):
    """Today's children at the user's stations, by programme, with a search by name. Allergies
    and medical notes are highlighted for the staff on duty (and the coordinator). Reading it
    is an audit event."""
    day = today()
    query = request.GET.get("q", "").strip()
    rows = selectors.roster(user=request.user, day=day, search=query)
    stations = list(selectors.stations_for(user=request.user))
    if stations and any(row.may_read_medical for row in rows):
        services.record_view(actor=request.user, subject=stations[0], event=services.ChildcareEvent.ROSTER_VIEWED)
    counts = {"expected": len(rows),
              "in": sum(1 for r in rows if r.attendance and r.attendance.state == AttendanceState.CHECKED_IN),
              "out": sum(1 for r in rows if r.attendance and r.attendance.state == AttendanceState.CHECKED_OUT)}
    return render(request, "childcare/roster.html", {"rows": rows, "day": day, "q": query, "counts": counts,
                                                     "stations": stations})


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
@allowed_if(permissions.is_care_staff)
def check_in(request, enrolment_id: int):
    enrolment = selectors.enrolment_get_for_staff(enrolment_id=enrolment_id, user=request.user)
    try:
        attendance = services.check_in(actor=request.user, enrolment=enrolment,
                                       brought_by=request.POST.get("brought_by", ""))
    except HallError as error:
        if _wants_json(request):
            return JsonResponse({"code": error.code, "message": str(error.message), "detail": error.detail},
                                status=error.status)
        messages.error(request, str(error.message))
    else:
        text = _("%(child)s checked in at %(time)s; the guardian has the pick-up code.") % {
            "child": enrolment.child.name, "time": _local(attendance.checked_in_at)}
        if _wants_json(request):
            return JsonResponse({"state": attendance.state, "message": text, "attendance": attendance.pk})
        messages.success(request, text)
    return redirect(f"{reverse('childcare:roster')}#child-{enrolment.pk}")


@require_http_methods(["GET", "POST"])
@allowed_if(permissions.is_care_staff)
def check_out(request, attendance_id: int):
    """The collector is chosen from the authorised persons (with their photos) and shows the
    code; 'someone else' is refused with the name they gave, and the guardian told."""
    attendance = selectors.attendance_get_for_staff(attendance_id=attendance_id, user=request.user)
    child = attendance.enrolment.child
    persons = list(child.pickup_persons.filter(active=True))
    if request.method == "POST":
        chosen = request.POST.get("collector", "")
        collector = next((p for p in persons if str(p.pk) == chosen), None)
        try:
            attendance = services.check_out(actor=request.user, attendance=attendance, collector=collector,
                                            code=request.POST.get("code", ""),
                                            presented_name=request.POST.get("presented_name", ""))
        except HallError as error:
            messages.error(request, str(error.message))
            return render(request, "childcare/check_out.html", {
                "attendance": attendance, "child": child, "persons": persons, "chosen": chosen,
                "presented_name": request.POST.get("presented_name", "")}, status=200)
        messages.success(request, _("%(child)s has left with %(name)s.") % {
            "child": child.name, "name": attendance.collected_by.name})
        return redirect(f"{reverse('childcare:roster')}#child-{attendance.enrolment_id}")
    if attendance.state == AttendanceState.CHECKED_OUT:
        messages.info(request, _("%(child)s has already been collected.") % {"child": child.name})
        return redirect("childcare:roster")
    return render(request, "childcare/check_out.html", {"attendance": attendance, "child": child,
                                                        "persons": persons})


@require_http_methods(["GET", "POST"])
@allowed_if(permissions.is_care_staff)
def incident_new(request, enrolment_id: int):
    enrolment = selectors.enrolment_get_for_staff(enrolment_id=enrolment_id, user=request.user)
    form = IncidentForm(request.POST or None, initial={"occurred_at": timezone.localtime(timezone.now(), SHANGHAI)})
    if request.method == "POST" and form.is_valid():
        try:
            services.incident_record(actor=request.user, enrolment=enrolment, **form.cleaned_data)
        except HallError as error:
            form.add_refusal(error)
        else:
            messages.success(request, _("The incident is recorded and the guardian told by SMS."))
            return redirect("childcare:incidents")
    return render(request, "childcare/incident_new.html", {"enrolment": enrolment, "form": form})


@require_GET
@allowed_if(permissions.is_care_staff)
def incidents(request):
    """The incidents at the user's stations, latest first. Reading them is an audit event."""
    context = paginated(request, selectors.incidents_for_staff(user=request.user))
    for incident in context["page"]:
        services.record_view(actor=request.user, subject=incident, event=services.ChildcareEvent.CHILD_VIEWED)
    return render(request, "childcare/incidents.html", context)


# --- the coordinator: programmes, duties, exports ------------------------------------------------


@require_http_methods(["GET", "POST"])
@allowed_if(permissions.is_care_staff)
def programmes(request):
    """The programmes of the user's stations; a coordinator opens a new one here."""
    stations = list(selectors.coordinated_stations(user=request.user))
    form = ProgrammeForm(request.POST or None) if stations else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        station = next((s for s in stations if str(s.pk) == request.POST.get("station")), stations[0])
        if form.is_valid():
            try:
                programme = services.programme_create(actor=request.user, station=station,
                                                      **form.service_arguments())
            except HallError as error:
                form.add_refusal(error)
            else:
                messages.success(request, _("%(programme)s is open for enrolment.") % {"programme": programme.name})
                return redirect("childcare:programme", programme_id=programme.pk)
    return render(request, "childcare/programmes.html", {
        "programmes": selectors.programmes_for_staff(user=request.user).order_by("-starts_on", "name"),
        "form": form, "stations": stations})


def _day(value) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return today()


@require_http_methods(["GET", "POST"])
@allowed_if(permissions.is_care_staff)
def programme_page(request, programme_id: int):
    """A programme: its enrolments and waitlist, the staff on duty on a day; the coordinator
    sets the duty, the number of places, and exports the attendance."""
    programme = selectors.programme_get_for_staff(programme_id=programme_id, user=request.user)
    coordinator = permissions.is_coordinator(request.user, programme.station)
    day = _day(request.POST.get("day") or request.GET.get("day"))
    if request.method == "POST":
        if not coordinator:
            raise PermissionDenied
        try:
            if request.POST.get("action") == "capacity":
                services.programme_set_capacity(actor=request.user, programme=programme,
                                                capacity=request.POST.get("capacity"))
                messages.success(request, _("The number of places is saved."))
            else:
                members = {str(m.pk): m for m in selectors.station_members(station=programme.station)}
                chosen = [members[pk] for pk in request.POST.getlist("staff") if pk in members]
                services.duty_set(actor=request.user, programme=programme, day=day, staff=chosen)
                messages.success(request, _("The staff on duty on %(day)s are saved.") % {"day": day.isoformat()})
        except HallError as error:
            messages.error(request, str(error.message))
        return redirect(f"{reverse('childcare:programme', args=[programme.pk])}?day={day.isoformat()}")
    on_duty = {d.staff_id for d in selectors.duties_on(programme=programme, day=day)}
    enrolments = list(selectors.enrolments_for_staff(user=request.user, programme=programme))
    for enrolment in enrolments:
        enrolment.position = services.waitlist_position(enrolment)
    return render(request, "childcare/programme.html", {
        "programme": programme, "coordinator": coordinator, "day": day, "runs": programme.runs_on(day),
        "members": selectors.station_members(station=programme.station), "on_duty": on_duty,
        "enrolments": enrolments, "export_form": ExportForm(initial={"since": programme.starts_on,
                                                                     "until": min(programme.ends_on, today())})})


@require_GET
@allowed_if(permissions.is_care_staff)
def attendance_export(request, programme_id: int):
    """The attendance of a programme between two days as an Excel workbook (coordinator)."""
    programme = selectors.programme_get_for_staff(programme_id=programme_id, user=request.user)
    if not permissions.is_coordinator(request.user, programme.station):
        raise PermissionDenied
    form = ExportForm(request.GET)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("childcare:programme", programme_id=programme.pk)
    since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    data = _workbook(programme, selectors.attendance_rows(programme=programme, since=since, until=until))
    services.record_view(actor=request.user, subject=programme, event=services.ChildcareEvent.ATTENDANCE_EXPORTED)
    return file_response(data, filename=f"attendance-{since:%Y%m%d}-{until:%Y%m%d}.xlsx",
                         content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _workbook(programme, rows) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = _("Attendance")[:31]
    sheet.append([programme.name])
    sheet.append([_("Day"), _("Child"), _("Checked in"), _("Brought by"), _("Checked out"), _("Collected by")])
    for row in rows:
        sheet.append([row.day, row.enrolment.child.name, _local(row.checked_in_at), row.brought_by,
                      _local(row.checked_out_at) if row.checked_out_at else "",
                      row.collected_by.name if row.collected_by else ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the front desk, for a walk-in ---------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@allowed_if(hall_permissions.can_file_for_walk_in)
def child_for_worker(request, worker_id: int):
    """The front desk registers a walk-in's child (POST) and enrols their children (names and
    places only: no medical information is shown here)."""
    worker = get_object_or_404(Worker, pk=worker_id)
    form = ChildForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            child = services.child_register(actor=request.user, guardian=worker, **form.service_arguments())
        except HallError as error:
            form.add_refusal(error)
        else:
            messages.success(request, _("%(child)s is registered.") % {"child": child.name})
            return redirect("childcare:child_for_worker", worker_id=worker.pk)
    return render(request, "childcare/for_worker.html", {
        "worker": worker, "form": form, "children": selectors.children_of_worker_for_desk(worker=worker),
        "programmes": selectors.open_programmes()})


@require_POST
@allowed_if(hall_permissions.can_file_for_walk_in)
def enrol_for_worker(request, worker_id: int):
    worker = get_object_or_404(Worker, pk=worker_id)
    child = selectors.children_of_worker_for_desk(worker=worker).filter(pk=request.POST.get("child") or 0).first()
    programme = selectors.open_programmes().filter(pk=request.POST.get("programme") or 0).first()
    if child is None or programme is None:
        messages.error(request, _("Choose a child and a programme from the lists."))
        return redirect("childcare:child_for_worker", worker_id=worker.pk)
    try:
        enrolment = services.enrol(actor=request.user, child=child, programme=programme)
    except HallError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("%(child)s: %(state)s in %(programme)s (%(ref)s).") % {
            "child": child.name, "state": enrolment.get_state_display(), "programme": programme.name,
            "ref": enrolment.case.reference})
    return redirect("childcare:child_for_worker", worker_id=worker.pk)
