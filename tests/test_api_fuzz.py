"""The REST API's OpenAPI schema (drf-spectacular, /api/schema/) fuzzed with schemathesis, for
every operation and every role: no 5xx, every response as the schema says (status code, content
type, headers, body), and no response carries what belongs to a worker the actor has no business
with.

The data: the World of the isolation matrix (tests/isolation.py), where worker B (``owner``) has
a legal case with a hearing, a mutual-aid claim, counseling appointments and a group place, a
child at a care station and a matchmaking profile, each with its caseworker; plus records of
worker A (``stranger``) in legal aid, claims, counseling and childcare, each with another
caseworker. B's and A's names, mobile numbers, national ID numbers and case references, and the
World's private texts (SECRET, NOTE_SECRET, ...), are markers, each with the actors who may read
it; the check ``no_leak`` fails when any other actor's response carries one.

Every (operation, actor) pair is one test. The actor's signed-in session (with its CSRF token: the
API authenticates by session) sends to the WSGI application first the isolation matrix's requests
to that operation (B's objects, with valid data), then requests schemathesis generates from the
schema (valid and invalid ones), whose path ids are drawn from the World's objects of that path
(A's, B's, someone else's) and an id that names nothing.

Every example starts from the same data: the World is made once and committed, and each request
runs inside a savepoint that is rolled back once the response is in hand (as the isolation matrix
does per cell). A POST that closes B's case is never seen by the next example, so a failure does
not depend on what ran before it and reproduces alone. What would run after commit (SMS, websocket
pushes) never runs; the fuzzer does not need it.

Hypothesis is derandomized (the same examples on every run and in CI), with no example database,
no deadline and no shrinking (a failure is reported as found, with its curl command), and few
examples per pair, so that the whole file stays quick.
"""

import datetime
import functools
import re
from types import SimpleNamespace
from urllib.parse import parse_qsl

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.isolation import (
    ACTORS,
    CHILD_READERS,
    CHILD_SECRET,
    CLAIM_READERS,
    CLAIM_SECRET,
    CONTACT_READERS,
    COUNSEL_REASON_SECRET,
    COUNSELING_READERS,
    ENDPOINTS,
    MATCH_CONTACT,
    MATCH_READERS,
    MATCH_SECRET,
    NOTE_READERS,
    NOTE_SECRET,
    READERS,
    SECRET,
    SESSION_READERS,
    SESSION_SECRET,
    SURVEY_READERS,
    SURVEY_SECRET,
    World,
    readable,
)

APP = WSGIHandler()
SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", APP)
OPERATIONS = sorted((result.ok() for result in SCHEMA.get_all_operations()), key=lambda op: op.label)
EXAMPLES = 3
CSRF_TOKEN = "fuzzcsrf" * 4

# Worker B (the World's owner) and worker A (the stranger): what marks them and their records.
B_NAME, B_MOBILE = "贝蓓BWORKER7731", "+8613977770001"
A_NAME, A_MOBILE = "艾安AWORKER5520", "+8613966660002"
A_SECRET = "仲裁申请-A-SECRET-9917"


