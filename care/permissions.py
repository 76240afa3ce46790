"""Who may see and do what in the hall. The one wrapper over django-guardian lives here:
nothing else imports guardian.

Rules (shared/design/glossary.md):
* a worker sees their own cases;
* department staff see their department's new, unassigned cases (to take one up) and the
  cases assigned to them or granted to them object by object;
* other roles (arbitrators, later) see exactly the cases granted to them;
* the front desk sees who filed and for which department, never the content;
* a global model permission never opens someone else's case; the center manager and the
  administrator see figures and configuration, never case content.
"""

from django.db.models import Q
from guardian.shortcuts import assign_perm, remove_perm

from care.models import Case, CaseUserObjectPermission, Stage
from care.roles import DEPARTMENT_ROLES, Role

CASE_VIEW = "view_case"
CASE_CHANGE = "change_case"


def grant_case(*, case: Case, user, perm: str = CASE_VIEW) -> None:
    assign_perm(f"care.{perm}", user, case)


def revoke_case(*, case: Case, user, perm: str = CASE_VIEW) -> None:
    remove_perm(f"care.{perm}", user, case)


def works_department(user, department: str) -> bool:
    return bool(user.department == department and user.has_role(*DEPARTMENT_ROLES.get(department, ())))


def granted_case_ids(user, perm: str = CASE_VIEW):
    return CaseUserObjectPermission.objects.filter(user=user, permission__codename=perm).values(
        "content_object_id"
    )


def visible_cases_q(user) -> Q:
    """The cases whose content ``user`` may read, as a filter for one query."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    q = Q(pk__in=[])
    if user.has_role(Role.WORKER):
        q |= Q(worker__user=user)
    if user.department and works_department(user, user.department):
        q |= Q(department=user.department) & (
            Q(assignee=user) | Q(assignee__isnull=True, stage=Stage.RECEIVED)
        )
    if user.has_role(*{r for roles in DEPARTMENT_ROLES.values() for r in roles}, Role.ARBITRATOR):
        q |= Q(pk__in=granted_case_ids(user))
    return q


def visible_cases_q_subquery(user):
    """The ids of the cases ``user`` may read, for filtering related tables in one query."""
    return Case.objects.filter(visible_cases_q(user)).values("pk")


def summary_cases_q(user) -> Q:
    """Cases the front desk may list by who and department (never content)."""
    if user.is_authenticated and user.has_role(Role.FRONT_DESK):
        return Q()
    return Q(pk__in=[])


def can_file_for_walk_in(user) -> bool:
    return user.is_authenticated and user.has_role(Role.FRONT_DESK)


def can_take_up(user, case: Case) -> bool:
    return works_department(user, case.department) and case.assignee_id in (None, user.pk)


def can_close(user, case: Case) -> bool:
    return works_department(user, case.department) and case.assignee_id == user.pk


def can_withdraw(user, case: Case) -> bool:
    return user.has_role(Role.WORKER) and case.worker.user_id == user.pk


def is_staff_of_any_department(user) -> bool:
    return bool(user.department and works_department(user, user.department))
