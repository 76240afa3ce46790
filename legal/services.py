"""Every write of legal aid. One recipe (lock, check, change, audit, SMS after the fact)."""

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from care import audit, sms, surveys
from care import services as hall
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import Case, Stage
from care.validators import normalize_mobile
from legal import deadlines, permissions
from legal.models import (
    FINAL_STATES,
    ClaimKind,
    ClaimLine,
    Deadline,
    DeadlineRule,
    DisputeType,
    LegalCase,
    LegalState,
    Note,
    Representative,
)
from legal.validators import normalize_credit_code


class LegalEvent:
    OPENED = "legal.opened"
    DETAILS_CHANGED = "legal.details_changed"
    TRANSITION = "legal.transition"
    CLAIM_ADDED = "legal.claim_added"
    CLAIM_REMOVED = "legal.claim_removed"
    NOTE_ADDED = "legal.note_added"
    REPRESENTATIVE_ADDED = "legal.representative_added"
    NOTES_VIEWED = "legal.notes_viewed"
    DEADLINE_EXTENDED = "legal.deadline_extended"
    DEADLINE_SUSPENDED = "legal.deadline_suspended"
    DEADLINE_RESUMED = "legal.deadline_resumed"


sms.register_template(sms.SmsTemplate(
    "case_progress",
    gettext_lazy("Worker Service Center: there is news on your request %(ref)s. Details: %(link)s"),
))

# What each transition needs from the person asking, shown when it is refused.
CONDITION_MESSAGES = {
    "settle": gettext_lazy("Upload the mediation agreement signed by both parties first."),
    "file_application": gettext_lazy("Enter the employer and at least one claim before filing the application."),
}
TRANSITIONS = (
    "accept_aid", "decline", "start_mediation", "settle", "fail_mediation", "prepare_application",
    "file_application", "committee_accept", "issue_award", "refer_to_litigation", "close", "withdraw",
)


def _locked(legal_case: LegalCase) -> LegalCase:
    return LegalCase.objects.select_for_update().select_related("case", "case__worker").get(pk=legal_case.pk)


def _tell_worker(legal_case: LegalCase) -> None:
    case = legal_case.case
    sms.notify(recipient=case.worker, template="case_progress",
               context={"ref": case.reference, "link": sms.link(reverse("care:case_detail", args=[case.pk]))})


