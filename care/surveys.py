"""Satisfaction surveys (满意度回访) of the hall: after a service is delivered, the worker gets a
personal link by SMS, ``/rate/<token>/``, and may rate it 1–5 with a comment, once, within
VALID_DAYS. The link needs no sign-in: its token is the key, and only its sha256 is stored.

A low rating (1–2) goes to the center manager's follow-up list: the manager reads its comment
(each reading audited) and records that it was followed up. The worker's name and mobile are
shown there only if they allowed a call back when answering.

Writes: ``survey_invite`` (by the department's service, in the transaction that records the
delivery; once per case), ``survey_answer``, ``survey_follow_up``. Reads: ``survey_for_token``,
``low_ratings_for_user`` (the follow-up list), and ``satisfaction_by_department`` for the
figures: counts, average and the 1–5 distribution, suppressed below
care.selectors.MIN_GROUP_SIZE answers, never a comment."""

import hashlib
import re
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Avg, Count, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from care import audit, registry, sms
from care.errors import InvalidInput, InvalidState
from care.models import Case, Survey
from care.roles import Role

VALID_DAYS = 14
COMMENT_MAX = 1000
RATINGS = (1, 2, 3, 4, 5)
LOW_RATINGS = (1, 2)
NOTE_MAX = 1000
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)

SURVEY_SENT = "survey.sent"
SURVEY_ANSWERED = "survey.answered"
SURVEY_FOLLOW_UPS_READ = "survey.follow_ups_read"
SURVEY_FOLLOWED_UP = "survey.followed_up"

sms.register_template(sms.SmsTemplate(
    "survey_invite",
    gettext_lazy("Worker Service Center: how was our service for %(ref)s? Rate it in one minute: %(link)s"),
))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _expires(survey: Survey):
    return survey.sent_at + timedelta(days=VALID_DAYS)


def survey_invite(*, case: Case, actor) -> Survey:
    """Ask the case's worker to rate the service: one survey per case (asked again, the first
    stands). Runs in the caller's transaction: the SMS goes after its commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("survey_invite must be called inside the transaction of the delivery")
    existing = Survey.objects.filter(case_id=case.pk).first()
    if existing is not None:
        return existing
    token = secrets.token_urlsafe(32)
    survey = Survey.objects.create(case=case, department=case.department, token_hash=_token_hash(token),
                                   sent_at=timezone.now())
    audit.record(actor=actor, event_type=SURVEY_SENT, subject=survey, new={"case": case.pk})
    worker = case.worker
    with translation.override(worker.language):
        context = {"ref": case.reference, "link": sms.link(reverse("care:survey", args=[token]))}
    sms.notify(recipient=worker, template="survey_invite", context=context)
    return survey


def survey_for_token(token: str) -> Survey:
    """The survey a link stands for. Http404 for a malformed, unknown or expired link."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        raise Http404
    survey = Survey.objects.select_related("case").filter(token_hash=_token_hash(token)).first()
    if survey is None or (survey.answered_at is None and timezone.now() > _expires(survey)):
        raise Http404
    return survey


@transaction.atomic
def survey_answer(*, token: str, rating, comment: str = "", call_back: bool = False) -> Survey:
    """The worker's answer, once. A rating outside 1–5 or an overlong comment is refused with a
    message, and nothing is stored. ``call_back``: the worker allows the manager to call them
    about a low rating."""
    found = survey_for_token(token)
    survey = Survey.objects.select_for_update().get(pk=found.pk)
    if survey.answered_at is not None:
        raise InvalidState(_("This survey has already been answered. Thank you!"))
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if rating not in RATINGS:
        raise InvalidInput(_("Choose a rating from 1 to 5."), detail={"rating": "invalid"})
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(_("The comment can be at most %(max)d characters.") % {"max": COMMENT_MAX},
                           detail={"comment": "too_long"})
    survey.rating, survey.comment, survey.answered_at = rating, comment, timezone.now()
    survey.call_back = bool(call_back)
    survey.save(update_fields=["rating", "comment", "answered_at", "call_back"])
    audit.record(actor=None, event_type=SURVEY_ANSWERED, subject=survey,
                 new={"case": survey.case_id, "rating": rating, "comment_given": bool(comment),
                      "call_back": survey.call_back})
    return survey


def can_follow_up(user) -> bool:
    """Only the center manager reads low ratings' comments: a role, not a permission, so that
    no superuser or administrator reads them."""
    return user.is_authenticated and user.has_role(Role.CENTER_MANAGER)


