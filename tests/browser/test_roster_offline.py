"""The care station's door in a real browser (Debian's headless Chromium, driven by Playwright) on
a phone-sized screen: the roster shows the child's allergy to the member of staff on duty; a
check-in made while the tablet is offline is kept ("not saved yet"), never lost, and saved once
the connection is back: exactly one check-in, one SMS to the guardian."""

import re

import pytest

from care.models import OutboundSms
from childcare.models import Attendance
from tests.browser.helpers import child_at_the_door

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_check_in_made_offline_is_kept_and_saved_when_the_connection_returns(page, live_server, shot):
    door = child_at_the_door()
    keeper, guardian = door.keeper, door.guardian

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "door1")
    page.fill("input[name=password]", "pass-word-123")  # UserFactory's password
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/queue/$"))
    page.goto(f"{live_server.url}/childcare/roster/")
    assert "花生过敏" in page.locator(".medical-alert").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    page.context.set_offline(True)
    page.fill("form.check-in input[name=brought_by]", "李妈妈")
    page.click("form.check-in button[type=submit]")
    pending = page.locator("#roster-pending")
    pending.wait_for(state="visible")
    assert "1" in pending.inner_text()
    assert page.evaluate("JSON.parse(localStorage.getItem('childcare.pending')).length") == 1
    assert not Attendance.objects.exists()
    shot(page, "roster-offline", "01-not-saved-yet")

    page.context.set_offline(False)  # the script sends it again, then reloads the roster
    page.locator(".roster-row .badge.stage-in_progress").wait_for(timeout=20_000)
    assert page.evaluate("JSON.parse(localStorage.getItem('childcare.pending')).length") == 0
    assert page.locator("#roster-pending").is_hidden()
    [attendance] = Attendance.objects.all()
    assert attendance.brought_by == "李妈妈" and attendance.checked_in_by == keeper
    assert OutboundSms.objects.filter(template="care_checked_in", worker=guardian).count() == 1
    assert not page.csp_violations
