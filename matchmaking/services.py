"""Every write of the matchmaking station. One recipe: lock, check, change, audit, and SMS in the
same transaction (the outbox sends after commit).

Consent first: a profile exists only after the member opts in (the time is recorded), is shown
only once a matchmaker has verified it, and is hidden at once when the member withdraws; its
personal content is erased after a grace period (``MATCHMAKING_ERASE_AFTER_DAYS``).

An introduction's contact goes out only when both have accepted, and only by SMS. A decline is
silent: the other side reads "not now", as for an introduction that expired. SMS never name the
service: they say there is news, with a link to the member's hall case."""

import base64
import datetime
import re

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from care import audit, sms, uploads
from care import services as hall
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import Case, Worker
from care.validators import birth_date_from_id, normalize_mobile
from matchmaking import permissions, selectors
from matchmaking.models import (
    DEPARTMENT,
    OPEN_INTRO_STATES,
    Answer,
    Block,
    Education,
    EmployerType,
    Event,
    EventMark,
    EventSignup,
    Gender,
    HiddenFrom,
    Introduction,
    IntroState,
    Photo,
    Profile,
    ProfileState,
    Report,
    SignupState,
)


class MatchEvent(models.TextChoices):
    OPTED_IN = "matchmaking.opted_in"
    UPDATED = "matchmaking.profile_updated"
    SUBMITTED = "matchmaking.submitted"
    REVIEWED = "matchmaking.reviewed"
    WITHDRAWN = "matchmaking.withdrawn"
    ERASED = "matchmaking.erased"
    BLOCKED = "matchmaking.blocked"
    HIDDEN = "matchmaking.hidden_from"
    INTRODUCTION = "matchmaking.introduction"
    ANSWERED = "matchmaking.answered"
    EXPIRED = "matchmaking.expired"
    REPORTED = "matchmaking.reported"
    REPORT_HANDLED = "matchmaking.report_handled"
    VIEWED = "matchmaking.profile_viewed"
    PHOTO_ADDED = "matchmaking.photo_added"
    PHOTO_REMOVED = "matchmaking.photo_removed"
    EVENT_CREATED = "matchmaking.event_created"
    EVENT_SIGNED_UP = "matchmaking.event_signed_up"
    EVENT_PROMOTED = "matchmaking.event_promoted"
    EVENT_CANCELLED = "matchmaking.event_signup_cancelled"
    EVENT_CHECKED_IN = "matchmaking.event_checked_in"
    EVENT_MARKED = "matchmaking.event_marked"


ADULT_AGE = 18
TEXT_MAX = 1000
WECHAT_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{5,19}")
PUBLIC_FIELDS = ("display_name", "height_cm", "education", "occupation", "employer_type", "show_employer",
                 "district", "hobbies", "introduction")
PREFERENCE_FIELDS = ("pref_age_min", "pref_age_max", "pref_districts", "pref_education_min", "pref_height_min",
                     "pref_height_max", "hide_from_colleagues")

for _code, _text in [
    ("match_event_booked", gettext_lazy(
        "Worker Service Center: your seat at the activity on %(when)s, %(where)s is booked (%(ref)s). "
        "Details: %(link)s")),
    ("match_event_waitlisted", gettext_lazy(
        "Worker Service Center: the activity on %(when)s is full; you are number %(position)s on the waitlist "
        "(%(ref)s). Details: %(link)s")),
    ("match_event_promoted", gettext_lazy(
        "Worker Service Center: a seat at the activity on %(when)s, %(where)s is now yours (%(ref)s). "
        "Details: %(link)s")),
    ("match_news", gettext_lazy("Worker Service Center: there is news for you (%(ref)s). Details: %(link)s")),
    ("match_contact", gettext_lazy(
        "Worker Service Center (%(ref)s): you both said yes. %(name)s's contact: %(contact)s. Details: %(link)s")),
]:
    sms.register_template(sms.SmsTemplate(_code, _text, sample={  # the hall's checks add a reference and a link
        "name": "Xiaoyu", "contact": "13800000000", "when": "2026-12-05 14:00", "where": "Culture Palace, 3rd floor",
        "position": 2}))


def _erase_after() -> datetime.timedelta:
    return datetime.timedelta(days=getattr(settings, "MATCHMAKING_ERASE_AFTER_DAYS", 30))


def _intro_lifetime() -> datetime.timedelta:
    return datetime.timedelta(days=getattr(settings, "MATCHMAKING_INTRODUCTION_DAYS", 14))


def weekly_request_limit() -> int:
    return getattr(settings, "MATCHMAKING_REQUESTS_PER_WEEK", 5)


# --- input -------------------------------------------------------------------------------------


