"""Building claims state for tests: a plan with a version, a covered member, a filed claim."""

import datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from care.claims import services
from care.claims.models import Category, Enrolment, Plan, PlanVersion
from care.roles import Role
from tests.factories import WorkerFactory, staff

# A one-page PDF standing in for a scanned receipt.
RECEIPT_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
BANK = {"bank": "中国工商银行青岛市南支行", "holder": "张三", "number": "6222020000001234567"}

_plans = iter(range(1, 10_000))


def make_plan(*, effective_from=datetime.date(2020, 1, 1), waiting_days=90, deductible="800.00",
              ratios=None, per_claim_cap="20000.00", annual_cap="50000.00", code=None) -> Plan:
    plan = Plan.objects.create(code=code or f"ZY{next(_plans):03d}", name="职工住院医疗互助保障")
    PlanVersion.objects.create(
        plan=plan, effective_from=effective_from, waiting_days=waiting_days, deductible=Decimal(deductible),
        ratios=ratios if ratios is not None else {"inpatient": "0.50", "serious_illness": "0.70"},
        per_claim_cap=Decimal(per_claim_cap), annual_cap=Decimal(annual_cap))
    return plan


def enrol(worker, plan, *, starts_on=None, ends_on=None) -> Enrolment:
    today = timezone.localdate()
    starts_on = starts_on or today.replace(year=today.year - 1, month=1, day=1)
    ends_on = ends_on or today.replace(month=12, day=31)
    return Enrolment.objects.create(worker=worker, plan=plan, starts_on=starts_on, ends_on=ends_on)


def officer(**kwargs):
    return staff(Role.CLAIMS_OFFICER, "claims", **kwargs)


def reviewer(**kwargs):
    return staff(Role.CLAIMS_REVIEWER, "claims", **kwargs)


def invoice(number, self_paid, *, amount=None, issued_on=None) -> dict:
    return {"number": number, "issued_on": issued_on or timezone.localdate() - datetime.timedelta(days=3),
            "amount": amount or self_paid, "self_paid": self_paid}


def file_claim(*, worker=None, plan=None, enrolment=None, invoices=None, admitted_on=None, category=Category.INPATIENT,
               diagnosis="", receipt=False):
    """A member files a claim for a stay that ended three days ago (one 10,000 yuan invoice by default)."""
    worker = worker or (enrolment.worker if enrolment else WorkerFactory())
    if enrolment is None:
        enrolment = enrol(worker, plan or make_plan())
    today = timezone.localdate()
    admitted_on = admitted_on or today - datetime.timedelta(days=10)
    invoices = invoices if invoices is not None else [invoice(f"INV{worker.pk:06d}01", "10000.00")]
    if receipt:
        invoices = [{**i, "receipt": SimpleUploadedFile("发票.pdf", RECEIPT_PDF)} for i in invoices]
    return services.claim_file(
        actor=worker.user, worker=worker, enrolment=enrolment, hospital="青岛市立医院", admitted_on=admitted_on,
        discharged_on=max(admitted_on, today - datetime.timedelta(days=3)), category=category, bank_account=BANK,
        diagnosis=diagnosis, invoices=invoices)


def reviewed(claim, by=None):
    """The claim taken up for review by ``by`` (a new claims officer by default)."""
    by = by or officer()
    return services.claim_transition(claim=claim, actor=by, transition="start_review"), by
