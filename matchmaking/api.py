"""REST API of the matchmaking station under /api/v1/matchmaking/: the same selectors and services
as the pages. A member (a worker) opts in (consent is the act of posting), keeps their own
profile, preferences, blocks and hidden names, reads their suggestions and introductions, asks
for an introduction, answers one and reports someone; a matchmaker reviews profiles, proposes
introductions and handles reports. Nobody else reads a profile (403); another member's
introduction is a 404, as for one that does not exist.

What leaves: other members see a profile's public fields only (never the contact to share, the
mobile or ID number, the worker's name or record, the hall case), and only while it is shown
(verified). The contact never leaves at all, not even to its owner's partner once both said yes:
it goes by SMS only. A decline reads "not now", as an expiry does, so nobody learns who
declined. A matchmaker reading a profile is an audit event."""

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from care import selectors as hall_selectors
from care.api import ErrorSerializer
from care.errors import InvalidInput
from care.roles import Role
from care.validators import mask_mobile
from matchmaking import permissions, selectors, services
from matchmaking.models import (
    OPEN_INTRO_STATES,
    Block,
    Education,
    EmployerType,
    Gender,
    HiddenFrom,
    Introduction,
    IntroState,
    Profile,
    ProfileState,
    Report,
    ReportState,
)

# How a member sees an introduction (selectors.as_seen_by): a decline and an expiry look alike.
SEEN_STATES = {
    "waiting_for_you": gettext_lazy("Waiting for your answer"),
    "waiting_for_them": gettext_lazy("Waiting for their answer"),
    "accepted": gettext_lazy("You both said yes: the contact came by SMS"),
    "not_now": gettext_lazy("Not now"),
}


def _one_of(choices) -> str:
    """The values of a choice set, for the schema: the app's enums share field names ("state")
    with other apps' and with each other, and ENUM_NAME_OVERRIDES lives in config/settings.py."""
    return " | ".join(str(value) for value in choices.values) + "."


def _age(profile: Profile) -> int | None:
    """This year's age from the birth year; null once the profile's content is erased."""
    return profile.age() if profile.birth_year else None


# --- output ------------------------------------------------------------------------------------


class PublicProfileSerializer(serializers.Serializer):
    """A profile as other members see it: never the contact, the mobile or ID number, the
    worker's name or record, nor the hall case. `employer` is the employer's name only when the
    member chose to show it (else empty)."""

    id = serializers.IntegerField()
    display_name = serializers.CharField()
    gender = serializers.ChoiceField(choices=Gender.choices)
    age = serializers.SerializerMethodField(help_text="This year's age, from the birth year.")
    height_cm = serializers.IntegerField(allow_null=True)
    education = serializers.ChoiceField(choices=Education.choices, allow_null=True)
    occupation = serializers.CharField()
    employer_type = serializers.ChoiceField(choices=EmployerType.choices, allow_blank=True)
    employer = serializers.CharField(source="employer_shown", help_text="Empty unless the member shows it.")
    district = serializers.CharField()
    hobbies = serializers.CharField()
    introduction = serializers.CharField(help_text="What the member wrote about themselves.")

    def get_age(self, profile: Profile) -> int | None:
        return _age(profile)


class SuggestionSerializer(PublicProfileSerializer):
    score = serializers.FloatField(help_text="How well both fit, both directions counted: 0 to 1.")


class HiddenFromSerializer(serializers.ModelSerializer):
    """A person the member hides from; whether they are a member is never said."""

    mobile = serializers.SerializerMethodField(help_text="Masked: 139****0002.")

    class Meta:
        model = HiddenFrom
        fields = ["id", "mobile", "created_at"]

    def get_mobile(self, row: HiddenFrom) -> str:
        return mask_mobile(row.mobile)


class BlockSerializer(serializers.ModelSerializer):
    profile = serializers.IntegerField(source="blocked_id", help_text="The blocked member's profile id.")

    class Meta:
        model = Block
        fields = ["id", "profile", "created_at"]


