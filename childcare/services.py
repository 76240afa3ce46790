"""Every write of the care station. One recipe: lock, check, change, audit, and SMS in the same
transaction (the outbox sends after commit).

The child's safety comes first:
* enrolment counts places under the programme's row lock (two enrolments for the last place
  never both get it); a place given back goes to the first of the waitlist, told by SMS;
* check-in counts the children present and the staff on duty under the same lock, and refuses
  a child the staff could not cover (the coordinator is told at once);
* a child leaves only with an authorised person who shows the one-time code sent to the
  guardian at check-in; any other pick-up is refused, recorded, and the guardian told at once;
* at closing time every child not checked out raises an alert to the coordinator and the
  guardian.
A refusal that must leave a trace (an alert, a refused pick-up) commits the trace first and
then raises.

SMS to the guardian name the child and the time, never the child's notes."""

import base64
import datetime
import hashlib
import hmac
import secrets

from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from care import audit, sms, surveys, uploads
from care import services as hall
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import Case, Stage, Urgency, Worker
from care.validators import normalize_mobile, normalize_national_id
from childcare import permissions
from childcare.models import (
    DEPARTMENT,
    SHANGHAI,
    Attendance,
    AttendanceState,
    Child,
    Duty,
    EmergencyContact,
    Enrolment,
    EnrolmentState,
    Incident,
    IncidentKind,
    PickupPerson,
    PickupRefusal,
    Programme,
    ProgrammeKind,
    RefusalReason,
    Station,
    age_on,
    today,
)


class ChildcareEvent(models.TextChoices):
    PROGRAMME_CREATED = "childcare.programme_created"
    PROGRAMME_CAPACITY = "childcare.programme_capacity"
    DUTY_SET = "childcare.duty_set"
    CHILD_REGISTERED = "childcare.child_registered"
    CHILD_UPDATED = "childcare.child_updated"
    PICKUP_ADDED = "childcare.pickup_added"
    PICKUP_REMOVED = "childcare.pickup_removed"
    ENROLLED = "childcare.enrolled"
    PROMOTED = "childcare.promoted"
    WITHDRAWN = "childcare.withdrawn"
    FINISHED = "childcare.finished"
    CHECKED_IN = "childcare.checked_in"
    CHECK_IN_REFUSED = "childcare.check_in_refused"
    CHECKED_OUT = "childcare.checked_out"
    PICKUP_REFUSED = "childcare.pickup_refused"
    CLOSING_ALERT = "childcare.closing_alert"
    INCIDENT_RECORDED = "childcare.incident_recorded"
    ROSTER_VIEWED = "childcare.roster_viewed"
    CHILD_VIEWED = "childcare.child_viewed"
    ATTENDANCE_EXPORTED = "childcare.attendance_exported"


NAME_MAX = 50
TEXT_MAX = 2000
PHOTO_MAX_BYTES = 2 * 1024 * 1024
PHOTO_TYPES = (uploads.PNG, uploads.JPEG, uploads.WEBP)
CODE_DIGITS = 6

# Samples for the template checks (the hall's checks add a reference, a code and a link).
_SAMPLE = {"child": "Xiaoming", "when": "2026-07-06 08:30", "programme": "Summer care", "position": 2,
           "collector": "Zhang San", "station": "Station 1"}
for _code, _text, _essential in [
    ("care_enrolled", gettext_lazy(
        "Worker Service Center: %(child)s has a place in %(programme)s (%(ref)s). Details: %(link)s"), False),
    ("care_waitlisted", gettext_lazy(
        "Worker Service Center: %(programme)s is full; %(child)s is number %(position)s on the waitlist "
        "(%(ref)s). We will tell you if a place frees up. Details: %(link)s"), False),
    ("care_promoted", gettext_lazy(
        "Worker Service Center: a place in %(programme)s is now %(child)s's (%(ref)s). Details: %(link)s"), False),
    ("care_checked_in", gettext_lazy(
        "Worker Service Center: %(child)s arrived at %(when)s. Pick-up code: %(code)s. Only an authorised "
        "person showing this code can collect %(child)s."), True),
    ("care_checked_out", gettext_lazy(
        "Worker Service Center: %(child)s was collected at %(when)s by %(collector)s (%(ref)s)."), True),
    ("care_pickup_refused", gettext_lazy(
        "Worker Service Center: URGENT (%(ref)s): at %(when)s someone giving the name %(collector)s tried to collect "
        "%(child)s and was refused. %(child)s is safe with our staff. Call the station if you did not send "
        "them."), True),
    ("care_not_collected", gettext_lazy(
        "Worker Service Center: URGENT (%(ref)s): %(child)s has not been collected and the station closed at %(when)s. "
        "Please come or call the station now."), True),
    ("care_incident", gettext_lazy(
        "Worker Service Center: something happened to %(child)s at %(when)s (%(ref)s); our staff have recorded what "
        "was done. Details: %(link)s"), True),
]:
    sms.register_template(sms.SmsTemplate(_code, _text, sample=_SAMPLE, essential=_essential))

