"""A mutual-insurance claim in a real browser (Debian's headless Chromium, driven by Playwright),
on a phone-sized screen: the member files it with a receipt, a claims officer approves it, and
because the amount is above CLAIMS_SECOND_APPROVAL_ABOVE another reviewer gives the second
approval. Each page is photographed on a phone and a desktop screen (the `shot` fixture)."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from care.claims.models import Claim, ClaimState
from care.models import OutboundSms
from care.roles import Role
from tests.care.claims.helpers import RECEIPT_PDF, enrol, make_plan, officer, reviewer
from tests.factories import WorkerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def staff_sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-word-123")  # UserFactory's password
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/queue/$"))


def sign_out(page):
    page.click("header form[action$='/logout/'] button[type=submit]")
    page.wait_for_url(re.compile(r"/login/$"))


def take_step(page, step):
    """Press the button of a step on the claim page; the page comes back (to the same address)."""
    with page.expect_navigation():
        page.click(f'main form[action$="/step/{step}/"] button[type=submit]')


def badge(page) -> str:
    return page.locator("main h1 .badge").inner_text()


def test_a_member_files_a_claim_an_officer_approves_it_and_another_reviewer_confirms(
        page, live_server, settings, tmp_path, shot):
    settings.CLAIMS_SECOND_APPROVAL_ABOVE = "1000.00"
    worker = WorkerFactory(mobile="+8613812349876", name="张三")
    enrol(worker, make_plan())  # 800 yuan deductible, inpatient treatment paid at 50%
    # The officer is a reviewer too: only the four-eyes rule keeps them from the second approval.
    claims_officer = officer(username="claims1")
    claims_officer.groups.add(Group.objects.get(name=Role.CLAIMS_REVIEWER))
    claims_reviewer = reviewer(username="review1")
    receipt = tmp_path / "发票.pdf"
    receipt.write_bytes(RECEIPT_PDF)
    today = timezone.localdate()

    # 1. The member signs in by SMS code and files a claim from their cover, with a receipt.
    page.goto(f"{live_server.url}/signin/")
    page.fill("input[name=mobile]", "138 1234 9876")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/signin/code/$"))
    code = re.search(r"\d{6}", OutboundSms.objects.get(template="signin_code").body).group()
    page.fill("input[name=code]", code)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/requests/$"))
    page.get_by_role("link", name="我的保障").click()
    page.wait_for_url(re.compile(r"/claims/cover/$"))
    assert "职工住院医疗互助保障" in page.content()
    shot(page, "claims", "01-cover")

    page.get_by_role("button", name="申请理赔").click()
    page.wait_for_url(re.compile(r"/claims/new/$"))
    page.get_by_label("互助保障项目").select_option(index=0)
    page.get_by_label("就诊医院").fill("青岛市立医院")
    page.get_by_label("入院日期").fill(f"{today - datetime.timedelta(days=10):%Y-%m-%d}")
    page.get_by_label("出院日期").fill(f"{today - datetime.timedelta(days=3):%Y-%m-%d}")
    page.get_by_label("就医类别").select_option(label="住院治疗")
    page.get_by_label("开户银行（含支行）").fill("中国工商银行青岛市南支行")
    page.get_by_label("账户名").fill("张三")
    page.get_by_label("银行账号").fill("6222020000001234567")
    row = page.locator("main fieldset").first  # invoice 1 of 3
    row.get_by_label("发票号").fill("INV20260001")
    row.get_by_label("开票日期").fill(f"{today - datetime.timedelta(days=3):%Y-%m-%d}")
    row.get_by_label("金额（元）").fill("6000.00")
    row.get_by_label("个人自付部分（元）").fill("5000.00")
    row.get_by_label("发票扫描件").set_input_files(receipt)
    shot(page, "claims", "02-claim-form")
    page.get_by_role("button", name="提交理赔申请").click()
    page.wait_for_url(re.compile(r"/claims/\d+/$"))
    claim = Claim.objects.get(case__worker=worker)
    reference = claim.case.reference
    assert reference in page.locator("main h1").inner_text()
    assert badge(page) == "已提交"
    assert page.get_by_role("link", name="发票.pdf").is_visible()
    assert claim.receipts.get().filename == "发票.pdf"
    shot(page, "claims", "03-claim-filed")
    sign_out(page)

    # 2. A claims officer opens it from the queue, starts the review and approves the payable amount;
    #    above 1000 yuan, it waits for a second approval.
    staff_sign_in(page, live_server, "claims1")
    page.get_by_role("link", name="医疗互助理赔").click()
    page.wait_for_url(re.compile(r"/claims/$"))
    assert "测算金额：2100.00 元" in page.content()
    shot(page, "claims", "04-officer-queue")
    page.get_by_role("link", name=reference).click()
    page.wait_for_url(re.compile(rf"/claims/{claim.pk}/$"))
    take_step(page, "start_review")
    assert badge(page) == "审核中"
    computation = page.locator("main section[aria-labelledby=computation-h] table")
    assert "扣除起付线 800.00 元" in computation.inner_text()
    assert computation.locator("tfoot").inner_text().split() == ["应报销金额", "2100.00"]
    approve = page.locator('main form[action$="/step/approve/"] button[type=submit]')
    assert approve.inner_text() == "审核通过 2100.00 元（须由另一名复核人复核）"
    shot(page, "claims", "05-officer-review")
    take_step(page, "approve")
    assert badge(page) == "待复核"
    assert "2100.00 元，审核人 claims1" in page.content()

    # 3. The same officer cannot give the second approval: no such step on the page, none in the queue,
    #    and a forged form is refused.
    assert page.locator('form[action$="/step/approve_second/"]').count() == 0
    assert page.get_by_role("button", name=re.compile("复核通过")).count() == 0
    shot(page, "claims", "06-officer-first-approval")
    with page.expect_navigation():
        page.evaluate("""(action) => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = action;
            form.append(document.querySelector("input[name=csrfmiddlewaretoken]").cloneNode());
            document.body.append(form);
            form.submit();
        }""", f"/claims/{claim.pk}/step/approve_second/")
    assert "复核必须由另一位审核人进行。" in page.locator("main [role=status]").inner_text()
    assert badge(page) == "待复核"
    page.get_by_role("link", name="医疗互助理赔").click()
    page.wait_for_url(re.compile(r"/claims/$"))
    assert page.get_by_role("button", name="待复核（0）").is_visible()
    sign_out(page)

    # 4. A claims reviewer finds it under the second-approval filter and gives the second approval.
    staff_sign_in(page, live_server, "review1")
    page.get_by_role("link", name="医疗互助理赔").click()
    page.wait_for_url(re.compile(r"/claims/$"))
    page.get_by_role("button", name="待复核（1）").click()
    page.wait_for_url(re.compile(r"/claims/\?state=second_approval$"))
    assert page.get_by_label("状态").input_value() == "second_approval"
    assert page.locator("main article.case-card").count() == 1
    shot(page, "claims", "07-reviewer-queue")
    page.get_by_role("link", name=reference).click()
    page.wait_for_url(re.compile(rf"/claims/{claim.pk}/$"))
    second = page.locator('main form[action$="/step/approve_second/"] button[type=submit]')
    assert second.inner_text() == "复核通过：2100.00 元"
    shot(page, "claims", "08-reviewer-claim")
    take_step(page, "approve_second")
    assert badge(page) == "已核准"
    assert "核准金额：2100.00 元" in page.locator("main article header").inner_text()
    assert page.locator("main section[aria-labelledby=steps-h]").count() == 0
    shot(page, "claims", "09-approved")

    claim.refresh_from_db()
    assert claim.state == ClaimState.APPROVED
    assert str(claim.approved_amount) == "2100.00"
    assert claim.first_approver == claims_officer
    assert claim.second_approver == claims_reviewer
    assert claim.first_approver_id != claim.second_approver_id
    sms = OutboundSms.objects.get(template="claim_approved")
    assert sms.worker == worker and sms.to == worker.mobile
    assert reference in sms.body and "2,100.00" in sms.body
    assert page.csp_violations == []
