"""The center manager's figures: counts, times to close and trends per service for a period,
aggregated in the database, every group under five people suppressed (the whole hall too when it
would give a suppressed one back), the workbook, the monthly report, the low-rating follow-up
list, and the API. Never a case's content."""

import datetime
import hashlib
import io
import re
import secrets
import statistics
from html import unescape

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from openpyxl import load_workbook

from care import figures, registry, surveys
from care.errors import InvalidInput
from care.figures import Period
from care.models import AuditEvent, Case, FiguresReport, OutboundSms, Stage, Survey
from care.roles import Role
from care.tasks import monthly_figures_report
from tests.factories import CaseFactory, WorkerFactory, staff

pytestmark = pytest.mark.django_db

SECRET = "FIGURES-CASE-SECRET-4410 拖欠工资"
COMMENT = "服务太慢-LOW-RATING-COMMENT-5521"
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def worker():
    return WorkerFactory(name="Fig Worker", user__language="en")


def local(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def today() -> datetime.date:
    return timezone.localdate()


def make(worker, department: str, n: int, *, opened: datetime.datetime, days_to_close: list[float] | None = None,
         stage: str = Stage.RECEIVED) -> list[Case]:
    """``n`` cases of ``department`` opened at ``opened``; with ``days_to_close`` they are closed
    after those many days (one per case)."""
    made = []
    for i in range(n):
        closed_at = None
        case_stage = stage
        if days_to_close is not None:
            closed_at = opened + datetime.timedelta(days=days_to_close[i])
            case_stage = Stage.CLOSED
        made.append(CaseFactory(worker=worker, department=department, opened_at=opened, stage=case_stage,
                                closed_at=closed_at, description=SECRET))
    return made


def row(rows: list[dict], code: str) -> dict:
    return next(r for r in rows if r["code"] == code)


def interpolated(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * fraction
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


# --- the figures -----------------------------------------------------------------------------------


def test_counts_and_times_to_close_per_service_in_the_database(worker):
    period = Period(today() - 27 * DAY, today())
    durations = [35.5, 36, 37, 38, 39, 41, 45, 55]  # closed 24.5 to 5 days ago: in the period
    make(worker, "legal", 8, opened=local(today() - 60 * DAY), days_to_close=durations)
    make(worker, "legal", 6, opened=local(today() - 3 * DAY))  # received in the period, open
    make(worker, "legal", 5, opened=local(today() - 100 * DAY), days_to_close=[1] * 5)  # before: not counted
    make(worker, "counseling", 5, opened=local(today() - 10 * DAY), stage=Stage.IN_PROGRESS)
    rows = figures.services_table(period)

    legal = row(rows, "legal")
    assert (legal["received"], legal["closed"], legal["withdrawn"], legal["open"]) == (6, 8, 0, 6)
    assert legal["median_days"] == round(statistics.median(durations), 1) == 38.5
    assert legal["p90_days"] == round(interpolated(durations, 0.9), 1) == 48.0
    counseling = row(rows, "counseling")
    assert (counseling["received"], counseling["open"], counseling["closed"]) == (5, 5, 0)
    assert counseling["median_days"] is None  # nothing closed
    hall = rows[-1]
    assert hall["label"] == "Whole hall" and hall["code"] == ""
    assert (hall["received"], hall["closed"], hall["open"]) == (11, 8, 11)


def test_open_cases_past_the_response_time_are_counted_now(worker):
    late = make(worker, "claims", 5, opened=local(today() - 20 * DAY))
    Case.objects.filter(pk__in=[c.pk for c in late]).update(due_at=timezone.now() - DAY)
    make(worker, "claims", 5, opened=local(today()))  # due in three days
    assert row(figures.services_table(Period.default()), "claims")["overdue"] == 5


def test_a_group_under_five_is_suppressed_and_the_hall_does_not_give_it_back(worker):
    make(worker, "legal", 7, opened=local(today()))
    make(worker, "claims", 2, opened=local(today()))  # two people: hidden
    rows = figures.services_table(Period.default())
    assert row(rows, "legal")["received"] == 7
    assert row(rows, "claims")["received"] is None
    assert rows[-1]["received"] is None  # 9 less legal aid's 7 would give claims' 2 back
    make(worker, "claims", 3, opened=local(today()))  # five now: shown, and the hall with it
    rows = figures.services_table(Period.default())
    assert row(rows, "claims")["received"] == 5 and rows[-1]["received"] == 12


def test_the_hall_is_shown_when_what_is_hidden_is_a_group_on_its_own(worker):
    make(worker, "legal", 7, opened=local(today()))
    make(worker, "claims", 3, opened=local(today()))
    make(worker, "counseling", 4, opened=local(today()))  # 3 + 4 hidden: 7, a group of its own
    rows = figures.services_table(Period.default())
    assert row(rows, "claims")["received"] is None and row(rows, "counseling")["received"] is None
    assert rows[-1]["received"] == 14


def test_times_to_close_need_five_closed_cases(worker):
    make(worker, "legal", 4, opened=local(today() - 5 * DAY), days_to_close=[1, 1, 2, 2])
    legal = row(figures.services_table(Period.default()), "legal")
    assert legal["closed"] is None and legal["median_days"] is None and legal["p90_days"] is None


def test_the_trend_counts_each_week_and_each_month(worker):
    monday = today() - datetime.timedelta(days=today().weekday())
    make(worker, "legal", 5, opened=local(monday - 7 * DAY, hour=0) + datetime.timedelta(minutes=5))  # Monday 00:05
    make(worker, "legal", 6, opened=local(monday - DAY, hour=23))  # Sunday 23:00, the same week
    make(worker, "childcare", 5, opened=local(monday))
    trend = figures.trend(Period.default())
    assert trend["by_week"] and len(trend["labels"]) == figures.DEFAULT_WEEKS
    assert trend["labels"][-1] == monday.isoformat() and trend["labels"][-2] == (monday - 7 * DAY).isoformat()
    legal = next(s for s in trend["series"] if s["code"] == "legal")
    childcare = next(s for s in trend["series"] if s["code"] == "childcare")
    assert legal["data"][-2:] == [11, 0] and childcare["data"][-2:] == [0, 5]
    assert sum(n or 0 for n in legal["data"]) == 11

    year = figures.trend(Period(today() - 364 * DAY, today()))
    assert not year["by_week"] and year["labels"][-1] == today().replace(day=1).isoformat()
    legal_by_month = next(s for s in year["series"] if s["code"] == "legal")
    assert sum(n or 0 for n in legal_by_month["data"]) == 11


def test_the_number_of_queries_does_not_grow_with_the_cases(worker):
    make(worker, "legal", 5, opened=local(today()), days_to_close=[1] * 5)
    with CaptureQueriesContext(transaction.get_connection()) as few:
        figures.hall_figures(Period.default())
    make(worker, "claims", 30, opened=local(today() - 8 * DAY), days_to_close=[2] * 30)
    make(worker, "counseling", 30, opened=local(today() - 15 * DAY))
    with CaptureQueriesContext(transaction.get_connection()) as many:
        figures.hall_figures(Period.default())
    assert len(many) == len(few) < 30


@pytest.mark.parametrize(("since", "until", "message", "field"), [
    ("2026-13-01", "2026-12-01", "Enter dates as YYYY-MM-DD.", "since"),
    ("2026-01-01", "", "Enter dates as YYYY-MM-DD.", "until"),
    ("2026-03-02", "2026-03-01", "The period must end on or after the day it starts.", "until"),
    ("2020-01-01", "2026-01-01", "Choose a period of at most five years.", "until"),
])
def test_a_bad_period_is_refused_with_a_message(since, until, message, field):
    with pytest.raises(InvalidInput) as refused:
        Period.parse(since, until)
    assert str(refused.value.message) == message and field in refused.value.detail
    with translation.override("zh-hans"), pytest.raises(InvalidInput) as refused:
        Period.parse(since, until)
    assert re.search(r"[\u4e00-\u9fff]", str(refused.value.message))


def test_the_default_period_is_twelve_weeks_from_a_monday():
    period = Period.default(datetime.date(2026, 11, 26))  # a Thursday
    assert period.first == datetime.date(2026, 9, 7) and period.first.weekday() == 0
    assert period.last == datetime.date(2026, 11, 26)
    assert Period.month(datetime.date(2026, 2, 17)) == Period(datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))


def test_a_department_figure_about_fewer_than_five_people_is_hidden(monkeypatch):
    monkeypatch.setitem(registry._figures, "legal", lambda *, since, until: [
        registry.Figure("few", 3), registry.Figure("many", 12), registry.Figure("median of few", 2.5, "days", 4),
        registry.Figure("median of many", 2.5, "days", 9), registry.Figure("none", 0)])
    table = figures.department_table(Period.default())
    shown = {r["label"]: r["value"] for r in table if r["department"] == "Legal aid"}
    assert shown == {"few": None, "many": 12, "median of few": None, "median of many": 2.5, "none": 0}


def test_every_department_gives_its_own_figures():
    table = figures.department_table(Period.default())
    assert {r["department"] for r in table} == {str(d.label) for d in registry.departments()}


def test_sms_are_counted_by_status():
    for i, status in enumerate(["sent"] * 6 + ["failed"] * 2 + ["queued"] * 5):
        OutboundSms.objects.create(to=f"+861380000{i:04d}", template="x", language="en", body="b", status=status)
    assert figures.sms_table(Period.default()) == {"sent": 6, "failed": None, "waiting": 5, "skipped": 0}


# --- the page, the workbook, the API -------------------------------------------------------------


def manager_client(role=Role.CENTER_MANAGER) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(staff(role))
    return client


def text(response) -> str:
    return unescape(response.content.decode())


def test_the_page_shows_the_figures_and_their_charts_never_a_case(worker):
    make(worker, "legal", 6, opened=local(today() - 3 * DAY), days_to_close=[1, 1, 2, 2, 3, 3])
    response = manager_client().get("/figures/")
    assert response.status_code == 200
    body = text(response)
    assert re.search(r"<th scope=\"row\">Legal aid</th>\s*<td>6</td>\s*<td>6</td>", body)
    assert 'id="figures-data"' in body and "vendor/chartjs/chart.umd.min.js" in body and "care/figures.js" in body
    assert 'id="trend-table"' in body and 'id="satisfaction-table"' in body
    assert SECRET not in body and worker.name not in body and worker.mobile not in body


def test_a_bad_period_on_the_page_keeps_what_was_typed(worker):
    response = manager_client().get("/figures/", {"since": "2026-03-02", "until": "2026-03-01"})
    body = text(response)
    assert response.status_code == 200 and "The period must end on or after the day it starts." in body
    assert 'value="2026-03-02"' in body and 'value="2026-03-01"' in body


def test_the_workbook_holds_the_same_figures_and_is_audited(worker):
    make(worker, "legal", 6, opened=local(today() - 3 * DAY))
    make(worker, "claims", 2, opened=local(today() - 3 * DAY))
    client = manager_client()
    since, until = (today() - 27 * DAY).isoformat(), today().isoformat()
    response = client.get("/figures/export.xlsx", {"since": since, "until": until})
    assert response.status_code == 200 and response["Content-Type"] == figures.XLSX
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content))
    services = {r[0]: r[1:] for r in book["Services"].iter_rows(min_row=3, values_only=True)}
    assert services["Legal aid"][0] == 6 and services["Mutual-insurance claims"][0] == "<5"
    assert services["Whole hall"][0] == "<5"
    assert set(book.sheetnames) == {"Services", "By week", "Satisfaction", "Department figures", "SMS"}
    event = AuditEvent.objects.get(event_type=figures.FIGURES_EXPORTED)
    assert event.new == {"since": since, "until": until}


