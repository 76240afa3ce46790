"""REST API of the hall under /api/v1/: the same services and selectors as the pages."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from care import figures, permissions, registry, selectors, services, sms
from care.api_errors import ErrorSerializer
from care.forms import OutboxFilterForm
from care.models import Case, ContactTime, OutboundSms, SmsStatus, Stage, Worker
from care.roles import Role


class CaseSummarySerializer(serializers.ModelSerializer):
    """Who and which department: what the front desk may see."""

    worker_name = serializers.CharField(source="worker.name")
    department_label = serializers.CharField()
    stage_label = serializers.CharField(source="get_stage_display")

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "worker_name",
            "department",
            "department_label",
            "stage",
            "stage_label",
            "channel",
            "opened_at",
            "closed_at",
        ]


class CaseSerializer(CaseSummarySerializer):
    assignee = serializers.CharField(source="assignee.username", default=None, allow_null=True)
    is_overdue = serializers.BooleanField()

    class Meta(CaseSummarySerializer.Meta):
        fields = CaseSummarySerializer.Meta.fields + [
            "description",
            "preferred_contact_time",
            "priority",
            "assignee",
            "due_at",
            "is_overdue",
        ]


class RequestCreateSerializer(serializers.Serializer):
    department = serializers.CharField(max_length=20)
    description = serializers.CharField(max_length=2000)
    preferred_contact_time = serializers.ChoiceField(choices=ContactTime.choices, default=ContactTime.ANY)
    worker_id = serializers.IntegerField(required=False, help_text="Front desk only: the walk-in worker.")

    def validate_department(self, value):
        if value not in {d.code for d in registry.departments()}:
            raise serializers.ValidationError("unknown department")
        return value


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, default="", allow_blank=True, help_text="reference or mobile")


class CaseQuerySerializer(SearchQuerySerializer):
    stage = serializers.ChoiceField(choices=Stage.choices, required=False, default="", allow_blank=True)
    mine = serializers.BooleanField(required=False, default=False, help_text="Only the cases assigned to me.")


class WorkerSerializer(serializers.ModelSerializer):
    mobile = serializers.CharField(source="masked_mobile")

    class Meta:
        model = Worker
        fields = ["id", "name", "mobile", "employer", "membership_number"]


class WorkerCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    mobile = serializers.CharField(max_length=20)
    national_id = serializers.CharField(max_length=18)
    employer = serializers.CharField(max_length=120, required=False, default="")
    membership_number = serializers.CharField(max_length=30, required=False, default="")


@extend_schema(tags=["cases"])
class CaseViewSet(GenericViewSet):
    """Cases whose content the signed-in user may read."""

    serializer_class = CaseSerializer
    queryset = Case.objects.none()

    def get_queryset(self):
        return selectors.cases_for_user(user=self.request.user)

    def get_case(self) -> Case:
        return selectors.case_get_for_user(case_id=self.kwargs["pk"], user=self.request.user)

    @extend_schema(parameters=[CaseQuerySerializer], responses={200: CaseSerializer(many=True), 400: ErrorSerializer})
    def list(self, request):
        query = CaseQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        qs = selectors.filter_cases(
            self.get_queryset(),
            stage=filters["stage"],
            query=filters["q"],
            mine_only=filters["mine"],
            user=request.user,
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(CaseSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        case = self.get_case()
        services.case_record_view(case=case, actor=request.user)
        return Response(CaseSerializer(case).data)

    @extend_schema(request=RequestCreateSerializer, responses={201: CaseSerializer, 400: ErrorSerializer})
    def create(self, request):
        """File a request: a worker for themselves, or the front desk for a walk-in (worker_id)."""
        data = RequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        worker_id = fields.pop("worker_id", None)
        if request.user.has_role(Role.FRONT_DESK) and worker_id is not None:
            worker = get_object_or_404(Worker, pk=worker_id)
        else:
            worker = selectors.worker_for_user(user=request.user)
            if worker is None:
                raise PermissionDenied()
        case = services.request_file(actor=request.user, worker=worker, **fields)
        return Response(CaseSerializer(case).data, status=status.HTTP_201_CREATED)

    def _act(self, service):
        case = service(case=self.get_case(), actor=self.request.user)
        return Response(CaseSerializer(case).data)

    @extend_schema(request=None, responses={200: CaseSerializer, 403: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"], url_path="take-up")
    def take_up(self, request, pk=None):
        return self._act(services.case_take_up)

    @extend_schema(request=None, responses={200: CaseSerializer, 403: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._act(services.case_close)

    @extend_schema(request=None, responses={200: CaseSerializer, 403: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._act(services.case_withdraw)


@extend_schema(tags=["front desk"])
class CaseSummaryViewSet(GenericViewSet):
    """Who filed and for which department, without content: the front desk's list."""

    serializer_class = CaseSummarySerializer
    queryset = Case.objects.none()

    @extend_schema(parameters=[SearchQuerySerializer],
                   responses={200: CaseSummarySerializer(many=True), 400: ErrorSerializer})
    def list(self, request):
        if not request.user.has_role(Role.FRONT_DESK):
            raise PermissionDenied()
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        qs = selectors.filter_cases(selectors.case_summaries_for_user(user=request.user),
                                    query=query.validated_data["q"])
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(CaseSummarySerializer(page, many=True).data)


