"""Hearings (开庭) of legal aid cases: every write and every read of them.

Writes follow the house recipe (lock, check, change, audit, SMS in the same transaction).
Scheduling serialises on the arbitrator's user row, so two hearings of one arbitrator can
never overlap, even when they are scheduled at the same moment for two different cases; on
PostgreSQL an exclusion constraint (migration 0002) says the same to the database.

The legal case follows its hearings: scheduling moves it by ``schedule_hearing``, an outcome
by ``record_hearing`` (and ``issue_award``). Cancelling the last scheduled hearing leaves the
case in ``hearing_scheduled`` (the model has no transition back); a new hearing can then be
scheduled for it without another transition. See docs/decisions/0008-hearings.md.
"""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from care import audit, sms
from care import permissions as hall
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.roles import Role
from care.validators import normalize_mobile
from legal import deadlines, permissions, video
from legal import services as legal_services
from legal.models import Hearing, HearingState, LegalCase, LegalState

log = logging.getLogger(__name__)


class HearingEvent:
    SCHEDULED = "legal.hearing_scheduled"
    RESCHEDULED = "legal.hearing_rescheduled"
    CANCELLED = "legal.hearing_cancelled"
    OUTCOME = "legal.hearing_outcome"


class Outcome:
    ADJOURNED = "adjourned"  # another hearing is needed: the case is heard, not decided
    AWARD = "award"  # the arbitrator decides: the award is issued

    choices = [
        (ADJOURNED, gettext_lazy("Adjourned: another hearing is needed")),
        (AWARD, gettext_lazy("Award issued")),
    ]
    values = [ADJOURNED, AWARD]


# SMS texts: when and where, never what. The worker's have a link to their request in the hall
# (never to a /legal/ address); the other parties (representatives, the arbitrator) get the same
# news without one.
for _code, _text in [
    ("hearing_scheduled", gettext_lazy(
        "Worker Service Center: an appointment for your request %(ref)s is set for %(when)s, %(where)s. "
        "Details: %(link)s")),
    ("hearing_rescheduled", gettext_lazy(
        "Worker Service Center: the appointment for your request %(ref)s has moved to %(when)s, %(where)s. "
        "Details: %(link)s")),
    ("hearing_cancelled", gettext_lazy(
        "Worker Service Center: the appointment for your request %(ref)s on %(when)s is cancelled. "
        "Details: %(link)s")),
    ("hearing_scheduled_party", gettext_lazy(
        "Worker Service Center: an appointment for reference %(ref)s is set for %(when)s, %(where)s.")),
    ("hearing_rescheduled_party", gettext_lazy(
        "Worker Service Center: the appointment for reference %(ref)s has moved to %(when)s, %(where)s.")),
    ("hearing_cancelled_party", gettext_lazy(
        "Worker Service Center: the appointment for reference %(ref)s on %(when)s is cancelled.")),
]:
    sms.register_template(sms.SmsTemplate(
        _code, _text, sample={"when": "2026-12-01 09:00", "where": "Room 301, 100 Hong Kong Middle Road"}))

ONLINE = gettext_lazy("online (video)")


# --- reads -----------------------------------------------------------------------------------


def arbitrators() -> QuerySet:
    """The users who may be chosen to hear a case: active members of the arbitrator group."""
    return (
        get_user_model().objects.filter(groups__name=str(Role.ARBITRATOR), is_active=True)
        .distinct().order_by("last_name", "first_name", "username")
    )