def _text(value, *, field: str, limit: int, required: bool = False) -> str:
    value = str(value or "").strip()
    if required and not value:
        raise InvalidInput(_("This field is required."), detail={field: "missing"})
    if len(value) > limit:
        raise InvalidInput(_("Write at most %(max)d characters.") % {"max": limit}, detail={field: "too_long"})
    return value


def _display_name(value) -> str:
    name = _text(value, field="display_name", limit=30, required=True)
    if sms.contains_sensitive_word(name) or re.search(r"\d{5,}", name):
        raise InvalidInput(_("Choose another display name (no contact details, nothing about the service)."),
                           detail={"display_name": "invalid"})
    return name


def _contact(value) -> str:
    """A mobile number or a WeChat ID: what the other side receives by SMS."""
    text = _text(value, field="contact", limit=40, required=True)
    try:
        return normalize_mobile(text)
    except InvalidInput:
        pass
    if WECHAT_ID.fullmatch(text) and not sms.contains_sensitive_word(text):
        return text
    raise InvalidInput(_("Give a mainland China mobile number or a WeChat ID (6–20 letters, digits, _ or -, "
                         "starting with a letter)."), detail={"contact": "invalid"})


def _choice(value, choices, field: str, *, required: bool = False):
    if value in (None, ""):
        if required:
            raise InvalidInput(_("This field is required."), detail={field: "missing"})
        return None
    if value not in choices.values:
        raise InvalidInput(_("Choose from the list."), detail={field: "invalid"})
    return value


def _number(value, field: str, low: int, high: int):
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = low - 1
    if not low <= number <= high:
        raise InvalidInput(_("Give a number between %(low)d and %(high)d.") % {"low": low, "high": high},
                           detail={field: "invalid"})
    return number


def _clean_public(data: dict) -> dict:
    clean = {}
    if "display_name" in data:
        clean["display_name"] = _display_name(data["display_name"])
    if "height_cm" in data:
        clean["height_cm"] = _number(data["height_cm"], "height_cm", 120, 230)
    if "education" in data:
        education = _number(data["education"], "education", 1, 6)
        clean["education"] = _choice(education, Education, "education")
    for field, limit in (("occupation", 50), ("district", 30), ("hobbies", 200), ("introduction", TEXT_MAX)):
        if field in data:
            clean[field] = _text(data[field], field=field, limit=limit)
    if "employer_type" in data:
        clean["employer_type"] = _choice(data["employer_type"], EmployerType, "employer_type") or ""
    if "show_employer" in data:
        clean["show_employer"] = bool(data["show_employer"])
    return clean


def _clean_preferences(data: dict, profile: Profile) -> dict:
    clean = {}
    if "pref_age_min" in data:
        clean["pref_age_min"] = _number(data["pref_age_min"], "pref_age_min", ADULT_AGE, 99) or ADULT_AGE
    if "pref_age_max" in data:
        clean["pref_age_max"] = _number(data["pref_age_max"], "pref_age_max", ADULT_AGE, 99) or 99
    low, high = clean.get("pref_age_min", profile.pref_age_min), clean.get("pref_age_max", profile.pref_age_max)
    if high < low:
        raise InvalidInput(_("The oldest age must not be below the youngest."), detail={"pref_age_max": "order"})
    if "pref_districts" in data:
        districts = data["pref_districts"] or []
        if isinstance(districts, str):
            districts = [d for d in re.split(r"[,，、\s]+", districts) if d]
        clean["pref_districts"] = [_text(d, field="pref_districts", limit=30) for d in districts][:20]
    if "pref_education_min" in data:
        clean["pref_education_min"] = _number(data["pref_education_min"], "pref_education_min", 1, 6)
    for field in ("pref_height_min", "pref_height_max"):
        if field in data:
            clean[field] = _number(data[field], field, 120, 230)
    if "hide_from_colleagues" in data:
        clean["hide_from_colleagues"] = bool(data["hide_from_colleagues"])
    return clean


def _locked(profile: Profile) -> Profile:
    return Profile.objects.select_for_update(of=("self",)).select_related("worker", "case").get(pk=profile.pk)


def _tell(profile: Profile, template: str, **context) -> None:
    """An SMS to the member that says only that there is news, with their hall case's link."""
    with translation.override(profile.worker.language):
        values = {"ref": profile.case.reference if profile.case_id else "",
                  "link": sms.link(reverse("care:case_detail", args=[profile.case_id])) if profile.case_id
                  else sms.link(reverse("care:my_requests")), **context}
    sms.notify(recipient=profile.worker, template=template, context=values)


# --- profiles: the member ------------------------------------------------------------------------