@transaction.atomic
def legal_case_open(*, case: Case, actor) -> LegalCase:
    """Open the legal file of a hall case the officer has taken up (idempotent)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.department != permissions.DEPARTMENT:
        raise InvalidInput(_("This case does not belong to legal aid."))
    if not permissions.hall.works_department(actor, permissions.DEPARTMENT):
        raise NotAllowed()
    existing = LegalCase.objects.filter(case=case).first()
    if existing:
        return existing
    if case.assignee_id is None:
        hall.case_take_up(case=case, actor=actor)
        case.refresh_from_db()
    legal_case = LegalCase(case=case)
    if not permissions.is_legal_team(actor, legal_case):
        raise NotAllowed()
    legal_case.save()
    audit.record(actor=actor, event_type=LegalEvent.OPENED, subject=legal_case, new={"state": legal_case.state})
    return legal_case


DETAIL_FIELDS = (
    "dispute_type", "employer_name", "employer_credit_code", "employer_address", "employer_contact",
    "employment_start", "employment_end", "dispute_date",
)


@transaction.atomic
def legal_case_update_details(*, legal_case: LegalCase, actor, **fields) -> LegalCase:
    legal_case = _locked(legal_case)
    if not permissions.is_legal_team(actor, legal_case):
        raise NotAllowed()
    unknown = set(fields) - set(DETAIL_FIELDS)
    if unknown:
        raise InvalidInput(detail={"fields": sorted(unknown)})
    if fields.get("employer_credit_code"):
        fields["employer_credit_code"] = normalize_credit_code(fields["employer_credit_code"])
    if "dispute_type" in fields and fields["dispute_type"] not in DisputeType.values:
        raise InvalidInput(_("Choose a kind of dispute from the list."))
    start, end = fields.get("employment_start", legal_case.employment_start), fields.get(
        "employment_end", legal_case.employment_end)
    if start and end and end < start:
        raise InvalidInput(_("Employment cannot end before it starts."))
    dispute = fields.get("dispute_date", legal_case.dispute_date)
    if dispute and dispute > timezone.localdate():
        raise InvalidInput(_("The dispute date cannot be in the future."))
    changed = sorted(k for k, v in fields.items() if getattr(legal_case, k) != v)
    for key in changed:
        setattr(legal_case, key, fields[key])
    legal_case.save()
    if "dispute_date" in changed and legal_case.dispute_date:
        _set_deadline(legal_case, DeadlineRule.LIMITATION, legal_case.dispute_date)
    audit.record(actor=actor, event_type=LegalEvent.DETAILS_CHANGED, subject=legal_case, new={"fields": changed})
    return legal_case


@transaction.atomic
def claim_add(*, legal_case: LegalCase, actor, kind: str, amount, note: str = "") -> ClaimLine:
    legal_case = _locked(legal_case)
    if not permissions.is_legal_team(actor, legal_case):
        raise NotAllowed()
    if kind not in ClaimKind.values:
        raise InvalidInput(_("Choose a kind of claim from the list."))
    try:
        amount = Decimal(str(amount))
        if not amount.is_finite():
            raise InvalidOperation
        amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)  # 四舍五入 to the fen
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Enter the amount in yuan, e.g. 18000.00.")) from None
    if amount <= 0 or amount >= Decimal("10000000000"):
        raise InvalidInput(_("Enter the amount in yuan, e.g. 18000.00."))
    line = ClaimLine.objects.create(legal_case=legal_case, kind=kind, amount=amount, note=note.strip()[:200])
    audit.record(actor=actor, event_type=LegalEvent.CLAIM_ADDED, subject=legal_case,
                 new={"claim": line.pk, "kind": kind, "amount": str(amount)})
    return line


@transaction.atomic
def claim_remove(*, line: ClaimLine, actor) -> None:
    legal_case = _locked(line.legal_case)
    if not permissions.is_legal_team(actor, legal_case):
        raise NotAllowed()
    audit.record(actor=actor, event_type=LegalEvent.CLAIM_REMOVED, subject=legal_case,
                 old={"claim": line.pk, "kind": line.kind, "amount": str(line.amount)})
    line.delete()


@transaction.atomic
def representative_add(*, legal_case: LegalCase, actor, side: str, name: str, mobile: str = "") -> Representative:
    """A party's representative; an employer's with a mobile can be sent the agreement to sign."""
    legal_case = _locked(legal_case)
    if not permissions.is_legal_team(actor, legal_case):
        raise NotAllowed()
    if side not in Representative.Side.values:
        raise InvalidInput(_("Choose whose representative this is."))
    name = name.strip()
    if not name:
        raise InvalidInput(_("Enter the representative's name."))
    representative = Representative.objects.create(
        legal_case=legal_case, side=side, name=name[:50], mobile=normalize_mobile(mobile) if mobile.strip() else "",
    )
    audit.record(actor=actor, event_type=LegalEvent.REPRESENTATIVE_ADDED, subject=legal_case,
                 new={"representative": representative.pk, "side": side})
    return representative


@transaction.atomic
def note_add(*, legal_case: LegalCase, actor, body: str) -> Note:
    legal_case = _locked(legal_case)
    if not permissions.can_read_notes(actor, legal_case):
        raise NotAllowed()
    body = body.strip()
    if not body:
        raise InvalidInput(_("The note is empty."))
    note = Note.objects.create(legal_case=legal_case, author=actor, body=body[:5000])
    audit.record(actor=actor, event_type=LegalEvent.NOTE_ADDED, subject=legal_case, new={"note": note.pk})
    return note


@transaction.atomic
def notes_record_view(*, legal_case: LegalCase, actor) -> None:
    audit.record(actor=actor, event_type=LegalEvent.NOTES_VIEWED, subject=legal_case)


# --- the lifecycle -----------------------------------------------------------------------------


@transaction.atomic
def legal_transition(*, legal_case: LegalCase, actor, transition: str, reason: str = "", appealed_by: str = ""):
    """Move a legal case along its lifecycle (see LegalCase). Deadlines start and are met,
    the hall's case follows, and the worker gets an SMS."""
    if transition not in TRANSITIONS:
        raise InvalidInput(_("Unknown step."))
    legal_case = _locked(legal_case)
    if not permissions.can_act(actor, legal_case, transition):
        raise NotAllowed()
    method = getattr(legal_case, transition)
    if not can_proceed(method, check_conditions=False):
        raise InvalidState()
    if not can_proceed(method):
        raise InvalidState(CONDITION_MESSAGES.get(transition))
    kwargs = {}
    if transition == "decline":
        if not reason.strip():
            raise InvalidInput(_("Tell the worker why aid is declined."))
        kwargs["reason"] = reason.strip()[:2000]
    if transition == "refer_to_litigation":
        if appealed_by not in ("worker", "employer"):
            raise InvalidInput(_("Say which party took the award to court."))
        kwargs["appealed_by"] = appealed_by
    old = legal_case.state
    method(**kwargs)
    legal_case.save()
    _deadline_effects(legal_case)
    _follow_in_hall(legal_case, actor)
    if legal_case.state in FINAL_STATES:
        from legal import hearings  # hearings builds on this module

        hearings.cancel_when_case_ends(legal_case=legal_case, actor=actor)
    audit.record(actor=actor, event_type=LegalEvent.TRANSITION, subject=legal_case,
                 old={"state": old}, new={"state": legal_case.state, "transition": transition})
    _tell_worker(legal_case)
    return legal_case


