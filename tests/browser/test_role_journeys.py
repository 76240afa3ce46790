"""Each role's main journey through the pages in a real browser (Debian's headless Chromium, driven
by Playwright), on phone-sized screens, each person in a browser context of their own: a legal aid
officer brings a worker's request to a hearing, which the arbitrator finds among their hearings; a
worker books a counseling appointment, which the counselor confirms; the care station checks a
child in and out with the pick-up code; a matchmaker proposes an introduction that both members
accept. Every page is photographed on a phone and a desktop screen (the ``shot`` fixture).

Staff sign in with a password (UserFactory's), workers by SMS code, as they do."""

import datetime
import re

import pytest
from django.utils import timezone

from care import services as hall
from care.models import OutboundSms
from care.roles import Role
from childcare.models import Attendance, AttendanceState, PickupRefusal
from counseling.models import Appointment, AppointmentState
from legal.models import Hearing, LegalCase, LegalState
from matchmaking import services as matchmaking
from matchmaking.models import Introduction, IntroState
from tests.browser.helpers import child_at_the_door
from tests.counseling.helpers import counselor, room, service
from tests.factories import WorkerFactory, make_national_id, staff
from tests.matchmaking.helpers import member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# --- what every journey does -------------------------------------------------------------------


def staff_sign_in(page, live_server, username: str, lands_on: str = r"/queue/$"):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-word-123")  # UserFactory's password
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(lands_on))


def worker_sign_in(page, live_server, worker):
    """By the code of the SMS, as a worker does; they land on their requests."""
    page.goto(f"{live_server.url}/signin/")
    page.fill("input[name=mobile]", worker.mobile.removeprefix("+86"))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/signin/code/$"))
    body = OutboundSms.objects.filter(template="signin_code", to=worker.mobile).latest("pk").body
    page.fill("input[name=code]", re.search(r"\d{6}", body).group())
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/requests/$"))


def sign_out(page):
    page.click("header form[action$='/logout/'] button[type=submit]")
    page.wait_for_url(re.compile(r"/login/$"))


def nav(page, name: str, url: str):
    page.locator("header nav").get_by_role("link", name=name, exact=True).click()
    page.wait_for_url(re.compile(url))


def press(page, name: str, within=None):
    """Press a button that posts its form; the next page has loaded when this returns."""
    with page.expect_navigation():
        (within or page).get_by_role("button", name=name, exact=True).click()


def said(page) -> str:
    """The messages the page shows after an action."""
    return " ".join(page.locator("main p.message:visible").all_inner_texts())


def badge(page) -> str:
    return page.locator("main h1 .badge").inner_text()


# --- legal aid and the arbitrator ---------------------------------------------------------------


