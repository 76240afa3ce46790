"""The claims pages, driven through the test client as the member, the front desk, the claims
office and the center manager: who may open what, filing with invoices and receipts, bad input
kept on the form, the computation on the staff page, the steps, payment batches and figures."""

import datetime
import re
from decimal import Decimal
from html import unescape

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from care.claims import services
from care.claims.models import Claim, ClaimState, Invoice, PaymentBatch, Receipt
from care.claims.services import ClaimEvent
from care.models import AuditEvent, Case, Channel
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
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def browser(user=None, language="en") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user)
    return client


def text(response) -> str:
    return unescape(response.content.decode())


def fresh(claim) -> Claim:
    return Claim.objects.select_related("case").get(pk=claim.pk)


def expected_amount(page: str, transition: str) -> str:
    form = re.search(rf'action="/claims/\d+/step/{transition}/".*?</form>', page, re.S)
    assert form, f"no {transition} form on the page"
    return re.search(r'name="expected_amount" value="([^"]+)"', form.group(0)).group(1)


def this_year_stay() -> datetime.date:
    """An admission date in this calendar year (the cover page shows this year's cap)."""
    today = timezone.localdate()
    return max(today.replace(month=1, day=1), today - datetime.timedelta(days=10))


@pytest.fixture
def member():
    return WorkerFactory(name="王秀英", mobile="+8613900000077")


@pytest.fixture
def plan():
    return make_plan()


@pytest.fixture
def enrolment(member, plan):
    return enrol(member, plan)


def filing_data(enrolment, **changes) -> dict:
    today = timezone.localdate()
    data = {
        "enrolment": enrolment.pk, "hospital": "青岛大学附属医院", "category": "inpatient",
        "admitted_on": (today - datetime.timedelta(days=12)).isoformat(),
        "discharged_on": (today - datetime.timedelta(days=4)).isoformat(),
        "diagnosis": "腰椎间盘突出-DIAG-5531", "bank": BANK["bank"], "holder": BANK["holder"],
        "account_number": BANK["number"], "note": "",
        "invoice-TOTAL_FORMS": "3", "invoice-INITIAL_FORMS": "0", "invoice-MIN_NUM_FORMS": "0",
        "invoice-MAX_NUM_FORMS": "3",
        "invoice-0-number": "37020251000123", "invoice-0-issued_on": (today - datetime.timedelta(days=4)).isoformat(),
        "invoice-0-amount": "12,000.00", "invoice-0-self_paid": "7000.00",
        "invoice-1-number": "37020251000456", "invoice-1-issued_on": (today - datetime.timedelta(days=4)).isoformat(),
        "invoice-1-amount": "3000", "invoice-1-self_paid": "3000",
        # row 3 left blank
        "invoice-2-number": "", "invoice-2-issued_on": "", "invoice-2-amount": "", "invoice-2-self_paid": "",
    }
    data.update(changes)
    return data


# --- who may open what ---------------------------------------------------------------------------


def test_each_page_opens_for_its_role_only(member, enrolment):
    claim = file_claim(enrolment=enrolment)
    counselor = staff(Role.COUNSELOR, "counseling")
    manager = staff(Role.CENTER_MANAGER)
    front_desk = staff(Role.FRONT_DESK)
    stranger = WorkerFactory().user
    claims_officer, claims_reviewer = officer(), reviewer()
    expected = [
        # (page, {user: status}), anything else: the default in the last column
        ("/claims/cover/", {member.user: 200, stranger: 200, claims_officer: 403, manager: 403, None: 302}),
        ("/claims/new/", {member.user: 200, stranger: 200, front_desk: 403, claims_officer: 403, None: 302}),
        (f"/claims/new/for/{member.pk}/", {front_desk: 200, member.user: 403, claims_officer: 403, None: 302}),
        (f"/claims/{claim.pk}/", {member.user: 200, claims_officer: 200, stranger: 404, counselor: 404,
                                  manager: 404, front_desk: 404, claims_reviewer: 200, None: 302}),
        (f"/claims/file/{claim.case.pk}/", {member.user: 302, claims_officer: 302, stranger: 404, counselor: 404,
                                            manager: 404, None: 302}),
        ("/claims/", {claims_officer: 200, claims_reviewer: 200, member.user: 403, counselor: 403, manager: 403,
                      front_desk: 403, None: 302}),
        ("/claims/batches/", {claims_officer: 200, claims_reviewer: 200, member.user: 403, manager: 403,
                              None: 302}),
        ("/claims/figures/", {manager: 200, claims_officer: 403, member.user: 403, counselor: 403, None: 302}),
    ]
    for url, statuses in expected:
        for user, status in statuses.items():
            response = browser(user).get(url)
            assert response.status_code == status, (url, user, response.status_code)
    # nothing was filed or changed by anyone opening pages
    assert Claim.objects.count() == 1 and fresh(claim).state == ClaimState.SUBMITTED


