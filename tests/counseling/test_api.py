"""The counseling REST API under /api/v1/counseling/: services, counselors and free times;
the worker's own consent; booking (with its refusals in the one error shape), the user's own
appointments, the steps, cancelling and moving; nobody else finds an appointment, and nothing
private (the reason for cancelling, anyone else's consent) reaches the worker or anyone else."""

import datetime

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from care.models import AuditEvent, Case, OutboundSms
from care.roles import Role
from counseling import services
from counseling.models import (
    Appointment,
    AppointmentState,
    CounselorProfile,
    HealthConsent,
    Mode,
    ServiceKind,
)
from tests.counseling.helpers import at, book, consenting_worker, counselor, freeze, room, service
from tests.factories import WorkerFactory, staff

pytestmark = pytest.mark.django_db

ROOT = "/api/v1/counseling/"
LIST = f"{ROOT}appointments/"
SLOTS = f"{ROOT}slots/"
CONSENT = f"{ROOT}consent/"
WORKER_FIELDS = {"id", "reference", "state", "state_label", "service", "counselor", "mode", "mode_label", "where",
                 "starts_at", "ends_at", "replaces", "replaced_by", "checked_in_at", "cancelled_at"}
COUNSELOR_ONLY = {"worker_name", "cancel_reason"}
REASON = "家里有事-REASON-SECRET-3317"


def api(user=None, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user)
    return client


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def detail(appointment) -> str:
    return f"{LIST}{appointment.pk}/"


def step(appointment, name: str) -> str:
    return f"{LIST}{appointment.pk}/transitions/{name}/"


def reschedule(appointment) -> str:
    return f"{LIST}{appointment.pk}/reschedule/"


def fresh(appointment) -> Appointment:
    return Appointment.objects.get(pk=appointment.pk)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def starts(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["starts_at"] for row in response.json()]


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == code
    assert body["message"]
    return body


def snapshot():
    return (list(Appointment.objects.order_by("pk").values_list("state", "starts_at", "cancel_reason")),
            Case.objects.count(), OutboundSms.objects.count(),
            AuditEvent.objects.exclude(event_type__endswith="viewed").count())


@pytest.fixture
def clock(monkeypatch):
    return freeze(monkeypatch)  # Monday 2026-03-02 08:00, Asia/Shanghai


@pytest.fixture
def world(clock):
    """A counselor (and a colleague), one room, a service, a worker with an appointment tomorrow
    at 10:00 in that room, another worker who has consented, the front desk, a claims officer."""
    the_counselor = counselor()
    the_room = room("1号室")
    the_service = service()
    worker = consenting_worker(name="王秀英")
    appointment = book(worker=worker, counselor=the_counselor, starts_at=at(1, 10), service_=the_service,
                       room_=the_room)
    return {
        "counselor": the_counselor, "room": the_room, "service": the_service, "worker": worker,
        "appointment": appointment, "other_worker": consenting_worker(), "other_counselor": counselor(),
        "desk": staff(Role.FRONT_DESK), "claims": staff(Role.CLAIMS_OFFICER, "claims"),
    }


def booking(world, when, **changes) -> dict:
    return {"service": world["service"].pk, "counselor": world["counselor"].pk, "mode": Mode.IN_PERSON,
            "starts_at": when.isoformat(), **changes}


def strangers(world):
    return [world["other_worker"].user, world["other_counselor"], world["desk"], world["claims"]]


# --- services, counselors, free times ----------------------------------------------------------


def test_services_are_the_active_individual_ones(world):
    service(active=False)
    service(kind=ServiceKind.GROUP)

    response = api(world["worker"].user).get(f"{ROOT}services/")

    assert response.status_code == 200
    assert response.json() == [{"id": world["service"].pk, "code": world["service"].code, "name": "个体咨询"}]


