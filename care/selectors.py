"""Every read of the hall, scoped to the user in the query itself."""

from django.db.models import Q, QuerySet
from django.http import Http404

from care import permissions
from care.errors import InvalidInput
from care.models import Case, OutboundSms, Worker
from care.validators import normalize_mobile, normalize_national_id

SUMMARY_FIELDS = (
    "id",
    "reference",
    "department",
    "stage",
    "priority",
    "channel",
    "opened_at",
    "due_at",
    "closed_at",
    "worker__id",
    "worker__name",
    "worker__mobile",
    "assignee__id",
    "assignee__username",
)


def case_get_for_user(*, case_id: int, user) -> Case:
    """The case, if ``user`` may read its content; Http404 otherwise (absent or forbidden alike)."""
    try:
        return (
            Case.objects.filter(permissions.visible_cases_q(user))
            .select_related("worker", "assignee", "filed_by")
            .get(pk=case_id)
        )
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def cases_for_user(*, user) -> QuerySet[Case]:
    """Cases whose content the user may read, newest first."""
    return (
        Case.objects.filter(permissions.visible_cases_q(user))
        .select_related("worker", "assignee")
        .order_by("-opened_at", "-id")
    )


def case_summaries_for_user(*, user) -> QuerySet[Case]:
    """Who filed and for which department, for the front desk: no content columns loaded."""
    return (
        Case.objects.filter(permissions.summary_cases_q(user))
        .select_related("worker", "assignee")
        .only(*SUMMARY_FIELDS)
        .order_by("-opened_at", "-id")
    )


def filter_cases(
    qs: QuerySet[Case], *, stage: str = "", department: str = "", query: str = "", mine_only: bool = False, user=None
) -> QuerySet[Case]:
    """Queue filters: stage, department, 'assigned to me', and a search by reference or mobile."""
    if stage:
        qs = qs.filter(stage=stage)
    if department:
        qs = qs.filter(department=department)
    if mine_only and user is not None:
        qs = qs.filter(assignee=user)
    query = query.strip()
    if query:
        match = Q(reference__iexact=query)
        try:
            match |= Q(worker__mobile=normalize_mobile(query))
        except InvalidInput:
            pass
        qs = qs.filter(match)
    return qs


def worker_find(*, query: str) -> Worker | None:
    """The worker with this mobile number or national ID number (exact, via the blind index)."""
    query = query.strip()
    try:
        return Worker.objects.filter(mobile=normalize_mobile(query)).first()
    except InvalidInput:
        pass
    try:
        national_id = normalize_national_id(query)
    except InvalidInput:
        return None
    return Worker.objects.filter(national_id_index=Worker.index_for(national_id)).first()


def worker_for_user(*, user) -> Worker | None:
    return Worker.objects.filter(user=user).first() if user.is_authenticated else None


MIN_GROUP_SIZE = 5


def shown(n):
    """A count about people for the figures: None below the minimum group size (0 is shown)."""
    return n if n is None or n == 0 or n >= MIN_GROUP_SIZE else None


def guard_total(parts: list[tuple[int, int | None]], total: int):
    """A total over parts (each: its count, and what is shown of it): None when the parts
    suppressed add up to fewer than the minimum group size, since the total less the parts shown
    would give them back."""
    hidden = sum(raw for raw, show in parts if show is None)
    return None if 0 < hidden < MIN_GROUP_SIZE else shown(total)


def worker_by_mobile(*, mobile: str) -> Worker | None:
    return Worker.objects.filter(mobile=mobile).select_related("user").first()


def outbox(*, status: str = "", template: str = "", number: str = "", day=None) -> QuerySet[OutboundSms]:
    """The SMS outbox for staff, newest first, with the filters of the outbox page and API."""
    rows = OutboundSms.objects.order_by("-created_at", "-id")
    if status:
        rows = rows.filter(status=status)
    if template:
        rows = rows.filter(template=template.strip())
    if number:
        try:
            rows = rows.filter(to=normalize_mobile(number))
        except InvalidInput:
            rows = rows.none()
    if day:
        rows = rows.filter(created_at__date=day)
    return rows