class OwnProfileSerializer(serializers.ModelSerializer):
    """The member's own profile: what others see (once verified), their preferences, the contact
    they share when both say yes, and whom they hide from or blocked."""

    state = serializers.CharField(help_text=_one_of(ProfileState))
    state_label = serializers.CharField(source="get_state_display")
    seeking = serializers.CharField(help_text=f"{_one_of(Gender)} Whom the member would like to meet.")
    pref_education_min = serializers.IntegerField(allow_null=True, help_text="As `education`: 1 to 6.")
    age = serializers.SerializerMethodField()
    employer = serializers.CharField(source="worker.employer", help_text="Shown to others only with show_employer.")
    hidden_from = serializers.SerializerMethodField()
    blocks = serializers.SerializerMethodField()

    class Meta:
        model = Profile
        fields = ["id", "state", "state_label", "consent_at", "gender", "seeking", "birth_year", "age",
                  "display_name", "height_cm", "education", "occupation", "employer_type", "employer",
                  "show_employer", "district", "hobbies", "introduction", "contact", "pref_age_min", "pref_age_max",
                  "pref_districts", "pref_education_min", "pref_height_min", "pref_height_max",
                  "hide_from_colleagues", "submitted_at", "reviewed_at", "return_reason", "withdrawn_at",
                  "hidden_from", "blocks"]

    def get_age(self, profile: Profile) -> int | None:
        return _age(profile)

    @extend_schema_field(HiddenFromSerializer(many=True))
    def get_hidden_from(self, profile: Profile) -> list:
        return HiddenFromSerializer(profile.hidden_from.order_by("created_at", "pk"), many=True).data

    @extend_schema_field(BlockSerializer(many=True))
    def get_blocks(self, profile: Profile) -> list:
        return BlockSerializer(profile.blocks_made.order_by("created_at", "pk"), many=True).data


class IntroductionSerializer(serializers.Serializer):
    """An introduction as the member sees it (context: ``profile``, theirs): the other side while
    their profile is shown, the state as seen by the member, the matchmaker's note. Never the
    contact (it goes by SMS), never who declined."""

    id = serializers.IntegerField()
    other = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()
    state_label = serializers.SerializerMethodField()
    your_answer = serializers.SerializerMethodField()
    note = serializers.CharField(help_text="The matchmaker's note, when a matchmaker proposed it.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.SerializerMethodField()

    @extend_schema_field(PublicProfileSerializer(allow_null=True))
    def get_other(self, intro: Introduction) -> dict | None:
        """The other side's public profile; null while it is not shown (under review, suspended,
        withdrawn)."""
        other = intro.other(self.context["profile"])
        return PublicProfileSerializer(other).data if other.is_shown else None

    @extend_schema_field(OpenApiTypes.STR)
    def get_state(self, intro: Introduction) -> str:
        """waiting_for_you | waiting_for_them | accepted | not_now ("not_now" for a decline or an
        expiry alike)."""
        return selectors.as_seen_by(intro, self.context["profile"])

    def get_state_label(self, intro: Introduction) -> str:
        return str(SEEN_STATES[selectors.as_seen_by(intro, self.context["profile"])])

    @extend_schema_field(OpenApiTypes.STR)
    def get_your_answer(self, intro: Introduction) -> str:
        """The member's own answer: accepted | declined; empty until given."""
        return intro.answer_of(self.context["profile"])

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_expires_at(self, intro: Introduction):
        """Until when it may be answered; null once closed (so that a decline does not show)."""
        if intro.state not in OPEN_INTRO_STATES:
            return None
        return serializers.DateTimeField().to_representation(intro.expires_at)


def introduction_data(intro: Introduction, profile: Profile) -> dict:
    return IntroductionSerializer(intro, context={"profile": profile}).data


class MatchmakerProfileSerializer(PublicProfileSerializer):
    """A profile for the matchmakers: the public fields, the review state and the reason it was
    sent back. Never the contact, the mobile or ID number."""

    state = serializers.CharField(help_text=_one_of(ProfileState))
    state_label = serializers.CharField(source="get_state_display")
    submitted_at = serializers.DateTimeField(allow_null=True)
    return_reason = serializers.CharField()


class ProfileBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    state = serializers.CharField(help_text=_one_of(ProfileState))


class MatchmakerIntroductionSerializer(serializers.ModelSerializer):
    first = ProfileBriefSerializer()
    second = ProfileBriefSerializer()
    state = serializers.CharField(help_text=_one_of(IntroState))
    state_label = serializers.CharField(source="get_state_display")

    class Meta:
        model = Introduction
        fields = ["id", "first", "second", "state", "state_label", "note", "created_at", "expires_at"]


class FiledReportSerializer(serializers.ModelSerializer):
    """What the member who reported sees of their report."""

    reported = serializers.IntegerField(source="reported_id")
    state = serializers.CharField(help_text=_one_of(ReportState))

    class Meta:
        model = Report
        fields = ["id", "reported", "state", "created_at"]


class MatchmakerReportSerializer(serializers.ModelSerializer):
    reporter = ProfileBriefSerializer()
    reported = ProfileBriefSerializer()
    state = serializers.CharField(help_text=_one_of(ReportState))
    state_label = serializers.CharField(source="get_state_display")

    class Meta:
        model = Report
        fields = ["id", "reporter", "reported", "reason", "state", "state_label", "outcome", "created_at"]


# --- input -------------------------------------------------------------------------------------


class OptInSerializer(serializers.Serializer):
    gender = serializers.CharField(help_text=_one_of(Gender))
    seeking = serializers.CharField(help_text=f"{_one_of(Gender)} Whom the member would like to meet.")


class ProfileUpdateSerializer(serializers.Serializer):
    """Any of these; matchmaking.services checks them. A change to what others see on a verified
    profile sends it back for review."""

    display_name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    height_cm = serializers.IntegerField(required=False, allow_null=True, help_text="120 to 230.")
    education = serializers.IntegerField(required=False, allow_null=True, help_text="1 (junior high) to 6.")
    occupation = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    employer_type = serializers.CharField(required=False, allow_blank=True)
    show_employer = serializers.BooleanField(required=False)
    district = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    hobbies = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    introduction = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                         help_text=f"At most {services.TEXT_MAX} characters.")
    contact = serializers.CharField(required=False, allow_blank=True,
                                    help_text="A mainland mobile number or a WeChat ID; sent by SMS only, to "
                                              "someone both said yes to.")
    pref_age_min = serializers.IntegerField(required=False, allow_null=True)
    pref_age_max = serializers.IntegerField(required=False, allow_null=True)
    pref_districts = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False,
                                           allow_empty=True)
    pref_education_min = serializers.IntegerField(required=False, allow_null=True)
    pref_height_min = serializers.IntegerField(required=False, allow_null=True)
    pref_height_max = serializers.IntegerField(required=False, allow_null=True)
    hide_from_colleagues = serializers.BooleanField(required=False)

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                raise InvalidInput(_("Some of the information is not valid."),
                                   detail=dict.fromkeys(unknown, "unknown"))
        return super().to_internal_value(data)