def test_the_monthly_report_is_made_once_and_can_be_downloaded(worker):
    make(worker, "legal", 5, opened=local(today().replace(day=1) - 3 * DAY))
    monthly_figures_report.call()
    monthly_figures_report.call()
    [report] = FiguresReport.objects.all()
    last_month = (today().replace(day=1) - DAY).replace(day=1)
    assert report.month == last_month
    assert AuditEvent.objects.filter(event_type=figures.REPORT_MADE).count() == 1
    client = manager_client()
    assert f"/figures/reports/{last_month:%Y-%m}.xlsx" in text(client.get("/figures/"))
    response = client.get(f"/figures/reports/{last_month:%Y-%m}.xlsx")
    book = load_workbook(io.BytesIO(response.content))
    services = {r[0]: r[1:] for r in book["服务"].iter_rows(min_row=3, values_only=True)}  # made in Chinese
    assert services["职工法律援助"][0] == 5
    assert client.get("/figures/reports/2001-01.xlsx").status_code == 404
    assert client.get("/figures/reports/nonsense.xlsx").status_code == 404


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.LEGAL_OFFICER, Role.COUNSELOR, Role.ARBITRATOR])
def test_only_the_manager_and_the_administrator_reach_the_figures(role):
    client = manager_client(role)
    for url in ("/figures/", "/figures/export.xlsx", "/api/v1/figures/", "/figures/follow-up/"):
        assert client.get(url).status_code == 403, url
    assert not AuditEvent.objects.filter(event_type=figures.FIGURES_EXPORTED).exists()