def test_the_menu_links_each_role_to_its_claims_pages(member):
    assert 'href="/claims/cover/"' in text(browser(member.user).get("/requests/"))
    officer_menu = text(browser(officer()).get("/claims/"))
    assert 'href="/claims/"' in officer_menu and 'href="/claims/batches/"' in officer_menu
    assert 'href="/claims/cover/"' not in officer_menu
    manager_menu = text(browser(staff(Role.CENTER_MANAGER)).get("/claims/figures/"))
    assert 'href="/claims/figures/"' in manager_menu and 'href="/claims/batches/"' not in manager_menu


def test_the_pages_render_in_chinese_too(member, enrolment):
    claim = file_claim(enrolment=enrolment)
    for user, url in [(member.user, "/claims/cover/"), (member.user, f"/claims/{claim.pk}/"),
                      (officer(), f"/claims/{claim.pk}/"), (member.user, "/claims/new/")]:
        response = browser(user, language="zh-hans").get(url)
        assert response.status_code == 200 and '<html lang="zh-hans">' in text(response)


# --- the member's cover --------------------------------------------------------------------------


def test_the_cover_page_shows_the_plans_this_years_cap_and_the_members_claims(member, enrolment):
    paid_this_year = file_claim(enrolment=enrolment, admitted_on=this_year_stay())
    paid_this_year, by = reviewed(paid_this_year)
    services.claim_transition(claim=paid_this_year, actor=by, transition="approve", expected_amount="4600.00")
    other = file_claim(enrolment=enrolment, invoices=[invoice("OTHERINV0001", "1000.00")])
    someone_else = file_claim()

    page = text(browser(member.user).get("/claims/cover/"))

    assert "职工住院医疗互助保障" in page and "Covered now" in page
    assert f"Cover from {enrolment.starts_on:%Y-%m-%d} to {enrolment.ends_on:%Y-%m-%d}" in page
    assert "used 4,600.00, left 45,400.00" in page  # annual cap 50,000 less the approved claim
    assert paid_this_year.case.reference in page and other.case.reference in page
    assert "Approved" in page and "Submitted" in page
    assert someone_else.case.reference not in page
    assert 'href="/claims/new/"' in page


# --- filing --------------------------------------------------------------------------------------


def test_a_member_files_a_claim_with_invoices_and_an_encrypted_receipt(member, enrolment):
    client = browser(member.user)
    form = text(client.get("/claims/new/"))
    assert f'<option value="{enrolment.pk}" selected>' in form
    assert 'value="张三"' not in form and f'value="{member.name}"' in form  # the holder is the member by default

    data = filing_data(enrolment)
    data["invoice-0-receipt"] = SimpleUploadedFile("发票扫描.pdf", RECEIPT_PDF, content_type="application/pdf")
    response = client.post("/claims/new/", data)

    claim = Claim.objects.select_related("case").get()
    assert response.status_code == 302 and response["Location"] == f"/claims/{claim.pk}/"
    assert claim.case.worker == member and claim.case.channel == Channel.ONLINE and claim.enrolment == enrolment
    assert claim.bank_account == BANK and claim.diagnosis == "腰椎间盘突出-DIAG-5531"
    assert sorted(Invoice.objects.filter(claim=claim).values_list("number", "amount", "self_paid")) == [
        ("37020251000123", D("12000.00"), D("7000.00")), ("37020251000456", D("3000.00"), D("3000.00"))]
    receipt = Receipt.objects.get(claim=claim)
    assert receipt.invoice.number == "37020251000123" and receipt.content_type == "application/pdf"
    assert claim.payable == D("4600.00")  # (7000 + 3000 - 800) * 0.5
    with connection.cursor() as cursor:
        cursor.execute("SELECT content FROM care_receipt WHERE id = %s", [receipt.pk])
        stored = str(cursor.fetchone()[0])
    assert "JVBERi0" not in stored and "%PDF" not in stored  # base64 of "%PDF-", sealed

    page = text(client.get(response["Location"]))
    assert f"Your claim {claim.case.reference} has been received." in page
    assert "37020251000123" in page and f'href="/claims/receipts/{receipt.pk}/"' in page


