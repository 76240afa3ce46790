"""REST API of mutual-insurance claims under /api/v1/claims/: the same services and selectors as
the pages. Members see their own claims; the claims office also sees the private parts
(diagnosis, the bank account, the computation) and every read of theirs is audited."""

from decimal import Decimal

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from care import selectors as hall_selectors
from care import uploads
from care.api import ErrorSerializer
from care.api_schema import file_responses
from care.claims import permissions, selectors, services
from care.claims.models import Category, Claim, ClaimState, Invoice, Plan, Receipt
from care.errors import InvalidInput
from care.services import DESCRIPTION_MAX


def money_field(**kwargs) -> serializers.DecimalField:
    """Yuan as a string with two decimals ("1280.50")."""
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


def masked_account(account: dict | None) -> dict | None:
    """The bank account with its number hidden but for the last four digits."""
    if not account:
        return None
    number = str(account.get("number", ""))
    return {"bank": account.get("bank", ""), "holder": account.get("holder", ""),
            "number": "*" * max(len(number) - 4, 0) + number[-4:]}


# --- output ------------------------------------------------------------------------------------


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = ["code", "name"]


class InvoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invoice
        fields = ["id", "number", "issued_on", "amount", "self_paid"]


class ReceiptSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Receipt
        fields = ["id", "invoice", "filename", "size", "content_type", "uploaded_at", "download_url"]

    def get_download_url(self, receipt) -> str:
        return reverse("claims_api:receipt_download", args=[receipt.pk])


class BankAccountSerializer(serializers.Serializer):
    bank = serializers.CharField()
    holder = serializers.CharField()
    number = serializers.CharField(help_text="Masked: only the last four digits are shown.")


class StepOfComputationSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="base, deductible, ratio, per_claim_cap or annual_cap")
    amount = serializers.CharField(help_text="The running amount after this step (yuan).")
    args = serializers.DictField(child=serializers.CharField())


class ComputationSerializer(serializers.Serializer):
    version = serializers.IntegerField(allow_null=True, help_text="The plan version whose rules were used.")
    payable = serializers.CharField()
    steps = StepOfComputationSerializer(many=True)


class ClaimSummarySerializer(serializers.ModelSerializer):
    """A row of the list: no private parts."""

    reference = serializers.CharField(source="case.reference")
    plan = PlanSerializer(source="enrolment.plan")
    state_label = serializers.CharField(source="get_state_display")
    category_label = serializers.CharField(source="get_category_display")
    approved_amount = money_field(allow_null=True)

    class Meta:
        model = Claim
        fields = ["id", "reference", "state", "state_label", "plan", "hospital", "admitted_on", "discharged_on",
                  "category", "category_label", "approved_amount", "submitted_at"]


class MemberClaimSerializer(ClaimSummarySerializer):
    """What the member sees of their claim."""

    invoices = InvoiceSerializer(many=True)
    receipts = serializers.SerializerMethodField()
    bank_account = serializers.SerializerMethodField()

    class Meta(ClaimSummarySerializer.Meta):
        fields = ClaimSummarySerializer.Meta.fields + [
            "invoices", "receipts", "bank_account", "info_request", "rejection_reason", "appealed", "decided_at",
            "paid_at",
        ]

    @extend_schema_field(ReceiptSerializer(many=True))
    def get_receipts(self, claim):
        rows = claim.receipts.defer("content").order_by("uploaded_at", "pk")  # the file is not read here
        return ReceiptSerializer(rows, many=True).data

    @extend_schema_field(BankAccountSerializer(allow_null=True))
    def get_bank_account(self, claim):
        return masked_account(claim.bank_account)


class StaffClaimSerializer(MemberClaimSerializer):
    """What the claims office sees: also the private parts, and the computation (``computation``
    and ``payable`` come from the context: computed now for an open claim, as decided otherwise)."""

    computation = serializers.SerializerMethodField()
    payable = serializers.SerializerMethodField()

    class Meta(MemberClaimSerializer.Meta):
        fields = MemberClaimSerializer.Meta.fields + [
            "diagnosis", "info_response", "appeal_reason", "computation", "payable", "first_approver",
            "second_approver",
        ]

    @extend_schema_field(ComputationSerializer(allow_null=True))
    def get_computation(self, claim):
        return self.context["computation"]

    @extend_schema_field(money_field(allow_null=True))
    def get_payable(self, claim):
        payable = self.context["payable"]
        return None if payable is None else f"{payable:.2f}"