class HideSerializer(serializers.Serializer):
    mobile = serializers.CharField(allow_blank=True, help_text="The mobile number of the person to hide from.")


class OtherSerializer(serializers.Serializer):
    profile = serializers.IntegerField(help_text="A member from the suggestions or the introductions.")


class ReportCreateSerializer(OtherSerializer):
    reason = serializers.CharField(allow_blank=True, trim_whitespace=False,
                                   help_text=f"What happened; at most {services.TEXT_MAX} characters.")


class AnswerSerializer(serializers.Serializer):
    accept = serializers.BooleanField(help_text="true: yes, I would like to meet; false: no, thank you.")


class ProfileQuerySerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=ProfileState.choices, required=False, default="", allow_blank=True)


class ReviewSerializer(serializers.Serializer):
    step = serializers.CharField(help_text=" | ".join(services.REVIEW_STEPS) + ".")
    reason = serializers.CharField(required=False, default="", allow_blank=True,
                                   help_text="Required to send back or suspend; the member reads it.")


class ProposeSerializer(serializers.Serializer):
    first = serializers.IntegerField(help_text="A profile id.")
    second = serializers.IntegerField(help_text="Another profile id.")
    note = serializers.CharField(required=False, default="", allow_blank=True,
                                 help_text="Why they might suit each other; both read it.")


class ReportHandleSerializer(serializers.Serializer):
    step = serializers.CharField(help_text="review | action | dismiss.")
    outcome = serializers.CharField(required=False, default="", allow_blank=True,
                                    help_text="Required to action or dismiss.")
    suspend = serializers.BooleanField(required=False, default=False,
                                       help_text="With action: suspend the reported profile.")


# --- views -------------------------------------------------------------------------------------