class FuzzWorld(World):
    """The isolation matrix's World, B and A marked, and A's own records."""

    def __init__(self):
        super().__init__()
        from care.models import OutboundSms, Worker

        for worker, name, mobile in ((self.owner, B_NAME, B_MOBILE), (self.stranger, A_NAME, A_MOBILE)):
            OutboundSms.objects.filter(to=worker.mobile).update(to=mobile)
            Worker.objects.filter(pk=worker.pk).update(name=name, mobile=mobile)
            worker.refresh_from_db()
        self._a_legal()
        self._a_claim()
        self._a_counseling()
        self._a_childcare()

    def _a_legal(self):
        from care.models import Stage
        from care.permissions import grant_case
        from legal.models import LegalCase, LegalState
        from tests.factories import CaseFactory

        officer = self.users["legal_other"]
        self.a_case = CaseFactory(worker=self.stranger, department="legal", stage=Stage.IN_PROGRESS,
                                  assignee=officer, description=A_SECRET)
        grant_case(case=self.a_case, user=officer)
        self.a_legal_case = LegalCase.objects.create(case=self.a_case, state=LegalState.COMMITTEE_ACCEPTED,
                                                     employer_name="青岛某港务有限公司",
                                                     dispute_date=timezone.localdate() - datetime.timedelta(days=30))

    def _a_claim(self):
        from tests.care.claims.helpers import enrol, file_claim, invoice, make_plan

        self.a_claim = file_claim(enrolment=enrol(self.stranger, make_plan()), diagnosis=A_SECRET,
                                  invoices=[invoice("ISO0000020", "1200.00")])

    def _a_counseling(self):
        from tests.counseling.helpers import SH, book, consent, counselor

        who = counselor(user=self.users["counselor_other"])
        consent(self.stranger)
        day = timezone.localdate() + datetime.timedelta(days=2)
        self.a_appointment = book(worker=self.stranger, counselor=who,
                                  starts_at=datetime.datetime.combine(day, datetime.time(9), tzinfo=SH))

    def _a_childcare(self):
        from childcare import services as care
        from childcare.models import ProgrammeKind, Station, today

        keeper = self.users["childcare_other"]
        station = Station.objects.get(coordinator=keeper)
        programme = care.programme_create(
            actor=keeper, station=station, name="暑期班", kind=ProgrammeKind.HOLIDAY, starts_on=today(),
            ends_on=today() + datetime.timedelta(days=30), weekdays="1234567", opens_at=datetime.time(0),
            closes_at=datetime.time(23, 59, 59), min_age=3, max_age=14, capacity=10, ratio=8)
        self.a_child = care.child_register(
            actor=self.stranger.user, guardian=self.stranger, name="小安", allergies=A_SECRET,
            date_of_birth=today().replace(year=today().year - 7, day=1),
            emergency_contacts=[{"name": "爷爷", "relation": "祖父", "mobile": "13900000003"}])
        self.a_enrolment = care.enrol(actor=self.stranger.user, child=self.a_child, programme=programme)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One FuzzWorld for every test, made once and committed (each example is rolled back), with
    a signed-in session per actor; the database is emptied after the last test."""
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client, override_settings

    from care.models import AuditChainHead
    from care.roles import sync_role_groups
    from tests.conftest import hall_test_settings

    with django_db_blocker.unblock(), override_settings(**hall_test_settings(settings)):
        sync_role_groups(apps)
        AuditChainHead.objects.get_or_create(pk=1)
        made = FuzzWorld()
        made.sessions = {}
        for actor, user in made.users.items():
            client = Client()
            client.force_login(user)
            made.sessions[actor] = client.cookies[settings.SESSION_COOKIE_NAME].value
        made.path_ids = _path_ids()
        made.markers = _markers(made)
    yield made
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


# The objects a path parameter names, by the path up to that parameter.
def _models() -> dict[str, type]:
    from care.claims.models import Claim, Receipt
    from care.models import Case, OutboundSms
    from childcare.models import Attendance, Child, Enrolment, PickupPerson
    from counseling.models import Appointment, GroupSession, GroupSignup
    from legal.models import Document, Hearing, LegalCase
    from matchmaking.models import Introduction, Profile, Report

    return {
        "/api/v1/cases/{id}": Case,
        "/api/v1/sms/outbox/{id}": OutboundSms,
        "/api/v1/claims/{id}": Claim,
        "/api/v1/claims/receipts/{receipt_id}": Receipt,
        "/api/v1/legal/cases/{id}": LegalCase,
        "/api/v1/legal/cases/{legal_case_id}": LegalCase,
        "/api/v1/legal/documents/{document_id}": Document,
        "/api/v1/legal/hearings/{hearing_id}": Hearing,
        "/api/v1/counseling/appointments/{id}": Appointment,
        "/api/v1/counseling/group-sessions/{id}": GroupSession,
        "/api/v1/counseling/group-places/{id}": GroupSignup,
        "/api/v1/childcare/children/{id}": Child,
        "/api/v1/childcare/pickup-persons/{id}": PickupPerson,
        "/api/v1/childcare/enrolments/{id}": Enrolment,
        "/api/v1/childcare/roster/{id}": Enrolment,
        "/api/v1/childcare/attendance/{id}": Attendance,
        "/api/v1/matchmaking/introductions/{id}": Introduction,
        "/api/v1/matchmaking/profiles/{id}": Profile,
        "/api/v1/matchmaking/reports/{id}": Report,
    }


def _path_ids() -> dict[str, list[int]]:
    """For each path up to a parameter: the ids of every such object, and one that does not exist."""
    found = {}
    for prefix, model in _models().items():
        ids = sorted(model.objects.values_list("pk", flat=True))
        found[prefix] = [*ids, (ids[-1] if ids else 0) + 1000]
    return found


def _parameter_prefix(path: str, name: str) -> str:
    return path[: path.index("{" + name + "}") + len(name) + 2]


# Who may read what marks B and A. Their name, mobile number and national ID number, and the
# reference of each of their cases, reach the worker themself, the front desk (who files for
# walk-ins and lists every case by who and department) and their caseworkers (of that case's
# department, for a reference); no other worker, nor a caseworker of someone else. A mobile number
# and a reference are also in the SMS outbox, which its keepers read.
B_CASEWORKERS = {"legal": {"legal_assignee", "arbitrator"}, "claims": {"claims_officer"}, "counseling": {"counselor"},
                 "childcare": {"childcare_staff"}, "matchmaking": {"matchmaker"}}
A_CASEWORKERS = {"legal": {"legal_other"}, "claims": {"claims_officer", "claims_reviewer"},
                 "counseling": {"counselor_other"}, "childcare": {"childcare_other"}}
OUTBOX = {"front_desk", "administrator"}
# A's private texts (the case's description, the claim's diagnosis, the child's allergies): A and
# the caseworkers of that record (A's claim waits in the claims queue, which all claims staff work).
A_SECRET_READERS = {"worker_stranger", "legal_other", "claims_officer", "claims_reviewer", "childcare_other"}


def _markers(world) -> list[tuple[re.Pattern, set[str], str]]:
    """(what to look for, who may read it, what it is)."""
    from care.models import Case

    def literal(text):
        return re.compile(re.escape(text))

    rules = [
        (literal(SECRET), READERS, "the legal case's private content"),
        (literal(NOTE_SECRET), NOTE_READERS, "a caseworker's note"),
        (literal(CLAIM_SECRET), CLAIM_READERS, "a claim's content"),
        (literal(SESSION_SECRET), SESSION_READERS, "a counseling session note"),
        (literal(COUNSEL_REASON_SECRET), COUNSELING_READERS, "a counseling appointment's reason"),
        (literal(CHILD_SECRET), CHILD_READERS, "a child's medical notes or incidents"),
        (literal(MATCH_SECRET), MATCH_READERS, "a matchmaking profile or report"),
        (literal(MATCH_CONTACT), CONTACT_READERS, "a member's contact"),
        (literal(SURVEY_SECRET), SURVEY_READERS, "a low rating's comment"),
        (literal(A_SECRET), A_SECRET_READERS, "A's private content"),
    ]
    for who, worker, actor, caseworkers in (("B", world.owner, "worker_owner", B_CASEWORKERS),
                                            ("A", world.stranger, "worker_stranger", A_CASEWORKERS)):
        readers = {actor, "front_desk"}.union(*caseworkers.values())
        rules += [
            (literal(worker.name), readers, f"{who}'s name"),
            (literal(worker.mobile.removeprefix("+86")), readers | OUTBOX, f"{who}'s mobile number"),
            (literal(worker.national_id), {actor}, f"{who}'s national ID number"),
        ]
        for case in Case.objects.filter(worker=worker):
            rules.append((re.compile(r"(?<![\w-])" + re.escape(case.reference) + r"(?![\w-])"),
                          {actor, "front_desk", *OUTBOX, *caseworkers.get(case.department, ())},
                          f"{who}'s {case.department} case {case.reference}"))
    return rules


def no_leak(world, actor: str):
    """A schemathesis check: no response carries what the actor may not read."""
    forbidden = [(pattern, what) for pattern, readers, what in world.markers if actor not in readers]

    def no_other_persons_data(ctx, response, case):
        body = readable(response.content)
        leaked = [what for pattern, what in forbidden if pattern.search(body)]
        if leaked:
            raise AssertionError(f"{actor} read {', '.join(leaked)}")
        return True

    return no_other_persons_data


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture(autouse=True)
def _base_data():
    """The roles and the audit chain's head are made once with the World (committed), not again
    for each test as tests/conftest.py does: that would take most of this file's time."""