def test_a_legal_aid_officer_brings_a_request_to_a_hearing_that_the_arbitrator_finds(page, live_server, shot):
    staff(Role.LEGAL_OFFICER, "legal", username="legal1")
    arbitrator = staff(Role.ARBITRATOR, username="arb1", first_name="周建华")
    worker = WorkerFactory(name="王建国")
    case = hall.request_file(actor=worker.user, worker=worker, department="legal",
                             description="单位拖欠三个月工资，共18000元")
    hearing_day = timezone.localdate() + datetime.timedelta(days=10)

    # 1. The officer finds the request in the queue and takes it up.
    staff_sign_in(page, live_server, "legal1")
    card = page.locator("main article.case-card", has_text=case.reference)
    assert "王建国" in card.inner_text() and card.locator(".badge").first.inner_text() == "已受理"
    shot(page, "legal", "01-queue")
    card.get_by_role("link", name=case.reference).click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    assert "单位拖欠三个月工资，共18000元" in page.locator("main dl").inner_text()
    shot(page, "legal", "02-request")
    press(page, "由我承办")
    assert said(page) == f"您已承办 {case.reference}。"
    assert badge(page) == "办理中"

    # 2. They open the legal aid file, accept the case for aid, enter the employer and the claim.
    page.get_by_role("button", name="业务档案").click()  # a link that looks like a button
    page.wait_for_url(re.compile(rf"/legal/file/{case.pk}/$"))
    shot(page, "legal", "03-open-the-file")
    page.get_by_role("button", name="建立法律援助档案").click()
    page.wait_for_url(re.compile(r"/legal/cases/\d+/$"))
    legal_case = LegalCase.objects.get(case=case)
    assert badge(page) == "法律咨询"
    shot(page, "legal", "04-consultation")
    press(page, "准予法律援助")
    assert said(page) == "已完成：准予法律援助。" and badge(page) == "准予援助"
    details = page.locator("main section[aria-labelledby=parties-h]")
    details.get_by_label("用人单位", exact=True).fill("青岛某机械制造有限公司")
    details.get_by_label("争议发生日期").fill(f"{timezone.localdate() - datetime.timedelta(days=20):%Y-%m-%d}")
    press(page, "保存", within=details)
    assert said(page) == "个案信息已保存。"
    claims = page.locator("main section[aria-labelledby=claims-h]")
    claims.get_by_label("请求事项").select_option("wages")
    claims.get_by_label("金额（元）").fill("18000.00")
    press(page, "添加请求事项", within=claims)
    assert said(page) == "已添加请求事项。"
    assert claims.locator("tbody").inner_text().split() == ["欠发工资", "18000.00"]
    notes = page.locator("main section[aria-labelledby=notes-h]")
    notes.get_by_label("备注").fill("职工保留了考勤记录和工资条。")
    press(page, "添加备注", within=notes)
    assert "职工保留了考勤记录和工资条。" in notes.inner_text()
    shot(page, "legal", "05-details-claim-note")

    # 3. Through the arbitration application to the committee's acceptance.
    for step, state in [("准备仲裁申请", "准备仲裁申请"), ("已提交仲裁申请", "已提交仲裁申请"),
                        ("仲裁委已受理", "仲裁委已受理")]:
        press(page, step)
        assert said(page) == f"已完成：{step}。" and badge(page) == state
    shot(page, "legal", "06-committee-accepted")

    # 4. They schedule the hearing before the arbitrator; the worker is told by SMS.
    hearings = page.locator("main section[aria-labelledby=hearings-h]")
    hearings.locator("summary").click()  # "安排开庭"
    hearings.get_by_label("仲裁员").select_option(label="周建华")
    hearings.get_by_label("开始时间").fill(f"{hearing_day:%Y-%m-%d}T09:00")
    hearings.get_by_label("结束时间").fill(f"{hearing_day:%Y-%m-%d}T11:00")
    hearings.get_by_label("地点").fill("香港中路100号301室")
    shot(page, "legal", "07-schedule-form")
    press(page, "安排并通知各方", within=hearings)
    assert said(page) == f"已安排于 {hearing_day:%Y-%m-%d} 09:00 开庭。"
    assert badge(page) == "已安排开庭"
    assert "周建华" in hearings.locator("tbody").inner_text()
    shot(page, "legal", "08-hearing-scheduled")
    legal_case.refresh_from_db()
    assert legal_case.state == LegalState.HEARING_SCHEDULED
    [told] = OutboundSms.objects.filter(template="hearing_scheduled", worker=worker)
    assert case.reference in told.body and f"{hearing_day:%Y-%m-%d} 09:00" in told.body
    sign_out(page)

    # 5. The arbitrator lands on their hearings and reads the case file: never the officer's notes.
    staff_sign_in(page, live_server, "arb1", lands_on=r"/legal/hearings/$")
    upcoming = page.locator("main section[aria-labelledby=upcoming-h]")
    assert case.reference in upcoming.inner_text()
    assert f"{hearing_day:%Y-%m-%d} 09:00–11:00 · 香港中路100号301室" in upcoming.inner_text()
    shot(page, "arbitrator", "01-my-hearings")
    upcoming.get_by_role("link", name=case.reference).click()
    hearing = Hearing.objects.get(legal_case=legal_case, arbitrator=arbitrator)
    page.wait_for_url(re.compile(rf"/legal/hearings/{hearing.pk}/$"))
    case_file = page.locator("main section[aria-labelledby=file-h]")
    assert "青岛某机械制造有限公司" in case_file.inner_text() and "18000.00" in case_file.inner_text()
    assert "考勤记录" not in page.content()
    shot(page, "arbitrator", "02-hearing")
    assert page.csp_violations == []