@transaction.atomic
def profile_opt_in(*, actor, worker: Worker, gender: str, seeking: str) -> Profile:
    """A worker opts in: their consent is recorded with the time. Only members whose national ID
    says they are 18 or older. Already in: the profile (a withdrawn one cannot come back before
    its content is erased)."""
    if not permissions.can_opt_in(actor, worker):
        raise NotAllowed()
    worker = Worker.objects.select_for_update().get(pk=worker.pk)
    existing = Profile.objects.filter(worker=worker).first()
    if existing is not None:
        if existing.state == ProfileState.WITHDRAWN:
            raise InvalidState(_("Your earlier profile is being erased; you can join again after %(day)s.")
                               % {"day": (existing.withdrawn_at + _erase_after()).date().isoformat()})
        return existing
    born = birth_date_from_id(worker.national_id)
    today = timezone.localdate()
    if today.year - born.year - ((today.month, today.day) < (born.month, born.day)) < ADULT_AGE:
        raise InvalidState(_("The station is for members aged 18 and over."), detail={"age": "under_18"})
    gender = _choice(gender, Gender, "gender", required=True)
    seeking = _choice(seeking, Gender, "seeking", required=True)
    profile = Profile.objects.create(worker=worker, gender=gender, seeking=seeking, birth_year=born.year,
                                     consent_at=timezone.now())
    audit.record(actor=actor, event_type=MatchEvent.OPTED_IN, subject=profile, new={"consent_at": profile.consent_at})
    return profile


@transaction.atomic
def profile_update(*, actor, profile: Profile, contact: str | None = None, **fields) -> Profile:
    """The member edits what others see, their preferences and the contact to share. A change
    to what others see on a verified profile sends it back for review (hidden until verified)."""
    profile = _locked(profile)
    if not permissions.is_the_member(actor, profile):
        raise NotAllowed()
    if profile.state in (ProfileState.WITHDRAWN, ProfileState.SUSPENDED):
        raise InvalidState(_("This profile can no longer be changed."))
    unknown = set(fields) - set(PUBLIC_FIELDS) - set(PREFERENCE_FIELDS)
    if unknown:
        raise InvalidInput(_("Some of the information is not valid."), detail=dict.fromkeys(sorted(unknown), "unknown"))
    public = _clean_public({k: v for k, v in fields.items() if k in PUBLIC_FIELDS})
    preferences = _clean_preferences({k: v for k, v in fields.items() if k in PREFERENCE_FIELDS}, profile)
    changes = {**public, **preferences}
    if contact is not None:
        changes["contact"] = _contact(contact)
    changed = [field for field, value in changes.items() if getattr(profile, field) != value]
    if not changed:
        return profile
    for field in changed:
        setattr(profile, field, changes[field])
    old_state = profile.state
    if profile.state == ProfileState.VERIFIED and set(changed) & set(PUBLIC_FIELDS):
        profile.submit(timezone.now())
    profile.save()
    audit.record(actor=actor, event_type=MatchEvent.UPDATED, subject=profile,
                 old={"state": old_state}, new={"state": profile.state, "changed": changed})
    return profile


@transaction.atomic
def profile_submit(*, actor, profile: Profile) -> Profile:
    """The member sends the profile for review. It needs a display name and a contact to share.
    The first submission opens the member's hall case (the matchmakers' queue)."""
    profile = _locked(profile)
    if not permissions.is_the_member(actor, profile):
        raise NotAllowed()
    if profile.state == ProfileState.SUBMITTED:
        return profile
    if profile.state not in (ProfileState.DRAFT, ProfileState.RETURNED):
        raise InvalidState()
    if not profile.display_name:
        raise InvalidInput(_("Choose a display name first."), detail={"display_name": "missing"})
    if not profile.contact:
        raise InvalidInput(_("Give the contact to share when both sides say yes."), detail={"contact": "missing"})
    old = profile.state
    profile.submit(timezone.now())
    if profile.case_id is None:
        profile.case = hall.request_file(actor=actor, worker=profile.worker, department=DEPARTMENT,
                                         description=_("Profile review"), tell_worker=False)
    profile.save(update_fields=["state", "submitted_at", "return_reason", "case", "updated_at"])
    audit.record(actor=actor, event_type=MatchEvent.SUBMITTED, subject=profile, old={"state": old},
                 new={"state": profile.state})
    return profile


def _end_case(case_id: int | None, *, withdrawn: bool) -> None:
    if case_id is None:
        return
    case = Case.objects.select_for_update().get(pk=case_id)
    if case.is_open:
        (case.withdraw if withdrawn else case.close)(timezone.now())
        case.save(update_fields=["stage", "closed_at"])


