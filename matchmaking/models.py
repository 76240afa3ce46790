"""The matchmaking station (婚恋指导站): consent-first profiles reviewed by a matchmaker, blocks,
hiding from colleagues and named people, introductions by mutual consent (django-fsm-2), and
reports to the matchmaker.

What a member writes about themselves (the introduction) and the contact they share once both
sides accept are encrypted at rest; the contact never appears on a page or in the API, only in
the SMS each side receives when both have accepted. A withdrawn profile is hidden at once and
its personal content erased after a grace period."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from care.fields import EncryptedTextField
from care.models import Case, Worker

DEPARTMENT = "matchmaking"


class Gender(models.TextChoices):
    MALE = "male", _("Man")
    FEMALE = "female", _("Woman")


class Education(models.IntegerChoices):
    JUNIOR_HIGH = 1, _("Junior high school")
    HIGH_SCHOOL = 2, _("High school or technical school")
    COLLEGE = 3, _("College")
    BACHELOR = 4, _("Bachelor's degree")
    MASTER = 5, _("Master's degree")
    DOCTORATE = 6, _("Doctorate")


class EmployerType(models.TextChoices):
    STATE_OWNED = "state_owned", _("State-owned enterprise")
    GOVERNMENT = "government", _("Government")
    PUBLIC_INSTITUTION = "public_institution", _("Public institution")
    PRIVATE = "private", _("Private company")
    FOREIGN = "foreign", _("Foreign company")
    SELF_EMPLOYED = "self_employed", _("Self-employed")
    OTHER = "other", _("Other")


class ProfileState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Waiting for review")
    VERIFIED = "verified", _("Verified")
    RETURNED = "returned", _("Sent back")
    SUSPENDED = "suspended", _("Suspended")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Profile(FSMModelMixin, models.Model):
    """A member's profile. Shown to others only while verified; contact details are never shown
    (``contact`` is what the member chose to share, sent by SMS when both sides accept)."""

    worker = models.OneToOneField(Worker, on_delete=models.PROTECT, related_name="match_profile")
    state = FSMField(_("state"), default=ProfileState.DRAFT, choices=ProfileState.choices, protected=True)
    consent_at = models.DateTimeField(_("consent given"))
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    case = models.OneToOneField(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="match_profile")
    # What others see (once verified)
    display_name = models.CharField(_("display name"), max_length=30, blank=True)
    gender = models.CharField(_("gender"), max_length=6, choices=Gender.choices)
    seeking = models.CharField(_("looking for"), max_length=6, choices=Gender.choices)
    birth_year = models.PositiveSmallIntegerField(_("birth year"))  # from the national ID
    height_cm = models.PositiveSmallIntegerField(_("height (cm)"), null=True, blank=True,
                                                 validators=[MinValueValidator(120), MaxValueValidator(230)])
    education = models.PositiveSmallIntegerField(_("education"), choices=Education.choices, null=True, blank=True)
    occupation = models.CharField(_("occupation"), max_length=50, blank=True)
    employer_type = models.CharField(_("employer type"), max_length=20, choices=EmployerType.choices, blank=True)
    show_employer = models.BooleanField(_("show my employer's name"), default=False)
    district = models.CharField(_("district"), max_length=30, blank=True)
    hobbies = models.CharField(_("hobbies"), max_length=200, blank=True)
    introduction = EncryptedTextField(_("about me"), blank=True)
    contact = EncryptedTextField(_("contact to share"), blank=True)
    # Preferences
    pref_age_min = models.PositiveSmallIntegerField(_("youngest age"), default=18)
    pref_age_max = models.PositiveSmallIntegerField(_("oldest age"), default=60)
    pref_districts = models.JSONField(_("districts"), default=list, blank=True)
    pref_education_min = models.PositiveSmallIntegerField(_("education at least"), choices=Education.choices,
                                                          null=True, blank=True)
    pref_height_min = models.PositiveSmallIntegerField(_("height at least (cm)"), null=True, blank=True)
    pref_height_max = models.PositiveSmallIntegerField(_("height at most (cm)"), null=True, blank=True)
    # Privacy
    hide_from_colleagues = models.BooleanField(_("hide me from colleagues at my employer"), default=True)
    # Review
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    return_reason = models.CharField(_("reason"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        indexes = [models.Index(fields=["state", "gender", "seeking"], name="match_profile_search_idx")]
        constraints = [models.CheckConstraint(condition=Q(pref_age_max__gte=F("pref_age_min")),
                                              name="match_pref_ages")]

    def __str__(self) -> str:
        return self.display_name or f"#{self.pk}"

    def age(self, today=None) -> int:
        return (today or timezone.localdate()).year - self.birth_year

    @property
    def is_shown(self) -> bool:
        return self.state == ProfileState.VERIFIED

    @property
    def employer_shown(self) -> str:
        return self.worker.employer if self.show_employer else ""

    @transition(field=state, source=(ProfileState.DRAFT, ProfileState.RETURNED, ProfileState.VERIFIED),
                target=ProfileState.SUBMITTED)
    def submit(self, at):
        self.submitted_at, self.return_reason = at, ""

    @transition(field=state, source=ProfileState.SUBMITTED, target=ProfileState.VERIFIED)
    def verify(self, by, at):
        self.reviewed_by, self.reviewed_at = by, at

    @transition(field=state, source=ProfileState.SUBMITTED, target=ProfileState.RETURNED)
    def send_back(self, by, at, reason: str):
        self.reviewed_by, self.reviewed_at, self.return_reason = by, at, reason

    @transition(field=state, source=(ProfileState.VERIFIED, ProfileState.SUBMITTED), target=ProfileState.SUSPENDED)
    def suspend(self, by, at):
        self.reviewed_by, self.reviewed_at = by, at

    @transition(field=state, source=ProfileState.SUSPENDED, target=ProfileState.VERIFIED)
    def reinstate(self, by, at):
        self.reviewed_by, self.reviewed_at = by, at

    @transition(field=state, source=(ProfileState.DRAFT, ProfileState.SUBMITTED, ProfileState.VERIFIED,
                                     ProfileState.RETURNED, ProfileState.SUSPENDED), target=ProfileState.WITHDRAWN)
    def withdraw(self, at):
        self.withdrawn_at = at


class HiddenFrom(models.Model):
    """A named person the member is hidden from (by their mobile number): never suggested to each
    other, whether or not that person is a member."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="hidden_from")
    mobile = models.CharField(_("mobile number"), max_length=16)  # E.164
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["profile", "mobile"], name="match_hidden_once")]


