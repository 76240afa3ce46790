"""The hot pages run the same number of SQL queries whatever the number of rows they list (no
query per row): a caseworker's queue, a worker's "my requests", a case page, the arbitrator's
hearings, the counseling slot finder, the manager's figures, and their API twins. Each page is
read with a few rows, then with many more; the counts must be equal. (Times are measured by the
benchmarks under bench/, not here.)"""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from care import services
from care.models import Stage
from care.permissions import grant_case
from care.roles import Role
from counseling.models import Mode
from legal import hearings
from legal.models import LegalCase, LegalState
from tests.counseling.helpers import book, consenting_worker, counselor, room, service
from tests.factories import CaseFactory, WorkerFactory, staff

pytestmark = pytest.mark.django_db


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    client.get("/")  # the session and the user are loaded once, before counting
    return client


def test_the_caseworkers_queue_and_the_case_api():
    officer = staff(Role.LEGAL_OFFICER, "legal")
    client = signed_in(officer)

    def cases(n):
        for _ in range(n):
            case = CaseFactory(department="legal", stage=Stage.IN_PROGRESS, assignee=officer)
            grant_case(case=case, user=officer)

    cases(3)
    few = queries(client, "/queue/"), queries(client, "/api/v1/cases/")
    cases(25)
    assert (queries(client, "/queue/"), queries(client, "/api/v1/cases/")) == few


def test_a_workers_requests():
    worker = WorkerFactory()
    client = signed_in(worker.user)
    for department in ("legal", "counseling"):
        services.request_file(actor=worker.user, worker=worker, department=department, description="x")
    few = queries(client, "/requests/")
    for _ in range(12):
        services.request_file(actor=worker.user, worker=worker, department="claims", description="y")
    assert queries(client, "/requests/") == few


def test_a_case_page_whatever_its_history():
    worker = WorkerFactory()
    officer = staff(Role.LEGAL_OFFICER, "legal")
    case = services.request_file(actor=worker.user, worker=worker, department="legal", description="z")
    services.case_take_up(case=case, actor=officer)
    client = signed_in(officer)
    few = queries(client, f"/cases/{case.pk}/")
    for _ in range(10):  # more history: views, SMS
        client.get(f"/cases/{case.pk}/")
        services.request_file(actor=worker.user, worker=worker, department="legal", description="again")
    assert queries(client, f"/cases/{case.pk}/") == few


def test_the_arbitrators_hearings():
    officer = staff(Role.LEGAL_OFFICER, "legal")
    arbitrator = staff(Role.ARBITRATOR)
    client = signed_in(arbitrator)
    start = timezone.localtime() + datetime.timedelta(days=10)

    def hearings_of(n, offset):
        for i in range(n):
            case = CaseFactory(department="legal", stage=Stage.IN_PROGRESS, assignee=officer)
            grant_case(case=case, user=officer)
            legal_case = LegalCase.objects.create(case=case, state=LegalState.COMMITTEE_ACCEPTED)
            starts = start + datetime.timedelta(days=offset + i)
            hearings.hearing_schedule(legal_case=legal_case, actor=officer, arbitrator=arbitrator, starts_at=starts,
                                      ends_at=starts + datetime.timedelta(hours=1), place="301",
                                      is_video=bool(i % 2))

    hearings_of(2, 0)
    few = queries(client, "/legal/hearings/"), queries(client, "/api/v1/legal/hearings/")
    hearings_of(10, 5)
    assert (queries(client, "/legal/hearings/"), queries(client, "/api/v1/legal/hearings/")) == few


def test_the_counseling_slot_finder():
    the_counselor = counselor()
    room("1号室")
    the_service = service()
    profile = the_counselor.counselor_profile
    client = signed_in(consenting_worker().user)
    page = f"/counseling/book/?service={the_service.pk}&counselor={profile.pk}&mode={Mode.IN_PERSON}"
    api = f"/api/v1/counseling/slots/?counselor={the_counselor.pk}&mode={Mode.IN_PERSON}"
    free = [parse_datetime(slot["starts_at"]) for slot in client.get(api).json()]

    def booked(n):
        for starts_at in free[:n]:
            book(worker=consenting_worker(), counselor=the_counselor, starts_at=starts_at, service_=the_service)

    few = queries(client, page), queries(client, api)
    booked(12)
    assert len(client.get(api).json()) == len(free) - 12
    assert (queries(client, page), queries(client, api)) == few


def test_the_managers_figures():
    client = signed_in(staff(Role.CENTER_MANAGER))
    officer = staff(Role.LEGAL_OFFICER, "legal")

    def closed_cases(n):
        for _ in range(n):
            worker = WorkerFactory()
            case = services.request_file(actor=worker.user, worker=worker, department="legal", description="x")
            services.case_take_up(case=case, actor=officer)
            services.case_close(case=case, actor=officer)

    closed_cases(2)
    few = queries(client, "/figures/"), queries(client, "/api/v1/figures/")
    closed_cases(10)
    assert (queries(client, "/figures/"), queries(client, "/api/v1/figures/")) == few
