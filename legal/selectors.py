"""Every read of legal aid, scoped to the user in the query."""

from django.db.models import Count, F, Min, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy

from care import permissions as hall
from care.registry import Figure
from legal.models import OPEN_STATES, Deadline, Hearing, HearingState, LegalCase


def legal_cases_for_user(*, user) -> QuerySet[LegalCase]:
    """Legal cases whose content the user may read, with each one's next open deadline."""
    return (
        LegalCase.objects.filter(case__in=hall.visible_case_ids(user))
        .select_related("case", "case__worker", "case__assignee")
        .annotate(next_due=Min("deadlines__due_on", filter=Q(deadlines__met_at__isnull=True)))
    )


def legal_case_get_for_user(*, legal_case_id: int, user) -> LegalCase:
    try:
        return legal_cases_for_user(user=user).get(pk=legal_case_id)
    except (LegalCase.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def legal_queue(*, user, state: str = "", due_within_days: int | None = None) -> QuerySet[LegalCase]:
    """The legal team's open cases, soonest deadline first."""
    rows = legal_cases_for_user(user=user).filter(state__in=OPEN_STATES)
    if state:
        rows = rows.filter(state=state)
    if due_within_days is not None:
        rows = rows.filter(next_due__lte=timezone.localdate() + timezone.timedelta(days=due_within_days))
    return rows.order_by(F("next_due").asc(nulls_last=True), "case__opened_at")


def figures(*, since, until) -> list:
    """The manager's legal-aid figures (care.registry.register_figures): open cases past one of
    their statutory deadlines now, and arbitration hearings held in the period."""
    today = timezone.localdate()
    past = (Deadline.objects.filter(met_at__isnull=True, suspended_on__isnull=True, due_on__lt=today,
                                    legal_case__state__in=OPEN_STATES)
            .aggregate(n=Count("legal_case", distinct=True))["n"])
    held = Hearing.objects.filter(state=HearingState.HELD, starts_at__gte=since, starts_at__lt=until).count()
    return [Figure(gettext_lazy("Open cases past a statutory deadline"), past),
            Figure(gettext_lazy("Hearings held"), held)]
