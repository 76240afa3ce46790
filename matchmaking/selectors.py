"""Every read of the matchmaking station, scoped to the user. The heart of it: who may be
suggested to whom (``pool``), and how well two members fit (``match_score``), the same number
seen from either side.

Hard rules, in the query: both verified; each is what the other is looking for; each one's
age within the other's age range; neither blocked the other; neither hid from the other by
name; not colleagues at one employer when either hides from colleagues (the default); not
introduced before. Soft preferences (districts, education, height) make the score: the share
of one's preferences the other meets, multiplied by the same the other way round, so that both
directions count and the score is symmetric."""

import datetime

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy

from care.registry import Figure
from care.roles import Role
from matchmaking import permissions
from matchmaking.models import (
    OPEN_INTRO_STATES,
    Block,
    Event,
    EventSignup,
    HiddenFrom,
    Introduction,
    IntroState,
    Photo,
    Profile,
    ProfileState,
    Report,
    ReportState,
    SignupState,
)


def profile_for_member(*, user) -> Profile | None:
    if not (user.is_authenticated and user.has_role(Role.WORKER)):
        return None
    return Profile.objects.filter(worker__user=user).select_related("worker").first()


def pool(*, profile: Profile, today: datetime.date | None = None) -> QuerySet[Profile]:
    """The verified members ``profile`` may be suggested or introduced to (hard rules only)."""
    year = (today or timezone.localdate()).year
    age = year - profile.birth_year
    rows = (Profile.objects.filter(state=ProfileState.VERIFIED, gender=profile.seeking, seeking=profile.gender,
                                   birth_year__gte=year - profile.pref_age_max,
                                   birth_year__lte=year - profile.pref_age_min,
                                   pref_age_min__lte=age, pref_age_max__gte=age)
            .exclude(pk=profile.pk)
            .exclude(pk__in=Block.objects.filter(blocker=profile).values("blocked"))
            .exclude(pk__in=Block.objects.filter(blocked=profile).values("blocker"))
            .exclude(worker__mobile__in=HiddenFrom.objects.filter(profile=profile).values("mobile"))
            .exclude(pk__in=HiddenFrom.objects.filter(mobile=profile.worker.mobile).values("profile")))
    employer = profile.worker.employer
    if employer:
        colleagues = Q(worker__employer=employer)
        rows = rows.exclude(colleagues if profile.hide_from_colleagues else colleagues & Q(hide_from_colleagues=True))
    return rows.select_related("worker")


def introduced_ids(profile: Profile) -> set[int]:
    pairs = Introduction.objects.filter(Q(first=profile) | Q(second=profile)).values_list("first_id", "second_id")
    return {other for pair in pairs for other in pair} - {profile.pk}


def may_be_introduced(a: Profile, b: Profile) -> bool:
    return pool(profile=a).filter(pk=b.pk).exists()


def fit(wishes: Profile, other: Profile) -> float:
    """The share of ``wishes``' soft preferences that ``other`` meets (1.0 with none)."""
    checks = []
    if wishes.pref_districts:
        checks.append(other.district in wishes.pref_districts)
    if wishes.pref_education_min:
        checks.append(other.education is not None and other.education >= wishes.pref_education_min)
    if wishes.pref_height_min or wishes.pref_height_max:
        low, high = wishes.pref_height_min or 0, wishes.pref_height_max or 999
        checks.append(other.height_cm is not None and low <= other.height_cm <= high)
    return sum(checks) / len(checks) if checks else 1.0


def match_score(a: Profile, b: Profile) -> float:
    """How well two members fit, both directions counted: the same seen from either side."""
    return round(fit(a, b) * fit(b, a), 6)


def suggestions(*, profile: Profile, limit: int = 20) -> list[Profile]:
    """The best candidates for a verified member, best first (ties: the longest waiting first),
    each with ``score``; nobody already introduced to them."""
    if not profile.is_shown:
        return []
    seen = introduced_ids(profile)
    candidates = [c for c in pool(profile=profile) if c.pk not in seen]
    for candidate in candidates:
        candidate.score = match_score(profile, candidate)
    candidates.sort(key=lambda c: (-c.score, c.pk))
    return candidates[:limit]


# --- introductions ------------------------------------------------------------------------------


def introductions_for_member(*, profile: Profile) -> QuerySet[Introduction]:
    return (Introduction.objects.filter(Q(first=profile) | Q(second=profile))
            .select_related("first", "second").order_by("-created_at", "-pk"))


def introduction_get_for_member(*, introduction_id: int, user) -> Introduction:
    profile = profile_for_member(user=user)
    intro = None if profile is None else introductions_for_member(profile=profile).filter(pk=introduction_id).first()
    if intro is None:
        raise Http404
    return intro


def as_seen_by(intro: Introduction, profile: Profile) -> str:
    """The state as ``profile`` may see it: a decline or an expiry reads "not now" to both (a
    member may decline silently); while open, 'waiting for you' or 'waiting for them'."""
    if intro.state in (IntroState.DECLINED, IntroState.EXPIRED):
        return "not_now"
    if intro.state in OPEN_INTRO_STATES:
        return "waiting_for_you" if not intro.answer_of(profile) else "waiting_for_them"
    return "accepted"


def requests_this_week(*, profile: Profile, now=None) -> int:
    since = (now or timezone.now()) - datetime.timedelta(days=7)
    return Introduction.objects.filter(requested_by=profile, created_at__gte=since).count()


# --- the matchmaker ------------------------------------------------------------------------------


