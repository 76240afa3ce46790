"""The REST API of group sessions and workshops under /api/v1/counseling/: the upcoming list
(public fields and seats left), the worker's sign-up (a seat, then the waitlist) and own
places, giving a place back (the next promoted, with an SMS), and for the facilitator:
scheduling, the roster, attendance and cancelling. Anyone else finds nothing (404) and changes
nothing; refusals in the one error shape."""

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from care.models import AuditEvent, Case, OutboundSms, Survey
from care.roles import Role
from counseling import services
from counseling.models import GroupSession, GroupSignup, SignupState
from tests.counseling.helpers import (
    at,
    book,
    consenting_worker,
    counselor,
    freeze,
    group_service,
    group_session,
    room,
)
from tests.factories import WorkerFactory, staff

pytestmark = pytest.mark.django_db

ROOT = "/api/v1/counseling/"
SESSIONS = f"{ROOT}group-sessions/"
PLACES = f"{ROOT}group-places/"
SESSION_FIELDS = {"id", "title", "kind", "kind_label", "starts_at", "ends_at", "room", "cancelled_at", "description",
                  "capacity", "seats_left", "waiting"}
PLACE_FIELDS = {"id", "reference", "state", "state_label", "waitlist_position", "session", "queued_at", "promoted_at",
                "cancelled_at"}
ROSTER_FIELDS = {"id", "reference", "worker_name", "state", "state_label", "waitlist_position", "queued_at",
                 "promoted_at", "cancelled_at"}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def clock(monkeypatch):
    return freeze(monkeypatch)  # Monday 2026-03-02 08:00, Asia/Shanghai


@pytest.fixture
def leader(clock):
    return counselor()


def api(user=None, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user)
    return client


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def sign_up(session) -> str:
    return f"{SESSIONS}{session.pk}/sign-up/"


def roster(session) -> str:
    return f"{SESSIONS}{session.pk}/roster/"


def session_cancel(session) -> str:
    return f"{SESSIONS}{session.pk}/cancel/"


def place_cancel(place) -> str:
    return f"{PLACES}{place['id'] if isinstance(place, dict) else place.pk}/cancel/"


def attendance(place) -> str:
    return f"{PLACES}{place['id'] if isinstance(place, dict) else place.pk}/attendance/"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == code and body["message"]
    return body


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def state(signup_id: int) -> str:
    return GroupSignup.objects.get(pk=signup_id).state


def sms(template: str) -> list[OutboundSms]:
    return list(OutboundSms.objects.filter(template=template).order_by("pk"))


def snapshot():
    return (list(GroupSignup.objects.order_by("pk").values_list("state", flat=True)),
            list(GroupSession.objects.order_by("pk").values_list("cancelled_at", flat=True)),
            Case.objects.count(), OutboundSms.objects.count(),
            AuditEvent.objects.exclude(event_type__endswith="viewed").count())


def join(session, worker) -> dict:
    response = post(api(worker.user), sign_up(session))
    assert response.status_code == 201, response.content
    return response.json()


def schedule(**changes) -> dict:
    return {"service": group_service(kind="workshop").pk, "room": room("3号室").pk,
            "starts_at": at(2, 14).isoformat(), "ends_at": at(2, 15, 30).isoformat(), "capacity": 12,
            "title": "午间减压工作坊", "description": "带上瑜伽垫", **changes}


# --- the list ----------------------------------------------------------------------------------


def test_the_upcoming_sessions_with_their_seats_and_no_names(clock, leader):
    workshop = group_session(facilitator=leader, starts_at=at(1, 14), capacity=2, kind="workshop", title="减压")
    full = group_session(facilitator=leader, starts_at=at(2, 9), capacity=1, title="情绪小组")
    join(workshop, consenting_worker())
    join(full, consenting_worker())
    join(full, consenting_worker())
    cancelled = group_session(facilitator=leader, starts_at=at(3, 9))
    services.group_session_cancel(actor=leader, session=cancelled)
    started = group_session(facilitator=leader, starts_at=at(0, 9))
    clock.set(at(0, 9, 30))

    rows = results(api(consenting_worker().user).get(SESSIONS))

    assert [row["id"] for row in rows] == [workshop.pk, full.pk]  # neither cancelled nor started
    assert started.pk not in {row["id"] for row in rows}
    assert all(set(row) == SESSION_FIELDS for row in rows)
    first = rows[0]
    assert (first["title"], first["kind"], first["kind_label"]) == ("减压", "workshop", "Stress-relief workshop")
    assert (first["starts_at"], first["ends_at"]) == (at(1, 14).isoformat(), at(1, 16).isoformat())
    assert (first["room"], first["capacity"], first["seats_left"], first["waiting"]) == (
        workshop.room.name, 2, 1, 0)
    assert (rows[1]["kind"], rows[1]["seats_left"], rows[1]["waiting"]) == ("group", 0, 1)
    assert leader.username not in str(rows)