def low_ratings_for_user(*, user, pending: bool = True):
    """The manager's follow-up list: answered surveys rated 1–2, oldest pending first (or the
    ones followed up, newest first). Empty for anyone but the center manager."""
    if not can_follow_up(user):
        return Survey.objects.none()
    rows = Survey.objects.filter(rating__in=LOW_RATINGS, followed_up_at__isnull=pending)
    return (rows.select_related("case__worker", "followed_up_by")
            .only("rating", "comment", "answered_at", "call_back", "followed_up_at", "follow_up_note",
                  "case__department", "case__worker__name", "case__worker__mobile", "followed_up_by__username",
                  "followed_up_by__first_name", "followed_up_by__last_name")  # never the case's content
            .order_by(*(("answered_at", "id") if pending else ("-followed_up_at", "-id"))))


def follow_ups_read(*, user, surveys: list[Survey]) -> None:
    """Record that ``user`` read these low ratings' comments (one event for the page)."""
    if surveys:
        with transaction.atomic():
            audit.record(actor=user, event_type=SURVEY_FOLLOW_UPS_READ, subject=user,
                         new={"surveys": [s.pk for s in surveys]})


@transaction.atomic
def survey_follow_up(*, survey_id, actor, note: str) -> Survey:
    """The manager records how a low rating was followed up (a call, a talk with the team)."""
    if not can_follow_up(actor):
        raise Http404
    survey = Survey.objects.select_for_update().filter(pk=survey_id, rating__in=LOW_RATINGS).first()
    if survey is None:
        raise Http404
    if survey.followed_up_at is not None:
        return survey
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("Write what was done."), detail={"note": "required"})
    if len(note) > NOTE_MAX:
        raise InvalidInput(_("The note can be at most %(max)d characters.") % {"max": NOTE_MAX},
                           detail={"note": "too_long"})
    survey.followed_up_at, survey.followed_up_by, survey.follow_up_note = timezone.now(), actor, note
    survey.save(update_fields=["followed_up_at", "followed_up_by", "follow_up_note"])
    audit.record(actor=actor, event_type=SURVEY_FOLLOWED_UP, subject=survey, new={"note_given": True})
    return survey


def satisfaction_by_department(*, since=None, until=None) -> list[dict]:
    """Per department, and for the whole hall (last row): the surveys sent in [since, until),
    and the answers, their average and the count of each rating, of the surveys answered in it.
    Aggregated in the database; with
    fewer than MIN_GROUP_SIZE answers only the count of surveys sent is shown, and the whole
    hall's answers are hidden too when they would give a hidden department back."""
    from care.selectors import guard_total, shown

    def window(field: str) -> Q:
        return Q(**{f"{field}__gte": since} if since is not None else {}) & Q(
            **{f"{field}__lt": until} if until is not None else {})

    sent, answered = window("sent_at"), Q(answered_at__isnull=False) & window("answered_at")
    counts = {f"r{r}": Count("id", filter=answered & Q(rating=r)) for r in RATINGS}
    aggregates = {"sent": Count("id", filter=sent), "answers": Count("id", filter=answered),
                  "average": Avg("rating", filter=answered), **counts}
    surveys = Survey.objects.all() if since is None and until is None else Survey.objects.filter(sent | answered)
    per = {row["department"]: row for row in surveys.values("department").annotate(**aggregates)}
    total = surveys.aggregate(**aggregates)

    def row(label, data: dict) -> dict:
        answers = shown(data.get("answers") or 0)
        visible = answers is not None
        return {"label": str(label), "sent": data.get("sent") or 0, "answers": answers,
                "average": round(data["average"], 2) if visible and data.get("average") is not None else None,
                "distribution": [data.get(f"r{r}", 0) for r in RATINGS] if visible else None}

    rows = [row(d.label, per.get(d.code, {})) for d in registry.departments()]
    hall = row(_("Whole hall"), total)
    # The hall less the departments shown would give back a hidden department: the hall's answers
    # are shown only when what is hidden adds up to a group large enough on its own.
    parts = [(per.get(d.code, {}).get("answers") or 0, r["answers"])
             for d, r in zip(registry.departments(), rows, strict=True)]
    if hall["answers"] and guard_total(parts, hall["answers"]) is None:
        hall.update(answers=None, average=None, distribution=None)
    rows.append(hall)
    return rows
