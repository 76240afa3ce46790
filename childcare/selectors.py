"""Every read of the care station, scoped to the user in the query: a guardian reads their own
children; the staff of a station its roster, enrolments and incidents (never another
station's); the coordinator their stations' programmes. Anything else is a 404, as for a
record that does not exist."""

import datetime

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy

from care.registry import Figure
from care.roles import Role
from childcare import permissions
from childcare.models import (
    Attendance,
    Child,
    Duty,
    Enrolment,
    EnrolmentState,
    Incident,
    PickupPerson,
    Programme,
    Station,
    today,
)


def stations_for(*, user) -> QuerySet[Station]:
    if not permissions.is_care_staff(user):
        return Station.objects.none()
    return Station.objects.filter(Q(coordinator=user) | Q(staff=user)).distinct()


def coordinated_stations(*, user) -> QuerySet[Station]:
    if not permissions.is_care_staff(user):
        return Station.objects.none()
    return Station.objects.filter(coordinator=user)


def children_for_guardian(*, user) -> QuerySet[Child]:
    if not (user.is_authenticated and user.has_role(Role.WORKER)):
        return Child.objects.none()
    return Child.objects.filter(guardian__user=user)


def child_get_for_guardian(*, child_id: int, user) -> Child:
    child = children_for_guardian(user=user).select_related("guardian").filter(pk=child_id).first()
    if child is None:
        raise Http404
    return child


def enrolments_for_guardian(*, user) -> QuerySet[Enrolment]:
    return (Enrolment.objects.filter(child__in=children_for_guardian(user=user))
            .select_related("child", "programme__station", "case").order_by("-queued_at", "-pk"))


def enrolment_get_for_guardian(*, enrolment_id: int, user) -> Enrolment:
    enrolment = enrolments_for_guardian(user=user).filter(pk=enrolment_id).first()
    if enrolment is None:
        raise Http404
    return enrolment


def open_programmes() -> QuerySet[Programme]:
    """Programmes a child can still be enrolled in (not over), with places taken and waiting:
    no names, open to any signed-in worker."""
    return (Programme.objects.filter(ends_on__gte=today()).select_related("station")
            .annotate(enrolled=Count("enrolments", filter=Q(enrolments__state=EnrolmentState.ENROLLED)),
                      waiting=Count("enrolments", filter=Q(enrolments__state=EnrolmentState.WAITLISTED)))
            .order_by("starts_on", "name", "pk"))


def programmes_for_staff(*, user) -> QuerySet[Programme]:
    return (Programme.objects.filter(station__in=stations_for(user=user)).select_related("station")
            .annotate(enrolled=Count("enrolments", filter=Q(enrolments__state=EnrolmentState.ENROLLED)),
                      waiting=Count("enrolments", filter=Q(enrolments__state=EnrolmentState.WAITLISTED))))


def programme_get_for_staff(*, programme_id: int, user) -> Programme:
    programme = programmes_for_staff(user=user).filter(pk=programme_id).first()
    if programme is None:
        raise Http404
    return programme


def roster(*, user, day: datetime.date, search: str = "") -> list[Enrolment]:
    """The children expected on ``day`` at the user's stations (enrolled in a programme running
    that day), each with its attendance of the day (or None), its active pick-up persons and
    whether the user may read its medical notes. Two queries for the lot, whatever its size."""
    weekday = str(day.isoweekday())
    rows = (Enrolment.objects
            .filter(state=EnrolmentState.ENROLLED, programme__station__in=stations_for(user=user),
                    programme__starts_on__lte=day, programme__ends_on__gte=day,
                    programme__weekdays__contains=weekday)
            .select_related("child__guardian", "programme__station")
            .prefetch_related(Prefetch("attendances", queryset=Attendance.objects.filter(day=day),
                                       to_attr="today"),
                              Prefetch("child__pickup_persons", queryset=PickupPerson.objects.filter(active=True),
                                       to_attr="authorised"),
                              "child__emergency_contacts")
            .order_by("programme__name", "child__name", "pk"))
    if search:
        rows = rows.filter(child__name__icontains=search.strip())
    rows = list(rows)
    duties = set(Duty.objects.filter(staff=user, day=day).values_list("programme_id", flat=True))
    coordinated = set(coordinated_stations(user=user).values_list("pk", flat=True))
    for enrolment in rows:
        enrolment.attendance = enrolment.today[0] if enrolment.today else None
        enrolment.may_read_medical = (enrolment.programme_id in duties
                                      or enrolment.programme.station_id in coordinated)
    return rows


