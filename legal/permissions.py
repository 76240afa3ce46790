"""Who may do what with a legal aid case. Reading goes through care.permissions (the case's
visibility); these are the extra rules of the legal team."""

from care import permissions as hall
from care.roles import Role
from legal.models import LegalCase

DEPARTMENT = "legal"


def is_legal_team(user, legal_case: LegalCase) -> bool:
    """The legal officer or mediator who has the case (assigned to it, or granted it)."""
    case = legal_case.case
    return hall.works_department(user, DEPARTMENT) and (
        case.assignee_id == user.pk or hall.granted_case_ids(user).filter(content_object_id=case.pk).exists()
    )


def is_the_worker(user, legal_case: LegalCase) -> bool:
    return user.has_role(Role.WORKER) and legal_case.case.worker.user_id == user.pk


def can_read_notes(user, legal_case: LegalCase) -> bool:
    return is_legal_team(user, legal_case)


def can_act(user, legal_case: LegalCase, transition: str) -> bool:
    """Transitions: the worker may only withdraw; everything else is the legal team's."""
    if transition == "withdraw":
        return is_the_worker(user, legal_case) or is_legal_team(user, legal_case)
    return is_legal_team(user, legal_case)


def is_hearing_arbitrator(user, legal_case: LegalCase) -> bool:
    """The arbitrator of a (not cancelled) hearing of the case: they may add the award."""
    return user.has_role(Role.ARBITRATOR) and legal_case.hearings.filter(
        arbitrator=user, state__in=["scheduled", "held"]
    ).exists()