def test_counselors_show_a_name_and_the_ways_they_meet_and_nothing_personal(world):
    phone_only = counselor(modes=(Mode.PHONE,))
    phone_only.first_name, phone_only.last_name, phone_only.email = "芳", "李", "li.fang@example.org"
    phone_only.save()
    resting = counselor()
    CounselorProfile.objects.filter(user=resting).update(active=False)

    response = api(world["worker"].user).get(f"{ROOT}counselors/")

    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()}
    assert set(rows) == {world["counselor"].pk, world["other_counselor"].pk, phone_only.pk}
    assert all(set(row) == {"id", "name", "modes", "session_minutes"} for row in rows.values())
    assert rows[phone_only.pk]["modes"] == ["phone"] and rows[phone_only.pk]["name"] == phone_only.get_full_name()
    assert rows[world["counselor"].pk]["modes"] == ["in_person", "phone", "video"]
    assert rows[world["counselor"].pk]["session_minutes"] == 50
    assert "example.org" not in str(response.json()) and phone_only.username not in str(response.json())


def test_free_slots_of_a_day(world):
    client = api(world["worker"].user)
    tomorrow = {"counselor": world["counselor"].pk, "mode": Mode.IN_PERSON, "day": at(1, 0).date().isoformat(),
                "days": 1}

    response = client.get(SLOTS, tomorrow)

    assert starts(response) == [at(1, h).isoformat() for h in (9, 11, 14, 15, 16)]  # 10:00 is booked
    assert response.json()[0] == {"starts_at": at(1, 9).isoformat(), "ends_at": at(1, 9, 50).isoformat()}
    # today: nothing inside the two hours' notice (it is 08:00); by default 14 days
    today = starts(client.get(SLOTS, {"counselor": world["counselor"].pk, "mode": Mode.PHONE}))
    assert today[:2] == [at(0, 10).isoformat(), at(0, 11).isoformat()]
    # 14 days × 6 slots, less 09:00 today (inside the notice) and the counselor's 10:00 tomorrow
    assert today[-1] == at(13, 16).isoformat() and len(today) == 14 * 6 - 2


def test_in_person_a_time_is_free_only_if_a_room_is_free_too(world):
    """The only room is taken tomorrow at 14:00 by the colleague: in person the counselor has no
    14:00, by phone they have."""
    book(worker=world["other_worker"], counselor=world["other_counselor"], starts_at=at(1, 14),
         room_=world["room"])
    query = {"counselor": world["counselor"].pk, "day": at(1, 0).date().isoformat(), "days": 1}
    client = api(world["worker"].user)

    assert at(1, 14).isoformat() not in starts(client.get(SLOTS, {**query, "mode": Mode.IN_PERSON}))
    assert at(1, 14).isoformat() in starts(client.get(SLOTS, {**query, "mode": Mode.PHONE}))
    room("2号室")
    assert at(1, 14).isoformat() in starts(client.get(SLOTS, {**query, "mode": Mode.IN_PERSON}))


@pytest.mark.parametrize(("query", "field"), [
    ({"days": 15}, "days"),
    ({"days": 0}, "days"),
    ({"day": "02/03/2026"}, "day"),
    ({"mode": "letter"}, "mode"),
    ({"counselor": "one"}, "counselor"),
])
def test_bad_slot_queries_are_400(world, query, field):
    params = {"counselor": world["counselor"].pk, "mode": Mode.PHONE, **query}

    body = assert_error(api(world["worker"].user).get(SLOTS, params), 400, "invalid")

    assert field in body["detail"]


def test_slots_of_someone_not_bookable_or_a_way_not_offered_are_refused(world):
    client = api(world["worker"].user)
    phone_only = counselor(modes=(Mode.PHONE,))

    body = assert_error(client.get(SLOTS, {"counselor": world["claims"].pk, "mode": Mode.PHONE}), 400, "invalid")
    assert (body["message"], body["detail"]) == ("Choose a counselor from the list.", {"counselor": "invalid"})
    body = assert_error(client.get(SLOTS, {"counselor": phone_only.pk, "mode": Mode.IN_PERSON}), 400, "invalid")
    assert body["detail"] == {"mode": "invalid"}


def test_the_catalogue_is_for_those_who_book_and_the_counselors(world):
    for user, expected in ((world["desk"], 200), (world["other_counselor"], 200), (world["claims"], 403),
                           (staff(Role.CENTER_MANAGER), 403)):
        client = api(user)
        for url in (f"{ROOT}services/", f"{ROOT}counselors/"):
            assert client.get(url).status_code == expected, (user.username, url)
        response = client.get(SLOTS, {"counselor": world["counselor"].pk, "mode": Mode.PHONE})
        assert response.status_code == expected
        if expected == 403:
            assert_error(response, 403, "forbidden")


