"""REST API of the care station under /api/v1/childcare/: the same selectors and services as
the pages. A guardian (a worker) registers their children, authorises who may collect them,
enrols them in a programme (or on its waitlist) and withdraws them; the staff of a station
read its roster of the day, take children in, hand them over to an authorised person showing
the pick-up code, and record incidents. Nobody finds another guardian's child or another
station's enrolment or attendance (404, as for one that does not exist).

What leaves: a child's allergies and medical notes go to the guardian, and on the roster only
to the staff on duty for the child's programme that day and the station's coordinator (the
keys are absent for anyone else). Mobile numbers and ID numbers leave masked, photos never;
the pick-up code never leaves (it goes to the guardian by SMS). Reading a child's record or a
roster is an audit event."""

import datetime

from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from care import selectors as hall_selectors
from care.api import ErrorSerializer
from care.errors import InvalidInput
from care.roles import Role
from care.validators import mask_mobile
from childcare import permissions, selectors, services
from childcare.models import (
    ACTIVE_ENROLMENT_STATES,
    Attendance,
    AttendanceState,
    Child,
    EmergencyContact,
    Enrolment,
    EnrolmentState,
    IncidentKind,
    PickupPerson,
    Programme,
    ProgrammeKind,
    today,
)

# --- output ------------------------------------------------------------------------------------


class EmergencyContactSerializer(serializers.ModelSerializer):
    mobile = serializers.SerializerMethodField(help_text="Masked: 139****0002.")

    class Meta:
        model = EmergencyContact
        fields = ["name", "relation", "mobile"]

    def get_mobile(self, contact: EmergencyContact) -> str:
        return mask_mobile(contact.mobile)


class PickupPersonSerializer(serializers.ModelSerializer):
    """An authorised pick-up person as the guardian sees them: never the ID number in clear, nor
    the photo."""

    mobile = serializers.SerializerMethodField(help_text="Masked: 139****0002.")
    id_number = serializers.CharField(source="masked_id", help_text="Masked: 110***********002X; empty if none.")
    has_photo = serializers.SerializerMethodField()

    class Meta:
        model = PickupPerson
        fields = ["id", "name", "relation", "mobile", "id_number", "is_guardian", "has_photo", "active", "added_at",
                  "removed_at"]

    def get_mobile(self, person: PickupPerson) -> str:
        return mask_mobile(person.mobile)

    def get_has_photo(self, person: PickupPerson) -> bool:
        return bool(person.photo)


class ChildSerializer(serializers.ModelSerializer):
    """The guardian's child in the list: who, their emergency contacts and who may collect them."""

    emergency_contacts = EmergencyContactSerializer(many=True, read_only=True)
    pickup_persons = PickupPersonSerializer(source="authorised", many=True, read_only=True,
                                            help_text="The active authorised pick-up persons, the guardian first.")

    class Meta:
        model = Child
        fields = ["id", "name", "date_of_birth", "school", "emergency_contacts", "pickup_persons"]


class ChildDetailSerializer(ChildSerializer):
    """The guardian's child with the medical information (reading it is audited)."""

    class Meta(ChildSerializer.Meta):
        fields = ChildSerializer.Meta.fields + ["allergies", "medical_notes"]


def _with_people(children):
    """Emergency contacts and active pick-up persons, two queries for any number of children."""
    prefetch_related_objects(children, "emergency_contacts",
                             Prefetch("pickup_persons", queryset=PickupPerson.objects.filter(active=True),
                                      to_attr="authorised"))
    return children