def _follow_in_hall(legal_case: LegalCase, actor) -> None:
    """The hall's case ends when the legal case ends."""
    case = legal_case.case
    if legal_case.state == LegalState.WITHDRAWN and case.is_open:
        case.withdraw(timezone.now())
        case.save(update_fields=["stage", "closed_at"])
    elif legal_case.state in (LegalState.CLOSED, LegalState.DECLINED) and case.stage == Stage.IN_PROGRESS:
        case.close(timezone.now())
        case.save(update_fields=["stage", "closed_at"])
        surveys.survey_invite(case=case, actor=actor)  # how was the service? (the manager's figures)


def _set_deadline(legal_case: LegalCase, rule: str, start: datetime.date) -> Deadline:
    """Start a deadline, or move its start (a corrected date): whether it was met, its
    extension and the days it was suspended are kept."""
    deadline = Deadline.objects.select_for_update().filter(legal_case=legal_case, rule=rule).first()
    if deadline is None:
        return Deadline.objects.create(legal_case=legal_case, rule=rule, starts_on=start,
                                       due_on=deadlines.due_date(rule, start))
    extension = deadlines.AWARD_EXTENSION_DAYS if deadline.extended else 0
    deadline.starts_on = start
    deadline.due_on = deadlines.due_date(rule, start) + datetime.timedelta(days=deadline.suspended_days + extension)
    deadline.save(update_fields=["starts_on", "due_on"])
    return deadline


def _meet(legal_case: LegalCase, *rules: str) -> None:
    Deadline.objects.filter(legal_case=legal_case, rule__in=rules, met_at__isnull=True).update(met_at=timezone.now())


