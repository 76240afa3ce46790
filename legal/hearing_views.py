"""Pages and API of hearings. Thin: read through legal.hearings' selectors, write through its services.

Pages (under /legal/):
* ``hearings/`` (my_hearings): an arbitrator's upcoming and past hearings;
* ``hearings/<id>/`` (hearing): the hearing and a read-only case file (worker, employer,
  claims; never the caseworkers' notes), with the actions the reader may take;
* ``cases/<id>/hearings/new/`` (hearing_new): the legal team's schedule form;
* ``hearings/<id>/reschedule/``, ``cancel/``, ``outcome/``: the other writes.

API (under /api/v1/legal/): ``hearings/`` (GET, the arbitrator's own), ``cases/<id>/hearings/``
(POST, schedule), ``hearings/<id>/reschedule/``, ``cancel/``, ``outcome/`` (POST).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from care import selectors as hall_selectors
from care import services as hall_services
from care.api import ErrorSerializer
from care.errors import HallError
from care.roles import Role
from care.views import form_error, role_required
from legal import documents, hearings, permissions, selectors, video
from legal.document_views import DocumentForm
from legal.models import Hearing, HearingState

# --- forms -------------------------------------------------------------------------------------

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ArbitratorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class _TimesForm(forms.Form):
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts"), widget=DATETIME_WIDGET)
    ends_at = forms.DateTimeField(label=gettext_lazy("Ends"), widget=DATETIME_WIDGET)
    place = forms.CharField(label=gettext_lazy("Place"), max_length=200, required=False,
                            help_text=gettext_lazy("Sent to the parties by SMS: give the address only."))
    is_video = forms.BooleanField(label=gettext_lazy("By video (cloud arbitration)"), required=False)
    short_notice_reason = forms.CharField(
        label=gettext_lazy("Reason for short notice"), max_length=300, required=False,
        help_text=gettext_lazy("Only if the hearing is less than 5 days away."))


class HearingForm(_TimesForm):
    """Schedule a hearing. Used unbound by the case page (legal/_hearings.html)."""

    arbitrator = ArbitratorChoiceField(label=gettext_lazy("Arbitrator"), queryset=hearings.arbitrators())
    recorded = forms.BooleanField(label=gettext_lazy("Record the video hearing (each participant agrees first)"),
                                  required=False)
    field_order = ["arbitrator", "starts_at", "ends_at", "place", "is_video", "recorded", "short_notice_reason"]


class RescheduleForm(_TimesForm):
    pass


class CancelForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason for cancelling (not sent to the parties)"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"), choices=hearings.Outcome.choices)


def _errors(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


# --- pages -------------------------------------------------------------------------------------


@role_required(Role.ARBITRATOR)
def my_hearings(request):
    rows = list(hearings.hearings_for_arbitrator(user=request.user))
    upcoming = [h for h in rows if h.state == HearingState.SCHEDULED]
    past = sorted((h for h in rows if h.state == HearingState.HELD), key=lambda h: h.starts_at, reverse=True)
    return render(request, "legal/hearing_list.html",
                  {"upcoming": upcoming, "past": past, "now": timezone.now()})


@login_required
def hearing_page(request, hearing_id: int):
    hearing = hearings.hearing_get_for_user(hearing_id=hearing_id, user=request.user)
    # The case file is read through the hall's own check too: an arbitrator reads it while granted.
    case = hall_selectors.case_get_for_user(case_id=hearing.legal_case.case_id, user=request.user)
    hall_services.case_record_view(case=case, actor=request.user)
    user = request.user
    scheduled = hearing.state == HearingState.SCHEDULED
    can_manage = scheduled and hearings.can_manage(user=user, hearing=hearing)
    can_record = (scheduled and hearing.starts_at <= timezone.now()
                  and hearings.can_record_outcome(user=user, hearing=hearing))
    place = video.my_place(hearing=hearing, user=user)
    return render(request, "legal/hearing_detail.html", {
        "hearing": hearing,
        # A video hearing: the way into its room (for its participants), and its attendance log.
        "room": getattr(hearing, "room", None) if hearing.is_video else None,
        "my_place": place,
        "room_open_now": place is not None and video.joinable_now(hearing),
        "legal_case": hearing.legal_case,
        "case": case,
        "claims": hearing.legal_case.claims.order_by("pk"),
        "can_manage": can_manage,
        "can_record": can_record,
        "reschedule_form": RescheduleForm(initial=_initial(hearing)) if can_manage else None,
        "cancel_form": CancelForm() if can_manage else None,
        "outcome_form": OutcomeForm() if can_record else None,
        # The award document: the arbitrator uploads it here (legal/_documents.html).
        "documents": documents.documents_for_user(legal_case=hearing.legal_case, user=user),
        "can_upload": documents.can_upload(user, hearing.legal_case),
        "document_form": DocumentForm(kinds=documents.upload_kinds(user, hearing.legal_case)),
    })


def _initial(hearing: Hearing) -> dict:
    return {"starts_at": timezone.localtime(hearing.starts_at), "ends_at": timezone.localtime(hearing.ends_at),
            "place": hearing.place, "is_video": hearing.is_video}


@login_required
def hearing_new(request, legal_case_id: int):
    legal_case = selectors.legal_case_get_for_user(legal_case_id=legal_case_id, user=request.user)
    if not permissions.is_legal_team(request.user, legal_case):
        raise PermissionDenied
    form = HearingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            hearing = hearings.hearing_schedule(legal_case=legal_case, actor=request.user, **form.cleaned_data)
        except HallError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The hearing is scheduled for %(when)s.")
                             % {"when": timezone.localtime(hearing.starts_at).strftime("%Y-%m-%d %H:%M")})
            return redirect("legal:case", legal_case_id=legal_case.pk)
    return render(request, "legal/hearing_form.html",
                  {"form": form, "legal_case": legal_case, "title": _("Schedule a hearing")})


@login_required
def hearing_reschedule(request, hearing_id: int):
    hearing = hearings.hearing_get_for_user(hearing_id=hearing_id, user=request.user)
    if not hearings.can_manage(user=request.user, hearing=hearing):
        raise PermissionDenied
    form = RescheduleForm(request.POST or None, initial=_initial(hearing))
    if request.method == "POST" and form.is_valid():
        try:
            hearings.hearing_reschedule(hearing=hearing, actor=request.user, **form.cleaned_data)
        except HallError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The hearing is moved; the parties are told by SMS."))
            return redirect("legal:hearing", hearing_id=hearing.pk)
    return render(request, "legal/hearing_form.html",
                  {"form": form, "legal_case": hearing.legal_case, "hearing": hearing,
                   "title": _("Move the hearing")})


def _hearing_action(request, hearing_id: int, form_class, action, done: str):
    hearing = hearings.hearing_get_for_user(hearing_id=hearing_id, user=request.user)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
    else:
        try:
            action(hearing, form.cleaned_data)
        except HallError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, done)
    return redirect("legal:hearing", hearing_id=hearing.pk)


@require_POST
@login_required
def hearing_cancel(request, hearing_id: int):
    return _hearing_action(
        request, hearing_id, CancelForm,
        lambda h, data: hearings.hearing_cancel(hearing=h, actor=request.user, reason=data["reason"]),
        _("The hearing is cancelled; the parties are told by SMS."))


@require_POST
@login_required
def hearing_outcome(request, hearing_id: int):
    return _hearing_action(
        request, hearing_id, OutcomeForm,
        lambda h, data: hearings.hearing_record_outcome(hearing=h, actor=request.user, outcome=data["outcome"]),
        _("The outcome of the hearing is recorded."))


# --- API ---------------------------------------------------------------------------------------


class HearingSerializer(serializers.ModelSerializer):
    legal_case = serializers.IntegerField(source="legal_case_id")
    reference = serializers.CharField(source="legal_case.case.reference")
    arbitrator = serializers.IntegerField(source="arbitrator_id")
    arbitrator_name = serializers.SerializerMethodField()

    class Meta:
        model = Hearing
        fields = ["id", "legal_case", "reference", "arbitrator", "arbitrator_name", "starts_at", "ends_at", "place",
                  "is_video", "state", "outcome"]

    def get_arbitrator_name(self, hearing) -> str:
        return hearing.arbitrator.get_full_name() or hearing.arbitrator.username


class _TimesSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    place = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    is_video = serializers.BooleanField(required=False, default=False)
    short_notice_reason = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class HearingCreateSerializer(_TimesSerializer):
    arbitrator = serializers.PrimaryKeyRelatedField(queryset=hearings.arbitrators())
    recorded = serializers.BooleanField(required=False, default=False,
                                        help_text="A video hearing only: recorded, with each participant's consent.")


class HearingRescheduleSerializer(_TimesSerializer):
    place = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_video = serializers.BooleanField(required=False)


class HearingCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class HearingOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=hearings.Outcome.choices)


@extend_schema(tags=["hearings"])
class MyHearingsApi(GenericAPIView):
    """The signed-in arbitrator's own hearings (scheduled and held), soonest first."""

    serializer_class = HearingSerializer
    queryset = Hearing.objects.none()

    @extend_schema(parameters=[OpenApiParameter("state", enum=[HearingState.SCHEDULED, HearingState.HELD])],
                   responses={200: HearingSerializer(many=True), 403: ErrorSerializer})
    def get(self, request):
        if not request.user.has_role(Role.ARBITRATOR):
            raise ApiPermissionDenied()
        rows = hearings.hearings_for_arbitrator(user=request.user)
        state = request.query_params.get("state", "")
        if state in (HearingState.SCHEDULED, HearingState.HELD):
            rows = rows.filter(state=state)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(HearingSerializer(page, many=True).data)