def _own_worker(user):
    """The signed-in worker's record; 403 for anyone else."""
    worker = hall_selectors.worker_for_user(user=user) if user.has_role(Role.WORKER) else None
    if worker is None:
        raise PermissionDenied()
    return worker


def _own_profile(user) -> Profile:
    """The signed-in worker's profile: 403 for anyone else, 404 before they opted in."""
    _own_worker(user)
    profile = selectors.profile_for_member(user=user)
    if profile is None:
        raise Http404
    return profile


def _other(user, profile_id: int, *, or_blocked: bool = False) -> tuple[Profile, Profile]:
    """(the member's profile, another member they may see, or with ``or_blocked`` one they
    blocked: blocking again is a no-op, and one may report someone after blocking them); a wrong
    id is a 400."""
    own = _own_profile(user)
    try:
        return selectors.other_get_for_member(profile_id=profile_id, user=user)
    except Http404:
        blocked = None
        if or_blocked:
            blocked = own.blocks_made.filter(blocked_id=profile_id).select_related("blocked").first()
        if blocked is None:
            raise InvalidInput(_("Choose a member from your suggestions or introductions."),
                               detail={"profile": "invalid"}) from None
        return own, blocked.blocked


def _matchmaker(user) -> None:
    if not permissions.is_matchmaker(user):
        raise PermissionDenied()


def _listed_profile(user, profile_id: int, field: str) -> Profile:
    try:
        return selectors.profile_get_for_matchmaker(profile_id=profile_id, user=user)
    except Http404:
        raise InvalidInput(_("Choose a profile from the list."), detail={field: "invalid"}) from None


def _own_answer(profile: Profile) -> Response:
    return Response(OwnProfileSerializer(profile).data)