def _visible_q(user) -> Q:
    """The hearings ``user`` may read, as one filter: an arbitrator their own (not cancelled
    ones: their access to the case ends with them), the worker those of their own case, the
    legal team those of the cases they have (assigned or granted, as ``is_legal_team``)."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    q = Q(pk__in=[])
    if user.has_role(Role.ARBITRATOR):
        q |= Q(arbitrator=user) & ~Q(state=HearingState.CANCELLED)
    if user.has_role(Role.WORKER):
        q |= Q(legal_case__case__worker__user=user)
    if hall.works_department(user, permissions.DEPARTMENT):
        q |= Q(legal_case__case__department=permissions.DEPARTMENT) & (
            Q(legal_case__case__assignee=user) | Q(legal_case__case_id__in=hall.granted_case_ids(user))
        )
    return q


def _hearings() -> QuerySet[Hearing]:
    return Hearing.objects.select_related("legal_case", "legal_case__case", "legal_case__case__worker", "arbitrator")


def hearings_for_arbitrator(*, user) -> QuerySet[Hearing]:
    """An arbitrator's own hearings (scheduled and held), soonest first; nothing for anyone else."""
    if not user.is_authenticated or not user.is_active or not user.has_role(Role.ARBITRATOR):
        return Hearing.objects.none()
    return _hearings().filter(arbitrator=user).exclude(state=HearingState.CANCELLED).order_by("starts_at", "pk")


def hearings_for_case(*, legal_case: LegalCase, user) -> QuerySet[Hearing]:
    """The hearings of one case that ``user`` may see, latest first (the case page's list)."""
    return _hearings().filter(_visible_q(user), legal_case=legal_case).order_by("-starts_at", "-pk")