# --- consent -----------------------------------------------------------------------------------


def test_the_worker_gives_and_withdraws_their_consent(clock):
    worker = WorkerFactory()
    client = api(worker.user)

    assert client.get(CONSENT).json() == {"given": False, "text_version": None, "given_at": None,
                                          "current_version": "2026-1"}
    given = post(client, CONSENT)
    assert given.status_code == 201, given.content
    assert given.json()["given"] is True and given.json()["text_version"] == "2026-1"
    assert post(client, CONSENT).status_code == 200  # already given: nothing new
    assert HealthConsent.objects.filter(worker=worker).count() == 1
    assert client.get(CONSENT).json()["given"] is True

    withdrawn = client.delete(CONSENT)

    assert withdrawn.status_code == 200 and withdrawn.json()["given"] is False
    assert HealthConsent.objects.get(worker=worker).withdrawn_at is not None
    assert client.delete(CONSENT).json()["given"] is False  # nothing to withdraw: the same answer
    assert AuditEvent.objects.filter(event_type="counseling.consent_withdrawn").count() == 1


@pytest.mark.parametrize("who", ["counselor", "desk", "claims"])
def test_consent_is_only_the_workers_own(world, who):
    client = api(world[who])
    before = HealthConsent.objects.count()

    for response in (client.get(CONSENT), post(client, CONSENT), client.delete(CONSENT)):
        body = assert_error(response, 403, "forbidden")
        assert "2026-1" not in str(body)
    assert HealthConsent.objects.count() == before
    assert HealthConsent.objects.get(worker=world["worker"]).withdrawn_at is None


def test_no_appointment_shows_the_consent(world):
    for user in (world["worker"].user, world["counselor"]):
        body = api(user).get(detail(world["appointment"])).json()
        assert "consent" not in str(body).lower() and "2026-1" not in str(body)


# --- booking -----------------------------------------------------------------------------------


def test_a_worker_books_through_the_api(world):
    worker = world["other_worker"]
    before = OutboundSms.objects.filter(worker=worker).count()

    response = post(api(worker.user), LIST, booking(world, at(2, 14)))

    assert response.status_code == 201, response.content
    body = response.json()
    appointment = Appointment.objects.get(case__worker=worker)
    assert set(body) == WORKER_FIELDS
    assert (body["id"], body["reference"], body["state"]) == (appointment.pk, appointment.case.reference, "requested")
    assert body["starts_at"] == at(2, 14).isoformat() and body["ends_at"] == at(2, 14, 50).isoformat()
    assert body["counselor"] == {"id": world["counselor"].pk, "name": world["counselor"].username}
    assert body["service"] == {"id": world["service"].pk, "code": world["service"].code, "name": "个体咨询"}
    assert (body["mode"], body["where"]) == ("in_person", "room 1号室")
    assert (body["replaces"], body["replaced_by"]) == (None, None)
    assert appointment.room == world["room"] and appointment.counselor == world["counselor"]
    [message] = OutboundSms.objects.filter(worker=worker)[before:]  # told by SMS, as the page does
    assert message.template == "appointment_booked" and appointment.case.reference in message.body


def test_a_worker_books_by_phone_without_a_room(world):
    response = post(api(world["other_worker"].user), LIST, booking(world, at(2, 9), mode=Mode.PHONE))

    assert response.status_code == 201, response.content
    assert response.json()["where"] == "by phone (we will call you)"
    assert Appointment.objects.get(pk=response.json()["id"]).room is None


def test_booking_without_consent_is_refused(world):
    worker = WorkerFactory()
    before = snapshot()

    body = assert_error(post(api(worker.user), LIST, booking(world, at(2, 14))), 409, "invalid_state")

    assert body["detail"] == {"consent": "missing"}
    assert body["message"].startswith("Before a first appointment")
    assert snapshot() == before


def test_a_taken_slot_is_refused_in_the_users_language(world):
    """The only room and the counselor are taken tomorrow at 10:00."""
    before = snapshot()

    response = post(api(world["other_worker"].user, language="zh-hans"), LIST, booking(world, at(1, 10)))

    body = assert_error(response, 409, "invalid_state")
    assert (body["message"], body["detail"]) == ("该时段刚刚已被预约，请选择其他空闲时段。", {"starts_at": "taken"})
    assert snapshot() == before