@extend_schema(tags=["matchmaking"])
class MeView(APIView):
    """The signed-in worker's own profile (403 for anyone else; 404 before they opted in)."""

    @extend_schema(responses={200: OwnProfileSerializer, 403: ErrorSerializer, 404: ErrorSerializer})
    def get(self, request):
        """Everything of theirs, their contact and preferences included."""
        return _own_answer(_own_profile(request.user))

    @extend_schema(request=OptInSerializer,
                   responses={200: OwnProfileSerializer, 201: OwnProfileSerializer, 400: ErrorSerializer,
                              403: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request):
        """Opt in: posting is the member's consent, recorded with the time (201; 200 when already
        in). Members aged 18 and over only (409, detail {"age": "under_18"})."""
        worker = _own_worker(request.user)
        data = OptInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        before = selectors.profile_for_member(user=request.user)
        profile = services.profile_opt_in(actor=request.user, worker=worker, **data.validated_data)
        code = status.HTTP_200_OK if before is not None else status.HTTP_201_CREATED
        return Response(OwnProfileSerializer(profile).data, status=code)

    @extend_schema(request=ProfileUpdateSerializer,
                   responses={200: OwnProfileSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                              404: ErrorSerializer, 409: ErrorSerializer})
    def patch(self, request):
        """Change what others see, the preferences or the contact to share. A change to what
        others see on a verified profile sends it back for review (hidden until verified)."""
        profile = _own_profile(request.user)
        data = ProfileUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        profile = services.profile_update(actor=request.user, profile=profile, contact=fields.pop("contact", None),
                                          **fields)
        return _own_answer(profile)


@extend_schema(tags=["matchmaking"])
class MeSubmitView(APIView):
    @extend_schema(request=None, responses={200: OwnProfileSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                                            404: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request):
        """Send the profile for review (it needs a display name and a contact to share)."""
        profile = services.profile_submit(actor=request.user, profile=_own_profile(request.user))
        return _own_answer(profile)


@extend_schema(tags=["matchmaking"])
class MeWithdrawView(APIView):
    @extend_schema(request=None, responses={200: OwnProfileSerializer, 403: ErrorSerializer, 404: ErrorSerializer})
    def post(self, request):
        """Withdraw consent: the profile is hidden at once, open introductions end, and its content
        is erased after the grace period."""
        profile = services.profile_withdraw(actor=request.user, profile=_own_profile(request.user))
        return _own_answer(profile)


@extend_schema(tags=["matchmaking"])
class HiddenFromView(APIView):
    @extend_schema(request=HideSerializer,
                   responses={200: HiddenFromSerializer, 201: HiddenFromSerializer, 400: ErrorSerializer,
                              403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request):
        """Hide from a named person by their mobile number: never suggested to each other (201;
        200 when already hidden). Nothing says whether they are a member."""
        profile = _own_profile(request.user)
        data = HideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        had = set(profile.hidden_from.values_list("pk", flat=True))
        row = services.hide_from(actor=request.user, profile=profile, mobile=data.validated_data["mobile"])
        code = status.HTTP_200_OK if row.pk in had else status.HTTP_201_CREATED
        return Response(HiddenFromSerializer(row).data, status=code)


@extend_schema(tags=["matchmaking"])
class BlockView(APIView):
    @extend_schema(request=OtherSerializer,
                   responses={200: BlockSerializer, 201: BlockSerializer, 400: ErrorSerializer,
                              403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request):
        """Block a member, silently and both ways: never suggested again, no introduction (an open
        one ends). 201; 200 when already blocked."""
        data = OtherSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        own, other = _other(request.user, data.validated_data["profile"], or_blocked=True)
        had = set(own.blocks_made.values_list("pk", flat=True))
        row = services.block(actor=request.user, profile=own, other=other)
        code = status.HTTP_200_OK if row.pk in had else status.HTTP_201_CREATED
        return Response(BlockSerializer(row).data, status=code)


@extend_schema(tags=["matchmaking"])
class SuggestionViewSet(GenericViewSet):
    serializer_class = SuggestionSerializer
    queryset = Profile.objects.none()

    @extend_schema(responses={200: SuggestionSerializer(many=True), 403: ErrorSerializer})
    def list(self, request):
        """The signed-in member's best candidates, best first, each with the score (none before
        the profile is verified)."""
        _own_worker(request.user)
        profile = selectors.profile_for_member(user=request.user)
        rows = selectors.suggestions(profile=profile) if profile is not None else []
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(SuggestionSerializer(page, many=True).data)


def _with_workers(introductions: QuerySet) -> QuerySet:
    return introductions.select_related("first__worker", "second__worker")


@extend_schema(tags=["matchmaking"])
class IntroductionViewSet(GenericViewSet):
    """The signed-in member's introductions (404 for anyone else's); matchmakers propose."""

    serializer_class = IntroductionSerializer
    queryset = Introduction.objects.none()
    lookup_value_regex = r"\d+"

    @extend_schema(responses={200: IntroductionSerializer(many=True), 403: ErrorSerializer})
    def list(self, request):
        """The member's introductions, latest first, each as the member sees it."""
        _own_worker(request.user)
        profile = selectors.profile_for_member(user=request.user)
        rows = (_with_workers(selectors.introductions_for_member(profile=profile)) if profile is not None
                else Introduction.objects.none())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(IntroductionSerializer(page, many=True, context={"profile": profile}).data)

    @extend_schema(request=OtherSerializer,
                   responses={201: IntroductionSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                              404: ErrorSerializer, 409: ErrorSerializer})
    def create(self, request):
        """A verified member asks to be introduced (their own answer is yes); the other is told
        there is news. Refused (409) when the pair was introduced before, the profile is not
        verified, or the weekly limit is reached (detail {"requests": "limit"})."""
        data = OtherSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        own, other = _other(request.user, data.validated_data["profile"])
        intro = services.introduction_request(actor=request.user, profile=own, other=other)
        intro = _with_workers(selectors.introductions_for_member(profile=own)).get(pk=intro.pk)
        return Response(introduction_data(intro, own), status=status.HTTP_201_CREATED)

    @extend_schema(request=AnswerSerializer,
                   responses={200: IntroductionSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                              404: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """Yes or no. No ends it silently (the other reads "not now"); yes from both sends each
        the other's contact by SMS (never here). An answer given stays."""
        _own_worker(request.user)
        intro = selectors.introduction_get_for_member(introduction_id=pk, user=request.user)
        data = AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.introduction_answer(actor=request.user, introduction=intro, accept=data.validated_data["accept"])
        intro = selectors.introduction_get_for_member(introduction_id=intro.pk, user=request.user)
        return Response(introduction_data(intro, selectors.profile_for_member(user=request.user)))

    @extend_schema(request=ProposeSerializer,
                   responses={201: MatchmakerIntroductionSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                              409: ErrorSerializer})
    @action(detail=False, methods=["post"])
    def propose(self, request):
        """A matchmaker introduces two verified members who may meet, with a note both read;
        both are told there is news."""
        _matchmaker(request.user)
        data = ProposeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        first = _listed_profile(request.user, data.validated_data["first"], "first")
        second = _listed_profile(request.user, data.validated_data["second"], "second")
        intro = services.introduction_propose(actor=request.user, first=first, second=second,
                                              note=data.validated_data["note"])
        return Response(MatchmakerIntroductionSerializer(intro).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["matchmaking"])
class ProfileViewSet(GenericViewSet):
    """Members' profiles for the station's matchmakers (403 for anyone else)."""

    serializer_class = MatchmakerProfileSerializer
    queryset = Profile.objects.none()
    lookup_value_regex = r"\d+"

    def get_profile(self) -> Profile:
        _matchmaker(self.request.user)
        return selectors.profile_get_for_matchmaker(profile_id=self.kwargs["pk"], user=self.request.user)

    @extend_schema(parameters=[ProfileQuerySerializer],
                   responses={200: MatchmakerProfileSerializer(many=True), 400: ErrorSerializer,
                              403: ErrorSerializer})
    def list(self, request):
        """Profiles past the draft and not withdrawn, by state and the longest waiting first;
        `state` narrows to one."""
        _matchmaker(request.user)
        query = ProfileQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.profiles_for_matchmaker(user=request.user,
                                                                        state=query.validated_data["state"]))
        return self.get_paginated_response(MatchmakerProfileSerializer(page, many=True).data)

    @extend_schema(responses={200: MatchmakerProfileSerializer, 403: ErrorSerializer, 404: ErrorSerializer})
    def retrieve(self, request, pk=None):
        """A profile; the reading is audited."""
        profile = self.get_profile()
        services.profile_record_view(actor=request.user, profile=profile)
        return Response(MatchmakerProfileSerializer(profile).data)

    @extend_schema(request=ReviewSerializer,
                   responses={200: MatchmakerProfileSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                              404: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """Verify a submitted profile (shown from now on), send it back with a reason, suspend it
        (with a reason; its open introductions end) or reinstate it."""
        profile = self.get_profile()
        data = ReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = services.profile_review(actor=request.user, profile=profile, **data.validated_data)
        return Response(MatchmakerProfileSerializer(profile).data)


@extend_schema(tags=["matchmaking"])
class ReportViewSet(GenericViewSet):
    """A member reports another; the matchmakers read the open reports and handle them."""

    serializer_class = MatchmakerReportSerializer
    queryset = Report.objects.none()
    lookup_value_regex = r"\d+"

    @extend_schema(responses={200: MatchmakerReportSerializer(many=True), 403: ErrorSerializer})
    def list(self, request):
        """Open and reviewing reports, oldest first, with the reason: for the matchmakers."""
        _matchmaker(request.user)
        page = self.paginate_queryset(selectors.reports_for_matchmaker(user=request.user))
        return self.get_paginated_response(MatchmakerReportSerializer(page, many=True).data)

    @extend_schema(request=ReportCreateSerializer,
                   responses={201: FiledReportSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                              404: ErrorSerializer, 409: ErrorSerializer})
    def create(self, request):
        """The member reports someone from their suggestions or introductions, or someone they
        blocked, to the matchmakers (the reason is stored encrypted)."""
        data = ReportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        own, other = _other(request.user, data.validated_data["profile"], or_blocked=True)
        report = services.report_file(actor=request.user, profile=own, reported=other,
                                      reason=data.validated_data["reason"])
        return Response(FiledReportSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReportHandleSerializer,
                   responses={200: MatchmakerReportSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                              404: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def handle(self, request, pk=None):
        """Take an open report (review), then action it (optionally suspending the reported
        profile) or dismiss it, with an outcome. A closed report is a 404."""
        _matchmaker(request.user)
        report = selectors.reports_for_matchmaker(user=request.user).filter(pk=pk).first()
        if report is None:
            raise Http404
        data = ReportHandleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.report_handle(actor=request.user, report=report, **data.validated_data)
        return Response(MatchmakerReportSerializer(Report.objects.select_related("reporter", "reported")
                                                   .get(pk=report.pk)).data)