@pytest.mark.parametrize(("changes", "message"), [
    ({"discharged_on": (timezone.localdate() - datetime.timedelta(days=20)).isoformat()},
     "Discharge cannot be before admission."),
    ({"invoice-1-number": "37020251000123"}, "Invoice 37020251000123 is entered twice."),
    ({"invoice-1-self_paid": "3500"}, "The self-paid part cannot be more than the invoice amount."),
    ({"account_number": "6222-12"}, "Enter the bank account number (12–30 digits)."),
    ({"invoice-2-number": "37020251000789"}, "This field is required."),  # a half-filled row
])
def test_bad_input_shows_the_message_and_keeps_what_was_entered(member, enrolment, changes, message):
    data = filing_data(enrolment, **changes)
    response = browser(member.user).post("/claims/new/", data)

    assert response.status_code == 200
    page = text(response)
    assert message in page
    for kept in ("青岛大学附属医院", "腰椎间盘突出-DIAG-5531", data["account_number"], data["invoice-1-number"],
                 data["invoice-0-issued_on"], "12,000.00", data["admitted_on"], data["discharged_on"]):
        assert f'value="{kept}"' in page or f">{kept}</textarea>" in page, kept
    assert 'value="inpatient" selected' in page
    assert not Claim.objects.exists() and not Case.objects.exists() and not Invoice.objects.exists()


def test_an_invoice_claimed_elsewhere_is_refused_on_the_form(member, enrolment):
    file_claim(invoices=[invoice("37020251000123", "500.00")])  # another member, same invoice number
    data = filing_data(enrolment)
    data["invoice-1-receipt"] = SimpleUploadedFile("b.pdf", RECEIPT_PDF)
    response = browser(member.user).post("/claims/new/", data)

    page = text(response)
    assert response.status_code == 200
    assert "Invoice 37020251000123 has already been claimed." in page
    assert "QD-" not in page  # the other member's reference is not told
    assert "Choose the receipt files again" in page
    assert 'value="37020251000123"' in page and Claim.objects.count() == 1


def test_the_front_desk_files_for_a_walk_in_member_and_then_sees_no_content(member, enrolment):
    desk = staff(Role.FRONT_DESK)
    client = browser(desk)
    found = text(client.get(f"/front-desk/?q={member.mobile}"))
    assert f'href="/claims/new/for/{member.pk}/"' in found

    response = client.post(f"/claims/new/for/{member.pk}/", filing_data(enrolment))

    claim = Claim.objects.select_related("case").get()
    assert response.status_code == 302 and response["Location"].startswith("/front-desk/?q=")
    assert claim.case.channel == Channel.FRONT_DESK and claim.case.filed_by == desk
    assert f"Claim {claim.case.reference} is filed for {member.name}." in text(client.get(response["Location"]))
    assert client.get(f"/claims/{claim.pk}/").status_code == 404


def test_the_front_desk_form_offers_only_the_members_own_plans(member, enrolment):
    other = enrol(WorkerFactory(), make_plan())
    desk = browser(staff(Role.FRONT_DESK))
    page = text(desk.get(f"/claims/new/for/{member.pk}/"))
    assert f'value="{enrolment.pk}"' in page and f'value="{other.pk}"' not in page
    response = desk.post(f"/claims/new/for/{member.pk}/", filing_data(other))
    assert response.status_code == 200 and "Select a valid choice" in text(response)
    assert not Claim.objects.exists()
    uncovered = WorkerFactory()
    assert "is not covered by a mutual-aid plan" in text(desk.get(f"/claims/new/for/{uncovered.pk}/"))