class ProgrammeSerializer(serializers.ModelSerializer):
    """A programme open for enrolment: places taken and waiting, never the children's names."""

    station = serializers.CharField(source="station.name")
    kind = serializers.ChoiceField(choices=ProgrammeKind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    weekdays = serializers.SerializerMethodField(help_text="ISO weekdays: 1 is Monday, 7 is Sunday.")
    weekday_labels = serializers.ListField(child=serializers.CharField())
    enrolled = serializers.IntegerField(read_only=True, help_text="Places taken.")
    waiting = serializers.IntegerField(read_only=True, help_text="Children on the waitlist.")

    class Meta:
        model = Programme
        fields = ["id", "name", "station", "kind", "kind_label", "starts_on", "ends_on", "weekdays", "weekday_labels",
                  "opens_at", "closes_at", "min_age", "max_age", "capacity", "enrolled", "waiting"]

    def get_weekdays(self, programme: Programme) -> list[int]:
        return [int(day) for day in programme.weekdays]


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class EnrolmentProgrammeSerializer(NamedSerializer):
    station = serializers.CharField(source="station.name")


class EnrolmentSerializer(serializers.ModelSerializer):
    """What the guardian sees of their child's place."""

    reference = serializers.CharField(source="case.reference")
    state = serializers.ChoiceField(choices=EnrolmentState.choices)
    state_label = serializers.CharField(source="get_state_display")
    waitlist_position = serializers.SerializerMethodField()
    child = NamedSerializer()
    programme = EnrolmentProgrammeSerializer()

    class Meta:
        model = Enrolment
        fields = ["id", "reference", "state", "state_label", "waitlist_position", "child", "programme", "queued_at",
                  "enrolled_at", "ended_at"]

    def get_waitlist_position(self, enrolment: Enrolment) -> int | None:
        """1 for the next to get a place; null for a child not on the waitlist."""
        return services.waitlist_position(enrolment)


class StationAttendanceSerializer(serializers.ModelSerializer):
    """A child's day at the station. Never the pick-up code."""

    enrolment = serializers.IntegerField(source="enrolment_id")
    state = serializers.ChoiceField(choices=AttendanceState.choices)
    state_label = serializers.CharField(source="get_state_display")
    collected_by = serializers.CharField(source="collected_by.name", default=None, allow_null=True,
                                         help_text="The authorised person the child left with.")

    class Meta:
        model = Attendance
        fields = ["id", "enrolment", "day", "state", "state_label", "checked_in_at", "brought_by", "checked_out_at",
                  "collected_by"]


class RosterPickupPersonSerializer(serializers.ModelSerializer):
    """Whom the staff may hand the child to: give `id` as `collector` at check-out."""

    id_number = serializers.CharField(source="masked_id", help_text="Masked: 110***********002X; empty if none.")

    class Meta:
        model = PickupPerson
        fields = ["id", "name", "relation", "id_number", "is_guardian"]


class RosterRowSerializer(serializers.Serializer):
    """A child expected on the day. `allergies` and `medical_notes` are present only for the staff
    on duty for the programme that day and the station's coordinator."""

    enrolment = serializers.IntegerField(source="pk", help_text="Give it to roster/{enrolment}/check-in/.")
    child = NamedSerializer()
    programme = NamedSerializer()
    attendance = StationAttendanceSerializer(allow_null=True, help_text="Null until the child is checked in.")
    pickup_persons = RosterPickupPersonSerializer(source="child.authorised", many=True)
    allergies = serializers.CharField(source="child.allergies", required=False,
                                      help_text="Only for the staff on duty and the coordinator.")
    medical_notes = serializers.CharField(source="child.medical_notes", required=False,
                                          help_text="Only for the staff on duty and the coordinator.")

    def to_representation(self, row):
        data = super().to_representation(row)
        if not row.may_read_medical:
            del data["allergies"], data["medical_notes"]
        return data


class IncidentSerializer(serializers.Serializer):
    """An incident: what the staff give, and what the API answers (the guardian is told by SMS,
    without the details)."""

    id = serializers.IntegerField(read_only=True)
    enrolment = serializers.IntegerField(source="enrolment_id", read_only=True)
    occurred_at = serializers.DateTimeField(help_text="ISO 8601; not in the future, nor before the programme began.")
    kind = serializers.ChoiceField(choices=IncidentKind.choices)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    description = serializers.CharField(allow_blank=True, trim_whitespace=False,
                                        help_text=f"What happened; at most {services.TEXT_MAX} characters.")
    action_taken = serializers.CharField(allow_blank=True, trim_whitespace=False,
                                         help_text=f"What was done; at most {services.TEXT_MAX} characters.")
    guardian_told_at = serializers.DateTimeField(read_only=True)


# --- input -------------------------------------------------------------------------------------


class EmergencyContactInputSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True, trim_whitespace=False)
    relation = serializers.CharField(allow_blank=True, trim_whitespace=False)
    mobile = serializers.CharField(allow_blank=True, help_text="A mainland mobile number.")


class ChildCreateSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True, trim_whitespace=False,
                                 help_text=f"At most {services.NAME_MAX} characters.")
    date_of_birth = serializers.DateField(help_text="A child under 18.")
    school = serializers.CharField(required=False, default="", allow_blank=True)
    allergies = serializers.CharField(required=False, default="", allow_blank=True)
    medical_notes = serializers.CharField(required=False, default="", allow_blank=True)
    emergency_contacts = EmergencyContactInputSerializer(many=True, help_text="At least one.")


class PickupPersonCreateSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True, trim_whitespace=False)
    relation = serializers.CharField(allow_blank=True, trim_whitespace=False)
    mobile = serializers.CharField(allow_blank=True, help_text="A mainland mobile number.")
    id_number = serializers.CharField(allow_blank=True, help_text="A resident ID number (stored encrypted).")


class EnrolSerializer(serializers.Serializer):
    child = serializers.IntegerField(help_text="One of the signed-in worker's children (see children/).")
    programme = serializers.IntegerField(help_text="An open programme (see programmes/).")


class RosterQuerySerializer(serializers.Serializer):
    day = serializers.DateField(required=False, allow_null=True, default=None,
                                help_text="The day (Asia/Shanghai); today if not given.")
    q = serializers.CharField(required=False, default="", allow_blank=True, max_length=services.NAME_MAX,
                              help_text="A part of the child's name.")


class CheckInSerializer(serializers.Serializer):
    brought_by = serializers.CharField(allow_blank=True, help_text="Who brought the child.")


class CheckOutSerializer(serializers.Serializer):
    collector = serializers.IntegerField(
        allow_null=True, help_text="The authorised pick-up person's id (from the roster); null for someone not on "
                                   "the list, whose pick-up is refused.")
    code = serializers.CharField(required=False, default="", allow_blank=True,
                                 help_text="The pick-up code the guardian received; required with `collector`.")
    presented_name = serializers.CharField(required=False, default="", allow_blank=True,
                                           help_text="Without `collector`: the name the person gave.")

    def validate(self, data):
        if data["collector"] is not None and not data["code"].strip():
            raise serializers.ValidationError({"code": _("Enter the pick-up code.")})
        return data


# --- views -------------------------------------------------------------------------------------


def _own_worker(user):
    """The signed-in worker's record; 403 for anyone else."""
    worker = hall_selectors.worker_for_user(user=user) if user.has_role(Role.WORKER) else None
    if worker is None:
        raise PermissionDenied()
    return worker


def _care_staff(user) -> None:
    if not permissions.is_care_staff(user):
        raise PermissionDenied()


@extend_schema(tags=["childcare"])
class ChildViewSet(GenericViewSet):
    """The signed-in worker's own children (none for anyone else; 404 for another's child)."""

    serializer_class = ChildSerializer
    queryset = Child.objects.none()
    lookup_value_regex = r"\d+"

    def get_child(self) -> Child:
        return selectors.child_get_for_guardian(child_id=self.kwargs["pk"], user=self.request.user)

    @extend_schema(responses=ChildSerializer(many=True))
    def list(self, request):
        """The worker's children with their emergency contacts and authorised pick-up persons."""
        page = self.paginate_queryset(selectors.children_for_guardian(user=request.user))
        return self.get_paginated_response(ChildSerializer(_with_people(page), many=True).data)

    @extend_schema(responses={200: ChildDetailSerializer, 404: ErrorSerializer})
    def retrieve(self, request, pk=None):
        """The child's record with the medical information; the reading is audited."""
        child = self.get_child()
        services.record_view(actor=request.user, subject=child, event=services.ChildcareEvent.CHILD_VIEWED)
        return Response(ChildDetailSerializer(_with_people([child])[0]).data)

    @extend_schema(request=ChildCreateSerializer,
                   responses={201: ChildDetailSerializer, 400: ErrorSerializer, 403: ErrorSerializer})
    def create(self, request):
        """The signed-in worker registers their child; they become its first authorised pick-up
        person."""
        worker = _own_worker(request.user)
        data = ChildCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        child = services.child_register(actor=request.user, guardian=worker, **data.validated_data)
        return Response(ChildDetailSerializer(_with_people([child])[0]).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PickupPersonCreateSerializer,
                   responses={201: PickupPersonSerializer, 400: ErrorSerializer, 404: ErrorSerializer})
    @action(detail=True, methods=["post"], url_path="pickup-persons")
    def pickup_persons(self, request, pk=None):
        """The guardian authorises someone else to collect the child (a photo is given on the page)."""
        child = self.get_child()
        data = PickupPersonCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        person = services.pickup_person_add(actor=request.user, child=child, **data.validated_data)
        return Response(PickupPersonSerializer(person).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["childcare"])
