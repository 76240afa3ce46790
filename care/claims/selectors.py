"""Every read of claims, scoped to the user in the query."""

import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy

from care import permissions as hall
from care import registry
from care.claims import permissions
from care.claims.models import (
    COUNTED_STATES,
    OPEN_STATES,
    Claim,
    ClaimState,
    Enrolment,
    PaymentBatch,
    PlanVersion,
    Receipt,
)
from care.registry import Figure
from care.roles import Role
from care.selectors import MIN_GROUP_SIZE


def _visible_q(user) -> Q:
    q = Q(case__in=hall.visible_case_ids(user))
    if permissions.is_reviewer(user):
        q |= Q(state=ClaimState.SECOND_APPROVAL)
    return q


def claims_for_user(*, user) -> QuerySet[Claim]:
    if not user.is_authenticated:
        return Claim.objects.none()
    return (Claim.objects.filter(_visible_q(user))
            .select_related("case", "case__worker", "case__assignee", "enrolment__plan")
            .order_by("-submitted_at", "-pk"))


def claim_get_for_user(*, claim_id, user) -> Claim:
    """The claim, if ``user`` may read it; Http404 otherwise (absent or forbidden alike)."""
    try:
        return claims_for_user(user=user).get(pk=claim_id)
    except (Claim.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def claim_queue(*, user, state: str = "", query: str = "") -> QuerySet[Claim]:
    """The claims office's queue: new claims to take up, the user's own, and (reviewers)
    claims waiting for a second approval."""
    rows = claims_for_user(user=user)
    if state:
        rows = rows.filter(state=state)
    else:
        rows = rows.filter(state__in=[ClaimState.SUBMITTED, ClaimState.UNDER_REVIEW, ClaimState.INFO_REQUESTED,
                                      ClaimState.SECOND_APPROVAL, ClaimState.APPROVED])
    if query:
        rows = rows.filter(case__reference__icontains=query.strip())
    return rows.order_by("submitted_at", "pk")


def receipt_get_for_user(*, receipt_id, user) -> Receipt:
    try:
        return Receipt.objects.select_related("claim__case").get(
            pk=receipt_id, claim__in=claims_for_user(user=user).values("pk"))
    except (Receipt.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def version_in_force(*, plan_id: int, day: datetime.date) -> PlanVersion | None:
    return PlanVersion.objects.filter(plan_id=plan_id, effective_from__lte=day).order_by("-effective_from").first()


def cover_start(enrolment: Enrolment) -> datetime.date:
    """The first day of the member's unbroken cover in the plan that includes ``enrolment``
    (renewals without a gap do not start a new waiting period)."""
    periods = list(Enrolment.objects.filter(worker_id=enrolment.worker_id, plan_id=enrolment.plan_id,
                                            starts_on__lte=enrolment.starts_on)
                   .order_by("-starts_on").values_list("starts_on", "ends_on"))
    start = enrolment.starts_on
    for starts_on, ends_on in periods:
        if starts_on < start and ends_on >= start - datetime.timedelta(days=1):
            start = starts_on
    return start


def used_in_year(*, worker_id: int, plan_id: int, year: int, exclude_claim_id: int | None = None) -> Decimal:
    """What the member's approved and paid claims in the plan took of that year's cap."""
    rows = Claim.objects.filter(enrolment__worker_id=worker_id, enrolment__plan_id=plan_id, cap_year=year,
                                state__in=COUNTED_STATES)
    if exclude_claim_id:
        rows = rows.exclude(pk=exclude_claim_id)
    return rows.aggregate(total=Sum("approved_amount"))["total"] or Decimal("0.00")


def cover_for_worker(*, worker) -> list[dict]:
    """The member's enrolments, newest first, each with the use of its plan's annual cap: this
    year's for current cover, the last covered year's for past cover."""
    today = timezone.localdate()
    rows = []
    for enrolment in Enrolment.objects.filter(worker=worker).select_related("plan").order_by("-starts_on"):
        day = min(max(today, enrolment.starts_on), enrolment.ends_on)
        version = version_in_force(plan_id=enrolment.plan_id, day=day)
        used = used_in_year(worker_id=worker.pk, plan_id=enrolment.plan_id, year=day.year)
        rows.append({"enrolment": enrolment, "version": version, "current": enrolment.covers(today), "year": day.year,
                     "used": used, "left": max(Decimal("0.00"), version.annual_cap - used) if version else None})
    return rows


def enrolment_get_for_worker(*, enrolment_id, worker) -> Enrolment | None:
    """One of the member's own enrolments, or None."""
    try:
        return Enrolment.objects.select_related("plan").get(pk=enrolment_id, worker=worker)
    except (Enrolment.DoesNotExist, ValueError, TypeError):
        return None


def batches_for_user(*, user) -> QuerySet[PaymentBatch]:
    if not permissions.is_claims_staff(user):
        return PaymentBatch.objects.none()
    return PaymentBatch.objects.select_related("created_by", "paid_by").order_by("-created_at")


def batch_get_for_user(*, batch_id, user) -> PaymentBatch:
    try:
        return batches_for_user(user=user).get(pk=batch_id)
    except (PaymentBatch.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def ready_to_pay() -> QuerySet[Claim]:
    return Claim.objects.filter(state=ClaimState.APPROVED, batch__isnull=True)


def paid_by_month_and_category(*, since: datetime.date | None = None) -> list[dict]:
    """Totals paid, by month and category, for the center manager: counts and sums only,
    aggregated in the database. A group of fewer than the minimum group size is suppressed
    (claims and total None), so that no member's payment can be singled out."""
    rows = Claim.objects.filter(state=ClaimState.PAID)
    if since:
        rows = rows.filter(paid_at__date__gte=since)
    groups = (rows.annotate(month=TruncMonth("paid_at")).values("month", "category")
              .annotate(claims=Count("pk"), total=Sum("approved_amount")).order_by("-month", "category"))
    return [g if g["claims"] >= MIN_GROUP_SIZE else {**g, "claims": None, "total": None} for g in groups]


def is_member(user) -> bool:
    return user.is_authenticated and user.has_role(Role.WORKER)


def figures(*, since, until) -> list[Figure]:
    """The manager's claims figures (care.registry.register_figures): claims open longer than
    the department's response time, and claims paid in the period."""
    review_time = registry.department("claims").response_time
    waiting = Claim.objects.filter(state__in=OPEN_STATES, submitted_at__lt=timezone.now() - review_time).count()
    paid = Claim.objects.filter(paid_at__gte=since, paid_at__lt=until).count()
    return [Figure(gettext_lazy("Claims open past the review time (%(days)d days)")
                   % {"days": review_time.days}, waiting),
            Figure(gettext_lazy("Claims paid"), paid)]