def profiles_for_matchmaker(*, user, state: str = "") -> QuerySet[Profile]:
    """Profiles (never ID numbers, never the contact to share) for the station's matchmakers."""
    if not permissions.is_matchmaker(user):
        return Profile.objects.none()
    rows = Profile.objects.exclude(state__in=(ProfileState.DRAFT, ProfileState.WITHDRAWN))
    if state:
        rows = rows.filter(state=state)
    return rows.select_related("worker").order_by("state", "submitted_at", "pk")


def profile_get_for_matchmaker(*, profile_id: int, user) -> Profile:
    profile = profiles_for_matchmaker(user=user).filter(pk=profile_id).first()
    if profile is None:
        raise Http404
    return profile


def reports_for_matchmaker(*, user) -> QuerySet[Report]:
    if not permissions.is_matchmaker(user):
        return Report.objects.none()
    return (Report.objects.filter(state__in=(ReportState.OPEN, ReportState.REVIEWING))
            .select_related("reporter", "reported").order_by("created_at", "pk"))


def introductions_for_matchmaker(*, user) -> QuerySet[Introduction]:
    if not permissions.is_matchmaker(user):
        return Introduction.objects.none()
    return Introduction.objects.select_related("first", "second").order_by("-created_at", "-pk")


def other_get_for_member(*, profile_id: int, user) -> tuple[Profile, Profile]:
    """(the member's own profile, another member they may see: one of their pool or someone
    introduced to them). 404 for anyone else, as for a profile that does not exist."""
    own = profile_for_member(user=user)
    if own is None or own.state == ProfileState.WITHDRAWN:
        raise Http404
    other = pool(profile=own).filter(pk=profile_id).first()
    if other is None and profile_id in introduced_ids(own):
        other = Profile.objects.select_related("worker").get(pk=profile_id)
    if other is None:
        raise Http404
    return own, other


# --- social events -----------------------------------------------------------------------------


def upcoming_events() -> QuerySet:
    return (Event.objects.filter(ends_at__gt=timezone.now(), cancelled_at__isnull=True)
            .annotate(booked=Count("signups", filter=Q(signups__state__in=(SignupState.BOOKED,
                                                                           SignupState.ATTENDED))))
            .order_by("starts_at", "pk"))


def event_get(*, event_id: int):
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        raise Http404
    return event


def signups_for_member(*, profile: Profile) -> QuerySet:
    return EventSignup.objects.filter(profile=profile).select_related("event").order_by("-event__starts_at")


def signup_get_for_member(*, signup_id: int, user):
    signup = EventSignup.objects.filter(pk=signup_id, profile__worker__user=user).select_related("profile").first()
    if signup is None:
        raise Http404
    return signup


def event_roster(*, event, user) -> QuerySet:
    """Who signed up, for the matchmakers (display names only)."""
    if not permissions.is_matchmaker(user):
        raise Http404
    return EventSignup.objects.filter(event=event).select_related("profile").order_by("state", "queued_at", "pk")


def event_attendees_for_member(*, event, profile: Profile) -> list[Profile]:
    """The others who came, for a member who came (to mark whom to meet again)."""
    came = EventSignup.objects.filter(event=event, state=SignupState.ATTENDED)
    if not came.filter(profile=profile).exists():
        return []
    return [s.profile for s in came.exclude(profile=profile).select_related("profile")
            if s.profile.gender == profile.seeking]


def photo_get_for_user(*, photo_id: int, user) -> Photo:
    """A photo for its member, for a matchmaker, or for another member once the photo's member
    said yes to an introduction with them; 404 for anyone else."""
    photo = Photo.objects.filter(pk=photo_id).select_related("profile__worker").first()
    if photo is None:
        raise Http404
    owner = photo.profile
    if permissions.is_the_member(user, owner) or (permissions.is_matchmaker(user)
                                                 and owner.state != ProfileState.WITHDRAWN):
        return photo
    viewer = profile_for_member(user=user)
    if viewer is not None and viewer.state != ProfileState.WITHDRAWN and owner.is_shown and photos_visible(
            owner=owner, viewer=viewer):
        return photo
    raise Http404


def photos_visible(*, owner: Profile, viewer: Profile) -> bool:
    """``owner`` said yes to an introduction with ``viewer`` (and it was not declined since)."""
    first, second = sorted((owner.pk, viewer.pk))
    intro = Introduction.objects.filter(first_id=first, second_id=second).first()
    return bool(intro and intro.state not in (IntroState.DECLINED, IntroState.EXPIRED)
                and intro.answer_of(owner) == "accepted")


def figures(*, since, until) -> list[Figure]:
    """The manager's matchmaking figures (care.registry.register_figures): the turnout of the
    social events held in the period, and introductions made."""
    places = EventSignup.objects.filter(event__starts_at__gte=since, event__starts_at__lt=until,
                                        event__cancelled_at__isnull=True,
                                        state__in=(SignupState.BOOKED, SignupState.ATTENDED))
    counts = places.aggregate(booked=Count("id"), came=Count("id", filter=Q(state=SignupState.ATTENDED)))
    turnout = round(100 * counts["came"] / counts["booked"]) if counts["booked"] else None
    both = Introduction.objects.filter(state__in=(IntroState.ACCEPTED_BOTH, IntroState.CONTACT_SHARED),
                                       decided_at__gte=since, decided_at__lt=until).count()
    return [Figure(gettext_lazy("Event places booked"), counts["booked"]),
            Figure(gettext_lazy("Came to the event"), counts["came"]),
            Figure(gettext_lazy("Event turnout"), turnout, unit="%", people=counts["booked"]),
            Figure(gettext_lazy("Introductions accepted by both"), both)]