@pytest.mark.parametrize(("changes", "status", "detail"), [
    ({"starts_at": "2026-03-03T10:30:00+08:00"}, 400, {"starts_at": "not_a_slot"}),
    ({"starts_at": "2026-03-03T07:00:00+08:00"}, 400, {"starts_at": "not_a_slot"}),
    ({"starts_at": "2026-03-02T09:00:00+08:00"}, 400, {"starts_at": "notice"}),
    ({"service": 999999}, 400, {"service": "invalid"}),
    ({"counselor": 999999}, 400, {"counselor": "invalid"}),
    ({"mode": "letter"}, 400, None),
    ({"starts_at": "tomorrow"}, 400, None),
])
def test_refused_bookings_change_nothing(world, changes, status, detail):
    before = snapshot()

    response = post(api(world["other_worker"].user), LIST, booking(world, at(2, 14), **changes))

    body = assert_error(response, status, "invalid")
    if detail is not None:
        assert body["detail"] == detail
    else:
        assert set(changes) <= set(body["detail"])
    assert snapshot() == before


def test_not_a_slot_says_so(world):
    body = assert_error(post(api(world["other_worker"].user), LIST,
                             booking(world, at(2, 14, 30))), 400, "invalid")
    assert body["message"] == "Choose one of the free times offered."


@pytest.mark.parametrize("who", ["counselor", "desk", "claims"])
def test_staff_book_nothing_through_the_api(world, who):
    before = snapshot()

    assert_error(post(api(world[who]), LIST, booking(world, at(2, 14))), 403, "forbidden")

    assert snapshot() == before


# --- reading -----------------------------------------------------------------------------------


def test_each_user_lists_only_their_own(world):
    mine = world["appointment"]
    theirs = book(worker=world["other_worker"], counselor=world["other_counselor"], starts_at=at(1, 10),
                  mode=Mode.PHONE)

    assert ids(api(world["worker"].user).get(LIST)) == [mine.pk]
    assert ids(api(world["counselor"]).get(LIST)) == [mine.pk]
    assert ids(api(world["other_worker"].user).get(LIST)) == [theirs.pk]
    assert ids(api(world["other_counselor"]).get(LIST)) == [theirs.pk]
    for user in (world["desk"], world["claims"], staff(Role.CENTER_MANAGER)):
        assert ids(api(user).get(LIST)) == []


def test_the_list_is_paginated_and_filters_by_state(world):
    worker, client = world["worker"], api(world["worker"].user)
    services.appointment_transition(appointment=world["appointment"], actor=worker.user, transition="cancel")
    later = book(worker=worker, counselor=world["counselor"], starts_at=at(3, 9), mode=Mode.VIDEO)

    response = client.get(LIST)

    assert set(response.json()) == {"count", "next", "previous", "results"}
    assert response.json()["count"] == 2 and ids(response) == [world["appointment"].pk, later.pk]
    assert ids(client.get(LIST, {"state": "cancelled"})) == [world["appointment"].pk]
    assert ids(client.get(LIST, {"state": "requested"})) == [later.pk]
    assert all(set(row) == WORKER_FIELDS for row in response.json()["results"])


def test_the_worker_and_the_counselor_read_the_appointment(world):
    a = world["appointment"]

    worker_view = api(world["worker"].user).get(detail(a))
    counselor_view = api(world["counselor"]).get(detail(a))

    assert worker_view.status_code == 200 and set(worker_view.json()) == WORKER_FIELDS
    assert counselor_view.status_code == 200 and set(counselor_view.json()) == WORKER_FIELDS | COUNSELOR_ONLY
    assert counselor_view.json()["worker_name"] == "王秀英"
    assert worker_view.json()["where"] == "room 1号室"
    assert worker_view.json()["state_label"] == "Requested"


def test_nobody_else_finds_the_appointment_and_nothing_changes(world):
    a = world["appointment"]
    before = snapshot()

    for user in strangers(world):
        client = api(user)
        assert_error(client.get(detail(a)), 404, "not_found")
        for name in ("cancel", "confirm", "no_show"):
            assert_error(post(client, step(a, name), {"reason": "x"}), 404, "not_found")
        assert_error(post(client, reschedule(a), {"starts_at": at(2, 10).isoformat()}), 404, "not_found")
    assert_error(api(world["worker"].user).get(f"{LIST}{a.pk + 1000}/"), 404, "not_found")  # absent alike

    assert snapshot() == before