@transaction.atomic
def profile_withdraw(*, actor, profile: Profile) -> Profile:
    """The member withdraws consent: the profile is hidden at once, open introductions end (the
    other side reads "not now"), and its personal content is erased after the grace period."""
    profile = _locked(profile)
    if not permissions.is_the_member(actor, profile):
        raise NotAllowed()
    if profile.state == ProfileState.WITHDRAWN:
        return profile
    old = profile.state
    now = timezone.now()
    profile.withdraw(now)
    profile.save(update_fields=["state", "withdrawn_at", "updated_at"])
    _expire_open(Introduction.objects.filter(models.Q(first=profile) | models.Q(second=profile)), now)
    _end_case(profile.case_id, withdrawn=True)
    audit.record(actor=actor, event_type=MatchEvent.WITHDRAWN, subject=profile, old={"state": old},
                 new={"state": profile.state, "erase_after": now + _erase_after()})
    return profile


PHOTOS_MAX = 3
PHOTO_MAX_BYTES = 3 * 1024 * 1024


@transaction.atomic
def photo_add(*, actor, profile: Profile, uploaded_file) -> Photo:
    """The member adds a photo (PNG, JPEG or WEBP, checked by content; encrypted). Up to three.
    A new photo on a verified profile sends it for review again."""
    profile = _member_profile(actor, profile)
    if profile.photos.count() >= PHOTOS_MAX:
        raise InvalidInput(_("At most %(max)d photos.") % {"max": PHOTOS_MAX}, detail={"photo": "too_many"})
    data = uploads.read_upload(uploaded_file, limit=PHOTO_MAX_BYTES)
    kind = uploads.sniff(data)
    if kind not in (uploads.PNG, uploads.JPEG, uploads.WEBP):
        raise InvalidInput(_("The photo must be a picture (PNG, JPEG or WEBP)."), detail={"photo": "type"})
    photo = Photo.objects.create(profile=profile, data=base64.b64encode(data).decode("ascii"),
                                 content_type=kind.content_type)
    if profile.state == ProfileState.VERIFIED:
        profile.submit(timezone.now())
        profile.save(update_fields=["state", "submitted_at", "return_reason", "updated_at"])
    audit.record(actor=actor, event_type=MatchEvent.PHOTO_ADDED, subject=profile, new={"photo": photo.pk})
    return photo


@transaction.atomic
def photo_remove(*, actor, photo: Photo) -> None:
    profile = _member_profile(actor, photo.profile)
    Photo.objects.filter(pk=photo.pk, profile=profile).delete()
    audit.record(actor=actor, event_type=MatchEvent.PHOTO_REMOVED, subject=profile, old={"photo": photo.pk})


ERASED_FIELDS = {"display_name": "", "height_cm": None, "education": None, "occupation": "", "employer_type": "",
                 "show_employer": False, "district": "", "hobbies": "", "introduction": "", "contact": "",
                 "pref_districts": [], "pref_education_min": None, "pref_height_min": None, "pref_height_max": None,
                 "birth_year": 0, "return_reason": ""}


def profiles_erase_due(*, now: datetime.datetime | None = None) -> int:
    """Daily: the personal content of profiles withdrawn longer ago than the grace period is
    erased (what they wrote, their contact, photos, preferences, hidden names and blocks). The row stays,
    empty, so that introductions and reports keep their other side. Idempotent."""
    now = now or timezone.now()
    erased = 0
    with transaction.atomic():
        due = list(Profile.objects.select_for_update(skip_locked=True)
                   .filter(state=ProfileState.WITHDRAWN, erased_at__isnull=True,
                           withdrawn_at__lte=now - _erase_after()))
        for profile in due:
            for field, value in ERASED_FIELDS.items():
                setattr(profile, field, value)
            profile.erased_at = now
            profile.save()
            HiddenFrom.objects.filter(profile=profile).delete()
            Block.objects.filter(blocker=profile).delete()
            Photo.objects.filter(profile=profile).delete()
            audit.record(actor=None, event_type=MatchEvent.ERASED, subject=profile, new={"erased_at": now})
            erased += 1
    return erased


# --- profiles: the matchmaker -----------------------------------------------------------------------


REVIEW_STEPS = {"verify": "verify", "send_back": "send_back", "suspend": "suspend", "reinstate": "reinstate"}


@transaction.atomic
def profile_review(*, actor, profile: Profile, step: str, reason: str = "") -> Profile:
    """A matchmaker verifies a submitted profile (it is shown from now on), sends it back with a
    reason (the member is told there is news), suspends a profile (hidden), or reinstates it."""
    profile = _locked(profile)
    if not permissions.is_matchmaker(actor):
        raise NotAllowed()
    if step not in REVIEW_STEPS:
        raise InvalidInput(_("Choose a step from the list."), detail={"step": "invalid"})
    method = getattr(profile, REVIEW_STEPS[step])
    if not can_proceed(method):
        raise InvalidState(_("This cannot be done at the profile's current stage."))
    reason = _text(reason, field="reason", limit=500, required=step in ("send_back", "suspend"))
    now = timezone.now()
    old = profile.state
    if step == "send_back":
        method(actor, now, reason)
    else:
        method(actor, now)
    profile.save(update_fields=["state", "reviewed_by", "reviewed_at", "return_reason", "updated_at"])
    if profile.case_id:
        case = Case.objects.select_for_update().get(pk=profile.case_id)
        if case.is_open and case.assignee_id is None:
            case.take_up(actor)
            case.save(update_fields=["stage", "assignee"])
    if step == "suspend":
        _expire_open(Introduction.objects.filter(models.Q(first=profile) | models.Q(second=profile)), now)
    audit.record(actor=actor, event_type=MatchEvent.REVIEWED, subject=profile, old={"state": old},
                 new={"state": profile.state, "step": step, "reason": reason})
    if step in ("verify", "send_back"):
        _tell(profile, "match_news")
    return profile