class PickupPersonViewSet(GenericViewSet):
    """The authorised pick-up persons of the signed-in worker's children."""

    serializer_class = PickupPersonSerializer
    queryset = PickupPerson.objects.none()
    lookup_value_regex = r"\d+"

    @extend_schema(request=None, responses={200: PickupPersonSerializer, 404: ErrorSerializer,
                                            409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        """Take someone off the list (never the guardian): from now on they are refused."""
        person = selectors.pickup_person_get_for_guardian(person_id=pk, user=request.user)
        return Response(PickupPersonSerializer(services.pickup_person_remove(actor=request.user, person=person)).data)


@extend_schema(tags=["childcare"])
class ProgrammeViewSet(GenericViewSet):
    """Programmes open for enrolment."""

    serializer_class = ProgrammeSerializer
    queryset = Programme.objects.none()

    @extend_schema(responses={200: ProgrammeSerializer(many=True), 403: ErrorSerializer})
    def list(self, request):
        """Programmes not over yet, soonest first, with places taken and waiting: for workers and
        the care station's staff."""
        if not permissions.can_see_programmes(request.user):
            raise PermissionDenied()
        page = self.paginate_queryset(selectors.open_programmes())
        return self.get_paginated_response(ProgrammeSerializer(page, many=True).data)


@extend_schema(tags=["childcare"])
class EnrolmentViewSet(GenericViewSet):
    """Enrolments: the guardian's own (list, enrol, withdraw); the station's staff record
    incidents on their stations' enrolments. 404 for anyone else's."""

    serializer_class = EnrolmentSerializer
    queryset = Enrolment.objects.none()
    lookup_value_regex = r"\d+"

    @extend_schema(responses=EnrolmentSerializer(many=True))
    def list(self, request):
        """The signed-in worker's children's enrolments (none for anyone else), latest first."""
        page = self.paginate_queryset(selectors.enrolments_for_guardian(user=request.user))
        return self.get_paginated_response(EnrolmentSerializer(page, many=True).data)

    @extend_schema(request=EnrolSerializer,
                   responses={200: EnrolmentSerializer, 201: EnrolmentSerializer, 400: ErrorSerializer,
                              403: ErrorSerializer, 409: ErrorSerializer})
    def create(self, request):
        """Ask a place for the worker's child: a place while there is one, else the waitlist
        (201); already enrolled or waiting: that enrolment (200). A child outside the programme's
        ages is refused (400, detail {"age": "out_of_range"})."""
        _own_worker(request.user)
        data = EnrolSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        child = selectors.children_for_guardian(user=request.user).filter(pk=data.validated_data["child"]).first()
        if child is None:
            raise InvalidInput(_("Choose one of your children."), detail={"child": "invalid"})
        programme = selectors.open_programmes().filter(pk=data.validated_data["programme"]).first()
        if programme is None:
            raise InvalidInput(_("Choose a programme from the list."), detail={"programme": "invalid"})
        had = (selectors.enrolments_for_guardian(user=request.user)
               .filter(child=child, programme=programme, state__in=ACTIVE_ENROLMENT_STATES)
               .values_list("pk", flat=True).first())
        enrolment = services.enrol(actor=request.user, child=child, programme=programme)
        enrolment = selectors.enrolment_get_for_guardian(enrolment_id=enrolment.pk, user=request.user)
        code = status.HTTP_200_OK if had == enrolment.pk else status.HTTP_201_CREATED
        return Response(EnrolmentSerializer(enrolment).data, status=code)

    @extend_schema(request=None, responses={200: EnrolmentSerializer, 404: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """The guardian gives the place back; it goes to the first on the waitlist."""
        enrolment = selectors.enrolment_get_for_guardian(enrolment_id=pk, user=request.user)
        services.enrolment_withdraw(actor=request.user, enrolment=enrolment)
        return Response(EnrolmentSerializer(
            selectors.enrolment_get_for_guardian(enrolment_id=pk, user=request.user)).data)

    @extend_schema(request=IncidentSerializer,
                   responses={201: IncidentSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                              404: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def incidents(self, request, pk=None):
        """The station's staff record an injury, illness or behaviour incident; the guardian is
        told at once by SMS (without the details)."""
        enrolment = selectors.enrolment_get_for_staff(enrolment_id=pk, user=request.user)
        data = IncidentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_record(actor=request.user, enrolment=enrolment, **data.validated_data)
        return Response(IncidentSerializer(incident).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["childcare"])
class RosterViewSet(GenericViewSet):
    """The day's roster of the staff's stations, and check-in at the door."""

    serializer_class = RosterRowSerializer
    queryset = Enrolment.objects.none()
    lookup_value_regex = r"\d+"

    @extend_schema(parameters=[RosterQuerySerializer],
                   responses={200: RosterRowSerializer(many=True), 400: ErrorSerializer, 403: ErrorSerializer})
    def list(self, request):
        """The children expected on the day at the user's stations, by programme and name, each
        with the day's attendance and who may collect them. Reading it is audited."""
        _care_staff(request.user)
        query = RosterQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day: datetime.date = query.validated_data["day"] or today()
        rows = selectors.roster(user=request.user, day=day, search=query.validated_data["q"])
        station = selectors.stations_for(user=request.user).order_by("pk").first()
        if station is not None:
            services.record_view(actor=request.user, subject=station, event=services.ChildcareEvent.ROSTER_VIEWED)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(RosterRowSerializer(page, many=True).data)

    @extend_schema(request=CheckInSerializer,
                   responses={200: StationAttendanceSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                              404: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        """Take the child in (the guardian receives the time and a one-time pick-up code); already
        in today: that attendance. Refused (409) when the child is not enrolled, the programme is
        closed today, or the staff on duty cannot cover one more child (detail {"ratio": "full"};
        the coordinator is told)."""
        enrolment = selectors.enrolment_get_for_staff(enrolment_id=pk, user=request.user)
        data = CheckInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attendance = services.check_in(actor=request.user, enrolment=enrolment, **data.validated_data)
        return Response(StationAttendanceSerializer(attendance).data)


@extend_schema(tags=["childcare"])
class AttendanceViewSet(GenericViewSet):
    """A child's day at the staff's stations (404 for another station's)."""

    serializer_class = StationAttendanceSerializer
    queryset = Attendance.objects.none()
    lookup_value_regex = r"\d+"

    @extend_schema(request=CheckOutSerializer,
                   responses={200: StationAttendanceSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                              404: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"], url_path="check-out")
    def check_out(self, request, pk=None):
        """Hand the child to one of their active authorised pick-up persons showing the code.
        Anyone else, or a wrong code, is refused (409, detail {"pickup": "not_authorised" |
        "wrong_code"}): the refusal is recorded and the guardian told at once."""
        attendance = selectors.attendance_get_for_staff(attendance_id=pk, user=request.user)
        data = CheckOutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        collector = None
        if data.validated_data["collector"] is not None:
            try:
                collector = selectors.pickup_person_get_for_staff(person_id=data.validated_data["collector"],
                                                                  user=request.user)
            except Http404:
                raise InvalidInput(_("Choose a person from the roster."), detail={"collector": "invalid"}) from None
        attendance = services.check_out(actor=request.user, attendance=attendance, collector=collector,
                                        code=data.validated_data["code"],
                                        presented_name=data.validated_data["presented_name"])
        return Response(StationAttendanceSerializer(attendance).data)