ClaimDetail = PolymorphicProxySerializer(
    component_name="ClaimDetail",
    serializers=[MemberClaimSerializer, StaffClaimSerializer],
    resource_type_field_name=None,
)


class CoverSerializer(serializers.Serializer):
    enrolment_id = serializers.IntegerField(source="enrolment.pk", help_text="Give it when filing a claim.")
    plan = PlanSerializer(source="enrolment.plan")
    starts_on = serializers.DateField(source="enrolment.starts_on")
    ends_on = serializers.DateField(source="enrolment.ends_on")
    current = serializers.BooleanField()
    annual_cap = money_field(source="version.annual_cap", allow_null=True)
    used = money_field(help_text="This year's approved and paid claims in the plan.")
    left = money_field(allow_null=True, help_text="What is left of this year's annual cap.")


# --- input -------------------------------------------------------------------------------------


class BankAccountInputSerializer(serializers.Serializer):
    bank = serializers.CharField(max_length=60)
    holder = serializers.CharField(max_length=50)
    number = serializers.CharField(max_length=40)


class InvoiceInputSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=40)
    issued_on = serializers.DateField()
    amount = money_field(min_value=Decimal("0"))
    self_paid = money_field(min_value=Decimal("0"))


class ClaimFileSerializer(serializers.Serializer):
    enrolment_id = serializers.IntegerField(help_text="One of the member's enrolments (see cover/).")
    hospital = serializers.CharField(max_length=120)
    admitted_on = serializers.DateField()
    discharged_on = serializers.DateField()
    category = serializers.ChoiceField(choices=Category.choices)
    diagnosis = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)
    bank_account = BankAccountInputSerializer()
    invoices = InvoiceInputSerializer(many=True, required=False, default=list, max_length=50,
                                      help_text="Receipts are uploaded afterwards (receipts/).")
    note = serializers.CharField(max_length=DESCRIPTION_MAX, required=False, default="", allow_blank=True)


class ClaimStepSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(choices=services.TRANSITIONS)
    message = serializers.CharField(max_length=services.MESSAGE_MAX, required=False, default="", allow_blank=True)
    expected_amount = money_field(required=False, allow_null=True, default=None,
                                  help_text="Approvals: the payable amount the reviewer saw.")


class ReceiptUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    invoice = serializers.IntegerField(required=False, allow_null=True, default=None,
                                       help_text="The claim's invoice the receipt belongs to.")


# --- views -------------------------------------------------------------------------------------


def _member_worker(user):
    """The signed-in member's worker record; 403 for anyone else."""
    worker = hall_selectors.worker_for_user(user=user) if selectors.is_member(user) else None
    if worker is None:
        raise PermissionDenied()
    return worker