# --- counseling ------------------------------------------------------------------------------


def test_a_worker_books_a_counseling_appointment_and_the_counselor_confirms_it(page, new_page, live_server, shot):
    who = counselor(user=staff(Role.COUNSELOR, "counseling", username="couns1", first_name="林老师"))
    room("301室")
    service()
    worker = WorkerFactory(name="陈晓梅")

    # 1. The worker signs in, gives their consent, and picks the first free time in person.
    worker_sign_in(page, live_server, worker)
    nav(page, "预约", r"/counseling/appointments/$")
    assert "您没有即将到来的预约。" in page.content()
    shot(page, "counseling", "01-my-appointments")
    page.get_by_role("button", name="预约时间").click()
    page.wait_for_url(re.compile(r"/counseling/book/$"))
    shot(page, "counseling", "02-consent")
    press(page, "我同意")
    assert said(page) == "谢谢，您的同意已记录。现在请选择时间。"
    page.get_by_label("心理咨询师").select_option(label="林老师")
    page.get_by_label("见面方式").select_option(label="面谈")
    page.get_by_role("button", name="查看可约时间").click()
    page.wait_for_url(re.compile(r"/counseling/book/\?"))
    first = page.locator("main section[aria-labelledby=slots-h] button[name=starts_at]").first
    picked = timezone.localtime(datetime.datetime.fromisoformat(first.get_attribute("value")))
    shot(page, "counseling", "03-free-times")
    with page.expect_navigation():
        first.click()
    appointment = Appointment.objects.get(case__worker=worker)
    page.wait_for_url(re.compile(rf"/counseling/appointments/{appointment.pk}/$"))
    assert appointment.starts_at == picked and appointment.counselor == who
    assert said(page) == f"您已预约 {picked:%Y-%m-%d %H:%M}。"
    assert badge(page) == "已申请" and "301室" in page.locator("main dl").inner_text()
    shot(page, "counseling", "04-booked")

    # 2. It is among the worker's requests, and their appointments to come.
    nav(page, "我的诉求", r"/requests/$")
    assert appointment.case.reference in page.locator("main article.case-card").first.inner_text()
    shot(page, "counseling", "05-my-requests")
    nav(page, "预约", r"/counseling/appointments/$")
    upcoming = page.locator("main section[aria-labelledby=upcoming-h]")
    assert f"{picked:%Y-%m-%d %H:%M}" in upcoming.inner_text() and "已申请" in upcoming.inner_text()
    shot(page, "counseling", "06-coming-up")

    # 3. The counselor finds it on that day and confirms it; the worker sees it confirmed.
    desk = new_page()
    staff_sign_in(desk, live_server, "couns1")
    nav(desk, "我的预约", r"/counseling/$")
    desk.get_by_label("日期").fill(f"{picked:%Y-%m-%d}")
    desk.get_by_role("button", name="查看这一天").click()
    desk.wait_for_url(re.compile(r"/counseling/\?day="))
    row = desk.locator("main tbody tr", has_text="陈晓梅")
    assert "301室" in row.inner_text() and "已申请" in row.inner_text()
    shot(desk, "counseling", "07-counselor-day")
    row.get_by_role("link").click()
    desk.wait_for_url(re.compile(rf"/counseling/appointments/{appointment.pk}/$"))
    assert "陈晓梅" in desk.locator("main header").inner_text()
    press(desk, "确认预约")
    assert badge(desk) == "已确认" and said(desk) == "已完成：预约现在为“已确认”。"
    shot(desk, "counseling", "08-confirmed")
    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.CONFIRMED

    page.get_by_role("link", name=f"{picked:%Y-%m-%d %H:%M}", exact=False).click()
    page.wait_for_url(re.compile(rf"/counseling/appointments/{appointment.pk}/$"))
    assert badge(page) == "已确认"
    shot(page, "counseling", "09-worker-sees-it-confirmed")
    assert page.csp_violations == [] and desk.csp_violations == []