# --- steps -------------------------------------------------------------------------------------


def test_the_counselor_steps_through_the_lifecycle(world, clock):
    a, client = world["appointment"], api(world["counselor"])

    confirmed = post(client, step(a, "confirm"))
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["state"] == "confirmed" and "worker_name" in confirmed.json()
    assert_error(post(client, step(a, "complete")), 409, "invalid_state")  # not checked in
    clock.set(at(1, 9, 55))
    client = api(world["counselor"])  # signed in again: sessions last eight hours
    assert post(client, step(a, "check_in")).json()["state"] == "checked_in"
    assert_error(post(client, step(a, "complete")), 409, "invalid_state")  # not started yet
    clock.set(at(1, 10, 50))
    response = post(client, step(a, "complete"))
    assert response.status_code == 200 and response.json()["state"] == "completed"
    assert fresh(a).state == AppointmentState.COMPLETED
    assert fresh(a).case.closed_at is not None


def test_the_worker_cancels_and_the_reason_is_the_counselors_to_read(world):
    a = world["appointment"]
    sms_before = OutboundSms.objects.count()

    response = post(api(world["worker"].user), step(a, "cancel"), {"reason": REASON})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "cancelled" and body["cancelled_at"] is not None
    assert "cancel_reason" not in body and REASON not in str(body)
    assert REASON not in str(api(world["worker"].user).get(detail(a)).json())
    assert REASON not in str(api(world["worker"].user).get(LIST).json())
    assert api(world["counselor"]).get(detail(a)).json()["cancel_reason"] == REASON
    assert fresh(a).state == AppointmentState.CANCELLED
    assert OutboundSms.objects.count() == sms_before  # the worker cancelled: no SMS to them


def test_a_late_cancel_by_the_worker_is_recorded_late(world, clock):
    clock.set(at(0, 12))  # 22 hours before

    response = post(api(world["worker"].user), step(world["appointment"], "cancel"))

    assert response.status_code == 200 and response.json()["state"] == "cancelled_late"


def test_the_counselor_cancels_and_the_worker_hears(world):
    a = world["appointment"]
    before = OutboundSms.objects.filter(worker=world["worker"]).count()

    response = post(api(world["counselor"]), step(a, "cancel"), {"reason": "生病"})

    assert response.status_code == 200 and response.json()["cancel_reason"] == "生病"
    assert OutboundSms.objects.filter(worker=world["worker"], template="appointment_cancelled").count() == 1
    assert OutboundSms.objects.filter(worker=world["worker"]).count() == before + 1


@pytest.mark.parametrize("name", ["confirm", "check_in", "complete", "refer", "no_show"])
def test_the_worker_takes_no_counselor_steps(world, name):
    before = snapshot()

    assert_error(post(api(world["worker"].user), step(world["appointment"], name)), 403, "forbidden")

    assert snapshot() == before


def test_an_unknown_step_is_400(world):
    before = snapshot()

    assert_error(post(api(world["counselor"]), step(world["appointment"], "approve")), 400, "invalid")

    assert snapshot() == before


# --- moving ------------------------------------------------------------------------------------


def test_the_worker_moves_the_appointment(world):
    old, client = world["appointment"], api(world["worker"].user)

    response = post(client, reschedule(old), {"starts_at": at(2, 14).isoformat()})

    assert response.status_code == 201, response.content
    new = Appointment.objects.get(replaces=old)
    body = response.json()
    assert (body["id"], body["replaces"], body["state"]) == (new.pk, old.pk, "requested")
    assert body["starts_at"] == at(2, 14).isoformat() and new.room == world["room"]
    assert fresh(old).state == AppointmentState.CANCELLED
    assert client.get(detail(old)).json()["replaced_by"] == new.pk
    assert OutboundSms.objects.filter(worker=world["worker"], template="appointment_moved").count() == 1
    # the same time again: nothing moves
    again = post(client, reschedule(new), {"starts_at": at(2, 14).isoformat()})
    assert again.status_code == 200 and again.json()["id"] == new.pk


