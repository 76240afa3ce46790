"""REST API of counseling appointments under /api/v1/counseling/: the same selectors and services
as the pages. A worker books, cancels and moves their own appointments and gives or withdraws
their own consent; the appointment's counselor takes the other steps. Nobody else finds an
appointment (404, as for one that does not exist).

What leaves: the worker sees their appointment's counselor (a display name), where, when, its
state, reference and the appointments it replaces or was replaced by; the appointment's
counselor also sees the worker's name and the reason given for cancelling. Never the notes,
the risk level, nor anyone's consent but one's own."""

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from care import selectors as hall_selectors
from care import services as hall_services
from care.api import ErrorSerializer
from care.errors import InvalidInput
from care.roles import Role
from counseling import permissions, selectors, services
from counseling.forms import counselor_name
from counseling.models import (
    Appointment,
    AppointmentState,
    CounselorProfile,
    GroupSession,
    GroupSignup,
    Mode,
    Room,
    Service,
    ServiceKind,
    SignupState,
)

# --- output ------------------------------------------------------------------------------------


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "code", "name"]


class CounselorSerializer(serializers.Serializer):
    """A bookable counselor: a display name and the ways they meet, nothing personal."""

    id = serializers.IntegerField(source="user_id", help_text="Give it as `counselor` to slots/ and appointments/.")
    name = serializers.SerializerMethodField()
    modes = serializers.ListField(child=serializers.ChoiceField(choices=Mode.choices))
    session_minutes = serializers.IntegerField()

    def get_name(self, profile: CounselorProfile) -> str:
        return counselor_name(profile.user)


class SlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(help_text="Give it as `starts_at` to book or move an appointment.")
    ends_at = serializers.DateTimeField()


class ConsentSerializer(serializers.Serializer):
    """The signed-in worker's own consent to the processing of health information."""

    given = serializers.BooleanField(help_text="A current consent exists: appointments can be booked.")
    text_version = serializers.CharField(allow_null=True, help_text="The version of the text consented to.")
    given_at = serializers.DateTimeField(allow_null=True)
    current_version = serializers.CharField(help_text="The version of the consent text in force.")


def consent_data(worker) -> dict:
    consent = selectors.current_consent(worker=worker)
    return {"given": consent is not None, "text_version": consent.text_version if consent else None,
            "given_at": consent.given_at if consent else None, "current_version": selectors.consent_version()}


class CounselorNameSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AppointmentSerializer(serializers.ModelSerializer):
    """What the worker sees of their appointment."""

    reference = serializers.CharField(source="case.reference")
    state = serializers.ChoiceField(choices=AppointmentState.choices)
    state_label = serializers.CharField(source="get_state_display")
    service = ServiceSerializer()
    counselor = serializers.SerializerMethodField()
    mode = serializers.ChoiceField(choices=Mode.choices)
    mode_label = serializers.CharField(source="get_mode_display")
    where = serializers.SerializerMethodField()
    replaces = serializers.SerializerMethodField()
    replaced_by = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = ["id", "reference", "state", "state_label", "service", "counselor", "mode", "mode_label", "where",
                  "starts_at", "ends_at", "replaces", "replaced_by", "checked_in_at", "cancelled_at"]

    @extend_schema_field(CounselorNameSerializer)
    def get_counselor(self, appointment: Appointment) -> dict:
        return {"id": appointment.counselor_id, "name": counselor_name(appointment.counselor)}

    def get_where(self, appointment: Appointment) -> str:
        """The room's name or the way of meeting, in the words of the SMS."""
        return str(selectors.where(appointment))

    def _if_visible(self, appointment: Appointment, other: Appointment | None) -> int | None:
        """Another appointment of the same case, if the user may see it (as the page links it)."""
        user = self.context["user"]
        if other is None:
            return None
        if permissions.is_the_worker(user, appointment.case.worker) or permissions.is_its_counselor(user, other):
            return other.pk
        return None

    def get_replaces(self, appointment: Appointment) -> int | None:
        """The appointment this one replaced (it was moved from there)."""
        return self._if_visible(appointment, appointment.replaces)

    def get_replaced_by(self, appointment: Appointment) -> int | None:
        """The appointment this one was moved to."""
        try:
            other = appointment.replaced_by
        except ObjectDoesNotExist:
            other = None
        return self._if_visible(appointment, other)