def test_the_list_is_for_those_who_sign_up_and_the_counselors(leader):
    group_session(facilitator=leader, starts_at=at(1, 14))
    for user, expected in ((staff(Role.FRONT_DESK), 200), (counselor(), 200),
                           (staff(Role.CLAIMS_OFFICER, "claims"), 403), (staff(Role.CENTER_MANAGER), 403)):
        response = api(user).get(SESSIONS)
        assert response.status_code == expected, user
        if expected == 403:
            assert_error(response, 403, "forbidden")


# --- signing up --------------------------------------------------------------------------------


def test_sign_up_a_seat_then_the_waitlist(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    first, second = consenting_worker(), consenting_worker()

    seat = post(api(first.user), sign_up(session))

    assert seat.status_code == 201, seat.content
    body = seat.json()
    signup = GroupSignup.objects.get(worker=first)
    assert set(body) == PLACE_FIELDS
    assert (body["id"], body["reference"], body["state"], body["waitlist_position"]) == (
        signup.pk, signup.case.reference, "booked", None)
    assert body["session"] == {"id": session.pk, "title": "正念减压", "kind": "group", "kind_label": "Group session",
                               "starts_at": at(1, 14).isoformat(), "ends_at": at(1, 16).isoformat(),
                               "room": session.room.name, "cancelled_at": None}
    again = post(api(first.user), sign_up(session))
    assert again.status_code == 200 and again.json()["id"] == signup.pk

    waiting = join(session, second)

    assert (waiting["state"], waiting["state_label"], waiting["waitlist_position"]) == (
        "waitlisted", "On the waitlist", 1)
    assert [m.worker_id for m in sms("group_booked")] == [first.pk]
    assert [m.worker_id for m in sms("group_waitlisted")] == [second.pk]


def test_a_group_session_needs_the_consent_a_workshop_does_not(leader):
    group = group_session(facilitator=leader, starts_at=at(1, 9), kind="group")
    workshop = group_session(facilitator=leader, starts_at=at(1, 14), kind="workshop")
    worker = WorkerFactory()
    client = api(worker.user)
    before = snapshot()

    body = assert_error(post(client, sign_up(group)), 409, "invalid_state")

    assert body["detail"] == {"consent": "missing"}
    assert snapshot() == before
    assert post(client, sign_up(workshop)).status_code == 201
    assert post(client, f"{ROOT}consent/").status_code == 201
    assert post(client, sign_up(group)).status_code == 201


def test_sign_up_is_closed_once_started(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14))
    clock.set(at(1, 14, 5))
    worker = consenting_worker()

    body = assert_error(post(api(worker.user), sign_up(session)), 409, "invalid_state")
    assert body["message"] == "This session has already started: sign-up is closed."
    assert not GroupSignup.objects.exists()


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.CENTER_MANAGER, Role.CLAIMS_OFFICER])
def test_only_a_worker_signs_up_through_the_api(leader, role):
    session = group_session(facilitator=leader, starts_at=at(1, 14))
    before = snapshot()
    assert_error(post(api(staff(role)), sign_up(session)), 403, "forbidden")
    assert_error(post(api(leader), sign_up(session)), 403, "forbidden")
    assert snapshot() == before


def test_signing_up_for_a_session_that_does_not_exist_is_404(leader):
    assert_error(post(api(consenting_worker().user), f"{SESSIONS}999999/sign-up/"), 404, "not_found")


# --- the worker's places -----------------------------------------------------------------------