# --- the claim page ------------------------------------------------------------------------------


def test_the_staff_page_shows_the_computation_the_private_parts_and_the_history(member, enrolment):
    claim = file_claim(enrolment=enrolment, diagnosis="胆囊炎-DIAG-7702")
    claims_officer = officer()

    page = text(browser(claims_officer).get(f"/claims/{claim.pk}/"))

    assert "Self-paid parts of the invoices, added up (invoices: 1)" in page
    assert re.search(r"Less the deductible of 800.00 yuan</td><td>9,200.00", page)
    assert re.search(r"Paid at 50% for Inpatient treatment</td><td>4,600.00", page)
    assert "At most the cap per claim of 20,000.00 yuan" in page
    assert "At most what is left of the annual cap of 50,000.00 yuan (0.00 yuan used, 50,000.00 yuan left)" in page
    assert re.search(r"Payable amount</th><th>4,600.00", page)
    assert "胆囊炎-DIAG-7702" in page
    assert "**** **** 4567" in page and BANK["number"] not in page and BANK["bank"] in page
    assert "Claim filed" in page  # the history
    assert f'action="/claims/{claim.pk}/step/start_review/"' in page
    # the officer's reading is recorded; the member's own is not
    views = AuditEvent.objects.filter(event_type=ClaimEvent.VIEWED, subject_id=str(claim.pk))
    assert list(views.values_list("actor", flat=True)) == [claims_officer.pk]
    browser(member.user).get(f"/claims/{claim.pk}/")
    assert views.count() == 1


def test_the_member_never_sees_the_staff_steps_nor_the_private_working(member, enrolment):
    claim = file_claim(enrolment=enrolment, diagnosis="胆囊炎-DIAG-7702")
    client = browser(member.user)
    page = text(client.get(f"/claims/{claim.pk}/"))
    assert claim.case.reference in page and "Submitted" in page and "青岛市立医院" in page
    for staff_step in ("start_review", "request_info", "approve", "approve_second", "return_to_review", "reject"):
        assert f"/step/{staff_step}/" not in page
    assert f'action="/claims/{claim.pk}/step/withdraw/"' in page
    assert "胆囊炎-DIAG-7702" not in page and "Payable amount" not in page and "History" not in page

    claim, by = reviewed(claim)
    services.claim_transition(claim=claim, actor=by, transition="approve", expected_amount="4600.00")
    page = text(client.get(f"/claims/{claim.pk}/"))
    for staff_step in ("start_review", "approve", "reject"):
        assert f"/step/{staff_step}/" not in page
    assert "Approved: 4,600.00 yuan" in page  # once decided, the amount and how it was computed
    assert re.search(r"Payable amount</th><th>4,600.00", page) and "/step/withdraw/" not in page
    # a step forced through the URL is refused by the service, and changes nothing
    response = client.post(f"/claims/{claim.pk}/step/reject/", {"message": "自己拒绝"}, follow=True)
    assert "You are not allowed to do this." in text(response)
    assert fresh(claim).state == ClaimState.APPROVED