class Block(models.Model):
    """A silent block; it works both ways (never suggested, no introduction)."""

    blocker = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="blocks_made")
    blocked = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="blocks_received")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["blocker", "blocked"], name="match_block_once")]


class IntroState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED_ONE = "accepted_one", _("Accepted by one")
    ACCEPTED_BOTH = "accepted_both", _("Accepted by both")
    CONTACT_SHARED = "contact_shared", _("Contact shared")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")


OPEN_INTRO_STATES = (IntroState.PROPOSED, IntroState.ACCEPTED_ONE)


class Answer(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class Introduction(FSMModelMixin, models.Model):
    """Two members introduced once (the pair is kept in order: ``first`` has the lower id). A
    member asks for it (their own answer is then 'accepted'), or a matchmaker proposes it with a
    note; when both accept, each receives the other's chosen contact by SMS."""

    first = models.ForeignKey(Profile, on_delete=models.PROTECT, related_name="+")
    second = models.ForeignKey(Profile, on_delete=models.PROTECT, related_name="+")
    state = FSMField(_("state"), default=IntroState.PROPOSED, choices=IntroState.choices, protected=True)
    first_answer = models.CharField(max_length=10, choices=Answer.choices, blank=True)
    second_answer = models.CharField(max_length=10, choices=Answer.choices, blank=True)
    requested_by = models.ForeignKey(Profile, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    note = models.CharField(_("matchmaker's note"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("introduction")
        verbose_name_plural = _("introductions")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(first__lt=F("second")), name="match_intro_ordered_pair"),
            models.UniqueConstraint(fields=["first", "second"], name="match_intro_once"),
        ]
        indexes = [models.Index(fields=["requested_by", "created_at"], name="match_intro_requests_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.state}"

    def side(self, profile) -> str:
        return "first" if profile.pk == self.first_id else "second"

    def other(self, profile) -> Profile:
        return self.second if profile.pk == self.first_id else self.first

    def answer_of(self, profile) -> str:
        return getattr(self, f"{self.side(profile)}_answer")

    @transition(field=state, source=IntroState.PROPOSED, target=IntroState.ACCEPTED_ONE)
    def accept_one(self):
        pass

    @transition(field=state, source=IntroState.ACCEPTED_ONE, target=IntroState.ACCEPTED_BOTH)
    def accept_both(self, at):
        self.decided_at = at

    @transition(field=state, source=IntroState.ACCEPTED_BOTH, target=IntroState.CONTACT_SHARED)
    def share(self):
        pass

    @transition(field=state, source=OPEN_INTRO_STATES, target=IntroState.DECLINED)
    def decline(self, at):
        self.decided_at = at

    @transition(field=state, source=OPEN_INTRO_STATES, target=IntroState.EXPIRED)
    def expire(self, at):
        self.decided_at = at


class ReportState(models.TextChoices):
    OPEN = "open", _("Open")
    REVIEWING = "reviewing", _("Reviewing")
    ACTIONED = "actioned", _("Actioned")
    DISMISSED = "dismissed", _("Dismissed")


class Report(FSMModelMixin, models.Model):
    """A member reports another to the matchmakers (open → reviewing → actioned / dismissed);
    the reason is encrypted. Actioned may suspend the reported profile."""

    reporter = models.ForeignKey(Profile, on_delete=models.PROTECT, related_name="reports_made")
    reported = models.ForeignKey(Profile, on_delete=models.PROTECT, related_name="reports_received")
    reason = EncryptedTextField(_("what happened"))
    state = FSMField(_("state"), default=ReportState.OPEN, choices=ReportState.choices, protected=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    outcome = models.CharField(_("outcome"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["created_at", "pk"]

    @transition(field=state, source=ReportState.OPEN, target=ReportState.REVIEWING)
    def review(self, by):
        self.handled_by = by

    @transition(field=state, source=(ReportState.OPEN, ReportState.REVIEWING), target=ReportState.ACTIONED)
    def action(self, by, at, outcome: str):
        self.handled_by, self.closed_at, self.outcome = by, at, outcome

    @transition(field=state, source=(ReportState.OPEN, ReportState.REVIEWING), target=ReportState.DISMISSED)
    def dismiss(self, by, at, outcome: str):
        self.handled_by, self.closed_at, self.outcome = by, at, outcome


# --- social events (联谊活动) ----------------------------------------------------------------------


class Event(models.Model):
    """A social event: a time, a place, seats, optionally as many seats for women as for men, and
    an age range; verified members only. Full, a sign-up waits on the waitlist."""

    title = models.CharField(_("title"), max_length=100)
    place = models.CharField(_("place"), max_length=200)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveSmallIntegerField(_("seats"), validators=[MinValueValidator(2), MaxValueValidator(500)])
    balance_genders = models.BooleanField(_("as many women as men"), default=True)
    min_age = models.PositiveSmallIntegerField(_("youngest age"), default=18)
    max_age = models.PositiveSmallIntegerField(_("oldest age"), default=60)
    description = models.TextField(_("about the event"), max_length=2000, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("social event")
        verbose_name_plural = _("social events")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="match_event_order"),
            models.CheckConstraint(condition=Q(max_age__gte=F("min_age")), name="match_event_ages"),
        ]

    def __str__(self) -> str:
        return self.title

    def seats_for(self, gender: str) -> int:
        """The seats one gender may hold: half (rounded up) when balanced, else all."""
        return (self.capacity + 1) // 2 if self.balance_genders else self.capacity


class SignupState(models.TextChoices):
    BOOKED = "booked", _("Seat booked")
    WAITLISTED = "waitlisted", _("On the waitlist")
    CANCELLED = "cancelled", _("Cancelled")
    ATTENDED = "attended", _("Came")


class EventSignup(FSMModelMixin, models.Model):
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="signups")
    profile = models.ForeignKey(Profile, on_delete=models.PROTECT, related_name="event_signups")
    gender = models.CharField(max_length=6, choices=Gender.choices)  # the profile's, when signing up
    state = FSMField(_("state"), default=SignupState.WAITLISTED, choices=SignupState.choices, protected=True)
    queued_at = models.DateTimeField(default=timezone.now)
    checked_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("event sign-up")
        verbose_name_plural = _("event sign-ups")
        ordering = ["queued_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["event", "profile"], condition=~Q(state=SignupState.CANCELLED),
                                               name="match_one_signup")]

    @transition(field=state, source=SignupState.WAITLISTED, target=SignupState.BOOKED)
    def promote(self):
        pass

    @transition(field=state, source=(SignupState.BOOKED, SignupState.WAITLISTED), target=SignupState.CANCELLED)
    def cancel(self):
        pass

    @transition(field=state, source=SignupState.BOOKED, target=SignupState.ATTENDED)
    def check_in(self, at):
        self.checked_in_at = at


class EventMark(models.Model):
    """After an event, a participant marks someone they would like to meet again; two marks that
    meet become an introduction both accepted."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="marks")
    marker = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="+")
    marked = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "marker", "marked"], name="match_mark_once")]


class Photo(models.Model):
    """A member's photo (encrypted, base64 of the sniffed image). Seen by the member, by the
    matchmakers reviewing the profile, and by another member only once this member has said yes
    to an introduction with them."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="photos")
    data = EncryptedTextField()
    content_type = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
