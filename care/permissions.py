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


def visible_case_ids(user):
    """The ids of the cases whose content ``user`` may read, as one subquery: a ``UNION`` of the
    parts that apply (their own cases; their department's cases assigned to them or waiting to be
    taken up; the cases granted to them), so that each part is one index scan. An ``OR`` of the
    same parts cannot use an index: on a million cases the queue's count read the whole table."""
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none().values("pk")
    parts = []
    if user.has_role(Role.WORKER):
        parts.append(Case.objects.filter(worker__user=user).values("pk"))
    if user.department and works_department(user, user.department):
        department = Case.objects.filter(department=user.department)
        parts.append(department.filter(assignee=user).values("pk"))
        parts.append(department.filter(assignee__isnull=True, stage=Stage.RECEIVED).values("pk"))
    if user.has_role(*{r for roles in DEPARTMENT_ROLES.values() for r in roles}, Role.ARBITRATOR):
        parts.append(granted_case_ids(user))
    if not parts:
        return Case.objects.none().values("pk")
    first, *rest = parts
    return first.union(*rest) if rest else first


def visible_cases_q(user) -> Q:
    """The cases whose content ``user`` may read, as a filter."""
    return Q(pk__in=visible_case_ids(user))


def can_read_case(user, case_id: int) -> bool:
    return Case.objects.filter(visible_cases_q(user), pk=case_id).exists()


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