def test_each_worker_lists_only_their_own_places(leader):
    early = group_session(facilitator=leader, starts_at=at(1, 9))
    late = group_session(facilitator=leader, starts_at=at(2, 9))
    mine, theirs = consenting_worker(), consenting_worker()
    second = join(late, mine)
    first = join(early, mine)
    other = join(early, theirs)

    rows = results(api(mine.user).get(PLACES))

    assert [row["id"] for row in rows] == [first["id"], second["id"]]  # soonest session first
    assert all(set(row) == PLACE_FIELDS for row in rows)
    assert [row["id"] for row in results(api(theirs.user).get(PLACES))] == [other["id"]]
    for user in (leader, staff(Role.FRONT_DESK), staff(Role.CENTER_MANAGER)):
        assert results(api(user).get(PLACES)) == []


def test_a_seat_given_back_goes_to_the_first_of_the_waitlist(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    first, second, third = consenting_worker(), consenting_worker(), consenting_worker()
    seat, waiting, last = join(session, first), join(session, second), join(session, third)

    response = post(api(first.user), place_cancel(seat))

    assert response.status_code == 200, response.content
    assert set(response.json()) == PLACE_FIELDS and response.json()["state"] == "cancelled"
    assert (state(waiting["id"]), state(last["id"])) == (SignupState.BOOKED, SignupState.WAITLISTED)
    assert [m.worker_id for m in sms("group_promoted")] == [second.pk]
    assert not sms("group_cancelled")  # the worker gave it back themselves: no SMS to them
    assert results(api(third.user).get(PLACES))[0]["waitlist_position"] == 1


def test_nobody_else_cancels_a_place_and_nothing_changes(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14))
    place = join(session, consenting_worker())
    before = snapshot()
    for user in (consenting_worker().user, counselor(), staff(Role.FRONT_DESK), staff(Role.CENTER_MANAGER)):
        assert_error(post(api(user), place_cancel(place)), 404, "not_found")
    assert_error(post(api(consenting_worker().user), f"{PLACES}999999/cancel/"), 404, "not_found")
    assert snapshot() == before


def test_a_worker_cannot_give_back_once_started(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14))
    worker = consenting_worker()
    place = join(session, worker)
    clock.set(at(1, 14, 5))
    assert_error(post(api(worker.user), place_cancel(place)), 409, "invalid_state")
    assert state(place["id"]) == SignupState.BOOKED


# --- the facilitator ---------------------------------------------------------------------------


def test_the_facilitator_schedules_a_session(leader):
    response = post(api(leader), SESSIONS, schedule())

    assert response.status_code == 201, response.content
    session = GroupSession.objects.get()
    body = response.json()
    assert set(body) == SESSION_FIELDS
    assert (body["id"], body["title"], body["description"], body["kind"]) == (
        session.pk, "午间减压工作坊", "带上瑜伽垫", "workshop")
    assert (body["capacity"], body["seats_left"], body["waiting"], body["room"]) == (12, 12, 0, "3号室")
    assert (session.facilitator, session.starts_at, session.ends_at) == (leader, at(2, 14), at(2, 15, 30))


@pytest.mark.parametrize(("changes", "status", "field"), [
    ({"capacity": 0}, 400, "capacity"),
    ({"capacity": "x"}, 400, "capacity"),
    ({"title": "  "}, 400, "title"),
    ({"ends_at": at(2, 13).isoformat()}, 400, "ends_at"),
    ({"starts_at": at(-1, 9).isoformat(), "ends_at": at(-1, 10).isoformat()}, 400, "starts_at"),
    ({"service": 999999}, 400, "service"),
    ({"room": 999999}, 400, "room"),
    ({"starts_at": "tomorrow"}, 400, "starts_at"),
])
def test_bad_session_input_is_400_and_schedules_nothing(leader, changes, status, field):
    body = assert_error(post(api(leader), SESSIONS, schedule(**changes)), status, "invalid")
    assert field in body["detail"]
    assert not GroupSession.objects.exists()


def test_a_time_already_taken_is_409(leader):
    book(worker=consenting_worker(), counselor=leader, starts_at=at(2, 14))
    body = assert_error(post(api(leader), SESSIONS, schedule()), 409, "invalid_state")
    assert body["detail"] == {"starts_at": "taken"}
    assert not GroupSession.objects.exists()