# To the coordinator (staff): the station, the time and the enrolment's reference; no child's data
# beyond the name.
for _code, _text in [
    ("care_ratio_alert", gettext_lazy(
        "Worker Service Center: %(station)s could not take in %(child)s (%(ref)s) at %(when)s: not enough "
        "staff on duty for %(programme)s. Please send staff.")),
    ("care_coordinator_not_collected", gettext_lazy(
        "Worker Service Center: URGENT: %(child)s (%(ref)s) at %(station)s was not collected at closing time "
        "(%(when)s).")),
]:
    sms.register_template(sms.SmsTemplate(_code, _text, essential=True, sample=_SAMPLE))


# --- small helpers -----------------------------------------------------------------------------


def _clean(value, *, field: str, limit: int = NAME_MAX, required: bool = True) -> str:
    value = str(value or "").strip()
    if required and not value:
        raise InvalidInput(_("This field is required."), detail={field: "missing"})
    if len(value) > limit:
        raise InvalidInput(_("Write at most %(max)d characters.") % {"max": limit}, detail={field: "too_long"})
    return value


def _mobile(value, field: str) -> str:
    try:
        return normalize_mobile(value)
    except InvalidInput as error:
        raise InvalidInput(error.message, detail={field: "invalid"}) from None


def _local(value: datetime.datetime) -> str:
    return timezone.localtime(value, SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _case_link(case: Case) -> str:
    return sms.link(reverse("care:case_detail", args=[case.pk]))


def _tell_guardian(child: Child, template: str, *, urgent: bool = False, **context) -> None:
    with translation.override(child.guardian.language):
        values = {"child": child.name, **{k: str(v) for k, v in context.items()}}
    sms.notify(recipient=child.guardian, template=template, context=values,
               urgency=Urgency.URGENT if urgent else Urgency.NORMAL)


def _tell_coordinator(station: Station, template: str, **context) -> None:
    sms.notify(recipient=station.coordinator, template=template, urgency=Urgency.URGENT,
               context={"station": station.name, **context})


# --- programmes and duties (the coordinator) ----------------------------------------------------


def _int(value, *, field: str, low: int, high: int, message: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = low - 1
    if not low <= number <= high:
        raise InvalidInput(message, detail={field: "invalid"})
    return number


@transaction.atomic
def programme_create(*, actor, station: Station, name: str, kind: str, starts_on: datetime.date,
                     ends_on: datetime.date, weekdays: str, opens_at: datetime.time, closes_at: datetime.time,
                     min_age, max_age, capacity, ratio) -> Programme:
    """The station's coordinator opens a programme (e.g. summer care July–August)."""
    if not permissions.is_coordinator(actor, station):
        raise NotAllowed()
    name = _clean(name, field="name", limit=80)
    if kind not in ProgrammeKind.values:
        raise InvalidInput(_("Choose a kind of programme from the list."), detail={"kind": "invalid"})
    if not starts_on or not ends_on or ends_on < starts_on:
        raise InvalidInput(_("The last day must not come before the first day."), detail={"ends_on": "order"})
    weekdays = "".join(sorted(set(str(weekdays or ""))))
    if not weekdays or not set(weekdays) <= set("1234567"):
        raise InvalidInput(_("Choose at least one weekday."), detail={"weekdays": "missing"})
    if not opens_at or not closes_at or closes_at <= opens_at:
        raise InvalidInput(_("The closing time must come after the opening time."), detail={"closes_at": "order"})
    min_age = _int(min_age, field="min_age", low=0, high=17, message=_("Ages go from 0 to 17."))
    max_age = _int(max_age, field="max_age", low=min_age, high=17,
                   message=_("The oldest age must be between the youngest age and 17."))
    capacity = _int(capacity, field="capacity", low=1, high=500, message=_("Places: between 1 and 500."))
    ratio = _int(ratio, field="ratio", low=1, high=30,
                 message=_("Children per member of staff: between 1 and 30."))
    programme = Programme.objects.create(
        station=station, name=name, kind=kind, starts_on=starts_on, ends_on=ends_on, weekdays=weekdays,
        opens_at=opens_at, closes_at=closes_at, min_age=min_age, max_age=max_age, capacity=capacity, ratio=ratio)
    audit.record(actor=actor, event_type=ChildcareEvent.PROGRAMME_CREATED, subject=programme,
                 new={"station": station.pk, "starts_on": starts_on, "ends_on": ends_on, "capacity": capacity,
                      "ratio": ratio, "ages": [min_age, max_age]})
    return programme


def _locked_programme(programme: Programme) -> Programme:
    return Programme.objects.select_for_update(of=("self",)).select_related("station").get(pk=programme.pk)


@transaction.atomic
def programme_set_capacity(*, actor, programme: Programme, capacity) -> Programme:
    """The coordinator changes the number of places; new places go to the waitlist in order. A
    programme never shrinks below the children already enrolled."""
    programme = _locked_programme(programme)
    if not permissions.is_coordinator(actor, programme.station):
        raise NotAllowed()
    enrolled = programme.enrolments.filter(state=EnrolmentState.ENROLLED).count()
    capacity = _int(capacity, field="capacity", low=max(enrolled, 1), high=500,
                    message=_("Places: between %(low)d (the children enrolled) and 500.") % {"low": max(enrolled, 1)})
    if capacity == programme.capacity:
        return programme
    old = programme.capacity
    programme.capacity = capacity
    programme.save(update_fields=["capacity"])
    audit.record(actor=actor, event_type=ChildcareEvent.PROGRAMME_CAPACITY, subject=programme,
                 old={"capacity": old}, new={"capacity": capacity})
    _promote_waitlist(programme, actor)
    return programme


@transaction.atomic
def duty_set(*, actor, programme: Programme, day: datetime.date, staff: list) -> list[Duty]:
    """The coordinator names the staff on duty for a programme on a day (the whole list: those
    left out come off duty). Only the station's own staff (or its coordinator) can be named."""
    programme = _locked_programme(programme)
    station = programme.station
    if not permissions.is_coordinator(actor, station):
        raise NotAllowed()
    if day is None or not programme.runs_on(day):
        raise InvalidInput(_("The programme does not run on that day."), detail={"day": "closed"})
    wanted = {member.pk: member for member in staff}
    for member in wanted.values():
        if not permissions.works_station(member, station):
            raise InvalidInput(_("%(name)s does not work at this station.") % {"name": member.get_full_name()
                                                                                 or member.username},
                               detail={"staff": "not_station"})
    current = {duty.staff_id: duty for duty in Duty.objects.filter(programme=programme, day=day)}
    Duty.objects.filter(programme=programme, day=day).exclude(staff_id__in=wanted).delete()
    for pk in wanted.keys() - current.keys():
        Duty.objects.create(programme=programme, day=day, staff_id=pk)
    audit.record(actor=actor, event_type=ChildcareEvent.DUTY_SET, subject=programme,
                 old={"day": day, "staff": sorted(current)}, new={"day": day, "staff": sorted(wanted)})
    return list(Duty.objects.filter(programme=programme, day=day))


# --- children and pick-up persons (the guardian) ------------------------------------------------


def _locked_worker(worker: Worker) -> Worker:
    return Worker.objects.select_for_update().get(pk=worker.pk)


def _contacts(emergency_contacts) -> list[dict]:
    cleaned = []
    for index, contact in enumerate(emergency_contacts or []):
        if not any(str(contact.get(k) or "").strip() for k in ("name", "relation", "mobile")):
            continue  # an empty row of the form
        cleaned.append({"name": _clean(contact.get("name"), field=f"contact_{index}_name"),
                        "relation": _clean(contact.get("relation"), field=f"contact_{index}_relation", limit=30),
                        "mobile": _mobile(contact.get("mobile"), f"contact_{index}_mobile")})
    if not cleaned:
        raise InvalidInput(_("Give at least one emergency contact."), detail={"emergency_contacts": "missing"})
    return cleaned


@transaction.atomic
def child_register(*, actor, guardian: Worker, name: str, date_of_birth: datetime.date, school: str = "",
                   allergies: str = "", medical_notes: str = "", emergency_contacts: list[dict]) -> Child:
    """A worker registers their child (or the front desk for a walk-in). The guardian is the
    child's first authorised pick-up person."""
    if not permissions.can_enrol(actor, Child(guardian=guardian)):
        raise NotAllowed()
    name = _clean(name, field="name")
    if not isinstance(date_of_birth, datetime.date) or not (today() - datetime.timedelta(days=18 * 366)
                                                            < date_of_birth <= today()):
        raise InvalidInput(_("Enter the child's date of birth (a child under 18)."),
                           detail={"date_of_birth": "invalid"})
    contacts = _contacts(emergency_contacts)
    guardian = _locked_worker(guardian)
    child = Child.objects.create(
        guardian=guardian, name=name, date_of_birth=date_of_birth,
        school=_clean(school, field="school", limit=100, required=False),
        allergies=_clean(allergies, field="allergies", limit=TEXT_MAX, required=False),
        medical_notes=_clean(medical_notes, field="medical_notes", limit=TEXT_MAX, required=False))
    EmergencyContact.objects.bulk_create(EmergencyContact(child=child, **contact) for contact in contacts)
    PickupPerson.objects.create(child=child, name=guardian.name, relation=_("Guardian"), mobile=guardian.mobile,
                                is_guardian=True)
    audit.record(actor=actor, event_type=ChildcareEvent.CHILD_REGISTERED, subject=child,
                 new={"guardian": guardian.pk, "contacts": len(contacts)})
    return child


@transaction.atomic
def child_update(*, actor, child: Child, school: str, allergies: str, medical_notes: str) -> Child:
    """The guardian keeps the school and the medical information up to date."""
    child = Child.objects.select_for_update().select_related("guardian").get(pk=child.pk)
    if not permissions.is_the_guardian(actor, child):
        raise NotAllowed()
    new = {"school": _clean(school, field="school", limit=100, required=False),
           "allergies": _clean(allergies, field="allergies", limit=TEXT_MAX, required=False),
           "medical_notes": _clean(medical_notes, field="medical_notes", limit=TEXT_MAX, required=False)}
    changed = [field for field, value in new.items() if getattr(child, field) != value]
    if not changed:
        return child
    for field in changed:
        setattr(child, field, new[field])
    child.save(update_fields=changed)
    audit.record(actor=actor, event_type=ChildcareEvent.CHILD_UPDATED, subject=child, new={"changed": changed})
    return child


def _photo(uploaded_file) -> tuple[str, str]:
    if not uploaded_file:
        return "", ""
    data = uploads.read_upload(uploaded_file, limit=PHOTO_MAX_BYTES)
    kind = uploads.sniff(data)
    if kind not in PHOTO_TYPES:
        raise InvalidInput(_("The photo must be a picture (PNG, JPEG or WEBP)."), detail={"photo": "type"})
    return base64.b64encode(data).decode("ascii"), kind.content_type


@transaction.atomic
def pickup_person_add(*, actor, child: Child, name: str, relation: str, mobile: str, id_number: str,
                      photo=None) -> PickupPerson:
    """The guardian authorises someone to collect the child: name, relation, mobile, ID number
    (encrypted), and a photo if given (checked by content, encrypted)."""
    child = Child.objects.select_for_update().select_related("guardian").get(pk=child.pk)
    if not permissions.is_the_guardian(actor, child):
        raise NotAllowed()
    name = _clean(name, field="name")
    relation = _clean(relation, field="relation", limit=30)
    mobile = _mobile(mobile, "mobile")
    try:
        id_number = normalize_national_id(id_number)
    except InvalidInput as error:
        raise InvalidInput(error.message, detail={"id_number": "invalid"}) from None
    if child.pickup_persons.filter(active=True, name=name, mobile=mobile).exists():
        raise InvalidInput(_("%(name)s is already authorised.") % {"name": name}, detail={"name": "duplicate"})
    data, content_type = _photo(photo)
    person = PickupPerson.objects.create(child=child, name=name, relation=relation, mobile=mobile,
                                         id_number=id_number, photo=data, photo_type=content_type)
    audit.record(actor=actor, event_type=ChildcareEvent.PICKUP_ADDED, subject=person,
                 new={"child": child.pk, "photo": bool(data)})
    return person


@transaction.atomic
def pickup_person_remove(*, actor, person: PickupPerson) -> PickupPerson:
    """The guardian takes someone off the list (not themselves): from now on they are refused."""
    person = PickupPerson.objects.select_for_update(of=("self",)).select_related("child__guardian").get(pk=person.pk)
    if not permissions.is_the_guardian(actor, person.child):
        raise NotAllowed()
    if person.is_guardian:
        raise InvalidState(_("The guardian always stays on the list."))
    if not person.active:
        return person
    person.active, person.removed_at = False, timezone.now()
    person.save(update_fields=["active", "removed_at"])
    audit.record(actor=actor, event_type=ChildcareEvent.PICKUP_REMOVED, subject=person,
                 old={"active": True}, new={"active": False})
    return person


# --- enrolment and the waitlist -----------------------------------------------------------------


def waitlist_position(enrolment: Enrolment) -> int | None:
    if enrolment.state != EnrolmentState.WAITLISTED:
        return None
    return Enrolment.objects.filter(
        programme_id=enrolment.programme_id, state=EnrolmentState.WAITLISTED
    ).filter(models.Q(queued_at__lt=enrolment.queued_at)
             | models.Q(queued_at=enrolment.queued_at, pk__lt=enrolment.pk)).count() + 1


def _tell_enrolment(enrolment: Enrolment, template: str) -> None:
    _tell_guardian(enrolment.child, template, programme=enrolment.programme.name, ref=enrolment.case.reference,
                   link=_case_link(enrolment.case), position=waitlist_position(enrolment) or "")


@transaction.atomic
def enrol(*, actor, child: Child, programme: Programme) -> Enrolment:
    """The guardian (or the front desk) asks a place for the child: a place while there is one,
    else a place on the waitlist. Places are counted under the programme's row lock. A child
    outside the programme's ages is refused. Already enrolled or waiting: that is returned."""
    child = Child.objects.select_related("guardian").get(pk=child.pk)
    if not permissions.can_enrol(actor, child):
        raise NotAllowed()
    programme = _locked_programme(programme)
    existing = Enrolment.objects.filter(child=child, programme=programme,
                                        state__in=(EnrolmentState.WAITLISTED, EnrolmentState.ENROLLED)).first()
    if existing is not None:
        return existing
    if programme.ends_on < today():
        raise InvalidState(_("This programme has ended."), detail={"programme": "ended"})
    on = max(programme.starts_on, today())
    age = age_on(child.date_of_birth, on)
    if not programme.min_age <= age <= programme.max_age:
        raise InvalidInput(
            _("%(child)s will be %(age)d on %(day)s; %(programme)s takes children aged %(low)d to %(high)d.")
            % {"child": child.name, "age": age, "day": on.isoformat(), "programme": programme.name,
               "low": programme.min_age, "high": programme.max_age}, detail={"age": "out_of_range"})
    enrolled = programme.enrolments.filter(state=EnrolmentState.ENROLLED).count()
    now = timezone.now()
    case = hall.request_file(actor=actor, worker=child.guardian, department=DEPARTMENT, tell_worker=False,
                             description=_("Care for %(child)s: %(programme)s") % {"child": child.name,
                                                                                  "programme": programme.name})
    case = Case.objects.select_for_update().get(pk=case.pk)
    case.take_up(programme.station.coordinator)
    case.save(update_fields=["stage", "assignee"])
    enrolment = Enrolment.objects.create(child=child, programme=programme, case=case, queued_at=now)
    if enrolled < programme.capacity:
        enrolment.enrol(now)
        enrolment.save(update_fields=["state", "enrolled_at", "updated_at"])
    audit.record(actor=actor, event_type=ChildcareEvent.ENROLLED, subject=enrolment,
                 new={"programme": programme.pk, "case": case.pk, "state": enrolment.state})
    enrolment.programme = programme
    _tell_enrolment(enrolment, "care_enrolled" if enrolment.state == EnrolmentState.ENROLLED else "care_waitlisted")
    return enrolment


def _promote_waitlist(programme: Programme, actor) -> list[Enrolment]:
    """Fill free places with the first of the waitlist, in order; each guardian is told."""
    if programme.ends_on < today():
        return []
    free = programme.capacity - programme.enrolments.filter(state=EnrolmentState.ENROLLED).count()
    if free <= 0:
        return []
    now = timezone.now()
    promoted = list(Enrolment.objects.select_for_update(of=("self",))
                    .filter(programme=programme, state=EnrolmentState.WAITLISTED)
                    .select_related("case", "child__guardian").order_by("queued_at", "pk")[:free])
    for enrolment in promoted:
        enrolment.programme = programme
        enrolment.enrol(now)
        enrolment.save(update_fields=["state", "enrolled_at", "updated_at"])
        audit.record(actor=actor, event_type=ChildcareEvent.PROMOTED, subject=enrolment,
                     old={"state": EnrolmentState.WAITLISTED}, new={"state": enrolment.state})
        _tell_enrolment(enrolment, "care_promoted")
    return promoted


def _end_case(case_id: int, *, withdrawn: bool) -> Case:
    case = Case.objects.select_for_update().get(pk=case_id)
    if case.is_open:
        (case.withdraw if withdrawn else case.close)(timezone.now())
        case.save(update_fields=["stage", "closed_at"])
    return case


@transaction.atomic
def enrolment_withdraw(*, actor, enrolment: Enrolment) -> Enrolment:
    """The guardian (or the coordinator) gives the place back; it goes to the first waiting."""
    programme = _locked_programme(enrolment.programme)
    enrolment = (Enrolment.objects.select_for_update(of=("self",)).select_related("child__guardian", "case")
                 .get(pk=enrolment.pk))
    enrolment.programme = programme
    if not permissions.can_withdraw(actor, enrolment):
        raise NotAllowed()
    if enrolment.state == EnrolmentState.WITHDRAWN:
        return enrolment
    if enrolment.state == EnrolmentState.FINISHED:
        raise InvalidState(_("This programme is over."))
    old = enrolment.state
    enrolment.withdraw(timezone.now())
    enrolment.save(update_fields=["state", "ended_at", "updated_at"])
    _end_case(enrolment.case_id, withdrawn=True)
    audit.record(actor=actor, event_type=ChildcareEvent.WITHDRAWN, subject=enrolment,
                 old={"state": old}, new={"state": enrolment.state})
    if old == EnrolmentState.ENROLLED:
        _promote_waitlist(programme, actor)
    return enrolment


def enrolments_finish_ended(*, on: datetime.date | None = None) -> int:
    """Daily: the enrolments of programmes whose last day has passed finish; the hall case of
    a child who came closes (and the guardian is asked to rate the care), a waitlist place is
    withdrawn. Idempotent. Returns how many finished."""
    day = on or today()
    finished = 0
    while True:
        with transaction.atomic():
            batch = list(Enrolment.objects.select_for_update(skip_locked=True, of=("self",))
                         .filter(state__in=(EnrolmentState.WAITLISTED, EnrolmentState.ENROLLED),
                                 programme__ends_on__lt=day).select_related("case")[:100])
            for enrolment in batch:
                came = enrolment.state == EnrolmentState.ENROLLED and enrolment.attendances.exists()
                old = enrolment.state
                enrolment.finish(timezone.now())
                enrolment.save(update_fields=["state", "ended_at", "updated_at"])
                case = _end_case(enrolment.case_id, withdrawn=not came)
                audit.record(actor=None, event_type=ChildcareEvent.FINISHED, subject=enrolment,
                             old={"state": old}, new={"state": enrolment.state})
                if came and case.stage == Stage.CLOSED:
                    surveys.survey_invite(case=case, actor=None)
            finished += len(batch)
        if len(batch) < 100:
            return finished


# --- the daily roster ---------------------------------------------------------------------------


def _code_hash(attendance_id: int, code: str) -> str:
    return hashlib.sha256(f"pickup:{attendance_id}:{code}".encode()).hexdigest()


def _present(programme: Programme, day: datetime.date) -> int:
    return Attendance.objects.filter(enrolment__programme=programme, day=day,
                                     state=AttendanceState.CHECKED_IN).count()


def _on_duty(programme: Programme, day: datetime.date) -> int:
    return Duty.objects.filter(programme=programme, day=day).count()


def check_in(*, actor, enrolment: Enrolment, brought_by: str) -> Attendance:
    """The staff at the door take the child in. Refused when the child is not enrolled, the
    programme does not run today, or the staff on duty could not cover one more child (the
    coordinator is then told at once, and the refusal stays on record). The guardian receives
    the time and a one-time pick-up code. Already checked in today: that is returned."""
    refusal = None
    with transaction.atomic():
        programme = _locked_programme(enrolment.programme)
        enrolment = Enrolment.objects.select_related("child__guardian", "case").get(pk=enrolment.pk)
        station = programme.station
        if not permissions.works_station(actor, station):
            raise NotAllowed()
        brought_by = _clean(brought_by, field="brought_by")
        day = today()
        existing = Attendance.objects.filter(enrolment=enrolment, day=day).first()
        if existing is not None:
            return existing
        if enrolment.state != EnrolmentState.ENROLLED:
            raise InvalidState(_("%(child)s is not enrolled in this programme.") % {"child": enrolment.child.name})
        if not programme.runs_on(day):
            raise InvalidState(_("%(programme)s does not run today.") % {"programme": programme.name})
        now = timezone.now()
        if now >= programme.closing_time(day):
            raise InvalidState(_("The station has closed for today."))
        present, staff = _present(programme, day), _on_duty(programme, day)
        if present + 1 > staff * programme.ratio:
            refusal = InvalidState(
                _("Check-in refused: %(staff)d staff on duty can look after at most %(max)d children, and "
                  "%(present)d are here. The coordinator has been told.")
                % {"staff": staff, "max": staff * programme.ratio, "present": present}, detail={"ratio": "full"})
            audit.record(actor=actor, event_type=ChildcareEvent.CHECK_IN_REFUSED, subject=enrolment,
                         new={"day": day, "present": present, "staff": staff, "ratio": programme.ratio})
            with translation.override(station.coordinator.language):
                _tell_coordinator(station, "care_ratio_alert", when=_local(now), programme=programme.name,
                                  child=enrolment.child.name, ref=enrolment.case.reference)
        else:
            code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
            attendance = Attendance.objects.create(enrolment=enrolment, day=day, checked_in_at=now,
                                                   brought_by=brought_by, checked_in_by=actor, code_hash="")
            attendance.code_hash = _code_hash(attendance.pk, code)
            attendance.save(update_fields=["code_hash"])
            audit.record(actor=actor, event_type=ChildcareEvent.CHECKED_IN, subject=attendance,
                         new={"state": attendance.state, "day": day})
            _tell_guardian(enrolment.child, "care_checked_in", when=_local(now), code=code)
            _schedule_closing_check(programme.closing_time(day))
    if refusal is not None:
        raise refusal
    return attendance


def _schedule_closing_check(at: datetime.datetime) -> None:
    from childcare.tasks import closing_check

    closing_check.using(run_after=at).enqueue()


class PickupRefused(InvalidState):
    """A pick-up refused; the refusal is on record and the guardian told."""


def check_out(*, actor, attendance: Attendance, collector: PickupPerson | None, code: str,
              presented_name: str = "") -> Attendance:
    """The child leaves with ``collector``, one of the child's active authorised pick-up persons,
    who shows the code the guardian received at check-in. Anyone else (``collector`` None and
    the name they gave, a removed or another child's person, a wrong code) is refused: the
    refusal is recorded and the guardian told at once by an urgent SMS. Already checked out:
    returned as it is."""
    refusal = None
    with transaction.atomic():
        attendance = (Attendance.objects.select_for_update(of=("self",))
                      .select_related("enrolment__programme__station", "enrolment__child__guardian",
                                      "enrolment__case")
                      .get(pk=attendance.pk))
        child, station = attendance.enrolment.child, attendance.enrolment.programme.station
        if not permissions.works_station(actor, station):
            raise NotAllowed()
        if attendance.state == AttendanceState.CHECKED_OUT:
            return attendance
        authorised = collector is not None and child.pickup_persons.filter(pk=collector.pk, active=True).exists()
        given = collector.name if collector is not None else _clean(presented_name, field="presented_name")
        reason = None
        if not authorised:
            reason = RefusalReason.NOT_AUTHORISED
        elif not hmac.compare_digest(_code_hash(attendance.pk, str(code or "").strip()), attendance.code_hash):
            reason = RefusalReason.WRONG_CODE
        now = timezone.now()
        if reason is not None:
            row = PickupRefusal.objects.create(attendance=attendance, at=now, presented_name=given[:50],
                                               reason=reason, refused_by=actor)
            audit.record(actor=actor, event_type=ChildcareEvent.PICKUP_REFUSED, subject=attendance,
                         new={"refusal": row.pk, "reason": reason})
            _tell_guardian(child, "care_pickup_refused", urgent=True, when=_local(now), collector=given[:50],
                           ref=attendance.enrolment.case.reference)
            refusal = PickupRefused(
                _("Pick-up refused: %(name)s is not authorised to collect %(child)s. The guardian has been told.")
                % {"name": given, "child": child.name} if reason == RefusalReason.NOT_AUTHORISED
                else _("Pick-up refused: the code is wrong. The guardian has been told."),
                detail={"pickup": reason})
        else:
            attendance.check_out(actor, collector, now)
            attendance.save(update_fields=["state", "checked_out_by", "collected_by", "checked_out_at"])
            audit.record(actor=actor, event_type=ChildcareEvent.CHECKED_OUT, subject=attendance,
                         old={"state": AttendanceState.CHECKED_IN},
                         new={"state": attendance.state, "collected_by": collector.pk})
            _tell_guardian(child, "care_checked_out", when=_local(now), collector=collector.name,
                           ref=attendance.enrolment.case.reference)
    if refusal is not None:
        raise refusal
    return attendance


def closing_alerts(*, now: datetime.datetime | None = None) -> int:
    """Every child still checked in after their programme's closing time raises one alert: an
    urgent SMS to the guardian, and one to the station's coordinator. Each
    attendance is alerted once (marked in the transaction that queues the SMS; SKIP LOCKED lets
    two sweeps share the work). Returns how many children were reported."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(Attendance.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(state=AttendanceState.CHECKED_IN, alerted_at__isnull=True,
                            day__lte=timezone.localtime(now, SHANGHAI).date())
                    .select_related("enrolment__programme__station__coordinator", "enrolment__child__guardian",
                                    "enrolment__case"))
        late = [a for a in rows if a.enrolment.programme.closing_time(a.day) <= now]
        for attendance in late:
            attendance.alerted_at = now
            attendance.save(update_fields=["alerted_at"])
            enrolment = attendance.enrolment
            closed = _local(enrolment.programme.closing_time(attendance.day))
            _tell_guardian(enrolment.child, "care_not_collected", urgent=True, when=closed,
                           ref=enrolment.case.reference)
            station = enrolment.programme.station
            with translation.override(station.coordinator.language):
                _tell_coordinator(station, "care_coordinator_not_collected", when=closed, child=enrolment.child.name,
                                  ref=enrolment.case.reference)
            audit.record(actor=None, event_type=ChildcareEvent.CLOSING_ALERT, subject=attendance,
                         new={"day": attendance.day})
    return len(late)


# --- incidents ----------------------------------------------------------------------------------


@transaction.atomic
def incident_record(*, actor, enrolment: Enrolment, occurred_at: datetime.datetime, kind: str, description: str,
                    action_taken: str) -> Incident:
    """The staff record an injury, illness or behaviour incident: when, what happened, what was
    done (both encrypted). The guardian is told by SMS at once (without the details)."""
    enrolment = Enrolment.objects.select_related("programme__station", "child__guardian", "case").get(pk=enrolment.pk)
    if not permissions.works_station(actor, enrolment.programme.station):
        raise NotAllowed()
    if kind not in IncidentKind.values:
        raise InvalidInput(_("Choose a kind of incident from the list."), detail={"kind": "invalid"})
    if occurred_at is None or occurred_at > timezone.now() + datetime.timedelta(minutes=5):
        raise InvalidInput(_("Give the time it happened (not in the future)."), detail={"occurred_at": "invalid"})
    if timezone.localtime(occurred_at, SHANGHAI).date() < enrolment.programme.starts_on:
        raise InvalidInput(_("Give the time it happened (not before the programme began)."),
                           detail={"occurred_at": "invalid"})
    now = timezone.now()
    incident = Incident.objects.create(
        enrolment=enrolment, occurred_at=occurred_at, kind=kind, reported_by=actor, guardian_told_at=now,
        description=_clean(description, field="description", limit=TEXT_MAX),
        action_taken=_clean(action_taken, field="action_taken", limit=TEXT_MAX))
    audit.record(actor=actor, event_type=ChildcareEvent.INCIDENT_RECORDED, subject=incident,
                 new={"enrolment": enrolment.pk, "kind": kind})
    _tell_guardian(enrolment.child, "care_incident", urgent=True, when=_local(occurred_at),
                   ref=enrolment.case.reference, link=_case_link(enrolment.case))
    return incident


def record_view(*, actor, subject, event: str) -> None:
    """Reading a child's private record or a roster with medical notes is an audit event."""
    with transaction.atomic():
        audit.record(actor=actor, event_type=event, subject=subject)