def _deadline_effects(legal_case: LegalCase) -> None:
    today = timezone.localdate()
    match legal_case.state:
        case LegalState.MEDIATION:
            _set_deadline(legal_case, DeadlineRule.MEDIATION, today)
        case LegalState.SETTLED | LegalState.MEDIATION_FAILED:
            _meet(legal_case, DeadlineRule.MEDIATION)
        case LegalState.APPLICATION_FILED:
            _meet(legal_case, DeadlineRule.LIMITATION)
            _set_deadline(legal_case, DeadlineRule.ACCEPTANCE, today)
        case LegalState.COMMITTEE_ACCEPTED:
            _meet(legal_case, DeadlineRule.ACCEPTANCE)
            _set_deadline(legal_case, DeadlineRule.AWARD, today)
        case LegalState.AWARD_ISSUED:
            _meet(legal_case, DeadlineRule.AWARD)
            _set_deadline(legal_case, DeadlineRule.COURT, today)
        case LegalState.LITIGATION | LegalState.CLOSED:
            _meet(legal_case, DeadlineRule.COURT)


@transaction.atomic
def deadline_extend_award(*, legal_case: LegalCase, actor) -> Deadline:
    """The committee may extend the 45 days once, by 15 days (art. 43)."""
    legal_case = _locked(legal_case)
    if not permissions.is_legal_team(actor, legal_case):
        raise NotAllowed()
    deadline = Deadline.objects.select_for_update().filter(legal_case=legal_case, rule=DeadlineRule.AWARD,
                                                           met_at__isnull=True).first()
    if deadline is None:
        raise InvalidState(_("There is no open award deadline."))
    if deadline.extended:
        raise InvalidState(_("The award deadline can be extended only once."))
    deadline.due_on += datetime.timedelta(days=deadlines.AWARD_EXTENSION_DAYS)
    deadline.extended = True
    deadline.save(update_fields=["due_on", "extended"])
    audit.record(actor=actor, event_type=LegalEvent.DEADLINE_EXTENDED, subject=legal_case,
                 new={"rule": deadline.rule, "due_on": deadline.due_on})
    return deadline


@transaction.atomic
def limitation_suspend(*, legal_case: LegalCase, actor, on: datetime.date | None = None) -> Deadline:
    """中止: the limitation period stops (force majeure, etc.) until it is resumed."""
    legal_case = _locked(legal_case)
    if not permissions.is_legal_team(actor, legal_case):
        raise NotAllowed()
    deadline = Deadline.objects.select_for_update().filter(legal_case=legal_case, rule=DeadlineRule.LIMITATION,
                                                           met_at__isnull=True).first()
    if deadline is None or deadline.suspended_on is not None:
        raise InvalidState(_("There is no running limitation period to suspend."))
    deadline.suspended_on = on or timezone.localdate()
    deadline.save(update_fields=["suspended_on"])
    audit.record(actor=actor, event_type=LegalEvent.DEADLINE_SUSPENDED, subject=legal_case,
                 new={"suspended_on": deadline.suspended_on})
    return deadline


@transaction.atomic
def limitation_resume(*, legal_case: LegalCase, actor, on: datetime.date | None = None) -> Deadline:
    """The limitation period runs again; the days it was suspended are added to it."""
    legal_case = _locked(legal_case)
    if not permissions.is_legal_team(actor, legal_case):
        raise NotAllowed()
    deadline = Deadline.objects.select_for_update().filter(legal_case=legal_case, rule=DeadlineRule.LIMITATION,
                                                           suspended_on__isnull=False).first()
    if deadline is None:
        raise InvalidState(_("The limitation period is not suspended."))
    on = on or timezone.localdate()
    if on < deadline.suspended_on:
        raise InvalidInput(_("It cannot resume before it was suspended."))
    days = (on - deadline.suspended_on).days
    deadline.suspended_days += days
    deadline.due_on += datetime.timedelta(days=days)
    deadline.suspended_on = None
    deadline.save(update_fields=["suspended_days", "due_on", "suspended_on"])
    audit.record(actor=actor, event_type=LegalEvent.DEADLINE_RESUMED, subject=legal_case,
                 new={"days": days, "due_on": deadline.due_on})
    return deadline