# --- blocks and hiding -------------------------------------------------------------------------------


def _member_profile(actor, profile: Profile) -> Profile:
    profile = _locked(profile)
    if not permissions.is_the_member(actor, profile):
        raise NotAllowed()
    if profile.state == ProfileState.WITHDRAWN:
        raise InvalidState(_("This profile can no longer be changed."))
    return profile


@transaction.atomic
def block(*, actor, profile: Profile, other: Profile) -> Block:
    """A silent block, both ways: never suggested again, no introduction; an open one ends."""
    profile = _member_profile(actor, profile)
    if other.pk == profile.pk:
        raise InvalidInput(_("You cannot block yourself."))
    row, created = Block.objects.get_or_create(blocker=profile, blocked=other)
    if created:
        first, second = sorted((profile.pk, other.pk))
        _expire_open(Introduction.objects.filter(first_id=first, second_id=second), timezone.now())
        audit.record(actor=actor, event_type=MatchEvent.BLOCKED, subject=profile, new={"blocked": other.pk})
    return row


@transaction.atomic
def hide_from(*, actor, profile: Profile, mobile: str) -> HiddenFrom:
    """Hide from a named person, given by their mobile number (whether or not they are a member:
    nothing says which)."""
    profile = _member_profile(actor, profile)
    try:
        mobile = normalize_mobile(mobile)
    except InvalidInput as error:
        raise InvalidInput(error.message, detail={"mobile": "invalid"}) from None
    row, created = HiddenFrom.objects.get_or_create(profile=profile, mobile=mobile)
    if created:
        audit.record(actor=actor, event_type=MatchEvent.HIDDEN, subject=profile, new={"hidden": row.pk})
    return row


# --- introductions -------------------------------------------------------------------------------------


def _expire_open(introductions, now) -> None:
    for intro in introductions.select_for_update().filter(state__in=OPEN_INTRO_STATES):
        intro.expire(now)
        intro.save(update_fields=["state", "decided_at"])


def _new_introduction(a: Profile, b: Profile, **fields) -> Introduction:
    first, second = sorted((a, b), key=lambda p: p.pk)
    if Introduction.objects.filter(first=first, second=second).exists():
        raise InvalidState(_("These two have already been introduced."), detail={"introduction": "exists"})
    return Introduction.objects.create(first=first, second=second, expires_at=timezone.now() + _intro_lifetime(),
                                       **fields)


@transaction.atomic
def introduction_request(*, actor, profile: Profile, other: Profile) -> Introduction:
    """A verified member asks to be introduced to someone they may meet (their own answer is
    yes); the other is told there is news. At most ``MATCHMAKING_REQUESTS_PER_WEEK`` a week."""
    profile = _member_profile(actor, profile)  # the lock serialises a member's requests
    if not profile.is_shown:
        raise InvalidState(_("Your profile must be verified first."), detail={"profile": "not_verified"})
    other = Profile.objects.select_related("worker", "case").get(pk=other.pk)
    if not selectors.may_be_introduced(profile, other):
        raise InvalidState(_("This introduction is not possible."), detail={"other": "unavailable"})
    if selectors.requests_this_week(profile=profile) >= weekly_request_limit():
        raise InvalidState(_("You have asked for %(count)d introductions this week, the most allowed. Try again "
                             "in a few days.") % {"count": weekly_request_limit()}, detail={"requests": "limit"})
    intro = _new_introduction(profile, other, requested_by=profile)
    setattr(intro, f"{intro.side(profile)}_answer", Answer.ACCEPTED)
    intro.accept_one()
    intro.save()
    audit.record(actor=actor, event_type=MatchEvent.INTRODUCTION, subject=intro,
                 new={"state": intro.state, "requested_by": profile.pk})
    _tell(other, "match_news")
    return intro