# --- the care station ----------------------------------------------------------------------------


def test_a_child_is_checked_in_and_collected_with_the_pick_up_code(page, new_page, live_server, shot):
    door = child_at_the_door()
    keeper, guardian, child, enrolment = door.keeper, door.guardian, door.child, door.enrolment

    # 1. The guardian authorises the grandmother to collect the child.
    worker_sign_in(page, live_server, guardian)
    nav(page, "我的孩子", r"/childcare/$")
    page.get_by_role("link", name="李小雨").click()
    page.wait_for_url(re.compile(rf"/childcare/children/{child.pk}/$"))
    page.get_by_role("button", name="添加授权接送人").click()
    page.wait_for_url(re.compile(r"/pickup/$"))
    page.get_by_label("姓名").fill("赵桂兰")
    page.get_by_label("与孩子的关系").fill("外婆")
    page.get_by_label("手机号码").fill("13900000003")
    page.get_by_label("身份证号").fill(make_national_id(77))
    shot(page, "childcare", "01-authorise-pick-up")
    press(page, "授权")
    page.wait_for_url(re.compile(rf"/childcare/children/{child.pk}/$"))
    assert said(page) == "赵桂兰现在可以接送李小雨。"
    assert "赵桂兰" in page.locator("main section[aria-labelledby=pickup-h]").inner_text()
    shot(page, "childcare", "02-pick-up-persons")

    # 2. At the door, the member of staff sees the allergy and checks the child in.
    door = new_page()
    staff_sign_in(door, live_server, "door1")
    nav(door, "今日名单", r"/childcare/roster/$")
    row = door.locator(f"#child-{enrolment.pk}")
    assert "花生过敏" in row.locator(".medical-alert").inner_text() and row.locator(".badge").inner_text() == "待到"
    shot(door, "childcare", "03-roster")
    row.get_by_placeholder("送达人").fill("李妈妈")
    with door.expect_navigation():  # the roster's script saves it, then reloads the roster
        row.get_by_role("button", name="签到").click()
    assert "签到" in row.locator(".badge.stage-in_progress").inner_text()
    body = OutboundSms.objects.get(template="care_checked_in", worker=guardian).body
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", body).group(1)
    shot(door, "childcare", "04-checked-in")

    # 3. Someone not on the list is refused (the guardian is told); the grandmother with the code is not.
    row.get_by_role("button", name="签退").click()
    door.wait_for_url(re.compile(r"/check-out/$"))
    collectors = door.locator("main label.collector")
    assert [label.split()[0] for label in collectors.all_inner_texts()] == ["李妈妈", "赵桂兰", "其他人"]
    shot(door, "childcare", "05-check-out")
    collectors.filter(has_text="其他人").locator("input").check()
    door.get_by_label("来人自称的姓名（其他人）").fill("张三叔")
    press(door, "签退")
    assert said(door) == "拒绝接走：张三叔不是李小雨的授权接送人。已通知监护人。"
    assert PickupRefusal.objects.get().presented_name == "张三叔"
    assert OutboundSms.objects.filter(template="care_pickup_refused", worker=guardian).count() == 1
    shot(door, "childcare", "06-pick-up-refused")
    collectors.filter(has_text="赵桂兰").locator("input").check()
    door.get_by_label("接送码").fill(code)
    press(door, "签退")
    door.wait_for_url(re.compile(r"/childcare/roster/"))
    assert said(door) == "李小雨已由赵桂兰接走。"
    assert "由赵桂兰接走" in door.locator(f"#child-{enrolment.pk} .badge.stage-closed").inner_text()
    shot(door, "childcare", "07-collected")
    attendance = Attendance.objects.get()
    assert attendance.state == AttendanceState.CHECKED_OUT and attendance.collected_by.name == "赵桂兰"
    assert attendance.checked_in_by == attendance.checked_out_by == keeper

    # 4. The guardian sees who collected the child.
    nav(page, "我的孩子", r"/childcare/$")
    assert "由赵桂兰接走" in page.locator("main article.case-card").first.inner_text()
    shot(page, "childcare", "08-guardian-sees-collected")
    assert OutboundSms.objects.filter(template="care_checked_out", worker=guardian).count() == 1
    assert page.csp_violations == [] and door.csp_violations == []


