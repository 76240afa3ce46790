"""Who may do what with counseling appointments: the worker with their own (book, cancel,
reschedule), the front desk books for a walk-in, the counselor of the appointment the rest.
Nobody else: not other counselors, not the center manager, not the administrator."""

from care import permissions as hall
from care.roles import Role
from counseling.models import DEPARTMENT, Appointment, GroupSession, GroupSignup

WORKER_TRANSITIONS = {"cancel"}
COUNSELOR_TRANSITIONS = {"confirm", "check_in", "complete", "refer", "cancel", "no_show"}


def is_counselor(user) -> bool:
    """A counselor working in the counseling department."""
    return bool(user.is_authenticated and user.is_active and user.has_role(Role.COUNSELOR)
                and hall.works_department(user, DEPARTMENT))


def is_the_worker(user, worker) -> bool:
    return bool(user.is_authenticated and user.has_role(Role.WORKER) and worker.user_id == user.pk)


def is_its_counselor(user, appointment: Appointment) -> bool:
    return is_counselor(user) and appointment.counselor_id == user.pk


def can_book(user, worker) -> bool:
    """The worker for themselves, or the front desk for a walk-in."""
    return is_the_worker(user, worker) or hall.can_file_for_walk_in(user)


def can_see_free_times(user) -> bool:
    """The services, the bookable counselors and their free times (no private data): whoever
    books (a worker, the front desk) and the department's counselors (who move appointments)."""
    return bool(user.is_authenticated and user.is_active
                and (user.has_role(Role.WORKER) or hall.can_file_for_walk_in(user) or is_counselor(user)))


def can_record_consent(user, worker) -> bool:
    """The worker online, or the front desk recording the signed form of a walk-in."""
    return is_the_worker(user, worker) or hall.can_file_for_walk_in(user)


def can_act(user, appointment: Appointment, transition: str) -> bool:
    if transition in WORKER_TRANSITIONS and is_the_worker(user, appointment.case.worker):
        return True
    return transition in COUNSELOR_TRANSITIONS and is_its_counselor(user, appointment)


def can_reschedule(user, appointment: Appointment) -> bool:
    return is_the_worker(user, appointment.case.worker) or is_its_counselor(user, appointment)


# --- cases: notes, supervision, risk -----------------------------------------------------------


def is_case_counselor(user, case) -> bool:
    """The counselor the counseling case is assigned to (the counselor of its appointments)."""
    return bool(is_counselor(user) and case.department == DEPARTMENT and case.assignee_id == user.pk)


def can_add_note(user, appointment: Appointment) -> bool:
    return is_its_counselor(user, appointment)


def can_grant_supervision(user, case) -> bool:
    return is_case_counselor(user, case)


def can_supervise(user) -> bool:
    """Only a counselor of the department may be named supervisor."""
    return is_counselor(user)


def can_flag_risk(user, case) -> bool:
    return is_case_counselor(user, case)


def can_acknowledge_risk(user, case) -> bool:
    """Any counselor of the department (the on-call counselor is one of them): acknowledging
    reads nothing of the case, it records who took the alert."""
    return bool(is_counselor(user) and case.department == DEPARTMENT)


# --- group sessions and workshops --------------------------------------------------------------


def can_lead_groups(user) -> bool:
    """A counselor of the department schedules the sessions they lead."""
    return is_counselor(user)


def is_facilitator(user, session: GroupSession) -> bool:
    return is_counselor(user) and session.facilitator_id == user.pk


def can_cancel_signup(user, signup: GroupSignup) -> bool:
    """The worker their own place; the facilitator any place of their session."""
    return is_the_worker(user, signup.worker) or is_facilitator(user, signup.session)
