"""The manager's figures in a real browser (Debian's headless Chromium) on a phone-sized screen:
Chart.js, served by the app from the npm package, draws the weekly trend and the satisfaction
chart from the page's data, under the page's CSP, and each chart's table says the same."""

import datetime
import re

import pytest
from django.utils import timezone

from care.models import Stage
from care.roles import Role
from tests.factories import CaseFactory, WorkerFactory, staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_charts_are_drawn_from_the_figures_without_breaking_the_csp(page, live_server, shot):
    staff(Role.CENTER_MANAGER, username="boss1")
    worker = WorkerFactory()
    opened = timezone.now() - datetime.timedelta(days=1)
    for _ in range(7):
        CaseFactory(worker=worker, department="legal", opened_at=opened, stage=Stage.CLOSED,
                    closed_at=opened + datetime.timedelta(hours=20))

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "boss1")
    page.fill("input[name=password]", "pass-word-123")  # UserFactory's password
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/figures/$"))

    page.wait_for_function("window.Chart && Chart.getChart('trend-chart') && Chart.getChart('satisfaction-chart')")
    drawn = page.evaluate("""() => {
        const chart = Chart.getChart('trend-chart');
        const legal = chart.data.datasets.find((d) => d.label === '职工法律援助');
        return {labels: chart.data.labels.length, legal: legal.data.reduce((a, b) => a + (b || 0), 0),
                width: chart.width, height: chart.height};
    }""")
    assert drawn["labels"] == 12 and drawn["legal"] == 7
    assert drawn["width"] > 200 and drawn["height"] > 100
    shot(page, "figures", "01-figures")
    page.click("details summary")
    assert "7" in page.locator("#trend-table").inner_text()
    shot(page, "figures", "02-trend-as-a-table")
    page.get_by_role("link", name="0 条低分评价待回访").click()  # the manager's follow-up list
    page.wait_for_url(re.compile(r"/figures/follow-up/$"))
    assert page.locator("main h1").inner_text() == "待回访的低分评价"
    shot(page, "figures", "03-follow-ups")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert not page.csp_violations