def hearing_get_for_user(*, hearing_id: int, user) -> Hearing:
    """The hearing, if ``user`` is its arbitrator, the case's legal team or the case's worker;
    Http404 otherwise (absent or forbidden alike)."""
    try:
        return _hearings().filter(_visible_q(user)).get(pk=hearing_id)
    except (Hearing.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_schedule(*, user, legal_case: LegalCase) -> bool:
    """Whether the schedule form makes sense for ``user`` now (the service decides anyway)."""
    return permissions.is_legal_team(user, legal_case) and (
        legal_case.state in (LegalState.COMMITTEE_ACCEPTED, LegalState.HEARD)
        or (legal_case.state == LegalState.HEARING_SCHEDULED
            and not legal_case.hearings.filter(state=HearingState.SCHEDULED).exists())
    )


def can_manage(*, user, hearing: Hearing) -> bool:
    """Reschedule and cancel: the legal team of the case."""
    return permissions.is_legal_team(user, hearing.legal_case)


def can_record_outcome(*, user, hearing: Hearing) -> bool:
    return _is_its_arbitrator(user, hearing) or permissions.is_legal_team(user, hearing.legal_case)


def _is_its_arbitrator(user, hearing: Hearing) -> bool:
    return hearing.arbitrator_id == user.pk and user.has_role(Role.ARBITRATOR)


# --- writes ----------------------------------------------------------------------------------


def _locked_case(legal_case: LegalCase) -> LegalCase:
    return LegalCase.objects.select_for_update(of=("self",)).select_related("case", "case__worker").get(
        pk=legal_case.pk)


def _locked_hearing(hearing: Hearing) -> tuple[Hearing, LegalCase]:
    """Lock the case first, then the hearing: the same order as scheduling."""
    legal_case = _locked_case(LegalCase(pk=hearing.legal_case_id))
    hearing = Hearing.objects.select_for_update(of=("self",)).select_related("arbitrator").get(pk=hearing.pk)
    hearing.legal_case = legal_case
    return hearing, legal_case


def _lock_arbitrator(user_id: int):
    """Serialises every scheduling for one arbitrator: the overlap check below then sees every
    hearing committed before it (PostgreSQL's READ COMMITTED takes a new snapshot per query)."""
    return get_user_model().objects.select_for_update().get(pk=user_id)


def _aware(value: datetime.datetime) -> datetime.datetime:
    if not isinstance(value, datetime.datetime):
        raise InvalidInput(_("Enter the date and time of the hearing."))
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _check_times(*, starts_at, ends_at, short_notice_reason: str) -> tuple[datetime.datetime, datetime.datetime, str]:
    starts_at, ends_at = _aware(starts_at), _aware(ends_at)
    if ends_at <= starts_at:
        raise InvalidInput(_("The hearing must end after it starts."))
    if starts_at <= timezone.now():
        raise InvalidInput(_("A hearing cannot start in the past."))
    reason = (short_notice_reason or "").strip()[:300]
    if deadlines.enough_notice(timezone.localdate(starts_at), timezone.localdate()):
        reason = ""
    elif not reason:
        raise InvalidInput(
            _("The parties must be told at least %(days)d days before a hearing. "
              "To hold it sooner, give the reason.") % {"days": deadlines.HEARING_NOTICE_DAYS})
    return starts_at, ends_at, reason


def _check_place(place: str, is_video: bool) -> str:
    place = (place or "").strip()[:200]
    if not place and not is_video:
        raise InvalidInput(_("Enter where the hearing takes place, or choose a video hearing."))
    if sms.contains_sensitive_word(place):
        raise InvalidInput(_("The place is sent to the parties by SMS: give the address without naming the "
                             "service (for example street, building and room)."))
    return place


def _check_free(*, arbitrator_id: int, starts_at, ends_at, exclude_pk=None) -> None:
    clash = Hearing.objects.filter(arbitrator_id=arbitrator_id, state=HearingState.SCHEDULED,
                                   starts_at__lt=ends_at, ends_at__gt=starts_at)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise InvalidInput(_("The arbitrator already has a hearing at that time."))


def _save_or_clash(save) -> None:
    """Run ``save`` in a savepoint; the PostgreSQL exclusion constraint's refusal is the same
    refusal as the service's own check."""
    try:
        with transaction.atomic():
            save()
    except IntegrityError as error:
        if "hearing_no_overlap" not in str(error):
            raise
        raise InvalidInput(_("The arbitrator already has a hearing at that time.")) from None


@transaction.atomic
def hearing_schedule(*, legal_case: LegalCase, actor, arbitrator, starts_at, ends_at, place: str = "",
                     is_video: bool = False, short_notice_reason: str = "", recorded: bool = False) -> Hearing:
    """The legal team schedules a hearing before an arbitrator; the case moves to
    ``hearing_scheduled``, the arbitrator may read it, and the parties get an SMS."""
    legal_case = _locked_case(legal_case)
    if not permissions.is_legal_team(actor, legal_case):
        raise NotAllowed()
    if arbitrator is None:
        raise InvalidInput(_("Choose an arbitrator."))
    arbitrator = _lock_arbitrator(arbitrator.pk)
    if not arbitrator.is_active or not arbitrator.has_role(Role.ARBITRATOR):
        raise InvalidInput(_("Choose an arbitrator from the list."))
    starts_at, ends_at, reason = _check_times(starts_at=starts_at, ends_at=ends_at,
                                              short_notice_reason=short_notice_reason)
    place = _check_place(place, is_video)
    pending = legal_case.hearings.filter(state=HearingState.SCHEDULED)
    same = pending.filter(arbitrator=arbitrator, starts_at=starts_at, ends_at=ends_at, place=place,
                          is_video=bool(is_video)).first()
    if same is not None:
        return same  # the same form sent twice
    old = legal_case.state
    if old == LegalState.HEARING_SCHEDULED:
        if pending.exists():
            raise InvalidState(_("This case already has a scheduled hearing: reschedule or cancel it."))
        move = False  # its last hearing was cancelled: it is still waiting for one
    elif can_proceed(legal_case.schedule_hearing):
        move = True
    else:
        raise InvalidState(_("A hearing can be scheduled once the committee has accepted the case."))
    _check_free(arbitrator_id=arbitrator.pk, starts_at=starts_at, ends_at=ends_at)

    hearing = Hearing(legal_case=legal_case, arbitrator=arbitrator, starts_at=starts_at, ends_at=ends_at,
                      place=place, is_video=bool(is_video), short_notice_reason=reason)
    _save_or_clash(hearing.save)
    if move:
        legal_case.schedule_hearing()
        legal_case.save(update_fields=["state", "updated_at"])
    hall.grant_case(case=legal_case.case, user=arbitrator)
    new = {"state": legal_case.state, "hearing": hearing.pk, "arbitrator": arbitrator.pk,
           "starts_at": starts_at, "ends_at": ends_at, "is_video": hearing.is_video}
    if reason:
        new["short_notice_reason"] = reason
    audit.record(actor=actor, event_type=HearingEvent.SCHEDULED, subject=legal_case, old={"state": old}, new=new)
    _tell_parties(hearing, "hearing_scheduled")
    if hearing.is_video:  # the room, and the personal links by SMS
        video.room_prepare(hearing=hearing, actor=actor, recorded=bool(recorded))
    return hearing


_UNCHANGED = object()


@transaction.atomic
def hearing_reschedule(*, hearing: Hearing, actor, starts_at, ends_at, place=_UNCHANGED, is_video=_UNCHANGED,
                       short_notice_reason: str = "") -> Hearing:
    """The legal team moves a scheduled hearing (same arbitrator); everyone is told."""
    hearing, legal_case = _locked_hearing(hearing)
    if not permissions.is_legal_team(actor, legal_case):
        raise NotAllowed()
    if hearing.state != HearingState.SCHEDULED or legal_case.state != LegalState.HEARING_SCHEDULED:
        raise InvalidState(_("Only a scheduled hearing can be moved."))
    is_video = hearing.is_video if is_video is _UNCHANGED else bool(is_video)
    place = hearing.place if place is _UNCHANGED else place
    starts_at, ends_at = _aware(starts_at), _aware(ends_at)
    if (starts_at, ends_at, (place or "").strip(), is_video) == (
            hearing.starts_at, hearing.ends_at, hearing.place, hearing.is_video):
        return hearing  # nothing moves
    starts_at, ends_at, reason = _check_times(starts_at=starts_at, ends_at=ends_at,
                                              short_notice_reason=short_notice_reason)
    place = _check_place(place, is_video)
    _lock_arbitrator(hearing.arbitrator_id)
    _check_free(arbitrator_id=hearing.arbitrator_id, starts_at=starts_at, ends_at=ends_at, exclude_pk=hearing.pk)

    old = {"starts_at": hearing.starts_at, "ends_at": hearing.ends_at, "place": hearing.place,
           "is_video": hearing.is_video}
    hearing.starts_at, hearing.ends_at, hearing.place, hearing.is_video = starts_at, ends_at, place, is_video
    hearing.short_notice_reason = reason
    _save_or_clash(lambda: hearing.save(update_fields=["starts_at", "ends_at", "place", "is_video",
                                                       "short_notice_reason"]))
    new = {"hearing": hearing.pk, "starts_at": starts_at, "ends_at": ends_at, "place": place, "is_video": is_video}
    if reason:
        new["short_notice_reason"] = reason
    audit.record(actor=actor, event_type=HearingEvent.RESCHEDULED, subject=legal_case,
                 old={"hearing": hearing.pk, **old}, new=new)
    _tell_parties(hearing, "hearing_rescheduled")
    if hearing.is_video:
        video.room_prepare(hearing=hearing, actor=actor)  # moved online: the room and its links
    return hearing


@transaction.atomic
def hearing_cancel(*, hearing: Hearing, actor, reason: str) -> Hearing:
    """The legal team cancels a scheduled hearing; everyone is told (not why). The arbitrator
    loses the case unless they have another hearing on it. The case stays where it is."""
    hearing, legal_case = _locked_hearing(hearing)
    if not permissions.is_legal_team(actor, legal_case):
        raise NotAllowed()
    if hearing.state == HearingState.CANCELLED:
        return hearing
    if hearing.state != HearingState.SCHEDULED:
        raise InvalidState(_("A hearing that has been held cannot be cancelled."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for cancelling the hearing."))
    return _cancel(hearing, legal_case, actor, reason)


def _cancel(hearing: Hearing, legal_case: LegalCase, actor, reason: str) -> Hearing:
    hearing.cancel()
    hearing.save(update_fields=["state"])
    keeps_access = legal_case.hearings.filter(arbitrator_id=hearing.arbitrator_id).exclude(
        state=HearingState.CANCELLED).exists()
    if not keeps_access:
        hall.revoke_case(case=legal_case.case, user=hearing.arbitrator)
    audit.record(actor=actor, event_type=HearingEvent.CANCELLED, subject=legal_case,
                 old={"hearing": hearing.pk, "hearing_state": HearingState.SCHEDULED},
                 new={"hearing": hearing.pk, "hearing_state": hearing.state, "reason": reason[:1000],
                      "state": legal_case.state, "arbitrator_access_revoked": not keeps_access})
    _tell_parties(hearing, "hearing_cancelled")
    return hearing


def cancel_when_case_ends(*, legal_case: LegalCase, actor) -> list[Hearing]:
    """A legal case that has ended (withdrawn, declined, closed) keeps no hearing: each one
    still scheduled is cancelled as by the legal team, its arbitrator loses the case unless
    they heard it, and everyone is told. Runs in legal_transition's transaction."""
    scheduled = Hearing.objects.select_for_update().filter(legal_case=legal_case, state=HearingState.SCHEDULED)
    return [_cancel(hearing, legal_case, actor, "case ended") for hearing in scheduled.select_related("arbitrator")]


@transaction.atomic
def hearing_record_outcome(*, hearing: Hearing, actor, outcome: str) -> Hearing:
    """The hearing's arbitrator (or the legal team) records how it ended: adjourned (the case
    is heard; another hearing may follow) or award (the case is heard and the award issued).
    The award document itself is uploaded separately."""
    hearing, legal_case = _locked_hearing(hearing)
    if not (_is_its_arbitrator(actor, hearing) or permissions.is_legal_team(actor, legal_case)):
        raise NotAllowed()
    if outcome not in Outcome.values:
        raise InvalidInput(_("Choose the outcome of the hearing from the list."))
    if hearing.state == HearingState.HELD and hearing.outcome == outcome:
        return hearing
    if hearing.state != HearingState.SCHEDULED:
        raise InvalidState(_("The outcome of this hearing is already recorded, or it was cancelled."))
    if hearing.starts_at > timezone.now():
        raise InvalidState(_("The outcome can be recorded once the hearing has started."))
    if not can_proceed(legal_case.record_hearing):
        raise InvalidState()
    old = legal_case.state
    hearing.hold(outcome)
    hearing.save(update_fields=["state", "outcome"])
    legal_case.record_hearing()
    if outcome == Outcome.AWARD:
        legal_case.issue_award()
    legal_case.save(update_fields=["state", "updated_at"])
    legal_services._deadline_effects(legal_case)  # the award meets the 45 days and starts the 15 for court
    audit.record(actor=actor, event_type=HearingEvent.OUTCOME, subject=legal_case, old={"state": old},
                 new={"state": legal_case.state, "hearing": hearing.pk, "outcome": outcome})
    legal_services._tell_worker(legal_case)
    return hearing


# --- SMS ---------------------------------------------------------------------------------------


def _tell_parties(hearing: Hearing, template: str) -> None:
    """The worker (with a link), the representatives with a valid mobile and the arbitrator
    (if they have a mobile) each get one SMS: reference, time and place, nothing else."""
    legal_case = hearing.legal_case
    case = legal_case.case
    local = timezone.localtime(hearing.starts_at)
    context = {"ref": case.reference, "when": local.strftime("%Y-%m-%d %H:%M"),
               "where": ONLINE if hearing.is_video else hearing.place}
    # The hall's case page: a link under /legal/ would itself name the service.
    link = sms.link(reverse("care:case_detail", args=[case.pk]))
    sms.notify(recipient=case.worker, template=template, context={**context, "link": link})
    sent = {case.worker.mobile}
    party = f"{template}_party"
    with translation.override(settings.LANGUAGE_CODE):  # parties without an account: the hall's language
        for mobile in legal_case.representatives.exclude(mobile="").values_list("mobile", flat=True):
            try:
                number = normalize_mobile(mobile)
            except InvalidInput:
                log.warning("hearing %s: a representative's mobile number is not valid; no SMS", hearing.pk)
                continue
            if number not in sent:
                sent.add(number)
                sms.notify(recipient=number, template=party, context=context)
    if getattr(hearing.arbitrator, "mobile", "") and hearing.arbitrator.mobile not in sent:
        sms.notify(recipient=hearing.arbitrator, template=party, context=context)