def test_review_request_info_answer_and_approve_through_the_pages(member, enrolment):
    claim = file_claim(enrolment=enrolment)
    claims_officer = officer()
    staff_client, member_client = browser(claims_officer), browser(member.user)

    response = staff_client.post(f"/claims/{claim.pk}/step/start_review/")
    assert response.status_code == 302 and response["Location"] == f"/claims/{claim.pk}/"
    assert fresh(claim).state == ClaimState.UNDER_REVIEW and fresh(claim).case.assignee == claims_officer

    response = staff_client.post(f"/claims/{claim.pk}/step/request_info/", {"message": ""}, follow=True)
    assert "Say what information is missing." in text(response) and fresh(claim).state == ClaimState.UNDER_REVIEW
    staff_client.post(f"/claims/{claim.pk}/step/request_info/", {"message": "请补充出院小结"})
    assert fresh(claim).state == ClaimState.INFO_REQUESTED

    page = text(member_client.get(f"/claims/{claim.pk}/"))
    assert "请补充出院小结" in page and f'action="/claims/{claim.pk}/step/answer/"' in page
    member_client.post(f"/claims/{claim.pk}/step/answer/", {"message": "已上传出院小结"})
    assert fresh(claim).state == ClaimState.UNDER_REVIEW and fresh(claim).info_response == "已上传出院小结"

    page = text(staff_client.get(f"/claims/{claim.pk}/"))
    assert "已上传出院小结" in page
    amount = expected_amount(page, "approve")
    assert amount == "4600.00"
    response = staff_client.post(f"/claims/{claim.pk}/step/approve/", {"expected_amount": amount}, follow=True)
    assert "Done: Approve the claim." in text(response)
    claim = fresh(claim)
    assert claim.state == ClaimState.APPROVED and claim.approved_amount == D("4600.00")


def test_approving_a_stale_amount_through_the_page_is_refused_with_the_message(member):
    enrolment = enrol(member, make_plan(annual_cap="6000.00"))
    first = file_claim(enrolment=enrolment, invoices=[invoice("CAPTEST00001", "10000.00")])
    second = file_claim(enrolment=enrolment, invoices=[invoice("CAPTEST00002", "10000.00")])
    claims_officer = officer()
    first, _ = reviewed(first, by=claims_officer)
    second, _ = reviewed(second, by=claims_officer)
    client = browser(claims_officer)
    shown = expected_amount(text(client.get(f"/claims/{first.pk}/")), "approve")
    assert shown == "4600.00"
    # meanwhile the member's other claim is approved and takes most of the year's cap
    services.claim_transition(claim=second, actor=claims_officer, transition="approve", expected_amount="4600.00")

    response = client.post(f"/claims/{first.pk}/step/approve/", {"expected_amount": shown}, follow=True)

    page = text(response)
    assert "The payable amount is now 1400.00 yuan, not 4600.00 yuan" in page
    assert fresh(first).state == ClaimState.UNDER_REVIEW and fresh(first).approved_amount is None
    assert re.search(r"Payable amount</th><th>1,400.00", page)
    assert expected_amount(page, "approve") == "1400.00"


def test_above_the_threshold_a_second_reviewer_approves_from_the_page(member, enrolment, settings):
    settings.CLAIMS_SECOND_APPROVAL_ABOVE = "1000.00"
    claim = file_claim(enrolment=enrolment)
    claim, first = reviewed(claim, by=reviewer())
    first_client = browser(first)
    page = text(first_client.get(f"/claims/{claim.pk}/"))
    assert "Approve 4,600.00 yuan (a second reviewer confirms)" in page
    first_client.post(f"/claims/{claim.pk}/step/approve/", {"expected_amount": expected_amount(page, "approve")})
    assert fresh(claim).state == ClaimState.SECOND_APPROVAL
    # the first approver is offered no second approval
    assert "/step/approve_second/" not in text(first_client.get(f"/claims/{claim.pk}/"))

    second = browser(reviewer())
    assert f'href="/claims/{claim.pk}/"' in text(second.get("/claims/?state=second_approval"))
    page = text(second.get(f"/claims/{claim.pk}/"))
    assert "Give the second approval: 4,600.00 yuan" in page and "4,600.00 yuan, by" in page
    response = second.post(f"/claims/{claim.pk}/step/approve_second/",
                           {"expected_amount": expected_amount(page, "approve_second")})
    assert fresh(claim).state == ClaimState.APPROVED
    # the second reviewer keeps sight of the claim they decided on
    assert response["Location"] == f"/claims/{claim.pk}/"
    page = text(second.get(response["Location"]))
    assert "Done: Give the second approval." in page and "/step/approve_second/" not in page


