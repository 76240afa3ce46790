"""The REST API under /api/v1/, its one error shape, and its self-hosted OpenAPI documents."""

import re
from html import unescape

import pytest
from django.conf import settings
from django.test import Client

from care.models import AuditEvent, Case, Channel, Stage
from care.roles import Role
from tests.factories import CaseFactory, WorkerFactory, staff

pytestmark = pytest.mark.django_db


def api(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


@pytest.fixture
def worker():
    return WorkerFactory(mobile="+8613800000001")


@pytest.fixture
def officer():
    return staff(Role.LEGAL_OFFICER, "legal")


@pytest.fixture
def front_desk():
    return staff(Role.FRONT_DESK)


@pytest.fixture
def closed(worker, officer):
    return CaseFactory(worker=worker, stage=Stage.CLOSED, assignee=officer)


REQUEST = {"department": "legal", "description": "被违法解除劳动合同"}


# --- filing ------------------------------------------------------------------------------------

def test_a_worker_files_a_request(worker):
    response = post(api(worker.user), "/api/v1/cases/", {**REQUEST, "preferred_contact_time": "morning"})

    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get()
    assert body["reference"] == case.reference
    assert (body["stage"], body["channel"], body["description"]) == ("received", "online", REQUEST["description"])
    assert (case.worker, case.preferred_contact_time) == (worker, "morning")


def test_the_front_desk_files_for_a_walk_in(front_desk, worker):
    response = post(api(front_desk), "/api/v1/cases/", {**REQUEST, "worker_id": worker.pk})

    assert response.status_code == 201
    assert response.json()["channel"] == Channel.FRONT_DESK
    assert Case.objects.get().worker == worker


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"department": "astrology", "description": "x"}, {"department"}),
        ({"department": "legal"}, {"description"}),
        ({"department": "legal", "description": "   "}, {"description"}),
        ({"department": "legal", "description": "欠" * 2001}, {"description"}),
        ({**REQUEST, "preferred_contact_time": "midnight"}, {"preferred_contact_time"}),
    ],
)
def test_bad_input_is_answered_in_the_error_shape(worker, data, fields):
    response = post(api(worker.user), "/api/v1/cases/", data)

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == "invalid"
    assert body["message"]
    assert set(body["detail"]) == fields
    assert not Case.objects.exists()


def test_a_service_refusal_is_403_forbidden(worker, officer):
    case = CaseFactory(worker=worker, stage=Stage.IN_PROGRESS, assignee=officer)
    before = AuditEvent.objects.count()

    response = post(api(worker.user), f"/api/v1/cases/{case.pk}/close/")

    assert response.status_code == 403
    body = response.json()
    assert (body["code"], body["detail"]) == ("forbidden", {})
    assert body["message"] == "You are not allowed to do this."
    assert Case.objects.get(pk=case.pk).stage == Stage.IN_PROGRESS
    assert AuditEvent.objects.count() == before


def test_closing_a_closed_case_again_is_idempotent(closed, officer):
    response = post(api(officer), f"/api/v1/cases/{closed.pk}/close/")
    assert response.status_code == 200
    assert response.json()["stage"] == "closed"
    assert not AuditEvent.objects.filter(event_type="case.closed").exists()


def test_withdrawing_a_closed_case_is_409_invalid_state(closed, worker):
    response = post(api(worker.user), f"/api/v1/cases/{closed.pk}/withdraw/")

    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["message"]) == ("invalid_state", "Only an open request can be withdrawn.")
    assert Case.objects.get(pk=closed.pk).stage == Stage.CLOSED


def test_the_case_lifecycle_through_the_api(worker, officer):
    case = CaseFactory(worker=worker)
    client = api(officer)
    assert post(client, f"/api/v1/cases/{case.pk}/take-up/").json()["assignee"] == officer.username
    assert post(client, f"/api/v1/cases/{case.pk}/close/").json()["stage"] == "closed"
    assert list(AuditEvent.objects.values_list("event_type", flat=True)) == [
        "case.taken_up", "case.closed", "survey.sent"]


# --- reading -----------------------------------------------------------------------------------

def references(response) -> set[str]:
    assert response.status_code == 200
    return {row["reference"] for row in response.json()["results"]}


def test_the_case_list_filters_by_stage_and_searches(officer):
    received = CaseFactory()
    mine = CaseFactory(stage=Stage.IN_PROGRESS, assignee=officer)
    client = api(officer)

    assert references(client.get("/api/v1/cases/")) == {received.reference, mine.reference}
    assert references(client.get("/api/v1/cases/", {"stage": "in_progress"})) == {mine.reference}
    assert references(client.get("/api/v1/cases/", {"q": received.reference})) == {received.reference}
    assert references(client.get("/api/v1/cases/", {"q": mine.worker.mobile})) == {mine.reference}


@pytest.mark.parametrize("query", [{"stage": "lost"}, {"q": "QD\x00"}, {"mine": "maybe"}])
def test_a_case_list_filter_it_cannot_read_is_400_in_the_error_shape(officer, front_desk, query):
    """A NUL in a search used to reach PostgreSQL (a 500 there); found by tests/test_api_fuzz.py."""
    response = api(officer).get("/api/v1/cases/", query)
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    if "q" in query:
        assert api(front_desk).get("/api/v1/case-summaries/", query).status_code == 400


def test_an_api_url_that_names_nothing_is_404_in_the_error_shape(officer):
    response = api(officer).get("/api/v1/counseling/appointments/1/transitions/Nothing/")

    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert set(response.json()) == {"code", "message", "detail"}
    assert api(officer).get("/no-such-page/")["Content-Type"].startswith("text/html")


def test_the_front_desk_looks_a_worker_up_by_id_number(front_desk, worker):
    response = api(front_desk).get("/api/v1/workers/lookup/", {"q": worker.national_id.lower()})

    assert response.status_code == 200
    assert response.json() == {
        "id": worker.pk, "name": worker.name, "mobile": worker.masked_mobile, "employer": worker.employer,
        "membership_number": "",
    }
    assert "national_id" not in response.json()


def test_an_unknown_worker_is_404_in_the_error_shape(front_desk, worker):
    response = api(front_desk).get("/api/v1/workers/lookup/", {"q": "13999999999"})
    assert response.status_code == 404
    assert set(response.json()) == {"code", "message", "detail"}


# --- the API's own documents -------------------------------------------------------------------

def test_the_openapi_schema_describes_the_cases_endpoint():
    response = api().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/cases/"])
    assert "/api/v1/workers/lookup/" in schema["paths"]


def test_the_api_docs_load_nothing_from_another_host():
    response = api().get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert any("swagger-ui" in s for s in sources)
    assert all(s.startswith("/") for s in sources), sources
    assert "cdn" not in page.lower()
    assert "https://" not in page
    for src in re.findall(r'<script src="([^"]*)"', page):
        assert api().get(unescape(src)).status_code == 200, src  # the sidecar bundle and the start script


def test_the_api_docs_scripts_are_allowed_by_the_content_security_policy():
    """Swagger UI starts from an inline script: under `script-src 'self'` without its nonce,
    a browser blocks it and the docs page stays blank."""
    response = api().get("/api/docs/")

    script_src = re.search(r"script-src ([^;]*)", response["Content-Security-Policy"]).group(1).split()
    for tag in re.findall(r"<script\b[^>]*>", response.content.decode()):
        if "src=" in tag:
            continue
        nonce = re.search(r'nonce="([^"]+)"', tag)
        assert nonce and f"'nonce-{nonce.group(1)}'" in script_src, f"{tag} is blocked by script-src {script_src}"