def enrolment_get_for_staff(*, enrolment_id: int, user) -> Enrolment:
    enrolment = (Enrolment.objects.filter(pk=enrolment_id, programme__station__in=stations_for(user=user))
                 .select_related("child__guardian", "programme__station", "case").first())
    if enrolment is None:
        raise Http404
    return enrolment


def attendance_get_for_staff(*, attendance_id: int, user) -> Attendance:
    attendance = (Attendance.objects
                  .filter(pk=attendance_id, enrolment__programme__station__in=stations_for(user=user))
                  .select_related("enrolment__child__guardian", "enrolment__programme__station").first())
    if attendance is None:
        raise Http404
    return attendance


def pickup_person_get_for_staff(*, person_id: int, user) -> PickupPerson:
    """A pick-up person's photo, for the staff of a station where the child is enrolled."""
    person = (PickupPerson.objects
              .filter(pk=person_id, child__enrolments__programme__station__in=stations_for(user=user))
              .distinct().first())
    if person is None:
        raise Http404
    return person


def pickup_person_get_for_guardian(*, person_id: int, user) -> PickupPerson:
    person = PickupPerson.objects.filter(pk=person_id, child__in=children_for_guardian(user=user)).first()
    if person is None:
        raise Http404
    return person


def enrolments_for_staff(*, user, programme: Programme | None = None) -> QuerySet[Enrolment]:
    rows = Enrolment.objects.filter(programme__station__in=stations_for(user=user))
    if programme is not None:
        rows = rows.filter(programme=programme)
    return rows.select_related("child__guardian", "programme", "case").order_by("programme__name", "state",
                                                                              "queued_at", "pk")


def incidents_for_staff(*, user) -> QuerySet[Incident]:
    return (Incident.objects.filter(enrolment__programme__station__in=stations_for(user=user))
            .select_related("enrolment__child", "enrolment__programme", "reported_by"))


def incidents_for_guardian(*, user) -> QuerySet[Incident]:
    return (Incident.objects.filter(enrolment__child__in=children_for_guardian(user=user))
            .select_related("enrolment__child", "enrolment__programme"))


def attendance_rows(*, programme: Programme, since: datetime.date, until: datetime.date) -> QuerySet[Attendance]:
    return (Attendance.objects.filter(enrolment__programme=programme, day__gte=since, day__lte=until)
            .select_related("enrolment__child", "collected_by", "checked_in_by", "checked_out_by")
            .order_by("day", "enrolment__child__name", "pk"))


def duties_on(*, programme: Programme, day: datetime.date) -> QuerySet[Duty]:
    return Duty.objects.filter(programme=programme, day=day).select_related("staff")


def attendance_today_for_guardian(*, user, day: datetime.date) -> QuerySet[Attendance]:
    return (Attendance.objects.filter(enrolment__child__in=children_for_guardian(user=user), day=day)
            .select_related("enrolment", "collected_by"))


def enrolment_get_for_user(*, enrolment_id: int, user) -> Enrolment:
    """An enrolment for its guardian, or for the coordinator of its station."""
    enrolment = (Enrolment.objects.filter(pk=enrolment_id)
                 .filter(Q(child__in=children_for_guardian(user=user))
                         | Q(programme__station__in=coordinated_stations(user=user)))
                 .select_related("child__guardian", "programme__station", "case").first())
    if enrolment is None:
        raise Http404
    return enrolment


def station_members(*, station: Station) -> list:
    """The coordinator and the staff of a station, who can be put on duty."""
    members = {station.coordinator_id: station.coordinator}
    members.update({m.pk: m for m in station.staff.all()})
    return [m for m in members.values() if permissions.is_care_staff(m)]


def children_of_worker_for_desk(*, worker) -> QuerySet[Child]:
    """A walk-in's children, for the front desk (who then shows names only)."""
    return Child.objects.filter(guardian=worker).only("pk", "name", "date_of_birth", "guardian_id")


def figures(*, since, until) -> list[Figure]:
    """The manager's care-station figures (care.registry.register_figures): attendance in the
    period, in child-days and in children."""
    came = Attendance.objects.filter(day__gte=timezone.localtime(since).date(),
                                     day__lt=timezone.localtime(until).date())
    counts = came.aggregate(days=Count("id"), children=Count("enrolment__child", distinct=True))
    return [Figure(gettext_lazy("Child-days of care"), counts["days"], people=counts["children"]),
            Figure(gettext_lazy("Children who came"), counts["children"])]