@transaction.atomic
def introduction_propose(*, actor, first: Profile, second: Profile, note: str = "") -> Introduction:
    """A matchmaker proposes an introduction with a note; both are told there is news."""
    if not permissions.is_matchmaker(actor):
        raise NotAllowed()
    a, b = (Profile.objects.select_related("worker", "case").get(pk=p.pk) for p in (first, second))
    if not (a.is_shown and b.is_shown and selectors.may_be_introduced(a, b)):
        raise InvalidState(_("This introduction is not possible."), detail={"other": "unavailable"})
    intro = _new_introduction(a, b, proposed_by=actor, note=_text(note, field="note", limit=500))
    audit.record(actor=actor, event_type=MatchEvent.INTRODUCTION, subject=intro,
                 new={"state": intro.state, "proposed_by": actor.pk})
    _tell(a, "match_news")
    _tell(b, "match_news")
    return intro


@transaction.atomic
def introduction_answer(*, actor, introduction: Introduction, accept: bool) -> Introduction:
    """A member answers. No: the introduction ends, silently (the other reads "not now"). Yes:
    when the other has said yes too, each receives the other's display name and chosen contact
    by SMS, and the introduction is done. An answer given stays."""
    intro = (Introduction.objects.select_for_update(of=("self",)).select_related("first__worker", "second__worker",
                                                                      "first__case", "second__case")
             .get(pk=introduction.pk))
    profile = selectors.profile_for_member(user=actor)
    if profile is None or profile.pk not in (intro.first_id, intro.second_id):
        raise NotAllowed()
    side = intro.side(profile)
    if getattr(intro, f"{side}_answer"):
        return intro
    if intro.state not in OPEN_INTRO_STATES:
        raise InvalidState(_("This introduction is closed."))
    now = timezone.now()
    if intro.expires_at <= now:  # the daily task marks it expired
        raise InvalidState(_("This introduction has expired."))
    if not profile.is_shown:
        raise InvalidState(_("Your profile is not shown at the moment."))
    old = intro.state
    setattr(intro, f"{side}_answer", Answer.ACCEPTED if accept else Answer.DECLINED)
    if not accept:
        intro.decline(now)
    elif intro.state == IntroState.PROPOSED:
        intro.accept_one()
    else:
        intro.accept_both(now)
        intro.share()
        for one, other in ((intro.first, intro.second), (intro.second, intro.first)):
            _tell(one, "match_contact", name=other.display_name, contact=other.contact)
    intro.save()
    audit.record(actor=actor, event_type=MatchEvent.ANSWERED, subject=intro, old={"state": old},
                 new={"state": intro.state, "side": side})
    return intro


def introductions_expire_due(*, now: datetime.datetime | None = None) -> int:
    """Daily: open introductions past their time expire (both read "not now"). Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(Introduction.objects.select_for_update(skip_locked=True)
                   .filter(state__in=OPEN_INTRO_STATES, expires_at__lte=now))
        for intro in due:
            intro.expire(now)
            intro.save(update_fields=["state", "decided_at"])
            audit.record(actor=None, event_type=MatchEvent.EXPIRED, subject=intro, new={"state": intro.state})
    return len(due)


# --- reports ----------------------------------------------------------------------------------------


@transaction.atomic
def report_file(*, actor, profile: Profile, reported: Profile, reason: str) -> Report:
    """A member reports another to the matchmakers (the reason is encrypted)."""
    profile = _member_profile(actor, profile)
    if reported.pk == profile.pk:
        raise InvalidInput(_("You cannot report yourself."))
    report = Report.objects.create(reporter=profile, reported=reported,
                                   reason=_text(reason, field="reason", limit=TEXT_MAX, required=True))
    audit.record(actor=actor, event_type=MatchEvent.REPORTED, subject=report, new={"reported": reported.pk})
    return report


@transaction.atomic
def report_handle(*, actor, report: Report, step: str, outcome: str = "", suspend: bool = False) -> Report:
    """A matchmaker takes a report (reviewing), then actions it (may suspend the reported
    profile) or dismisses it, with an outcome."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    if not permissions.is_matchmaker(actor):
        raise NotAllowed()
    if step not in ("review", "action", "dismiss"):
        raise InvalidInput(_("Choose a step from the list."), detail={"step": "invalid"})
    method = getattr(report, step)
    if not can_proceed(method):
        raise InvalidState(_("This report is closed."))
    old = report.state
    now = timezone.now()
    if step == "review":
        method(actor)
    else:
        method(actor, now, _text(outcome, field="outcome", limit=500, required=True))
    report.save()
    if step == "action" and suspend:
        reported = Profile.objects.get(pk=report.reported_id)
        if can_proceed(reported.suspend):
            profile_review(actor=actor, profile=reported, step="suspend", reason=report.outcome)
    audit.record(actor=actor, event_type=MatchEvent.REPORT_HANDLED, subject=report, old={"state": old},
                 new={"state": report.state, "suspended": bool(step == "action" and suspend)})
    return report


