"""Journeys through the pages in a real browser (Debian's headless Chromium, driven by
Playwright), on a phone-sized screen."""

import re

import pytest

from care.models import Case, OutboundSms
from care.roles import Role
from tests.factories import WorkerFactory, staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_worker_signs_in_by_sms_code_and_files_a_request(page, live_server, shot):
    worker = WorkerFactory(mobile="+8613812345678", name="王建国")
    page.goto(f"{live_server.url}/signin/")
    assert "职工登录" in page.content()  # Chinese by default
    shot(page, "signin", "01-mobile")
    page.fill("input[name=mobile]", "138 1234 5678")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/signin/code/$"))
    code = re.search(r"\d{6}", OutboundSms.objects.get(template="signin_code").body).group()
    shot(page, "signin", "02-code")
    page.fill("input[name=code]", code)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/requests/$"))
    shot(page, "signin", "03-my-requests")

    page.click("text=提交新诉求")
    page.select_option("select[name=department]", "legal")
    page.fill("textarea[name=description]", "单位拖欠两个月工资")
    shot(page, "filing", "01-request-form")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/requests/$"))
    case = Case.objects.get(worker=worker)
    assert case.reference in page.content()
    shot(page, "filing", "02-filed")
    assert no_horizontal_scroll(page)
    assert page.csp_violations == []


def test_bad_input_keeps_what_was_typed(page, live_server, shot):
    page.goto(f"{live_server.url}/signin/")
    page.fill("input[name=mobile]", "12345")
    page.click("main button[type=submit]")
    assert "请输入有效的中国大陆手机号码" in page.content()
    assert page.input_value("input[name=mobile]") == "12345"
    shot(page, "signin", "04-bad-mobile")


def test_the_front_desk_files_for_a_walk_in_and_switches_to_english(page, live_server, shot):
    desk = staff(Role.FRONT_DESK, username="desk1")
    desk.set_password("pass-word-123")
    desk.save()
    worker = WorkerFactory(mobile="+8613900001111", name="李秀英")
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "desk1")
    page.fill("input[name=password]", "pass-word-123")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/front-desk/$"))
    page.fill("input[name=q]", "13900001111")
    page.click("main form.search button[type=submit]")
    shot(page, "front-desk", "01-worker-found")
    page.click("text=为该职工登记诉求")
    page.select_option("select[name=department]", "claims")
    page.fill("textarea[name=description]", "住院费用报销")
    shot(page, "front-desk", "02-request-form")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/front-desk/"))
    assert Case.objects.get(worker=worker).channel == "front_desk"
    assert "住院费用报销" not in page.content()  # the front desk never sees the content
    shot(page, "front-desk", "03-filed")

    page.click("header button[value=en]")
    page.wait_for_load_state()
    assert "Front desk" in page.content()
    shot(page, "front-desk", "04-in-english")
    assert no_horizontal_scroll(page)
    assert page.csp_violations == []