def test_the_counselor_moves_the_appointment(world):
    response = post(api(world["counselor"]), reschedule(world["appointment"]), {"starts_at": at(1, 16).isoformat()})

    assert response.status_code == 201, response.content
    assert response.json()["starts_at"] == at(1, 16).isoformat()


def test_moving_to_a_time_that_is_no_slot_changes_nothing(world):
    before = snapshot()

    body = assert_error(post(api(world["worker"].user), reschedule(world["appointment"]),
                             {"starts_at": at(2, 14, 20).isoformat()}), 400, "invalid")

    assert body["detail"] == {"starts_at": "not_a_slot"}
    assert snapshot() == before


def test_a_cancelled_appointment_is_not_moved(world):
    a = world["appointment"]
    services.appointment_transition(appointment=a, actor=world["worker"].user, transition="cancel")
    before = snapshot()

    assert_error(post(api(world["worker"].user), reschedule(a), {"starts_at": at(2, 14).isoformat()}), 409,
                 "invalid_state")

    assert snapshot() == before


def test_a_move_to_another_counselor_is_not_linked_for_the_first(world):
    """Moved by the services to a colleague: the first counselor does not learn the new one's id."""
    old = world["appointment"]
    new = services.appointment_reschedule(appointment=old, actor=world["worker"].user, starts_at=at(2, 14),
                                          counselor=world["other_counselor"])

    assert api(world["counselor"]).get(detail(old)).json()["replaced_by"] is None
    assert api(world["other_counselor"]).get(detail(new)).json()["replaces"] is None
    assert api(world["worker"].user).get(detail(old)).json()["replaced_by"] == new.pk


# --- anonymous, and the schema -----------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [
    ("get", "services/"), ("get", "counselors/"), ("get", "slots/"), ("get", "consent/"), ("post", "consent/"),
    ("delete", "consent/"), ("get", "appointments/"), ("post", "appointments/"), ("get", "appointments/{a}/"),
    ("post", "appointments/{a}/transitions/cancel/"), ("post", "appointments/{a}/reschedule/"),
])
def test_anonymous_is_refused_everywhere(world, method, path):
    url = ROOT + path.format(a=world["appointment"].pk)
    before = snapshot()

    response = getattr(api(), method)(url, {}, content_type="application/json") if method != "get" \
        else api().get(url)

    body = assert_error(response, 403, "not_authenticated")
    assert body["detail"] == {}
    assert snapshot() == before


def test_the_openapi_schema_describes_the_counseling_endpoints():
    paths = api().get("/api/schema/", {"format": "json"}).json()["paths"]

    for name in ("services", "counselors", "slots"):
        assert "get" in paths[f"{ROOT}{name}/"]
    assert {"get", "post", "delete"} <= set(paths[f"{ROOT}consent/"])
    assert {"get", "post"} <= set(paths[LIST])
    assert "get" in paths[f"{LIST}{{id}}/"]
    assert "post" in paths[f"{LIST}{{id}}/reschedule/"]
    transition = paths[f"{LIST}{{id}}/transitions/{{transition}}/"]["post"]
    [name] = [p for p in transition["parameters"] if p["name"] == "transition"]
    assert set(name["schema"]["enum"]) == set(services.TRANSITIONS)


def test_the_whole_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    assert (tmp_path / "schema.yml").read_text().count("/api/v1/counseling/") >= 8


def test_the_day_of_a_slot_is_local(world):
    """A day is a date in Asia/Shanghai: the first free time of 2026-03-04 is 09:00 there."""
    response = api(world["worker"].user).get(SLOTS, {"counselor": world["counselor"].pk, "mode": Mode.VIDEO,
                                                     "day": "2026-03-04", "days": 1})

    first = datetime.datetime.fromisoformat(starts(response)[0])
    assert first == at(2, 9) and first.utcoffset() == datetime.timedelta(hours=8)


def test_reading_an_appointment_is_audited_a_refusal_is_not(world):
    a = world["appointment"]
    for user in [world["worker"].user, world["counselor"], *strangers(world)]:
        api(user).get(detail(a))
    readers = AuditEvent.objects.filter(event_type="case.viewed", subject_id=str(a.case_id))
    assert sorted(readers.values_list("actor_id", flat=True)) == sorted([world["worker"].user.pk,
                                                                          world["counselor"].pk])