# --- matchmaking -----------------------------------------------------------------------------


def test_a_matchmaker_proposes_an_introduction_and_both_members_say_yes(page, new_page, live_server, shot):
    staff(Role.MATCHMAKER, "matchmaking", username="match1")
    him = member(gender="male", seeking="female", born="19930310", verify=False, hobbies="爬山、摄影")
    matchmaking.profile_submit(actor=him.worker.user, profile=him)
    her = member(gender="female", seeking="male", born="19950615", hobbies="爬山、读书")

    # 1. The matchmaker verifies his profile and proposes an introduction to her.
    staff_sign_in(page, live_server, "match1")
    nav(page, "会员", r"/matchmaking/members/$")
    card = page.locator("main article.case-card", has_text=him.display_name)
    assert "爬山、摄影" in card.inner_text()
    shot(page, "matchmaking", "01-members-to-review")
    card.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/matchmaking/members/{him.pk}/$"))
    shot(page, "matchmaking", "02-review")
    press(page, "审核通过")
    assert said(page) == "已保存。" and "已审核" in page.locator("main section.case-card .badge").inner_text()
    proposal = page.locator("main section[aria-labelledby=propose-h]")
    proposal.get_by_label("对象").select_option(str(her.pk))
    proposal.get_by_label("给双方的推荐说明").fill("两位都喜欢爬山。")
    press(page, "推荐", within=proposal)
    assert said(page) == "已推荐介绍，双方都会收到消息提醒。"
    shot(page, "matchmaking", "03-proposed")
    nav(page, "介绍", r"/matchmaking/introductions/all/$")
    assert "已推荐" in page.locator("main tbody tr").inner_text()
    shot(page, "matchmaking", "04-introductions")

    # 2. Each says yes on their own phone; once both have, each gets the other's contact by SMS.
    he, she = new_page(), new_page()
    for person, profile, answer, step in [(he, him, "您的回复已记录。", "05-he-says-yes"),
                                          (she, her, "双方都已同意：联系方式将通过短信发送。", "06-she-says-yes")]:
        worker_sign_in(person, live_server, profile.worker)
        nav(person, "交友联谊", r"/matchmaking/$")
        person.locator("main").get_by_role("button", name="介绍", exact=True).click()
        person.wait_for_url(re.compile(r"/matchmaking/introductions/$"))
        intro = person.locator("main article.case-card")
        assert "两位都喜欢爬山。" in intro.inner_text() and intro.locator(".badge").inner_text() == "等待您的回复"
        assert "wx_member" not in person.content()  # no contact before both say yes
        press(person, "愿意认识")
        assert said(person) == answer
        shot(person, "matchmaking", step)
    he.reload()
    assert he.locator("main article.case-card .badge").inner_text() == "双方都已同意：联系方式已通过短信发送"
    shot(he, "matchmaking", "07-he-sees-both-said-yes")
    assert Introduction.objects.get().state == IntroState.CONTACT_SHARED
    for one, other in ((him, her), (her, him)):
        [sms] = OutboundSms.objects.filter(template="match_contact", worker=one.worker)
        assert other.contact in sms.body and other.display_name in sms.body
    page.reload()
    assert "已交换联系方式" in page.locator("main tbody tr").inner_text()
    shot(page, "matchmaking", "08-contact-shared")
    assert page.csp_violations == he.csp_violations == she.csp_violations == []