def test_the_api_gives_the_page_s_figures_and_refuses_a_bad_period(worker):
    make(worker, "legal", 6, opened=local(today() - 3 * DAY))
    client = manager_client()
    body = client.get("/api/v1/figures/").json()
    assert row(body["services"], "legal")["received"] == 6 and body["min_group_size"] == 5
    assert body["services"] == figures.hall_figures(Period.default())["services"]
    refused = client.get("/api/v1/figures/", {"since": "2026-03-02", "until": "2026-03-01"})
    assert refused.status_code == 400 and refused.json()["detail"] == {"until": "before_since"}


# --- low ratings to follow up --------------------------------------------------------------------


def answer(worker, rating: int, call_back: bool, department: str = "counseling") -> Survey:
    case = CaseFactory(worker=worker, department=department, description=SECRET)
    token = secrets.token_urlsafe(32)
    Survey.objects.create(case=case, department=department, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                          sent_at=timezone.now())
    surveys.survey_answer(token=token, rating=rating, comment=COMMENT, call_back=call_back)
    return Survey.objects.get(case=case)


def test_low_ratings_reach_the_follow_up_list_with_a_name_only_when_allowed(worker):
    other = WorkerFactory(name="Quiet Worker")
    allowed = answer(worker, 1, call_back=True)
    answer(other, 2, call_back=False)
    answer(worker, 4, call_back=True)  # not low
    client = manager_client()
    body = text(client.get("/figures/follow-up/"))
    assert body.count(COMMENT) == 2
    assert worker.name in body and worker.mobile in body
    assert "Quiet Worker" not in body and other.mobile not in body
    assert SECRET not in body and allowed.case.reference not in body
    [read] = AuditEvent.objects.filter(event_type=surveys.SURVEY_FOLLOW_UPS_READ)
    assert len(read.new["surveys"]) == 2
    assert "2 low ratings to follow up" in text(client.get("/figures/"))