@extend_schema(tags=["hearings"])
class ScheduleHearingApi(APIView):
    @extend_schema(request=HearingCreateSerializer,
                   responses={201: HearingSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                              404: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request, legal_case_id: int):
        legal_case = selectors.legal_case_get_for_user(legal_case_id=legal_case_id, user=request.user)
        data = HearingCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hearing = hearings.hearing_schedule(legal_case=legal_case, actor=request.user, **data.validated_data)
        return Response(HearingSerializer(hearing).data, status=status.HTTP_201_CREATED)


class _HearingActionApi(APIView):
    serializer_class = None

    def act(self, hearing: Hearing, data: dict) -> Hearing:
        raise NotImplementedError

    def post(self, request, hearing_id: int):
        hearing = hearings.hearing_get_for_user(hearing_id=hearing_id, user=request.user)
        data = self.serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        hearing = self.act(hearing, data.validated_data)
        fresh = Hearing.objects.select_related("legal_case__case", "arbitrator").get(pk=hearing.pk)
        return Response(HearingSerializer(fresh).data)


@extend_schema(tags=["hearings"], request=HearingRescheduleSerializer,
               responses={200: HearingSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                          404: ErrorSerializer, 409: ErrorSerializer})
class RescheduleHearingApi(_HearingActionApi):
    serializer_class = HearingRescheduleSerializer

    def act(self, hearing, data):
        return hearings.hearing_reschedule(hearing=hearing, actor=self.request.user, **data)


@extend_schema(tags=["hearings"], request=HearingCancelSerializer,
               responses={200: HearingSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                          404: ErrorSerializer, 409: ErrorSerializer})
class CancelHearingApi(_HearingActionApi):
    serializer_class = HearingCancelSerializer

    def act(self, hearing, data):
        return hearings.hearing_cancel(hearing=hearing, actor=self.request.user, reason=data["reason"])


@extend_schema(tags=["hearings"], request=HearingOutcomeSerializer,
               responses={200: HearingSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                          404: ErrorSerializer, 409: ErrorSerializer})
class HearingOutcomeApi(_HearingActionApi):
    serializer_class = HearingOutcomeSerializer

    def act(self, hearing, data):
        return hearings.hearing_record_outcome(hearing=hearing, actor=self.request.user, outcome=data["outcome"])


class AttendanceRowSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    name = serializers.CharField()
    event = serializers.CharField()


class VideoRoomSerializer(serializers.Serializer):
    state = serializers.CharField(allow_null=True, help_text="The room's state; null: not a video hearing.")
    recorded = serializers.BooleanField()
    attendance = AttendanceRowSerializer(many=True)


@extend_schema(tags=["hearings"])
class HearingRoomApi(APIView):
    """A video hearing's room: its state and its attendance log (every join, leave, admission and
    removal, with its time), for those who may read the hearing. Joining is on the page."""

    @extend_schema(responses={200: VideoRoomSerializer, 404: ErrorSerializer})
    def get(self, request, hearing_id: int):
        hearing = hearings.hearing_get_for_user(hearing_id=hearing_id, user=request.user)
        room = getattr(hearing, "room", None) if hearing.is_video else None
        return Response(VideoRoomSerializer({
            "state": room.state if room else None, "recorded": bool(room and room.recorded),
            "attendance": video.attendance(hearing=hearing)}).data)