def test_a_member_withdraws_and_still_sees_the_claim(member, enrolment):
    claim = file_claim(enrolment=enrolment)
    client = browser(member.user)
    response = client.post(f"/claims/{claim.pk}/step/withdraw/")
    assert response["Location"] == f"/claims/{claim.pk}/"
    assert fresh(claim).state == ClaimState.WITHDRAWN
    assert "Withdrawn" in text(client.get(response["Location"]))


def test_a_member_appeals_a_rejection_once(member, enrolment):
    claim = file_claim(enrolment=enrolment)
    claim, by = reviewed(claim)
    services.claim_transition(claim=claim, actor=by, transition="reject", message="住院前未满等待期-REASON")
    client = browser(member.user)
    page = text(client.get(f"/claims/{claim.pk}/"))
    assert "住院前未满等待期-REASON" in page and f'action="/claims/{claim.pk}/step/appeal/"' in page
    client.post(f"/claims/{claim.pk}/step/appeal/", {"message": "等待期已满，请复核"})
    claim = fresh(claim)
    assert claim.state == ClaimState.UNDER_REVIEW and claim.appealed
    services.claim_transition(claim=claim, actor=by, transition="reject", message="复核维持")
    page = text(client.get(f"/claims/{claim.pk}/"))
    assert "/step/appeal/" not in page and "等待期已满，请复核" in page


# --- invoices and receipts -----------------------------------------------------------------------


def test_the_member_adds_and_removes_invoices_and_receipts_while_the_claim_waits_for_them(member, enrolment):
    claim = file_claim(enrolment=enrolment)
    client = browser(member.user)
    assert f'action="/claims/{claim.pk}/invoices/"' in text(client.get(f"/claims/{claim.pk}/"))

    response = client.post(f"/claims/{claim.pk}/invoices/", {
        "new-number": "37020251009999", "new-issued_on": (timezone.localdate() - datetime.timedelta(days=3)),
        "new-amount": "2000", "new-self_paid": "1000",
        "new-receipt": SimpleUploadedFile("第二张.pdf", RECEIPT_PDF)}, follow=True)
    assert "Invoice 37020251009999 is added." in text(response)
    added = Invoice.objects.get(number="37020251009999")
    assert added.receipts.count() == 1 and fresh(claim).payable == D("5100.00")  # (11000 - 800) * 0.5

    response = client.post(f"/claims/{claim.pk}/receipts/",
                           {"file": SimpleUploadedFile("出院小结.png", PNG)}, follow=True)
    assert "出院小结.png is uploaded." in text(response)
    assert Receipt.objects.filter(claim=claim, invoice__isnull=True).count() == 1
    response = client.post(f"/claims/{claim.pk}/receipts/", {"file": SimpleUploadedFile("x.pdf", b"MZ\x90\x00")},
                           follow=True)
    assert "Upload the receipt as a PDF or a picture (PNG, JPEG, WEBP)." in text(response)

    response = client.post(f"/claims/{claim.pk}/invoices/{added.pk}/remove/", follow=True)
    assert "Invoice 37020251009999 is removed." in text(response)
    assert not Invoice.objects.filter(pk=added.pk).exists() and fresh(claim).payable == D("4600.00")

    # under review, the member may no longer change the invoices: no form, and the service refuses
    reviewed(claim)
    page = text(client.get(f"/claims/{claim.pk}/"))
    assert f'action="/claims/{claim.pk}/invoices/"' not in page and "/remove/" not in page
    response = client.post(f"/claims/{claim.pk}/invoices/", {
        "new-number": "37020251008888", "new-issued_on": timezone.localdate().isoformat(),
        "new-amount": "100", "new-self_paid": "100"}, follow=True)
    assert "You are not allowed to do this." in text(response)
    assert not Invoice.objects.filter(number="37020251008888").exists()


def test_a_stranger_cannot_touch_someone_elses_invoices(member, enrolment):
    claim = file_claim(enrolment=enrolment)
    stranger = browser(WorkerFactory().user)
    inv = claim.invoices.get()
    assert stranger.post(f"/claims/{claim.pk}/invoices/{inv.pk}/remove/").status_code == 404
    assert stranger.post(f"/claims/{claim.pk}/receipts/",
                         {"file": SimpleUploadedFile("a.pdf", RECEIPT_PDF)}).status_code == 404
    assert Invoice.objects.filter(pk=inv.pk).exists() and not Receipt.objects.exists()


