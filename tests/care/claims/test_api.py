"""The claims REST API under /api/v1/claims/: who reads what (the member their own claim without
its private parts, the claims office everything, with every read of theirs audited), filing,
steps with their statuses, invoices, receipts up and down, the member's cover, and the one
error shape."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from care.claims import services
from care.claims.models import Claim, ClaimState, Enrolment, Invoice, PlanVersion, Receipt
from care.models import AuditEvent, Case, OutboundSms
from care.roles import Role
from tests.care.claims.helpers import (
    BANK,
    RECEIPT_PDF,
    enrol,
    file_claim,
    invoice,
    make_plan,
    officer,
    reviewed,
    reviewer,
)
from tests.factories import WorkerFactory, staff

pytestmark = pytest.mark.django_db

DIAGNOSIS = "急性阑尾炎-DIAGNOSIS-SECRET-5521"
LIST = "/api/v1/claims/"
COVER = "/api/v1/claims/cover/"
MEMBER_FIELDS = {
    "id", "reference", "state", "state_label", "plan", "hospital", "admitted_on", "discharged_on", "category",
    "category_label", "approved_amount", "submitted_at", "invoices", "receipts", "bank_account", "info_request",
    "rejection_reason", "appealed", "decided_at", "paid_at",
}
STAFF_ONLY = {"diagnosis", "info_response", "appeal_reason", "computation", "payable", "first_approver",
              "second_approver"}
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def api(user=None, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user)
    return client


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def detail(claim) -> str:
    return f"/api/v1/claims/{claim.pk}/"


def step_url(claim) -> str:
    return f"/api/v1/claims/{claim.pk}/step/"


def today() -> datetime.date:
    return timezone.localdate()


def days_ago(n: int) -> str:
    return (today() - datetime.timedelta(days=n)).isoformat()


def fresh(claim) -> Claim:
    return Claim.objects.get(pk=claim.pk)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def viewed_by(user) -> int:
    return AuditEvent.objects.filter(event_type="claims.viewed", actor=user).count()


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == code
    assert body["message"]
    return body


@pytest.fixture
def member():
    return WorkerFactory()


@pytest.fixture
def enrolment(member):
    return enrol(member, make_plan())


@pytest.fixture
def claim(enrolment):
    """Filed ten days after admission with one 10,000 yuan invoice: 4,600.00 payable
    ((10,000 − 800 deductible) × 0.50)."""
    return file_claim(enrolment=enrolment, diagnosis=DIAGNOSIS)


@pytest.fixture
def handled(claim):
    """The claim under review, and the claims officer handling it."""
    return reviewed(claim)


# --- reading -----------------------------------------------------------------------------------


def test_the_member_lists_and_reads_their_own_claims_only(member, claim):
    other = file_claim()
    client = api(member.user)

    assert ids(client.get(LIST)) == [claim.pk]
    response = client.get(detail(claim))
    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == claim.case.reference
    assert (body["state"], body["hospital"], body["category"]) == ("submitted", "青岛市立医院", "inpatient")
    assert body["plan"] == {"code": claim.enrolment.plan.code, "name": "职工住院医疗互助保障"}
    assert body["invoices"] == [{"id": claim.invoices.get().pk, "number": f"INV{member.pk:06d}01",
                                 "issued_on": days_ago(3), "amount": "10000.00", "self_paid": "10000.00"}]
    assert_error(client.get(detail(other)), 404, "not_found")


def test_the_member_sees_no_private_parts_but_their_account_masked(member, claim):
    before = AuditEvent.objects.count()

    body = api(member.user).get(detail(claim)).json()

    assert set(body) == MEMBER_FIELDS
    assert body["bank_account"] == {"bank": BANK["bank"], "holder": "张三", "number": "*" * 15 + "4567"}
    assert DIAGNOSIS not in str(body) and BANK["number"] not in str(body)
    assert body["approved_amount"] is None
    assert AuditEvent.objects.count() == before  # the member reading their own claim is not an event


@pytest.mark.parametrize("who", ["stranger", "counselor", "front_desk", "legal_officer", "center_manager"])
def test_no_one_else_finds_the_claim(claim, who):
    user = {
        "stranger": lambda: WorkerFactory().user,
        "counselor": lambda: staff(Role.COUNSELOR, "counseling"),
        "front_desk": lambda: staff(Role.FRONT_DESK),
        "legal_officer": lambda: staff(Role.LEGAL_OFFICER, "legal"),
        "center_manager": lambda: staff(Role.CENTER_MANAGER),
    }[who]()
    client = api(user)

    assert ids(client.get(LIST)) == []
    assert_error(client.get(detail(claim)), 404, "not_found")
    assert_error(client.get(f"/api/v1/claims/{claim.pk + 1000}/"), 404, "not_found")  # absent alike
    assert viewed_by(user) == 0


def test_the_handling_officer_sees_the_private_parts_and_the_read_is_audited(claim, handled):
    _, by = handled

    body = api(by).get(detail(claim)).json()

    assert set(body) == MEMBER_FIELDS | STAFF_ONLY
    assert body["diagnosis"] == DIAGNOSIS
    assert body["bank_account"]["number"] == "*" * 15 + "4567"
    assert body["payable"] == "4600.00"
    computation = body["computation"]
    assert computation["payable"] == "4600.00"
    assert [(s["code"], s["amount"]) for s in computation["steps"]] == [
        ("base", "10000.00"), ("deductible", "9200.00"), ("ratio", "4600.00"), ("per_claim_cap", "4600.00"),
        ("annual_cap", "4600.00")]
    assert (body["first_approver"], body["second_approver"]) == (None, None)
    event = AuditEvent.objects.get(event_type="claims.viewed", actor=by)
    assert event.subject_id == str(claim.pk)
    assert DIAGNOSIS not in str(event.new) + str(event.old)


def test_the_claims_office_sees_new_claims_but_not_another_officers(claim):
    other = officer()
    assert ids(api(other).get(LIST)) == [claim.pk]  # new and unassigned: in the queue to take up
    reviewed(claim)

    assert ids(api(other).get(LIST)) == []
    assert_error(api(other).get(detail(claim)), 404, "not_found")
    assert viewed_by(other) == 0


def test_the_list_filters_by_state(member, enrolment, claim):
    second = file_claim(enrolment=enrolment, invoices=[invoice(f"INV{member.pk:06d}02", "900.00")])
    services.claim_transition(claim=second, actor=member.user, transition="withdraw")
    client = api(member.user)

    assert ids(client.get(LIST)) == [second.pk, claim.pk]  # newest first
    assert ids(client.get(LIST, {"state": "withdrawn"})) == [second.pk]
    assert ids(client.get(LIST, {"state": "submitted"})) == [claim.pk]
    assert ids(client.get(LIST, {"state": "approved"})) == []
    row = client.get(LIST).json()["results"][1]
    assert "diagnosis" not in row and "bank_account" not in row and "computation" not in row


def test_an_open_claim_is_computed_now_a_decided_one_as_decided(claim, handled):
    _, by = handled
    version = PlanVersion.objects.get(plan=claim.enrolment.plan)
    PlanVersion.objects.filter(pk=version.pk).update(deductible=Decimal("2000.00"))

    assert api(by).get(detail(claim)).json()["payable"] == "4000.00"  # (10,000 − 2,000) × 0.50

    approved = post(api(by), step_url(claim), {"transition": "approve", "expected_amount": "4000.00"})
    assert approved.status_code == 200, approved.content
    PlanVersion.objects.filter(pk=version.pk).update(deductible=Decimal("0.00"))

    body = api(by).get(detail(claim)).json()
    assert (body["state"], body["approved_amount"], body["payable"]) == ("approved", "4000.00", "4000.00")
    assert body["computation"]["steps"][1]["args"] == {"deductible": "2000.00"}


def test_an_open_claim_no_longer_covered_shows_no_computation(claim, handled):
    _, by = handled
    Enrolment.objects.filter(pk=claim.enrolment_id).update(starts_on=today() - datetime.timedelta(days=5))

    response = api(by).get(detail(claim))

    assert response.status_code == 200
    assert (response.json()["computation"], response.json()["payable"]) == (None, None)


# --- filing ------------------------------------------------------------------------------------


def filing(enrolment, **changes) -> dict:
    data = {
        "enrolment_id": enrolment.pk, "hospital": "青岛大学附属医院", "admitted_on": days_ago(12),
        "discharged_on": days_ago(4), "category": "serious_illness", "diagnosis": DIAGNOSIS,
        "bank_account": {"bank": "中国建设银行", "holder": "李四", "number": "6217 0000 1111 2222 333"},
        "invoices": [
            {"number": "QD-2026-0001", "issued_on": days_ago(4), "amount": "12000.50", "self_paid": "8000.00"},
            {"number": "QD20260002", "issued_on": days_ago(4), "amount": "300", "self_paid": "300"},
        ],
        "note": "住院九天",
    }
    return {**data, **changes}


def test_a_member_files_a_claim(member, enrolment):
    response = post(api(member.user), LIST, filing(enrolment))

    assert response.status_code == 201, response.content
    body = response.json()
    claim = Claim.objects.get()
    assert body["id"] == claim.pk and body["reference"] == claim.case.reference
    assert set(body) == MEMBER_FIELDS
    assert (body["state"], body["category"], body["admitted_on"]) == ("submitted", "serious_illness", days_ago(12))
    assert [(i["number"], i["amount"], i["self_paid"]) for i in body["invoices"]] == [
        ("QD20260001", "12000.50", "8000.00"), ("QD20260002", "300.00", "300.00")]
    assert body["bank_account"] == {"bank": "中国建设银行", "holder": "李四", "number": "*" * 15 + "2333"}
    assert (claim.case.worker, claim.case.department, claim.case.description) == (member, "claims", "住院九天")
    assert claim.diagnosis == DIAGNOSIS
    assert claim.bank_account["number"] == "6217000011112222333"
    assert claim.payable == Decimal("5250.00")  # (8,300 − 800) × 0.70
    assert Invoice.objects.filter(claim=claim).count() == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"admitted_on": "2026/01/05"}, "admitted_on"),
        ({"discharged_on": ""}, "discharged_on"),
        ({"category": "dental"}, "category"),
        ({"hospital": ""}, "hospital"),
        ({"bank_account": {"bank": "中国建设银行", "holder": "李四"}}, "bank_account"),
        ({"bank_account": {"bank": "中国建设银行", "holder": "李四", "number": "1234"}}, "bank_account"),
        ({"invoices": [{"number": "QD20260001", "issued_on": days_ago(4), "amount": "12,5x", "self_paid": "1"}]},
         "invoices"),
        ({"invoices": [{"number": "QD20260001", "issued_on": days_ago(4), "amount": "10.001", "self_paid": "1"}]},
         "invoices"),
        ({"invoices": [{"number": "QD20260001", "issued_on": days_ago(4), "amount": "100", "self_paid": "200"}]},
         "self_paid"),
        ({"invoices": [{"number": "QD20260001", "issued_on": "tomorrow", "amount": "100", "self_paid": "1"}]},
         "invoices"),
        ({"invoices": [{"number": "AB", "issued_on": days_ago(4), "amount": "100", "self_paid": "1"}]}, "number"),
        ({"admitted_on": days_ago(2), "discharged_on": days_ago(3)}, "discharged_on"),
        ({"enrolment_id": "one"}, "enrolment_id"),
    ],
)
def test_bad_filings_are_400_in_the_error_shape_and_save_nothing(member, enrolment, changes, field):
    response = post(api(member.user), LIST, filing(enrolment, **changes))

    body = assert_error(response, 400, "invalid")
    assert field in body["detail"]
    assert not Claim.objects.exists() and not Case.objects.exists() and not Invoice.objects.exists()
    assert not AuditEvent.objects.filter(event_type__startswith="claims.").exists()


def test_bad_input_is_answered_in_the_users_language(member, enrolment):
    response = post(api(member.user, language="zh-hans"), LIST, filing(enrolment, category="dental"))

    assert assert_error(response, 400, "invalid")["message"] == "请求未能完成。"


def test_a_member_files_only_on_their_own_enrolment(member):
    someone_elses = enrol(WorkerFactory(), make_plan())

    body = assert_error(post(api(member.user), LIST, filing(someone_elses)), 400, "invalid")

    assert (body["message"], body["detail"]) == ("Choose one of your plans.", {"enrolment_id": "invalid"})
    assert not Claim.objects.exists()


def test_a_duplicate_invoice_names_the_members_own_claim(member, enrolment, claim):
    number = claim.invoices.get().number
    data = filing(enrolment, invoices=[{"number": number, "issued_on": days_ago(4), "amount": "50",
                                        "self_paid": "50"}])

    body = assert_error(post(api(member.user), LIST, data), 400, "invalid")

    assert body["message"] == f"Invoice {number} has already been claimed in {claim.case.reference}."
    assert body["detail"] == {"number": "duplicate", "claim": claim.case.reference}
    assert list(Claim.objects.all()) == [claim] and Case.objects.count() == 1


def test_a_duplicate_invoice_of_someone_else_is_refused_without_their_reference(claim):
    number = claim.invoices.get().number
    stranger = WorkerFactory()
    data = filing(enrol(stranger, make_plan()), invoices=[{"number": number, "issued_on": days_ago(4),
                                                           "amount": "50", "self_paid": "50"}])

    body = assert_error(post(api(stranger.user), LIST, data), 400, "invalid")

    assert body["message"] == f"Invoice {number} has already been claimed."
    assert body["detail"] == {"number": "duplicate"}
    assert claim.case.reference not in str(body)
    assert Claim.objects.count() == 1


def test_treatment_outside_the_cover_is_refused(member):
    lapsed = enrol(member, make_plan(), starts_on=today() - datetime.timedelta(days=400),
                   ends_on=today() - datetime.timedelta(days=30))

    body = assert_error(post(api(member.user), LIST, filing(lapsed)), 400, "invalid")

    assert body["detail"] == {"admitted_on": "not_covered"}
    assert body["message"].startswith("The member was not covered by 职工住院医疗互助保障 on ")
    assert not Claim.objects.exists() and not Case.objects.exists()


def test_treatment_in_the_waiting_period_is_refused(member):
    new = enrol(member, make_plan(), starts_on=today() - datetime.timedelta(days=30))

    body = assert_error(post(api(member.user), LIST, filing(new)), 400, "invalid")

    assert body["detail"] == {"admitted_on": "waiting_period"}
    assert not Claim.objects.exists()


@pytest.mark.parametrize("role", ["claims_officer", "counselor", "front_desk"])
def test_staff_file_no_claims_through_the_api(enrolment, role):
    user = {"claims_officer": officer, "counselor": lambda: staff(Role.COUNSELOR, "counseling"),
            "front_desk": lambda: staff(Role.FRONT_DESK)}[role]()

    body = assert_error(post(api(user), LIST, filing(enrolment)), 403, "forbidden")

    assert body["detail"] == {}
    assert not Claim.objects.exists() and not Case.objects.exists()


# --- steps -------------------------------------------------------------------------------------


def test_the_handling_officer_approves(member, claim, handled):
    _, by = handled

    response = post(api(by), step_url(claim), {"transition": "approve", "expected_amount": "4600.00"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["approved_amount"], body["first_approver"]) == ("approved", "4600.00", by.pk)
    claim = fresh(claim)
    assert (claim.state, claim.approved_amount, claim.first_approver) == (ClaimState.APPROVED, Decimal("4600.00"), by)
    assert OutboundSms.objects.filter(template="claim_approved", worker=member).count() == 1


def test_the_claims_office_takes_a_new_claim_up_through_the_api(claim):
    by = officer()

    response = post(api(by), step_url(claim), {"transition": "start_review"})

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "under_review"
    assert fresh(claim).case.assignee == by


def test_a_stale_expected_amount_is_409_and_changes_nothing(claim, handled):
    _, by = handled
    before = AuditEvent.objects.count()

    response = post(api(by), step_url(claim), {"transition": "approve", "expected_amount": "4000.00"})

    body = assert_error(response, 409, "invalid_state")
    assert body["detail"] == {"payable": "4600.00"}
    assert "4600.00" in body["message"] and "4000.00" in body["message"]
    claim = fresh(claim)
    assert (claim.state, claim.approved_amount, claim.first_approver) == (ClaimState.UNDER_REVIEW, None, None)
    assert AuditEvent.objects.count() == before
    assert not OutboundSms.objects.filter(template="claim_approved").exists()


def test_a_large_claim_needs_a_second_reviewer(member, enrolment):
    claim = file_claim(enrolment=enrolment, invoices=[invoice(f"INV{member.pk:06d}09", "30000.00")])
    first = reviewer()
    reviewed(claim, by=first)

    response = post(api(first), step_url(claim), {"transition": "approve", "expected_amount": "14600.00"})
    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["first_approver"]) == ("second_approval", first.pk)
    assert not OutboundSms.objects.filter(template="claim_approved").exists()

    again = post(api(first), step_url(claim), {"transition": "approve_second", "expected_amount": "14600.00"})
    body = assert_error(again, 403, "forbidden")
    assert body["message"] == "The second approval must be given by another reviewer."
    assert fresh(claim).state == ClaimState.SECOND_APPROVAL

    second = reviewer()
    assert api(second).get(detail(claim)).json()["payable"] == "14600.00"  # waiting for a second reviewer
    done = post(api(second), step_url(claim), {"transition": "approve_second", "expected_amount": "14600.00"})
    assert done.status_code == 200, done.content
    body = done.json()
    assert (body["state"], body["approved_amount"]) == ("approved", "14600.00")
    assert (body["first_approver"], body["second_approver"]) == (first.pk, second.pk)
    claim = fresh(claim)
    assert (claim.state, claim.second_approver) == (ClaimState.APPROVED, second)
    assert OutboundSms.objects.filter(template="claim_approved", worker=member).count() == 1


def test_refused_steps_answer_with_their_status_and_change_nothing(member, claim, handled):
    _, by = handled
    before = AuditEvent.objects.count()

    assert_error(post(api(member.user), step_url(claim), {"transition": "approve"}), 403, "forbidden")
    assert_error(post(api(by), step_url(claim), {"transition": "start_review"}), 409, "invalid_state")
    assert_error(post(api(by), step_url(claim), {"transition": "request_info"}), 400, "invalid")  # no message
    unknown = assert_error(post(api(by), step_url(claim), {"transition": "pay_out"}), 400, "invalid")
    assert set(unknown["detail"]) == {"transition"}
    bad = assert_error(post(api(by), step_url(claim), {"transition": "approve", "expected_amount": "lots"}),
                       400, "invalid")
    assert set(bad["detail"]) == {"expected_amount"}
    assert_error(post(api(WorkerFactory().user), step_url(claim), {"transition": "withdraw"}), 404, "not_found")
    assert_error(post(api(officer()), step_url(claim), {"transition": "approve"}), 404, "not_found")

    assert fresh(claim).state == ClaimState.UNDER_REVIEW
    assert AuditEvent.objects.count() == before


def test_the_member_answers_a_request_for_information(member, claim, handled):
    _, by = handled
    asked = post(api(by), step_url(claim), {"transition": "request_info", "message": "请补充出院小结"})
    assert asked.json()["info_request"] == "请补充出院小结"

    answered = post(api(member.user), step_url(claim), {"transition": "answer", "message": "已上传"})

    assert answered.status_code == 200, answered.content
    assert answered.json()["state"] == "under_review"
    assert "info_response" not in answered.json()  # the member's view
    assert api(by).get(detail(claim)).json()["info_response"] == "已上传"


# --- invoices ----------------------------------------------------------------------------------


def invoices_url(claim) -> str:
    return f"/api/v1/claims/{claim.pk}/invoices/"


def test_the_member_adds_an_invoice_while_the_claim_waits_for_them(member, claim):
    data = {"number": "ZX-778899", "issued_on": days_ago(5), "amount": "1200.00", "self_paid": "1000"}

    response = post(api(member.user), invoices_url(claim), data)

    assert response.status_code == 201, response.content
    added = Invoice.objects.get(number="ZX778899")
    assert response.json() == {"id": added.pk, "number": "ZX778899", "issued_on": days_ago(5),
                               "amount": "1200.00", "self_paid": "1000.00"}
    assert fresh(claim).payable == Decimal("5100.00")  # (11,000 − 800) × 0.50


def test_invoices_are_added_by_the_handler_once_under_review(member, claim, handled):
    _, by = handled
    data = {"number": "ZX778899", "issued_on": days_ago(5), "amount": "100", "self_paid": "100"}

    assert_error(post(api(member.user), invoices_url(claim), data), 403, "forbidden")
    assert_error(post(api(WorkerFactory().user), invoices_url(claim), data), 404, "not_found")
    bad = assert_error(post(api(by), invoices_url(claim), {**data, "issued_on": "5 days ago"}), 400, "invalid")
    assert set(bad["detail"]) == {"issued_on"}
    assert claim.invoices.count() == 1

    assert post(api(by), invoices_url(claim), data).status_code == 201
    assert claim.invoices.count() == 2


# --- receipts ----------------------------------------------------------------------------------


def receipts_url(claim) -> str:
    return f"/api/v1/claims/{claim.pk}/receipts/"


def upload(data=RECEIPT_PDF, name="发票.pdf"):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_the_member_uploads_a_pdf_receipt_for_an_invoice(member, claim):
    bill = claim.invoices.get()

    response = api(member.user).post(receipts_url(claim), {"file": upload(), "invoice": bill.pk})

    assert response.status_code == 201, response.content
    receipt = Receipt.objects.get()
    assert response.json() == {
        "id": receipt.pk, "invoice": bill.pk, "filename": "发票.pdf", "size": len(RECEIPT_PDF),
        "content_type": "application/pdf", "uploaded_at": response.json()["uploaded_at"],
        "download_url": f"/api/v1/claims/receipts/{receipt.pk}/",
    }
    assert (receipt.claim, receipt.invoice, receipt.uploaded_by) == (claim, bill, member.user)
    listed = api(member.user).get(detail(claim)).json()["receipts"]
    assert [(r["id"], r["filename"], r["size"], r["content_type"]) for r in listed] == [
        (receipt.pk, "发票.pdf", len(RECEIPT_PDF), "application/pdf")]


def test_an_exe_renamed_pdf_is_refused(member, claim):
    response = api(member.user).post(receipts_url(claim), {"file": upload(EXE, "发票.pdf")})

    body = assert_error(response, 400, "invalid")
    assert body["detail"] == {"file": "type"}
    assert not Receipt.objects.exists()
    assert not AuditEvent.objects.filter(event_type="claims.receipt_uploaded").exists()


def test_a_receipt_needs_a_file_and_one_of_the_claims_invoices(member, claim):
    other_invoice = file_claim().invoices.get()
    client = api(member.user)

    missing = assert_error(client.post(receipts_url(claim), {}), 400, "invalid")
    assert set(missing["detail"]) == {"file"}
    foreign = assert_error(client.post(receipts_url(claim), {"file": upload(), "invoice": other_invoice.pk}),
                           400, "invalid")
    assert foreign["detail"] == {"invoice": "invalid"}
    assert_error(api(WorkerFactory().user).post(receipts_url(claim), {"file": upload()}), 404, "not_found")
    assert not Receipt.objects.exists()


def test_receipts_download_with_the_exact_bytes_for_the_claims_readers_only(member, claim, handled):
    _, by = handled
    receipt = services.receipt_upload(claim=claim, actor=by, uploaded_file=upload())
    url = f"/api/v1/claims/receipts/{receipt.pk}/"

    for user in (member.user, by):
        response = api(user).get(url)
        assert response.status_code == 200
        assert response.content == RECEIPT_PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert (response["X-Content-Type-Options"], response["Cache-Control"]) == ("nosniff", "no-store")
    downloads = AuditEvent.objects.filter(event_type="claims.receipt_downloaded")
    assert sorted(downloads.values_list("actor_id", flat=True)) == sorted([member.user.pk, by.pk])

    for user in (WorkerFactory().user, officer(), staff(Role.COUNSELOR, "counseling")):
        assert_error(api(user).get(url), 404, "not_found")
    assert_error(api(by).get(f"/api/v1/claims/receipts/{receipt.pk + 1000}/"), 404, "not_found")
    assert downloads.count() == 2


# --- cover -------------------------------------------------------------------------------------


def test_the_member_sees_their_cover_and_what_is_left_of_the_year(member, enrolment):
    claim = file_claim(enrolment=enrolment, admitted_on=today())  # this year's cap, even on 2 January
    _, by = reviewed(claim)
    services.claim_transition(claim=claim, actor=by, transition="approve", expected_amount="4600.00")

    response = api(member.user).get(COVER)

    assert response.status_code == 200
    assert response.json() == [{
        "enrolment_id": enrolment.pk, "plan": {"code": enrolment.plan.code, "name": "职工住院医疗互助保障"},
        "starts_on": enrolment.starts_on.isoformat(), "ends_on": enrolment.ends_on.isoformat(), "current": True,
        "annual_cap": "50000.00", "used": "4600.00", "left": "45400.00",
    }]


def test_a_member_without_cover_has_an_empty_list(member):
    assert api(member.user).get(COVER).json() == []


@pytest.mark.parametrize("role", [Role.CLAIMS_OFFICER, Role.FRONT_DESK, Role.CENTER_MANAGER])
def test_the_cover_is_for_members(role):
    user = officer() if role == Role.CLAIMS_OFFICER else staff(role)
    assert_error(api(user).get(COVER), 403, "forbidden")


# --- anonymous, and the schema -----------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [
    ("get", LIST), ("post", LIST), ("get", "{claim}"), ("post", "{claim}step/"), ("post", "{claim}invoices/"),
    ("post", "{claim}receipts/"), ("get", COVER), ("get", "/api/v1/claims/receipts/{receipt}/"),
])
def test_anonymous_is_refused_everywhere(claim, method, path):
    receipt = services.receipt_upload(claim=claim, actor=claim.case.worker.user, uploaded_file=upload())
    url = path.format(claim=detail(claim), receipt=receipt.pk)
    before = AuditEvent.objects.count()

    response = getattr(api(), method)(url, {}, content_type="application/json") if method == "post" \
        else api().get(url)

    body = assert_error(response, 403, "not_authenticated")
    assert body["detail"] == {}
    assert fresh(claim).state == ClaimState.SUBMITTED and Claim.objects.count() == 1
    assert AuditEvent.objects.count() == before


def test_the_openapi_schema_describes_the_claims_endpoints():
    schema = api().get("/api/schema/", {"format": "json"}).json()

    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/claims/"])
    assert "get" in paths["/api/v1/claims/{id}/"]
    for action in ("step", "invoices", "receipts"):
        assert "post" in paths[f"/api/v1/claims/{{id}}/{action}/"]
    assert "get" in paths["/api/v1/claims/cover/"]
    assert "get" in paths["/api/v1/claims/receipts/{receipt_id}/"]
