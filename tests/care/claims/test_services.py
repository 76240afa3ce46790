"""The claim lifecycle through its services: filing, invoices paid once, review, four eyes,
rejection and one appeal, payment batches; each refusal changes nothing and sends nothing."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.utils import timezone, translation

from care import audit
from care.claims import permissions, services
from care.claims.models import Claim, ClaimState, Invoice, PaymentBatch, Receipt
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import AuditEvent, Case, OutboundSms, Stage
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
D = Decimal


@pytest.fixture(autouse=True)
def _english():
    """Refusals are matched by their English text (SMS still follow each member's language)."""
    with translation.override("en"):
        yield


def fresh(claim) -> Claim:
    return Claim.objects.select_related("case").get(pk=claim.pk)


def snapshot(claim):
    claim = fresh(claim)
    return (claim.state, claim.approved_amount, claim.first_approver_id, claim.second_approver_id, claim.appealed,
            claim.case.stage, claim.case.assignee_id, Invoice.objects.count(), Receipt.objects.count(),
            OutboundSms.objects.count(), AuditEvent.objects.count())


def test_filing_opens_a_hall_case_computes_and_encrypts():
    claim = file_claim(diagnosis="急性阑尾炎", receipt=True)
    claim = fresh(claim)
    assert claim.state == ClaimState.SUBMITTED and claim.case.department == "claims"
    assert claim.case.stage == Stage.RECEIVED and claim.case.reference.startswith("QD-")
    assert claim.payable == D("4600.00")  # (10000 - 800) * 0.5
    assert claim.computation["payable"] == "4600.00" and claim.plan_version is not None
    assert Receipt.objects.get(claim=claim).content_type == "application/pdf"
    # the hall told the member their request was received, with nothing about medicine in it
    [sms] = OutboundSms.objects.filter(worker=claim.case.worker)
    assert sms.template == "request_received"
    with connection.cursor() as cursor:
        cursor.execute("SELECT diagnosis, bank_account, computation FROM care_claim WHERE id = %s", [claim.pk])
        raw = " ".join(str(v) for v in cursor.fetchone())
        cursor.execute("SELECT content FROM care_receipt WHERE claim_id = %s", [claim.pk])
        raw += str(cursor.fetchone()[0])
    for secret in ("急性阑尾炎", BANK["number"], "4600.00", "JVBERi0"):  # JVBERi0 = base64 of "%PDF-"
        assert secret not in raw


@pytest.mark.parametrize(("change", "message"), [
    ({"admitted_on": timezone.localdate() + datetime.timedelta(days=1)}, "future"),
    ({"hospital": "  "}, "hospital"),
    ({"category": "cosmetic"}, "kind of treatment"),
    ({"bank_account": {"bank": "工行", "holder": "张三", "number": "12ab"}}, "account number"),
    ({"bank_account": {"bank": "工行", "holder": "=HYPERLINK(\"x\")", "number": "6222020000001234567"}}, "as letters"),
    ({"invoices": [invoice("BAD", "100.00")]}, "invoice number"),
    ({"invoices": [invoice("GOOD000001", "100.00", amount="50.00")]}, "self-paid"),
])
def test_bad_input_is_refused_and_nothing_is_filed(change, message):
    worker = WorkerFactory()
    enrolment = enrol(worker, make_plan())
    today = timezone.localdate()
    args = {"actor": worker.user, "worker": worker, "enrolment": enrolment, "hospital": "青岛市立医院",
            "admitted_on": today - datetime.timedelta(days=10), "discharged_on": today - datetime.timedelta(days=3),
            "category": "inpatient", "bank_account": BANK, "invoices": [invoice("OK00000001", "900.00")]}
    args.update(change)
    if change.get("admitted_on"):
        args["discharged_on"] = change["admitted_on"]
    with pytest.raises(InvalidInput, match=message):
        services.claim_file(**args)
    assert not Claim.objects.exists() and not Case.objects.exists() and not OutboundSms.objects.exists()


def test_a_member_files_only_under_their_own_cover():
    worker, other = WorkerFactory(), WorkerFactory()
    plan = make_plan()
    with pytest.raises(InvalidInput):
        file_claim(worker=worker, enrolment=enrol(other, plan))


def test_an_invoice_is_paid_once_across_all_claims_and_the_message_names_the_claim_for_its_member():
    first = file_claim(invoices=[invoice("A123456789", "900.00")])
    member = first.case.worker
    second_enrolment = enrol(WorkerFactory(), make_plan())
    with pytest.raises(InvalidInput) as refused:
        file_claim(enrolment=second_enrolment, invoices=[invoice("a1234-56789", "900.00")])
    assert first.case.reference not in str(refused.value.message)  # another member: no reference
    assert not Claim.objects.filter(enrolment=second_enrolment).exists()
    own_second = file_claim(enrolment=first.enrolment, invoices=[])
    with pytest.raises(InvalidInput) as refused:
        services.invoice_add(claim=own_second, actor=member.user, **invoice("A123456789", "900.00"))
    assert first.case.reference in str(refused.value.message)
    assert refused.value.detail["claim"] == first.case.reference
    # staff see the reference too
    handler = officer()
    own_second, handler = reviewed(own_second, handler)
    with pytest.raises(InvalidInput, match=first.case.reference):
        services.invoice_add(claim=own_second, actor=handler, **invoice("A123456789", "900.00"))


def test_a_withdrawn_claim_releases_its_invoices():
    first = file_claim(invoices=[invoice("W000000001", "900.00")])
    services.claim_transition(claim=first, actor=first.case.worker.user, transition="withdraw")
    assert fresh(first).case.stage == Stage.WITHDRAWN
    again = file_claim(enrolment=first.enrolment, invoices=[invoice("W000000001", "900.00")])
    assert again.invoices.count() == 1


def test_a_rejected_claim_keeps_its_invoices():
    first = file_claim(invoices=[invoice("R000000001", "900.00")])
    first, handler = reviewed(first)
    services.claim_transition(claim=first, actor=handler, transition="reject", message="不属于保障范围")
    with pytest.raises(InvalidInput):
        file_claim(enrolment=first.enrolment, invoices=[invoice("R000000001", "900.00")])


def test_review_request_info_answer_and_approve_below_the_threshold():
    claim = file_claim(invoices=[invoice("B000000001", "4800.00")])  # (4800 - 800) * 0.5 = 2000
    member = claim.case.worker.user
    claim, handler = reviewed(claim)
    assert fresh(claim).case.assignee_id == handler.pk and fresh(claim).case.stage == Stage.IN_PROGRESS
    claim = services.claim_transition(claim=claim, actor=handler, transition="request_info",
                                      message="请补充出院小结")
    assert claim.state == ClaimState.INFO_REQUESTED
    assert OutboundSms.objects.filter(template="claim_update", worker=claim.case.worker).count() == 1
    # the member may add a receipt now, and answers
    services.receipt_upload(claim=claim, actor=member, uploaded_file=SimpleUploadedFile("出院小结.pdf", RECEIPT_PDF))
    claim = services.claim_transition(claim=claim, actor=member, transition="answer", message="已上传")
    assert claim.state == ClaimState.UNDER_REVIEW and claim.info_response == "已上传"
    claim = services.claim_transition(claim=claim, actor=handler, transition="approve", expected_amount="2000.00")
    assert claim.state == ClaimState.APPROVED and claim.approved_amount == D("2000.00")
    assert claim.first_approver_id == handler.pk and claim.second_approver_id is None
    approved = OutboundSms.objects.get(template="claim_approved")
    assert "2,000.00" in approved.body
    events = [e.new.get("transition") for e in audit.events_for(claim) if e.event_type == "claims.transition"]
    assert events == ["start_review", "request_info", "answer", "approve"]


@override_settings(CLAIMS_SECOND_APPROVAL_ABOVE="5000.00")
def test_above_the_threshold_a_second_reviewer_who_is_not_the_first_approves():
    claim = file_claim(invoices=[invoice("F000000001", "20800.00")])  # 10000.00 payable
    first = reviewer()
    claim, first = reviewed(claim, first)
    claim = services.claim_transition(claim=claim, actor=first, transition="approve", expected_amount="10000.00")
    assert claim.state == ClaimState.SECOND_APPROVAL
    assert not OutboundSms.objects.filter(template="claim_approved").exists()
    before = snapshot(claim)
    with pytest.raises(NotAllowed, match="another reviewer"):
        services.claim_transition(claim=claim, actor=first, transition="approve_second", expected_amount="10000.00")
    with pytest.raises(NotAllowed):  # an officer is not a reviewer
        services.claim_transition(claim=claim, actor=officer(), transition="approve_second")
    assert snapshot(claim) == before
    second = reviewer()
    assert permissions.can_act(second, claim, "approve_second")
    claim = services.claim_transition(claim=claim, actor=second, transition="approve_second",
                                      expected_amount="10000.00")
    assert claim.state == ClaimState.APPROVED
    assert (claim.first_approver_id, claim.second_approver_id) == (first.pk, second.pk)
    assert OutboundSms.objects.filter(template="claim_approved").count() == 1


@override_settings(CLAIMS_SECOND_APPROVAL_ABOVE="5000.00")
def test_the_second_reviewer_may_send_the_claim_back_or_reject_it():
    claim = file_claim(invoices=[invoice("G000000001", "20800.00")])
    claim, first = reviewed(claim, reviewer())
    claim = services.claim_transition(claim=claim, actor=first, transition="approve")
    second = reviewer()
    claim = services.claim_transition(claim=claim, actor=second, transition="return_to_review")
    assert claim.state == ClaimState.UNDER_REVIEW and claim.first_approver_id is None
    claim = services.claim_transition(claim=claim, actor=first, transition="approve")
    claim = services.claim_transition(claim=claim, actor=second, transition="reject", message="票据不全")
    assert claim.state == ClaimState.REJECTED and fresh(claim).case.stage == Stage.CLOSED


def test_approving_an_amount_other_than_the_one_shown_is_refused():
    claim = file_claim(invoices=[invoice("H000000001", "4800.00")])
    claim, handler = reviewed(claim)
    before = snapshot(claim)
    with pytest.raises(InvalidState, match="2000.00") as refused:
        services.claim_transition(claim=claim, actor=handler, transition="approve", expected_amount="2500.00")
    assert refused.value.detail == {"payable": "2000.00"}
    assert snapshot(claim) == before


def test_nothing_payable_cannot_be_approved():
    claim = file_claim(invoices=[invoice("Z000000001", "500.00")])  # below the deductible
    claim, handler = reviewed(claim)
    with pytest.raises(InvalidState, match="Nothing is payable"):
        services.claim_transition(claim=claim, actor=handler, transition="approve")


@pytest.mark.parametrize(("transition", "message"), [("request_info", ""), ("reject", "  ")])
def test_steps_that_need_a_message_refuse_without_one(transition, message):
    claim, handler = reviewed(file_claim())
    before = snapshot(claim)
    with pytest.raises(InvalidInput):
        services.claim_transition(claim=claim, actor=handler, transition=transition, message=message)
    assert snapshot(claim) == before


def test_a_rejection_is_appealed_once_and_reopens_the_hall_case():
    claim, handler = reviewed(file_claim())
    member = claim.case.worker.user
    claim = services.claim_transition(claim=claim, actor=handler, transition="reject", message="住院日期不符")
    assert fresh(claim).case.stage == Stage.CLOSED
    assert OutboundSms.objects.filter(template="claim_update").count() == 1
    claim = services.claim_transition(claim=claim, actor=member, transition="appeal", message="日期已更正")
    assert claim.state == ClaimState.UNDER_REVIEW and claim.appealed
    assert fresh(claim).case.stage == Stage.IN_PROGRESS and fresh(claim).case.closed_at is None
    claim = services.claim_transition(claim=claim, actor=handler, transition="reject", message="仍不符")
    before = snapshot(claim)
    with pytest.raises(InvalidState, match="only once"):
        services.claim_transition(claim=claim, actor=member, transition="appeal", message="再次申诉")
    assert snapshot(claim) == before


def test_an_appeal_after_the_appeal_period_is_refused():
    claim, handler = reviewed(file_claim())
    claim = services.claim_transition(claim=claim, actor=handler, transition="reject", message="不符")
    Claim.objects.filter(pk=claim.pk).update(decided_at=timezone.now() - datetime.timedelta(days=61))
    with pytest.raises(InvalidState, match="60 days"):
        services.claim_transition(claim=claim, actor=claim.case.worker.user, transition="appeal", message="申诉")


@pytest.mark.parametrize("transition", ["start_review", "request_info", "approve", "approve_second", "reject",
                                        "return_to_review"])
def test_the_member_takes_no_reviewer_step(transition):
    claim = file_claim()
    before = snapshot(claim)
    with pytest.raises(NotAllowed):
        services.claim_transition(claim=claim, actor=claim.case.worker.user, transition=transition, message="x")
    assert snapshot(claim) == before


@pytest.mark.parametrize("role", [Role.COUNSELOR, Role.LEGAL_OFFICER, Role.CENTER_MANAGER, Role.FRONT_DESK])
def test_no_one_outside_the_claims_office_reviews(role):
    claim = file_claim()
    outsider = staff(role, {"counselor": "counseling", "legal_officer": "legal"}.get(role, ""))
    before = snapshot(claim)
    with pytest.raises(NotAllowed):
        services.claim_transition(claim=claim, actor=outsider, transition="start_review")
    assert snapshot(claim) == before


def test_another_officer_cannot_act_on_a_claim_taken_up_by_someone_else():
    claim, handler = reviewed(file_claim())
    other = officer()
    with pytest.raises(NotAllowed):
        services.claim_transition(claim=claim, actor=other, transition="approve")
    with pytest.raises(NotAllowed):
        services.invoice_add(claim=claim, actor=other, **invoice("X000000001", "100.00"))


def test_the_member_edits_invoices_only_while_the_claim_waits_for_them():
    claim = file_claim(invoices=[])
    member = claim.case.worker.user
    services.invoice_add(claim=claim, actor=member, **invoice("E000000001", "2800.00"))
    assert fresh(claim).payable == D("1000.00")
    claim, handler = reviewed(claim)
    with pytest.raises(NotAllowed):
        services.invoice_add(claim=claim, actor=member, **invoice("E000000002", "100.00"))
    # the handler corrects an invoice while reviewing; the computation follows
    services.invoice_remove(invoice=claim.invoices.get(), actor=handler)
    assert fresh(claim).payable == D("0.00")


def test_a_receipt_must_be_a_pdf_or_a_picture():
    claim = file_claim(invoices=[])
    member = claim.case.worker.user
    for name, data in [("setup.pdf", b"MZ\x90\x00 not a pdf"), ("a.docx", b"PK\x03\x04 rubbish")]:
        with pytest.raises(InvalidInput):
            services.receipt_upload(claim=claim, actor=member, uploaded_file=SimpleUploadedFile(name, data))
    assert not Receipt.objects.exists()
    receipt = services.receipt_upload(claim=claim, actor=member, uploaded_file=SimpleUploadedFile("x.png", PNG))
    assert services.receipt_download(receipt=receipt, actor=member) == PNG
    assert AuditEvent.objects.filter(event_type="claims.receipt_downloaded").count() == 1
    with pytest.raises(NotAllowed):
        services.receipt_download(receipt=receipt, actor=WorkerFactory().user)


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20


def test_a_payment_batch_pays_its_claims_and_tells_each_member():
    handler = officer()
    claims = []
    for n in range(3):
        claim, _ = reviewed(file_claim(invoices=[invoice(f"P00000000{n}", "2800.00")]), handler)
        claims.append(services.claim_transition(claim=claim, actor=handler, transition="approve"))
    waiting, _ = reviewed(file_claim(invoices=[invoice("P000000009", "2800.00")]), handler)
    batch = services.batch_create(actor=handler)
    assert batch.count == 3 and batch.total == D("3000.00") and batch.reference.startswith("PB-")
    with pytest.raises(InvalidState):  # nothing left to gather
        services.batch_create(actor=handler)
    with pytest.raises(NotAllowed):
        services.batch_mark_paid(batch=batch, actor=staff(Role.COUNSELOR, "counseling"))
    batch = services.batch_mark_paid(batch=batch, actor=reviewer())
    for claim in claims:
        claim = fresh(claim)
        assert claim.state == ClaimState.PAID and claim.paid_at and claim.case.stage == Stage.CLOSED
    assert fresh(waiting).state == ClaimState.UNDER_REVIEW
    paid = OutboundSms.objects.filter(template="claim_paid")
    assert paid.count() == 3 and all("4567" in m.body and "1,000.00" in m.body for m in paid)
    with pytest.raises(InvalidState):
        services.batch_mark_paid(batch=batch, actor=handler)
    assert PaymentBatch.objects.get(pk=batch.pk).state == "paid"
    assert list(audit.verify()) == []


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_claim_sms_name_no_medicine_in_either_language(language):
    claim = file_claim()
    from care.models import User

    User.objects.filter(pk=claim.case.worker.user_id).update(language=language)
    claim, handler = reviewed(fresh(claim))
    claim = services.claim_transition(claim=claim, actor=handler, transition="request_info", message="补充")
    claim = services.claim_transition(claim=claim, actor=claim.case.worker.user, transition="answer", message="好")
    services.claim_transition(claim=claim, actor=handler, transition="approve")
    batch = services.batch_create(actor=handler)
    services.batch_mark_paid(batch=batch, actor=handler)
    bodies = list(OutboundSms.objects.values_list("body", flat=True))
    assert len(bodies) >= 4
    for body in bodies:
        for word in ("医院", "住院", "hospital", "diagnos", "诊断", "青岛市立医院", "insurance"):
            assert word not in body.lower()


def test_one_invoice_entered_twice_in_one_filing_is_refused_by_its_number():
    with pytest.raises(InvalidInput, match="entered twice"):
        file_claim(invoices=[invoice("T000000001", "100.00"), invoice("t0000-00001", "200.00")])
    assert not Claim.objects.exists()


def test_a_word_file_and_an_unknown_file_get_the_same_receipt_message():
    claim = file_claim(invoices=[])
    member = claim.case.worker.user
    for name, data in [("a.exe", b"MZ\x90\x00"), ("a.docx", b"PK\x03\x04")]:
        with pytest.raises(InvalidInput, match="PDF or a picture"):
            services.receipt_upload(claim=claim, actor=member, uploaded_file=SimpleUploadedFile(name, data))


@override_settings(CLAIMS_SECOND_APPROVAL_ABOVE="5000.00")
def test_the_second_reviewer_still_reads_the_claim_they_decided_on_and_others_do_not():
    from care.claims import selectors

    claim, first = reviewed(file_claim(invoices=[invoice("V000000001", "20800.00")]), reviewer())
    claim = services.claim_transition(claim=claim, actor=first, transition="approve")
    second, bystander = reviewer(), reviewer()
    assert selectors.claims_for_user(user=bystander).filter(pk=claim.pk).exists()  # waiting: any reviewer
    services.claim_transition(claim=claim, actor=second, transition="approve_second")
    assert selectors.claims_for_user(user=second).filter(pk=claim.pk).exists()
    assert not selectors.claims_for_user(user=bystander).filter(pk=claim.pk).exists()
    assert not selectors.claims_for_user(user=officer()).filter(pk=claim.pk).exists()


def test_the_hall_case_of_a_claim_is_not_withdrawn_or_closed_around_the_claim():
    claim, handler = reviewed(file_claim())
    case = claim.case
    from care import services as hall

    with pytest.raises(InvalidState):
        hall.case_withdraw(case=case, actor=case.worker.user)
    with pytest.raises(InvalidState):
        hall.case_close(case=case, actor=handler)
    assert fresh(claim).case.stage == Stage.IN_PROGRESS and fresh(claim).state == ClaimState.UNDER_REVIEW