def test_a_receipt_downloads_as_an_attachment_for_those_who_may_read_the_claim(member, enrolment):
    claim = file_claim(enrolment=enrolment, receipt=True)
    receipt = Receipt.objects.get(claim=claim)

    response = browser(member.user).get(f"/claims/receipts/{receipt.pk}/")

    assert response.status_code == 200 and response.content == RECEIPT_PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;") and "filename*=utf-8''" in response[
        "Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(event_type=ClaimEvent.RECEIPT_DOWNLOADED, actor=member.user).count() == 1
    for outsider in (WorkerFactory().user, staff(Role.CENTER_MANAGER), staff(Role.FRONT_DESK),
                     staff(Role.COUNSELOR, "counseling")):
        assert browser(outsider).get(f"/claims/receipts/{receipt.pk}/").status_code == 404
    assert browser(officer()).get(f"/claims/receipts/{receipt.pk}/").status_code == 200


def test_the_hall_case_links_to_its_claim(member, enrolment):
    claim = file_claim(enrolment=enrolment)
    case_page = text(browser(member.user).get(f"/cases/{claim.case.pk}/"))
    assert f'href="/claims/file/{claim.case.pk}/"' in case_page
    response = browser(member.user).get(f"/claims/file/{claim.case.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/claims/{claim.pk}/"
    legal_case = Case.objects.create(reference="QD-2026-990001", worker=member, department="legal",
                                     channel=Channel.ONLINE, description="x", filed_by=member.user,
                                     due_at=timezone.now())
    assert browser(member.user).get(f"/claims/file/{legal_case.pk}/").status_code == 404


# --- the claims office ---------------------------------------------------------------------------


def test_the_queue_filters_searches_and_marks_overdue_claims(member, enrolment):
    late = file_claim(enrolment=enrolment)
    Case.objects.filter(pk=late.case_id).update(due_at=timezone.now() - datetime.timedelta(hours=1))
    fresh_claim = file_claim(invoices=[invoice("QUEUE0000002", "3000.00")])
    client = browser(officer())

    page = text(client.get("/claims/"))
    assert late.case.reference in page and fresh_claim.case.reference in page
    late_card = re.search(rf'<article class="case-card overdue">\s*<header><a href="/claims/{late.pk}/">', page)
    assert late_card and "Overdue" in page
    assert not re.search(rf'<article class="case-card overdue">\s*<header><a href="/claims/{fresh_claim.pk}/">',
                         page)
    assert member.name in page and 'href="/claims/batches/"' in page
    assert 'href="/claims/enrolments/import/"' in page  # officers import enrolments
    assert "Waiting for second approval" not in page  # a reviewer's filter

    page = text(client.get("/claims/", {"q": fresh_claim.case.reference}))
    assert fresh_claim.case.reference in page and late.case.reference not in page
    page = text(client.get("/claims/", {"state": "under_review"}))
    assert "No claims match." in page

    reviewer_page = text(browser(reviewer()).get("/claims/"))
    assert "Waiting for second approval (0)" in reviewer_page
    assert 'href="/claims/enrolments/import/"' not in reviewer_page


def test_a_batch_is_made_shown_and_marked_paid_through_the_pages(member, enrolment):
    claims_officer = officer()
    claim = file_claim(enrolment=enrolment)
    claim, _ = reviewed(claim, by=claims_officer)
    services.claim_transition(claim=claim, actor=claims_officer, transition="approve", expected_amount="4600.00")
    other = file_claim(invoices=[invoice("BATCH0000002", "2800.00")])
    other, _ = reviewed(other, by=claims_officer)
    services.claim_transition(claim=other, actor=claims_officer, transition="approve", expected_amount="1000.00")
    client = browser(claims_officer)
    assert "Approved claims waiting for payment: 2" in text(client.get("/claims/batches/"))

    # a reviewer may not gather a batch: no form, and the service refuses a forced POST
    reviewer_client = browser(reviewer())
    assert "Gather them into a new batch" not in text(reviewer_client.get("/claims/batches/"))
    assert "You are not allowed to do this." in text(reviewer_client.post("/claims/batches/", follow=True))
    assert not PaymentBatch.objects.exists()

    response = client.post("/claims/batches/")
    batch = PaymentBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/claims/batches/{batch.pk}/"
    page = text(client.get(response["Location"]))
    assert f"Batch {batch.reference} holds 2 claims, 5,600.00 yuan in all." in page
    assert claim.case.reference in page and member.name in page and "4,600.00" in page
    assert "**** **** 4567" in page and BANK["number"] not in page
    assert f'href="/claims/batches/{batch.pk}/export.xlsx"' in page
    assert f'action="/claims/batches/{batch.pk}/paid/"' in page
    assert batch.reference in text(client.get("/claims/batches/"))

    response = client.post(f"/claims/batches/{batch.pk}/paid/", follow=True)

    assert f"Batch {batch.reference} is paid: 2 claims." in text(response)
    assert {fresh(c).state for c in (claim, other)} == {ClaimState.PAID}
    assert f'action="/claims/batches/{batch.pk}/paid/"' not in text(response)
    again = client.post(f"/claims/batches/{batch.pk}/paid/", follow=True)
    assert "This batch has already been paid." in text(again)
    assert browser(member.user).get(f"/claims/batches/{batch.pk}/").status_code == 403
    assert browser(member.user).post(f"/claims/batches/{batch.pk}/paid/").status_code == 403


# --- the center manager --------------------------------------------------------------------------


def test_the_manager_sees_totals_paid_no_names_and_no_small_groups(member, enrolment):
    claims_officer = officer()
    paid = []
    people = [(member, "10000.00", "inpatient")] + [(WorkerFactory(name=f"赵建国{i}"), "3000.00", "inpatient")
                                                      for i in range(4)]
    people.append((WorkerFactory(name="孙小美"), "10800.00", "serious_illness"))  # alone in its group
    for i, (who, amount, category) in enumerate(people):
        claim = file_claim(worker=who, enrolment=enrolment if who == member else None, category=category,
                           invoices=[invoice(f"FIG00000000{i}", amount)], diagnosis="DIAG-SECRET-88")
        claim, _ = reviewed(claim, by=claims_officer)
        paid.append(services.claim_transition(claim=claim, actor=claims_officer, transition="approve"))
    batch = services.batch_create(actor=claims_officer)
    services.batch_mark_paid(batch=batch, actor=claims_officer)
    file_claim(invoices=[invoice("FIG000000009", "9000.00")])  # filed, not paid: not counted

    page = text(browser(staff(Role.CENTER_MANAGER)).get("/claims/figures/"))

    month = timezone.localtime().strftime("%Y-%m")
    row = re.search(rf"<td>{month}</td><td>Inpatient treatment</td><td>(\d+)</td><td>([\d,.]+)</td>", page)
    assert row and row.groups() == ("5", "9,000.00")  # 4,600.00 + 4 × 1,100.00
    small = re.search(rf"<td>{month}</td><td>Serious illness</td><td>(.*?)</td><td>(.*?)</td>", page)
    assert small and small.groups() == ("<5", "—")  # one claim of 7,000.00: suppressed
    assert "7,000.00" not in page
    for private in (member.name, "赵建国0", "孙小美", "DIAG-SECRET-88", "4567", paid[0].case.reference):
        assert private not in page


@override_settings(CLAIMS_SECOND_APPROVAL_ABOVE="1000.00")
def test_a_first_approval_is_not_shown_to_the_member_as_approved(member, enrolment):
    claim = file_claim(worker=member, enrolment=enrolment, invoices=[invoice("FIRST00001", "4800.00")])
    claim, handler = reviewed(claim)
    claim = services.claim_transition(claim=claim, actor=handler, transition="approve")
    assert claim.state == "second_approval"
    cover = text(browser(member.user).get("/claims/cover/"))
    assert "2,000.00" not in cover and "approved" not in cover
    queue = text(browser(reviewer()).get("/claims/?state=second_approval"))
    assert "First approval: 2,000.00 yuan" in queue
