"""Who may do what at the care station. A child's safety and privacy come first:
* the guardian (the worker whose child it is) manages their children, pick-up persons and
  enrolments, online; the front desk may enrol a walk-in's child;
* the staff of a station (care station staff working the childcare department, named on the
  station) run its roster: check-in, check-out, incidents; they never see another station's
  children. A child's allergies and medical notes are shown to the staff on duty that day
  for the child's programme, and to the station's coordinator;
* the coordinator of a station runs its programmes, duties and exports;
* nobody else: not other departments, not the center manager, not the administrator."""

from care import permissions as hall
from care.roles import Role
from childcare.models import DEPARTMENT, Duty, Station


def is_care_staff(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_role(Role.CHILDCARE_STAFF)
                and hall.works_department(user, DEPARTMENT))


def is_the_guardian(user, child) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_role(Role.WORKER)
                and child.guardian.user_id == user.pk)


def can_enrol(user, child) -> bool:
    return is_the_guardian(user, child) or hall.can_file_for_walk_in(user)


def works_station(user, station: Station) -> bool:
    return is_care_staff(user) and (station.coordinator_id == user.pk
                                    or station.staff.filter(pk=user.pk).exists())


def is_coordinator(user, station: Station) -> bool:
    return is_care_staff(user) and station.coordinator_id == user.pk


def is_on_duty(user, programme, day) -> bool:
    return is_care_staff(user) and Duty.objects.filter(programme=programme, day=day, staff=user).exists()


def can_read_medical(user, programme, day) -> bool:
    """Allergies and medical notes: the staff on duty for the programme that day, and the
    station's coordinator."""
    return is_coordinator(user, programme.station) or is_on_duty(user, programme, day)


def can_withdraw(user, enrolment) -> bool:
    return is_the_guardian(user, enrolment.child) or is_coordinator(user, enrolment.programme.station)


def can_see_programmes(user) -> bool:
    """The programmes open for enrolment (no names): workers and the care station's staff."""
    return bool(user.is_authenticated and user.is_active and (user.has_role(Role.WORKER) or is_care_staff(user)))