@pytest.mark.parametrize("role", [Role.WORKER, Role.FRONT_DESK, Role.CENTER_MANAGER])
def test_only_a_counselor_schedules(leader, role):
    user = consenting_worker().user if role == Role.WORKER else staff(role)
    assert_error(post(api(user), SESSIONS, schedule()), 403, "forbidden")
    assert not GroupSession.objects.exists()


def test_the_roster_for_the_facilitator_only(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    workers = [consenting_worker(name=name) for name in ("王秀英", "李建国", "张伟")]
    places = [join(session, worker) for worker in workers]

    rows = results(api(leader).get(roster(session)))

    assert [row["id"] for row in rows] == [place["id"] for place in places]
    assert all(set(row) == ROSTER_FIELDS for row in rows)
    assert [(row["worker_name"], row["state"], row["waitlist_position"]) for row in rows] == [
        ("王秀英", "booked", None), ("李建国", "waitlisted", 1), ("张伟", "waitlisted", 2)]
    for user in (counselor(), staff(Role.CENTER_MANAGER), workers[0].user, staff(Role.FRONT_DESK)):
        assert_error(api(user).get(roster(session)), 404, "not_found")


def test_attendance_once_started_by_the_facilitator(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=2)
    came_worker = consenting_worker()
    came, missed = join(session, came_worker), join(session, consenting_worker())
    assert_error(post(api(leader), attendance(came), {"attended": True}), 409, "invalid_state")
    clock.set(at(1, 16))
    client = api(leader)
    before = snapshot()
    for user in (counselor(), staff(Role.CENTER_MANAGER), staff(Role.FRONT_DESK)):
        assert_error(post(api(user), attendance(came), {"attended": True}), 404, "not_found")
    assert_error(post(api(came_worker.user), attendance(came), {"attended": True}), 403, "forbidden")
    assert "attended" in assert_error(post(client, attendance(came)), 400, "invalid")["detail"]
    assert snapshot() == before

    response = post(client, attendance(came), {"attended": True})

    assert response.status_code == 200, response.content
    assert set(response.json()) == ROSTER_FIELDS and response.json()["state"] == "attended"
    assert post(client, attendance(missed), {"attended": False}).json()["state"] == "absent"
    assert [s.case_id for s in Survey.objects.all()] == [GroupSignup.objects.get(pk=came["id"]).case_id]


def test_the_facilitator_cancels_a_place_and_the_worker_is_told(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    worker = consenting_worker(name="王秀英")
    place = join(session, worker)

    response = post(api(leader), place_cancel(place))

    assert response.status_code == 200, response.content
    assert set(response.json()) == ROSTER_FIELDS and response.json()["worker_name"] == "王秀英"
    assert [m.worker_id for m in sms("group_cancelled")] == [worker.pk]


def test_the_facilitator_cancels_the_session(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    places = [join(session, consenting_worker()) for _ in range(2)]
    before = snapshot()
    for user in (counselor(), staff(Role.CENTER_MANAGER), consenting_worker().user):
        assert_error(post(api(user), session_cancel(session)), 404, "not_found")
    assert snapshot() == before

    response = post(api(leader), session_cancel(session))

    assert response.status_code == 200, response.content
    assert response.json()["cancelled_at"] is not None and set(response.json()) == SESSION_FIELDS
    assert {state(place["id"]) for place in places} == {SignupState.CANCELLED}
    assert len(sms("group_cancelled")) == 2
    assert post(api(leader), session_cancel(session)).status_code == 200  # already cancelled: the same


def test_a_started_session_cannot_be_cancelled(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14))
    clock.set(at(1, 14, 5))
    assert_error(post(api(leader), session_cancel(session)), 409, "invalid_state")
    assert GroupSession.objects.get().cancelled_at is None


# --- anonymous ---------------------------------------------------------------------------------


def test_anonymous_gets_nothing(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14))
    place = join(session, consenting_worker())
    before = snapshot()
    client = api()
    calls = [client.get(SESSIONS), client.get(PLACES), client.get(roster(session)),
             post(client, SESSIONS, schedule()), post(client, sign_up(session)), post(client, session_cancel(session)),
             post(client, place_cancel(place)), post(client, attendance(place), {"attended": True})]
    for response in calls:
        assert response.status_code in (401, 403), response.content
        assert set(response.json()) == {"code", "message", "detail"}
    assert snapshot() == before