class CounselorAppointmentSerializer(AppointmentSerializer):
    """What the appointment's counselor sees: also who comes and why it was cancelled."""

    worker_name = serializers.CharField(source="case.worker.name")

    class Meta(AppointmentSerializer.Meta):
        fields = AppointmentSerializer.Meta.fields + ["worker_name", "cancel_reason"]


def _either(**kwargs) -> PolymorphicProxySerializer:
    """The worker's view or the counselor's, in the schema."""
    return PolymorphicProxySerializer(component_name="AppointmentDetail",
                                      serializers=[AppointmentSerializer, CounselorAppointmentSerializer],
                                      resource_type_field_name=None, **kwargs)


AppointmentDetail = _either()


def appointment_data(appointment: Appointment, user) -> dict:
    serializer = (CounselorAppointmentSerializer if permissions.is_its_counselor(user, appointment)
                  else AppointmentSerializer)
    return serializer(appointment, context={"user": user}).data


# --- input -------------------------------------------------------------------------------------


class SlotQuerySerializer(serializers.Serializer):
    counselor = serializers.IntegerField(help_text="A counselor's id (see counselors/).")
    mode = serializers.ChoiceField(choices=Mode.choices)
    day = serializers.DateField(required=False, allow_null=True, default=None,
                                help_text="The first day (Asia/Shanghai); today if not given.")
    days = serializers.IntegerField(min_value=1, max_value=selectors.FREE_TIMES_DAYS,
                                    default=selectors.FREE_TIMES_DAYS, help_text="How many days from `day`.")


class BookSerializer(serializers.Serializer):
    service = serializers.IntegerField(help_text="A service's id (see services/).")
    counselor = serializers.IntegerField(help_text="A counselor's id (see counselors/).")
    mode = serializers.ChoiceField(choices=Mode.choices)
    starts_at = serializers.DateTimeField(help_text="One of the free slots (slots/), ISO 8601.")


class TransitionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=services.REASON_MAX, required=False, default="", allow_blank=True,
                                   help_text="Cancelling: the reason (read by the counselor only).")


class RescheduleSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(help_text="A free slot of the same counselor and way of meeting.")
    reason = serializers.CharField(max_length=services.REASON_MAX, required=False, default="", allow_blank=True)


# --- views -------------------------------------------------------------------------------------


def _own_worker(user):
    """The signed-in worker's record; 403 for anyone else."""
    worker = hall_selectors.worker_for_user(user=user) if user.has_role(Role.WORKER) else None
    if worker is None:
        raise PermissionDenied()
    return worker


def _bookable_profile(counselor_id: int) -> CounselorProfile:
    profile = selectors.bookable_profiles().filter(user_id=counselor_id).first()
    if profile is None:
        raise InvalidInput(_("Choose a counselor from the list."), detail={"counselor": "invalid"})
    return profile