def test_a_follow_up_is_recorded_with_its_note_encrypted(worker):
    survey = answer(worker, 1, call_back=True)
    client = manager_client()
    refused = client.post(f"/figures/follow-up/{survey.pk}/", {"note": "  "}, follow=True)
    assert "Write what was done." in text(refused) and Survey.objects.get(pk=survey.pk).followed_up_at is None
    client.post(f"/figures/follow-up/{survey.pk}/", {"note": "Called, apologised, NOTE-7781"})
    survey.refresh_from_db()
    assert survey.followed_up_at is not None and survey.follow_up_note == "Called, apologised, NOTE-7781"
    with transaction.get_connection().cursor() as cursor:
        cursor.execute("SELECT follow_up_note FROM care_survey WHERE id = %s", [survey.pk])
        assert "NOTE-7781" not in str(cursor.fetchone()[0])
    assert COMMENT not in text(client.get("/figures/follow-up/"))
    assert "NOTE-7781" in text(client.get("/figures/follow-up/?done=1"))
    assert AuditEvent.objects.filter(event_type=surveys.SURVEY_FOLLOWED_UP, subject_id=str(survey.pk)).exists()


def test_the_administrator_sees_figures_but_not_the_comments(worker):
    survey = answer(worker, 1, call_back=True)
    admin = manager_client(Role.ADMINISTRATOR)
    assert admin.get("/figures/").status_code == 200
    assert admin.get("/figures/follow-up/").status_code == 403
    assert admin.post(f"/figures/follow-up/{survey.pk}/", {"note": "x"}).status_code == 403
    assert Survey.objects.get(pk=survey.pk).followed_up_at is None


def test_a_high_rating_cannot_be_followed_up(worker):
    survey = answer(worker, 5, call_back=True)
    assert manager_client().post(f"/figures/follow-up/{survey.pk}/", {"note": "x"}).status_code == 404


def test_surveys_sent_are_counted_in_the_period(worker):
    for days_ago in (100, 90, 2, 1, 0):
        case = CaseFactory(worker=worker, department="legal")
        Survey.objects.create(case=case, department="legal", token_hash=f"{case.pk:064d}",
                              sent_at=timezone.now() - days_ago * DAY)
    period = Period(today() - 27 * DAY, today())
    legal = next(r for r in figures.hall_figures(period)["satisfaction"] if r["label"] == "Legal aid")
    assert legal["sent"] == 3 and legal["answers"] == 0