def profile_record_view(*, actor, profile: Profile) -> None:
    """A matchmaker reading a member's profile is an audit event."""
    with transaction.atomic():
        audit.record(actor=actor, event_type=MatchEvent.VIEWED, subject=profile)


# --- social events -------------------------------------------------------------------------------------


def _when(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _where(event: Event) -> str:
    if sms.contains_sensitive_word(event.place):
        return _("the Worker Service Center (ask at the front desk)")
    return event.place


def _tell_signup(signup: EventSignup, template: str, **context) -> None:
    with translation.override(signup.profile.worker.language):
        values = {"when": _when(signup.event.starts_at), "where": _where(signup.event), **context}
    _tell(signup.profile, template, **values)


@transaction.atomic
def event_create(*, actor, title: str, place: str, starts_at, ends_at, capacity, balance_genders: bool = True,
                 min_age=ADULT_AGE, max_age=60, description: str = "") -> Event:
    """A matchmaker schedules a social event."""
    if not permissions.is_matchmaker(actor):
        raise NotAllowed()
    if not starts_at or not ends_at or ends_at <= starts_at:
        raise InvalidInput(_("The end must come after the start."), detail={"ends_at": "order"})
    if starts_at <= timezone.now():
        raise InvalidInput(_("Choose a time in the future."), detail={"starts_at": "past"})
    capacity = _number(capacity, "capacity", 2, 500)
    if capacity is None:
        raise InvalidInput(_("This field is required."), detail={"capacity": "missing"})
    min_age = _number(min_age, "min_age", ADULT_AGE, 99) or ADULT_AGE
    max_age = _number(max_age, "max_age", min_age, 99) or 99
    event = Event.objects.create(
        title=_text(title, field="title", limit=100, required=True), place=_text(place, field="place", limit=200,
                                                                                  required=True),
        starts_at=starts_at, ends_at=ends_at, capacity=capacity, balance_genders=bool(balance_genders),
        min_age=min_age, max_age=max_age, description=_text(description, field="description", limit=2000),
        created_by=actor)
    audit.record(actor=actor, event_type=MatchEvent.EVENT_CREATED, subject=event,
                 new={"starts_at": starts_at, "capacity": capacity, "balanced": event.balance_genders})
    return event


def _has_seat(event: Event, gender: str) -> bool:
    booked = EventSignup.objects.filter(event=event, state__in=(SignupState.BOOKED, SignupState.ATTENDED))
    return booked.count() < event.capacity and booked.filter(gender=gender).count() < event.seats_for(gender)


def event_waitlist_position(signup: EventSignup) -> int | None:
    if signup.state != SignupState.WAITLISTED:
        return None
    return EventSignup.objects.filter(event_id=signup.event_id, state=SignupState.WAITLISTED).filter(
        models.Q(queued_at__lt=signup.queued_at) | models.Q(queued_at=signup.queued_at, pk__lt=signup.pk)).count() + 1


@transaction.atomic
def event_signup(*, actor, profile: Profile, event: Event) -> EventSignup:
    """A verified member of the event's ages takes a seat (or, when the seats or their gender's
    half are taken, a place on the waitlist), counted under the event's row lock; the member is
    told by SMS. Already signed up: that place."""
    profile = _member_profile(actor, profile)
    event = Event.objects.select_for_update().get(pk=event.pk)
    existing = EventSignup.objects.filter(event=event, profile=profile).exclude(state=SignupState.CANCELLED).first()
    if existing is not None:
        return existing
    if event.cancelled_at or event.starts_at <= timezone.now():
        raise InvalidState(_("Sign-up for this event is closed."), detail={"event": "closed"})
    if not profile.is_shown:
        raise InvalidState(_("Your profile must be verified first."), detail={"profile": "not_verified"})
    if not event.min_age <= profile.age() <= event.max_age:
        raise InvalidState(_("This event is for members aged %(low)d to %(high)d.")
                           % {"low": event.min_age, "high": event.max_age}, detail={"age": "out_of_range"})
    state = SignupState.BOOKED if _has_seat(event, profile.gender) else SignupState.WAITLISTED
    signup = EventSignup.objects.create(event=event, profile=profile, gender=profile.gender, state=state)
    audit.record(actor=actor, event_type=MatchEvent.EVENT_SIGNED_UP, subject=signup,
                 new={"event": event.pk, "state": state})
    if state == SignupState.BOOKED:
        _tell_signup(signup, "match_event_booked")
    else:
        _tell_signup(signup, "match_event_waitlisted", position=event_waitlist_position(signup))
    return signup


def _promote(event: Event, actor) -> list[EventSignup]:
    """The first of the waitlist whose gender still has a seat gets it, in order, until none."""
    promoted = []
    if event.cancelled_at or event.starts_at <= timezone.now():
        return promoted
    for signup in (EventSignup.objects.select_for_update(of=("self",)).filter(event=event, state=SignupState.WAITLISTED)
                   .select_related("profile__worker", "profile__case").order_by("queued_at", "pk")):
        if not _has_seat(event, signup.gender):
            continue
        signup.promote()
        signup.save(update_fields=["state"])
        signup.event = event
        audit.record(actor=actor, event_type=MatchEvent.EVENT_PROMOTED, subject=signup, new={"state": signup.state})
        _tell_signup(signup, "match_event_promoted")
        promoted.append(signup)
    return promoted


@transaction.atomic
def event_signup_cancel(*, actor, signup: EventSignup) -> EventSignup:
    """The member gives their place back before the start; a seat goes to the waitlist."""
    event = Event.objects.select_for_update().get(pk=signup.event_id)
    signup = EventSignup.objects.select_for_update(of=("self",)).select_related("profile__worker").get(pk=signup.pk)
    if not permissions.is_the_member(actor, signup.profile):
        raise NotAllowed()
    if signup.state == SignupState.CANCELLED:
        return signup
    if event.starts_at <= timezone.now() or not can_proceed(signup.cancel):
        raise InvalidState(_("The event has already started."))
    old = signup.state
    signup.cancel()
    signup.save(update_fields=["state"])
    audit.record(actor=actor, event_type=MatchEvent.EVENT_CANCELLED, subject=signup, old={"state": old},
                 new={"state": signup.state})
    if old == SignupState.BOOKED:
        _promote(event, actor)
    return signup


@transaction.atomic
def event_check_in(*, actor, signup: EventSignup) -> EventSignup:
    """A matchmaker checks a booked member in at the door (from an hour before the start)."""
    signup = EventSignup.objects.select_for_update(of=("self",)).select_related("event").get(pk=signup.pk)
    if not permissions.is_matchmaker(actor):
        raise NotAllowed()
    if signup.state == SignupState.ATTENDED:
        return signup
    if not can_proceed(signup.check_in):
        raise InvalidState(_("Only a booked seat can be checked in."))
    if timezone.now() < signup.event.starts_at - datetime.timedelta(hours=1):
        raise InvalidState(_("Check-in opens an hour before the start."))
    signup.check_in(timezone.now())
    signup.save(update_fields=["state", "checked_in_at"])
    audit.record(actor=actor, event_type=MatchEvent.EVENT_CHECKED_IN, subject=signup, new={"state": signup.state})
    return signup


@transaction.atomic
def event_mark(*, actor, profile: Profile, event: Event, other: Profile) -> Introduction | None:
    """After the start, a member who came marks another who came whom they would like to meet
    again. When the other marked them too, they are introduced, both having said yes: each
    receives the other's contact by SMS. Blocked pairs never meet; a pair already introduced
    keeps its introduction (an open one is completed). Returns the introduction when made."""
    profile = _member_profile(actor, profile)
    event = Event.objects.get(pk=event.pk)
    came = EventSignup.objects.filter(event=event, state=SignupState.ATTENDED)
    if not came.filter(profile=profile).exists() or not came.filter(profile=other).exists() or other.pk == profile.pk:
        raise InvalidState(_("Only people who came to the event can be marked."), detail={"other": "not_there"})
    if timezone.now() < event.starts_at:
        raise InvalidState(_("Marks open once the event has started."))
    _mark, created = EventMark.objects.get_or_create(event=event, marker=profile, marked=other)
    if created:
        audit.record(actor=actor, event_type=MatchEvent.EVENT_MARKED, subject=event, new={"marker": profile.pk})
    if not EventMark.objects.filter(event=event, marker=other, marked=profile).exists():
        return None
    if Block.objects.filter(models.Q(blocker=profile, blocked=other)
                            | models.Q(blocker=other, blocked=profile)).exists():
        return None
    first, second = sorted((profile, Profile.objects.select_related("worker", "case").get(pk=other.pk)),
                           key=lambda p: p.pk)
    intro = Introduction.objects.select_for_update().filter(first=first, second=second).first()
    if intro is None:
        intro = Introduction.objects.create(first=first, second=second, note=event.title,
                                            expires_at=timezone.now() + _intro_lifetime())
    if intro.state not in OPEN_INTRO_STATES:
        return intro if intro.state == IntroState.CONTACT_SHARED else None
    intro.first_answer = intro.second_answer = Answer.ACCEPTED
    if intro.state == IntroState.PROPOSED:
        intro.accept_one()
    intro.accept_both(timezone.now())
    intro.share()
    intro.save()
    audit.record(actor=actor, event_type=MatchEvent.ANSWERED, subject=intro, new={"state": intro.state,
                                                                                  "event": event.pk})
    for one, two in ((first, second), (second, first)):
        _tell(one, "match_contact", name=two.display_name, contact=two.contact)
    return intro