@extend_schema(tags=["claims"])
class ClaimViewSet(GenericViewSet):
    """Mutual-insurance claims the signed-in user may read."""

    serializer_class = ClaimSummarySerializer
    queryset = Claim.objects.none()
    lookup_value_regex = r"\d+"

    def get_claim(self) -> Claim:
        return selectors.claim_get_for_user(claim_id=self.kwargs["pk"], user=self.request.user)

    def _detail(self, claim: Claim, code=status.HTTP_200_OK) -> Response:
        user = self.request.user
        if not permissions.is_claims_staff(user):
            return Response(MemberClaimSerializer(claim).data, status=code)
        computation, payable = None, None
        if claim.is_open:
            try:
                result, version = services.claim_compute(claim)
            except InvalidInput:
                pass
            else:
                computation, payable = result.as_json(version_id=version.pk), result.payable
        else:
            computation, payable = claim.computation or None, claim.payable
        context = {"computation": computation, "payable": payable}
        return Response(StaffClaimSerializer(claim, context=context).data, status=code)

    @extend_schema(parameters=[OpenApiParameter("state", enum=ClaimState.values)])
    def list(self, request):
        state = request.query_params.get("state", "")
        rows = selectors.claims_for_user(user=request.user)
        if state in ClaimState.values:
            rows = rows.filter(state=state)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ClaimSummarySerializer(page, many=True).data)

    @extend_schema(responses={200: ClaimDetail, 404: ErrorSerializer})
    def retrieve(self, request, pk=None):
        claim = self.get_claim()
        if not permissions.is_the_member(request.user, claim):
            services.claim_record_view(claim=claim, actor=request.user)
        return self._detail(claim)

    @extend_schema(request=ClaimFileSerializer, responses={201: MemberClaimSerializer, 400: ErrorSerializer,
                                                           403: ErrorSerializer})
    def create(self, request):
        """A member files a claim for themself; the invoices given are added, each checked."""
        worker = _member_worker(request.user)
        data = ClaimFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        enrolment_id = fields.pop("enrolment_id")
        enrolment = selectors.enrolment_get_for_worker(enrolment_id=enrolment_id, worker=worker)
        if enrolment is None:
            raise InvalidInput(_("Choose one of your plans."), detail={"enrolment_id": "invalid"})
        claim = services.claim_file(actor=request.user, worker=worker, enrolment=enrolment, **fields)
        return self._detail(claim, status.HTTP_201_CREATED)

    @extend_schema(request=ClaimStepSerializer, responses={200: ClaimDetail, 400: ErrorSerializer, 403: ErrorSerializer,
                                                      404: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def step(self, request, pk=None):
        data = ClaimStepSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        claim = services.claim_transition(claim=self.get_claim(), actor=request.user, **data.validated_data)
        # Shown from the service's answer: a reviewer who gave the second approval may no longer
        # find the claim in their list, but sees the result of their own step.
        return self._detail(claim)

    @extend_schema(request=InvoiceInputSerializer, responses={201: InvoiceSerializer, 400: ErrorSerializer,
                                                              403: ErrorSerializer, 404: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def invoices(self, request, pk=None):
        data = InvoiceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invoice = services.invoice_add(claim=self.get_claim(), actor=request.user, **data.validated_data)
        return Response(InvoiceSerializer(invoice).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": ReceiptUploadSerializer},
                   responses={201: ReceiptSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                              404: ErrorSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def receipts(self, request, pk=None):
        claim = self.get_claim()
        data = ReceiptUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invoice = None
        if data.validated_data["invoice"] is not None:
            invoice = claim.invoices.filter(pk=data.validated_data["invoice"]).first()
            if invoice is None:
                raise InvalidInput(_("Choose one of this claim's invoices."), detail={"invoice": "invalid"})
        receipt = services.receipt_upload(claim=claim, actor=request.user, uploaded_file=data.validated_data["file"],
                                          invoice=invoice)
        return Response(ReceiptSerializer(receipt).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: CoverSerializer(many=True), 403: ErrorSerializer})
    @action(detail=False, methods=["get"], pagination_class=None)
    def cover(self, request):
        """The member's cover: each enrolment, and what is used and left of this year's annual cap."""
        rows = selectors.cover_for_worker(worker=_member_worker(request.user))
        return Response(CoverSerializer(rows, many=True).data)


def receipt_file_response(receipt: Receipt, data: bytes) -> HttpResponse:
    return uploads.file_response(data, filename=receipt.filename, content_type=receipt.content_type)


@extend_schema(tags=["claims"])
class ReceiptDownloadView(APIView):
    """The receipt itself, as an attachment; every download is recorded in the audit log."""

    def perform_content_negotiation(self, request, force=False):
        # The answer is the file whatever the client accepts; errors are JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(responses=file_responses({404: ErrorSerializer}))
    def get(self, request, receipt_id: int):
        receipt = selectors.receipt_get_for_user(receipt_id=receipt_id, user=request.user)
        return receipt_file_response(receipt, services.receipt_download(receipt=receipt, actor=request.user))