@pytest.fixture(autouse=True)
def _in_process_requests():
    """Requests run in the test's transaction, as the test client does: a finished request must
    not close the database connection."""
    from django.core.signals import request_finished, request_started

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@functools.cache
def _requests(label: str):
    """What schemathesis generates for the operation: valid requests and invalid ones."""
    operation = SCHEMA.find_operation_by_label(label)
    return operation.as_strategy() | operation.as_strategy(schemathesis.GenerationMode.NEGATIVE)


def _matrix_requests(operation, world) -> list:
    """The isolation matrix's requests to the operation (tests/isolation.py ENDPOINTS): B's objects,
    with data the API takes. Every actor sends them too, before the generated ones."""
    ids = {name for name in re.findall(r"\{(\w+)\}", operation.path)
           if _parameter_prefix(operation.path, name) in world.path_ids}
    number, segment = r"\d+", "[^/]+"  # an object's id is a number: "/claims/cover/" is not "/claims/{id}/"
    template = re.compile("^" + re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m[1]}>{number if m[1] in ids else segment})",
                                       operation.path) + "$")
    media_types = [body.media_type for body in operation.body]
    cases = []
    for endpoint in ENDPOINTS:
        path, _, query = endpoint.url(world).partition("?")
        found = template.match(path)
        if endpoint.method != operation.method or not found or media_types and "application/json" not in media_types:
            continue
        cases.append(operation.Case(
            path_parameters={name: int(value) if name in ids else value for name, value in found.groupdict().items()},
            query=dict(parse_qsl(query)) or None,
            body=endpoint.payload(world) if media_types else NOT_SET,
            media_type="application/json" if media_types else None))
    return cases