class CatalogueView(APIView):
    """Services, counselors and free times: for whoever books, and the department's counselors."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not permissions.can_see_free_times(request.user):
            raise PermissionDenied()


@extend_schema(tags=["counseling"])
class ServiceListView(CatalogueView):
    @extend_schema(responses={200: ServiceSerializer(many=True), 403: ErrorSerializer})
    def get(self, request):
        """The services a worker can book one to one."""
        return Response(ServiceSerializer(selectors.bookable_services(), many=True).data)


@extend_schema(tags=["counseling"])
class CounselorListView(CatalogueView):
    @extend_schema(responses={200: CounselorSerializer(many=True), 403: ErrorSerializer})
    def get(self, request):
        """The counselors who take bookings, with the ways they meet."""
        return Response(CounselorSerializer(selectors.bookable_profiles(), many=True).data)


@extend_schema(tags=["counseling"])
class SlotListView(CatalogueView):
    @extend_schema(parameters=[SlotQuerySerializer],
                   responses={200: SlotSerializer(many=True), 400: ErrorSerializer, 403: ErrorSerializer})
    def get(self, request):
        """A counselor's free times for a way of meeting, soonest first: at most 14 days from
        `day`, never past the booking horizon nor inside the notice. In person, a time is free
        only when a room is free too."""
        query = SlotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        profile = _bookable_profile(data["counselor"])
        if data["mode"] not in profile.modes:
            raise InvalidInput(_("Choose one of the ways this counselor offers (in person, by phone or by video)."),
                               detail={"mode": "invalid"})
        times = selectors.free_times(profile=profile, mode=data["mode"], start_day=data["day"], days=data["days"])
        rows = [{"starts_at": start, "ends_at": end} for start, (end, _room) in times.items()]
        return Response(SlotSerializer(rows, many=True).data)


@extend_schema(tags=["counseling"])
class ConsentView(APIView):
    """The signed-in worker's own consent to the processing of health information, needed before
    a first appointment."""

    @extend_schema(responses={200: ConsentSerializer, 403: ErrorSerializer})
    def get(self, request):
        return Response(ConsentSerializer(consent_data(_own_worker(request.user))).data)

    @extend_schema(request=None, responses={200: ConsentSerializer, 201: ConsentSerializer, 403: ErrorSerializer})
    def post(self, request):
        """Consent to the text in force (201; 200 if already given to it)."""
        worker = _own_worker(request.user)
        before = selectors.current_consent(worker=worker)
        consent = services.consent_give(worker=worker, actor=request.user)
        code = status.HTTP_200_OK if before is not None and before.pk == consent.pk else status.HTTP_201_CREATED
        return Response(ConsentSerializer(consent_data(worker)).data, status=code)

    @extend_schema(request=None, responses={200: ConsentSerializer, 403: ErrorSerializer})
    def delete(self, request):
        """Withdraw the consent: no new appointment until it is given again (those booked stay)."""
        worker = _own_worker(request.user)
        services.consent_withdraw(worker=worker, actor=request.user)
        return Response(ConsentSerializer(consent_data(worker)).data)


_TRANSITION = OpenApiParameter("transition", str, OpenApiParameter.PATH, enum=list(services.TRANSITIONS),
                               description="cancel: the worker or the counselor; the other steps: the counselor.")


@extend_schema(tags=["counseling"])
class AppointmentViewSet(GenericViewSet):
    """The signed-in user's appointments: a worker's own, a counselor's own."""

    serializer_class = AppointmentSerializer
    queryset = Appointment.objects.none()
    lookup_value_regex = r"\d+"

    def get_appointment(self) -> Appointment:
        return selectors.appointment_get_for_user(appointment_id=self.kwargs["pk"], user=self.request.user)

    def _answer(self, appointment: Appointment, code=status.HTTP_200_OK) -> Response:
        return Response(appointment_data(appointment, self.request.user), status=code)

    @extend_schema(parameters=[OpenApiParameter("state", enum=AppointmentState.values)],
                   responses=_either(many=True))
    def list(self, request):
        rows = selectors.appointments_for_user(user=request.user).select_related("replaces", "replaced_by")
        state = request.query_params.get("state", "")
        if state in AppointmentState.values:
            rows = rows.filter(state=state)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response([appointment_data(row, request.user) for row in page])

    @extend_schema(responses={200: AppointmentDetail, 404: ErrorSerializer})
    def retrieve(self, request, pk=None):
        appointment = self.get_appointment()
        hall_services.case_record_view(case=appointment.case, actor=request.user)
        return self._answer(appointment)

    @extend_schema(request=BookSerializer, responses={201: AppointmentSerializer, 400: ErrorSerializer,
                                                      403: ErrorSerializer, 409: ErrorSerializer})
    def create(self, request):
        """The signed-in worker books a free slot (in person, a free room goes with it); they are
        told by SMS."""
        worker = _own_worker(request.user)
        data = BookSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        profile = _bookable_profile(fields["counselor"])
        mode, starts_at = fields["mode"], fields["starts_at"]
        service = selectors.bookable_services().filter(pk=fields["service"]).first()  # None: the service says
        appointment = services.appointment_book(
            actor=request.user, worker=worker, service=service, counselor=profile.user, starts_at=starts_at, mode=mode,
            room=selectors.room_for_time(profile=profile, mode=mode, starts_at=starts_at))
        return self._answer(appointment, status.HTTP_201_CREATED)

    @extend_schema(parameters=[_TRANSITION], request=TransitionSerializer,
                   responses={200: AppointmentDetail, 400: ErrorSerializer, 403: ErrorSerializer,
                              404: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"], url_path=r"transitions/(?P<transition>[a-z_]+)")
    def transitions(self, request, pk=None, transition=None):
        """Move the appointment along its lifecycle. The worker's cancel inside the cut-off is
        recorded as a late cancellation."""
        appointment = self.get_appointment()
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        moved = services.appointment_transition(appointment=appointment, actor=request.user, transition=transition,
                                                reason=data.validated_data["reason"])
        return self._answer(moved)

    @extend_schema(request=RescheduleSerializer,
                   responses={200: AppointmentDetail, 201: AppointmentDetail, 400: ErrorSerializer,
                              403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        """Move a requested or confirmed appointment to another free time of the same counselor and
        way of meeting: a new appointment (201) replaces it; the same time again changes nothing (200)."""
        appointment = self.get_appointment()
        data = RescheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        starts_at = data.validated_data["starts_at"]
        profile = selectors.counselor_profile(user_id=appointment.counselor_id)
        if profile is None:
            raise InvalidInput(_("Choose one of the free times offered."), detail={"starts_at": "not_a_slot"})
        new = services.appointment_reschedule(
            appointment=appointment, actor=request.user, starts_at=starts_at, reason=data.validated_data["reason"],
            room=selectors.room_for_time(profile=profile, mode=appointment.mode, starts_at=starts_at,
                                         exclude_pk=appointment.pk))
        return self._answer(new, status.HTTP_201_CREATED if new.pk != appointment.pk else status.HTTP_200_OK)


# --- group sessions and workshops (团体辅导, 减压辅导) -------------------------------------------


class GroupSessionBriefSerializer(serializers.ModelSerializer):
    """A session as a place shows it: what, when and where."""

    kind = serializers.ChoiceField(source="service.kind", choices=ServiceKind.choices)
    kind_label = serializers.CharField(source="service.get_kind_display")
    room = serializers.CharField(source="room.name")

    class Meta:
        model = GroupSession
        fields = ["id", "title", "kind", "kind_label", "starts_at", "ends_at", "room", "cancelled_at"]


class GroupSessionSerializer(GroupSessionBriefSerializer):
    """A session as the public list shows it: a title, a time, a room, its description and its
    seats; no names."""

    seats_left = serializers.SerializerMethodField()
    waiting = serializers.IntegerField(read_only=True, help_text="Places on the waitlist.")

    class Meta(GroupSessionBriefSerializer.Meta):
        fields = GroupSessionBriefSerializer.Meta.fields + ["description", "capacity", "seats_left", "waiting"]

    def get_seats_left(self, session: GroupSession) -> int:
        """Seats still free: 0 when full (signing up then joins the waitlist)."""
        return max(session.capacity - session.booked, 0)


def _waitlist_position(place: GroupSignup) -> int | None:
    if place.state != SignupState.WAITLISTED:
        return None
    queue_number = getattr(place, "queue_number", None)  # selectors.roster_in_order
    return queue_number if queue_number is not None else selectors.waitlist_position(signup=place)


class GroupPlaceSerializer(serializers.ModelSerializer):
    """What the worker sees of their place: its reference, state and session."""

    reference = serializers.CharField(source="case.reference")
    state = serializers.ChoiceField(choices=SignupState.choices)
    state_label = serializers.CharField(source="get_state_display")
    waitlist_position = serializers.SerializerMethodField()
    session = GroupSessionBriefSerializer()

    class Meta:
        model = GroupSignup
        fields = ["id", "reference", "state", "state_label", "waitlist_position", "session", "queued_at",
                  "promoted_at", "cancelled_at"]

    def get_waitlist_position(self, place: GroupSignup) -> int | None:
        """1 for the next to get a seat; null for a place not on the waitlist."""
        return _waitlist_position(place)


class RosterPlaceSerializer(serializers.ModelSerializer):
    """A place as its session's facilitator sees it on the roster."""

    reference = serializers.CharField(source="case.reference")
    worker_name = serializers.CharField(source="worker.name")
    state = serializers.ChoiceField(choices=SignupState.choices)
    state_label = serializers.CharField(source="get_state_display")
    waitlist_position = serializers.SerializerMethodField()

    class Meta:
        model = GroupSignup
        fields = ["id", "reference", "worker_name", "state", "state_label", "waitlist_position", "queued_at",
                  "promoted_at", "cancelled_at"]

    def get_waitlist_position(self, place: GroupSignup) -> int | None:
        """1 for the next to get a seat; null for a place not on the waitlist."""
        return _waitlist_position(place)


GroupPlaceDetail = PolymorphicProxySerializer(component_name="GroupPlaceDetail",
                                              serializers=[GroupPlaceSerializer, RosterPlaceSerializer],
                                              resource_type_field_name=None)


def group_place_data(place: GroupSignup, user) -> dict:
    serializer = RosterPlaceSerializer if permissions.is_facilitator(user, place.session) else GroupPlaceSerializer
    return serializer(place).data


class GroupSessionCreateSerializer(serializers.Serializer):
    service = serializers.IntegerField(help_text="An active group session or workshop service.")
    room = serializers.IntegerField(help_text="An active room.")
    starts_at = serializers.DateTimeField(help_text="ISO 8601; in the future.")
    ends_at = serializers.DateTimeField(help_text="ISO 8601; after `starts_at`.")
    capacity = serializers.IntegerField(help_text=f"Seats: 1 to {services.CAPACITY_MAX}.")
    title = serializers.CharField(allow_blank=True, trim_whitespace=False,
                                  help_text=f"Shown in the list of sessions; at most {services.TITLE_MAX} characters.")
    description = serializers.CharField(required=False, default="", allow_blank=True, trim_whitespace=False,
                                        help_text=f"At most {services.DESCRIPTION_MAX} characters.")


class AttendanceSerializer(serializers.Serializer):
    attended = serializers.BooleanField(help_text="true: came; false: did not come.")


def _active_room(room_id: int) -> Room:
    room = selectors.active_rooms().filter(pk=room_id).first()
    if room is None:
        raise InvalidInput(_("Choose a room from the list."), detail={"room": "invalid"})
    return room


@extend_schema(tags=["counseling"])
class GroupSessionViewSet(GenericViewSet):
    """Group sessions and workshops: the upcoming ones for whoever signs up; the facilitator
    schedules, reads the roster of and cancels their own (404 for anyone else)."""

    serializer_class = GroupSessionSerializer
    queryset = GroupSession.objects.none()
    lookup_value_regex = r"\d+"

    def _facilitated(self) -> GroupSession:
        return selectors.facilitated_session_get(session_id=self.kwargs["pk"], user=self.request.user)

    @extend_schema(responses={200: GroupSessionSerializer(many=True), 403: ErrorSerializer})
    def list(self, request):
        """Sessions open for sign-up (not cancelled, not started), soonest first: for workers, the
        front desk and the department's counselors."""
        if not permissions.can_see_free_times(request.user):
            raise PermissionDenied()
        page = self.paginate_queryset(selectors.upcoming_group_sessions())
        return self.get_paginated_response(GroupSessionSerializer(page, many=True).data)

    @extend_schema(request=GroupSessionCreateSerializer,
                   responses={201: GroupSessionSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                              409: ErrorSerializer})
    def create(self, request):
        """A counselor schedules a session they lead, in a room; neither they nor the room may be
        held then (409)."""
        if not permissions.can_lead_groups(request.user):
            raise PermissionDenied()
        data = GroupSessionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        service = selectors.group_services().filter(pk=fields.pop("service")).first()  # None: the service says
        room = _active_room(fields.pop("room"))
        session = services.group_session_create(actor=request.user, service=service, room=room, **fields)
        session = selectors.facilitated_session_get(session_id=session.pk, user=request.user)
        return Response(GroupSessionSerializer(session).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: GroupPlaceSerializer, 201: GroupPlaceSerializer,
                                            403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"], url_path="sign-up")
    def sign_up(self, request, pk=None):
        """The signed-in worker takes a seat, or a place on the waitlist when the session is full
        (201); already signed up: that place (200). A group session (not a workshop) needs the
        worker's consent first (consent/): 409 with detail {"consent": "missing"}."""
        worker = _own_worker(request.user)
        session = selectors.group_session_get(session_id=pk)
        had = (selectors.signups_for_worker(user=request.user).filter(session=session)
               .exclude(state=SignupState.CANCELLED).values_list("pk", flat=True).first())
        signup = services.group_signup(actor=request.user, session=session, worker=worker)
        code = status.HTTP_200_OK if had == signup.pk else status.HTTP_201_CREATED
        return Response(GroupPlaceSerializer(signup).data, status=code)

    @extend_schema(responses={200: RosterPlaceSerializer(many=True), 404: ErrorSerializer})
    @action(detail=True, methods=["get"])
    def roster(self, request, pk=None):
        """The places of the facilitator's session in the order they were taken, each waitlisted
        one with its position."""
        session = self._facilitated()
        page = self.paginate_queryset(selectors.roster_in_order(session=session, user=request.user))
        return self.get_paginated_response(RosterPlaceSerializer(page, many=True).data)

    @extend_schema(request=None, responses={200: GroupSessionSerializer, 404: ErrorSerializer,
                                            409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """The facilitator cancels the session before it starts: every place is cancelled and each
        worker told by SMS."""
        session = services.group_session_cancel(actor=request.user, session=self._facilitated())
        return Response(GroupSessionSerializer(
            selectors.facilitated_session_get(session_id=session.pk, user=request.user)).data)


@extend_schema(tags=["counseling"])
class GroupPlaceViewSet(GenericViewSet):
    """Places in group sessions: the worker's own; the facilitator's sessions' (404 for anyone else)."""

    serializer_class = GroupPlaceSerializer
    queryset = GroupSignup.objects.none()
    lookup_value_regex = r"\d+"

    def get_place(self) -> GroupSignup:
        return selectors.signup_get_for_user(signup_id=self.kwargs["pk"], user=self.request.user)

    @extend_schema(responses=GroupPlaceSerializer(many=True))
    def list(self, request):
        """The signed-in worker's own places (none for anyone else), soonest session first."""
        rows = selectors.signups_for_worker(user=request.user).select_related("session__service")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(GroupPlaceSerializer(page, many=True).data)

    @extend_schema(request=None, responses={200: GroupPlaceDetail, 403: ErrorSerializer, 404: ErrorSerializer,
                                            409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """The worker gives their place back (until the session starts), or the facilitator cancels
        it (the worker is told by SMS). A seat given back goes to the first of the waitlist."""
        place = services.group_signup_cancel(actor=request.user, signup=self.get_place())
        return Response(group_place_data(place, request.user))

    @extend_schema(request=AttendanceSerializer,
                   responses={200: RosterPlaceSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                              404: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        """The facilitator marks a seat once the session has started: came (the worker is asked for
        a rating) or did not come; a mark can be corrected."""
        place = self.get_place()
        data = AttendanceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        marked = services.group_attendance(actor=request.user, signup=place, attended=data.validated_data["attended"])
        return Response(RosterPlaceSerializer(marked).data)
