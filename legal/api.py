"""REST API of legal aid under /api/v1/legal/: the same services and selectors as the pages."""

from django.db.models import F
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from care import selectors as hall_selectors
from care import services as hall_services
from care.api import ErrorSerializer
from legal import permissions, selectors, services
from legal.models import ClaimKind, ClaimLine, Deadline, DisputeType, LegalCase, LegalState, Representative


class ClaimSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClaimLine
        fields = ["id", "kind", "amount", "note"]


class DeadlineSerializer(serializers.ModelSerializer):
    class Meta:
        model = Deadline
        fields = ["rule", "starts_on", "due_on", "extended", "met_at", "suspended_on", "suspended_days"]


class LegalCaseSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="case.reference")
    worker_name = serializers.CharField(source="case.worker.name")
    claims = ClaimSerializer(many=True)
    deadlines = DeadlineSerializer(many=True)
    next_due = serializers.DateField(allow_null=True)

    class Meta:
        model = LegalCase
        fields = ["id", "reference", "worker_name", "state", "dispute_type", "employer_name", "employer_credit_code",
                  "employer_address", "employer_contact", "employment_start", "employment_end", "dispute_date",
                  "decline_reason", "claims", "deadlines", "next_due"]


class StepSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(choices=services.TRANSITIONS)
    reason = serializers.CharField(required=False, default="", allow_blank=True)
    appealed_by = serializers.ChoiceField(choices=["worker", "employer"], required=False, default="")


class DetailsSerializer(serializers.Serializer):
    dispute_type = serializers.ChoiceField(choices=DisputeType.choices, required=False)
    employer_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    employer_credit_code = serializers.CharField(max_length=18, required=False, allow_blank=True)
    employer_address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    employer_contact = serializers.CharField(max_length=100, required=False, allow_blank=True)
    employment_start = serializers.DateField(required=False, allow_null=True)
    employment_end = serializers.DateField(required=False, allow_null=True)
    dispute_date = serializers.DateField(required=False, allow_null=True)


class ClaimCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ClaimKind.choices)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class RepresentativeSerializer(serializers.Serializer):
    side = serializers.ChoiceField(choices=Representative.Side.choices)
    name = serializers.CharField(max_length=50)
    mobile = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)


class NoteSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=5000)


class OpenSerializer(serializers.Serializer):
    case_id = serializers.IntegerField()


@extend_schema(tags=["legal aid"])
class LegalCaseViewSet(GenericViewSet):
    serializer_class = LegalCaseSerializer
    queryset = LegalCase.objects.none()

    def get_legal_case(self) -> LegalCase:
        return selectors.legal_case_get_for_user(legal_case_id=self.kwargs["pk"], user=self.request.user)

    def _detail(self, legal_case: LegalCase, code=status.HTTP_200_OK):
        fresh = selectors.legal_case_get_for_user(legal_case_id=legal_case.pk, user=self.request.user)
        return Response(LegalCaseSerializer(fresh).data, status=code)

    def list(self, request):
        state = request.query_params.get("state", "")
        rows = selectors.legal_cases_for_user(user=request.user).prefetch_related("claims", "deadlines")
        if state in LegalState.values:
            rows = rows.filter(state=state)
        page = self.paginate_queryset(rows.order_by(F("next_due").asc(nulls_last=True), "pk"))
        return self.get_paginated_response(LegalCaseSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        legal_case = self.get_legal_case()
        hall_services.case_record_view(case=legal_case.case, actor=request.user)
        return Response(LegalCaseSerializer(legal_case).data)

    @extend_schema(request=OpenSerializer, responses={201: LegalCaseSerializer, 403: ErrorSerializer,
                                                      404: ErrorSerializer})
    @action(detail=False, methods=["post"])
    def open(self, request):
        data = OpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = hall_selectors.case_get_for_user(case_id=data.validated_data["case_id"], user=request.user)
        return self._detail(services.legal_case_open(case=case, actor=request.user), status.HTTP_201_CREATED)

    @extend_schema(request=StepSerializer, responses={200: LegalCaseSerializer, 403: ErrorSerializer,
                                                      409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def step(self, request, pk=None):
        data = StepSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        legal_case = services.legal_transition(legal_case=self.get_legal_case(), actor=request.user,
                                               **data.validated_data)
        return self._detail(legal_case)

    @extend_schema(request=DetailsSerializer, responses={200: LegalCaseSerializer, 400: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def details(self, request, pk=None):
        data = DetailsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._detail(services.legal_case_update_details(legal_case=self.get_legal_case(), actor=request.user,
                                                               **data.validated_data))

    @extend_schema(request=ClaimCreateSerializer, responses={201: ClaimSerializer, 400: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def claims(self, request, pk=None):
        data = ClaimCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        line = services.claim_add(legal_case=self.get_legal_case(), actor=request.user, **data.validated_data)
        return Response(ClaimSerializer(line).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RepresentativeSerializer, responses={201: RepresentativeSerializer, 400: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def representatives(self, request, pk=None):
        data = RepresentativeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        representative = services.representative_add(legal_case=self.get_legal_case(), actor=request.user,
                                                     **data.validated_data)
        return Response(RepresentativeSerializer(representative).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=NoteSerializer, responses={201: None, 403: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        legal_case = self.get_legal_case()
        if not permissions.can_read_notes(request.user, legal_case):
            raise Http404
        data = NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.note_add(legal_case=legal_case, actor=request.user, body=data.validated_data["body"])
        return Response(status=status.HTTP_201_CREATED)