CELLS = [pytest.param(op.label, actor, id=f"{op.label}|{actor}") for op in OPERATIONS for actor in ACTORS]


@pytest.mark.django_db
@pytest.mark.parametrize(("label", "actor"), CELLS)
def test_api_fuzz(label, actor, world):
    operation = SCHEMA.find_operation_by_label(label)
    cookies, headers = {"csrftoken": CSRF_TOKEN}, {"X-CSRFToken": CSRF_TOKEN}
    if actor != "anonymous":
        cookies["sessionid"] = world.sessions[actor]
    ids = {param.name: st.sampled_from(world.path_ids[prefix]) for param in operation.path_parameters
           if (prefix := _parameter_prefix(operation.path, param.name)) in world.path_ids}
    checks = [*CHECKS, no_leak(world, actor)]

    def fuzz(case, picks):
        case.path_parameters = {**(case.path_parameters or {}), **picks}
        with transaction.atomic():
            response = case.call(cookies=cookies, headers=headers)
            transaction.set_rollback(True)
        case.validate_response(response, checks=checks)

    for case in _matrix_requests(operation, world):
        fuzz = hypothesis.example(case=case, picks={})(fuzz)
    fuzz = hypothesis.given(case=_requests(label), picks=st.fixed_dictionaries(ids))(fuzz)
    hypothesis.settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                        phases=[Phase.explicit, Phase.generate],
                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])(fuzz)()


def test_every_object_named_in_a_path_has_its_ids():
    """A new operation whose path names an object needs its model in ``_models``, or the fuzzer
    would only ever send ids that name nothing."""
    unknown = {f"{op.label}: {param.name}" for op in OPERATIONS for param in op.path_parameters
               if _parameter_prefix(op.path, param.name) not in _models() and "enum" not in param.definition["schema"]}
    assert not unknown


# What proves the leak check can fail: a reader of each kind sees its marker where the API shows it.
SEEN_BY_READERS = [
    ("front_desk", "/api/v1/case-summaries/", ["B's name", "A's name", "B's legal case", "A's claims case"]),
    ("front_desk", "/api/v1/sms/outbox/", ["B's mobile number"]),
    ("legal_assignee", "/api/v1/legal/cases/", ["B's name", "the legal case's private content"]),
    ("worker_stranger", "/api/v1/cases/", ["A's name", "A's private content", "A's legal case"]),
    ("claims_officer", "/api/v1/claims/", ["B's claims case", "A's claims case"]),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("actor", "url", "expected"), SEEN_BY_READERS)
def test_the_leak_check_would_see_a_leak(actor, url, expected, world):
    from django.test import Client

    client = Client()
    client.force_login(world.users[actor])
    body = readable(client.get(url).content)
    seen = {what for pattern, _readers, what in world.markers if pattern.search(body)}
    assert all(any(what.startswith(marker) for what in seen) for marker in expected), seen
    # The same answer, had another worker received it, fails the check.
    other = "worker_owner" if actor == "worker_stranger" else "worker_stranger"
    with pytest.raises(AssertionError, match=f"{other} read"):
        no_leak(world, other)(None, SimpleNamespace(content=body.encode()), None)