@extend_schema(tags=["front desk"])
class WorkerViewSet(GenericViewSet):
    serializer_class = WorkerSerializer
    queryset = Worker.objects.none()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not permissions.can_file_for_walk_in(request.user):
            raise PermissionDenied()

    @extend_schema(
        parameters=[OpenApiParameter("q", required=True, description="mobile or ID number")],
        responses={200: WorkerSerializer, 404: ErrorSerializer},
    )
    @action(detail=False, methods=["get"])
    def lookup(self, request):
        worker = selectors.worker_find(query=request.query_params.get("q", ""))
        if worker is None:
            raise NotFound()
        return Response(WorkerSerializer(worker).data)

    @extend_schema(request=WorkerCreateSerializer, responses={201: WorkerSerializer, 400: ErrorSerializer})
    def create(self, request):
        data = WorkerCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        worker = services.worker_register(actor=request.user, **data.validated_data)
        return Response(WorkerSerializer(worker).data, status=status.HTTP_201_CREATED)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    department = serializers.CharField()
    language = serializers.CharField()


class MeView(APIView):
    @extend_schema(responses=MeSerializer, tags=["me"])
    def get(self, request):
        user = request.user
        return Response(
            {
                "username": user.username,
                "roles": sorted(user.roles),
                "department": user.department,
                "language": user.language,
            }
        )


class OutboundSmsSerializer(serializers.ModelSerializer):
    body = serializers.SerializerMethodField()

    class Meta:
        model = OutboundSms
        fields = ["id", "to", "template", "language", "urgency", "status", "attempts", "error", "body",
                  "created_at", "sent_at", "status_at", "send_after"]

    def get_body(self, message) -> str | None:
        """Sign-in codes are shown only by the console backend (demo and development)."""
        return None if message.essential and not sms.uses_console() else message.body


@extend_schema(tags=["sms"])
class OutboxViewSet(GenericViewSet):
    """The SMS outbox: every message with its status; failed ones can be retried."""

    serializer_class = OutboundSmsSerializer
    queryset = OutboundSms.objects.none()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not request.user.has_perm("care.view_outboundsms"):
            raise PermissionDenied()

    @extend_schema(parameters=[
        OpenApiParameter("status", enum=SmsStatus.values), OpenApiParameter("template"),
        OpenApiParameter("number"), OpenApiParameter("day", OpenApiTypes.DATE),
    ], responses={200: OutboundSmsSerializer(many=True), 400: ErrorSerializer})
    def list(self, request):
        filters = OutboxFilterForm(request.query_params)
        if not filters.is_valid():
            raise serializers.ValidationError(filters.errors)
        page = self.paginate_queryset(selectors.outbox(**filters.cleaned_data))
        return self.get_paginated_response(OutboundSmsSerializer(page, many=True).data)

    @extend_schema(request=None, responses={200: OutboundSmsSerializer, 403: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        message = get_object_or_404(OutboundSms, pk=pk)
        return Response(OutboundSmsSerializer(sms.sms_retry(message=message, actor=request.user)).data)


class ServiceFiguresSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The department's code; empty for the whole hall (last row).")
    label = serializers.CharField()
    received = serializers.IntegerField(allow_null=True)
    closed = serializers.IntegerField(allow_null=True)
    withdrawn = serializers.IntegerField(allow_null=True)
    open = serializers.IntegerField(allow_null=True)
    overdue = serializers.IntegerField(allow_null=True)
    median_days = serializers.FloatField(allow_null=True)
    p90_days = serializers.FloatField(allow_null=True)


class TrendSeriesSerializer(serializers.Serializer):
    label = serializers.CharField()
    code = serializers.CharField()
    data = serializers.ListField(child=serializers.IntegerField(allow_null=True))


class TrendSerializer(serializers.Serializer):
    by_week = serializers.BooleanField()
    labels = serializers.ListField(child=serializers.DateField())
    series = TrendSeriesSerializer(many=True)


class SatisfactionSerializer(serializers.Serializer):
    label = serializers.CharField()
    sent = serializers.IntegerField()
    answers = serializers.IntegerField(allow_null=True)
    average = serializers.FloatField(allow_null=True)
    distribution = serializers.ListField(child=serializers.IntegerField(), allow_null=True)


class DepartmentFigureSerializer(serializers.Serializer):
    department = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField()
    value = serializers.FloatField(allow_null=True)


class SmsFiguresSerializer(serializers.Serializer):
    sent = serializers.IntegerField(allow_null=True)
    failed = serializers.IntegerField(allow_null=True)
    waiting = serializers.IntegerField(allow_null=True)
    skipped = serializers.IntegerField(allow_null=True)


class FiguresSerializer(serializers.Serializer):
    since = serializers.DateField()
    until = serializers.DateField()
    min_group_size = serializers.IntegerField(help_text="Counts about fewer people are null.")
    services = ServiceFiguresSerializer(many=True)
    trend = TrendSerializer()
    satisfaction = SatisfactionSerializer(many=True)
    sms = SmsFiguresSerializer()
    departments = DepartmentFigureSerializer(many=True)


class FiguresView(APIView):
    """The center manager's figures for a period (both days included; by default the last 12
    weeks): the same as the page. Counts about fewer than ``min_group_size`` people are null."""

    @extend_schema(tags=["figures"], responses={200: FiguresSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
                   parameters=[OpenApiParameter("since", OpenApiTypes.DATE),
                               OpenApiParameter("until", OpenApiTypes.DATE)])
    def get(self, request):
        if not request.user.has_perm("care.view_figures"):
            raise PermissionDenied()
        since, until = request.query_params.get("since"), request.query_params.get("until")
        period = figures.Period.parse(since, until) if since or until else figures.Period.default()
        return Response(figures.hall_figures(period))
