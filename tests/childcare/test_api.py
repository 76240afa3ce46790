"""The care station's REST API under /api/v1/childcare/: the guardian's children, pick-up
persons and enrolments; the open programmes; the staff's roster, check-in, check-out and
incidents. Nobody finds another guardian's child or another station's children (404, or an
empty roster); medical notes only reach the staff on duty; ID and mobile numbers never leave in
clear; refusals answer in the one error shape and leave only what they must (a refused
pick-up is recorded)."""

import datetime

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from care.models import AuditEvent, Case, OutboundSms
from care.roles import Role
from childcare import services
from childcare.models import (
    Attendance,
    AttendanceState,
    Child,
    Enrolment,
    EnrolmentState,
    Incident,
    PickupPerson,
    PickupRefusal,
    RefusalReason,
)
from tests.childcare.helpers import TODAY, at, care_staff, child, code_of, enrolled, freeze, on_duty, programme, station
from tests.factories import WorkerFactory, staff

pytestmark = pytest.mark.django_db

ROOT = "/api/v1/childcare/"
CHILDREN = f"{ROOT}children/"
ENROLMENTS = f"{ROOT}enrolments/"
PROGRAMMES = f"{ROOT}programmes/"
ROSTER = f"{ROOT}roster/"
ID_NUMBER = "11010519491231002X"
CONTACT_MOBILE = "13900000002"
ALLERGY = "花生过敏-ALLERGY-7781"
NOTES = "哮喘，备有吸入器-NOTES-5512"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def clock(monkeypatch):
    return freeze(monkeypatch)  # Monday 2026-07-06 08:00, Asia/Shanghai


@pytest.fixture
def door():
    return care_staff(mobile="+8613700001111")


@pytest.fixture
def place(clock, door):
    return station(members=[door])


@pytest.fixture
def prog(place):
    return programme(place)


def api(user=None, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user)
    return client


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == code and body["message"]
    return body


def snapshot():
    return (Child.objects.count(), PickupPerson.objects.count(),
            list(Enrolment.objects.order_by("pk").values_list("state", flat=True)),
            list(Attendance.objects.order_by("pk").values_list("state", flat=True)),
            Incident.objects.count(), PickupRefusal.objects.count(), Case.objects.count(),
            OutboundSms.objects.count(), AuditEvent.objects.exclude(event_type__endswith="viewed").count())


def registration(**changes) -> dict:
    return {"name": "小红", "date_of_birth": (TODAY.replace(year=TODAY.year - 8)).isoformat(), "school": "实验小学",
            "allergies": ALLERGY, "medical_notes": NOTES,
            "emergency_contacts": [{"name": "王奶奶", "relation": "祖母", "mobile": CONTACT_MOBILE}], **changes}


def grandma(kid) -> PickupPerson:
    return services.pickup_person_add(actor=kid.guardian.user, child=kid, name="王奶奶", relation="祖母",
                                      mobile=CONTACT_MOBILE, id_number=ID_NUMBER)


def check_in_url(enrolment) -> str:
    return f"{ROSTER}{enrolment.pk}/check-in/"


def check_out_url(attendance) -> str:
    pk = attendance["id"] if isinstance(attendance, dict) else attendance.pk
    return f"{ROOT}attendance/{pk}/check-out/"


def viewed(event: str, subject) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event, subject_id=str(subject.pk)))


# --- the guardian's children -------------------------------------------------------------------


def test_a_worker_registers_a_child_lists_it_and_reads_it_audited(clock):
    worker = WorkerFactory()
    client = api(worker.user)

    created = post(client, CHILDREN, registration())

    assert created.status_code == 201, created.content
    body = created.json()
    kid = Child.objects.get(pk=body["id"])
    assert kid.guardian == worker and body["allergies"] == ALLERGY and body["medical_notes"] == NOTES
    assert body["emergency_contacts"] == [{"name": "王奶奶", "relation": "祖母", "mobile": "139****0002"}]
    [me] = body["pickup_persons"]
    assert me["is_guardian"] and me["name"] == worker.name and me["id_number"] == "" and not me["has_photo"]

    [row] = results(client.get(CHILDREN))
    assert row["id"] == kid.pk and row["pickup_persons"][0]["id"] == me["id"]
    assert "allergies" not in row and "medical_notes" not in row
    assert not viewed("childcare.child_viewed", kid)

    detail = client.get(f"{CHILDREN}{kid.pk}/")
    assert detail.status_code == 200 and detail.json()["medical_notes"] == NOTES
    [event] = viewed("childcare.child_viewed", kid)
    assert event.actor == worker.user


@pytest.mark.parametrize(("changes", "field"), [
    ({"emergency_contacts": []}, "emergency_contacts"),
    ({"emergency_contacts": [{"name": "王奶奶", "relation": "祖母", "mobile": "12345"}]}, "contact_0_mobile"),
    ({"date_of_birth": "2001-01-01"}, "date_of_birth"),
    ({"date_of_birth": "not a date"}, "date_of_birth"),
    ({"name": ""}, "name"),
    ({"name": "名" * 51}, "name"),
    ({"name": None}, "name"),
])
def test_an_invalid_registration_answers_400_and_creates_nothing(clock, changes, field):
    worker = WorkerFactory()
    before = snapshot()

    body = assert_error(post(api(worker.user), CHILDREN, registration(**changes)), 400, "invalid")

    assert field in body["detail"]
    assert snapshot() == before


def test_only_a_worker_registers_a_child(place, door):
    before = snapshot()
    for user in (door, staff(Role.FRONT_DESK), staff(Role.CENTER_MANAGER)):
        assert_error(post(api(user), CHILDREN, registration()), 403, "forbidden")
    assert snapshot() == before


def test_a_worker_never_finds_another_worker_s_child(clock):
    kid = child(allergies=ALLERGY)
    person = grandma(kid)
    stranger = api(WorkerFactory().user)
    before = snapshot()

    assert results(stranger.get(CHILDREN)) == []
    assert_error(stranger.get(f"{CHILDREN}{kid.pk}/"), 404, "not_found")
    assert_error(post(stranger, f"{CHILDREN}{kid.pk}/pickup-persons/",
                      {"name": "李叔叔", "relation": "舅舅", "mobile": "13900000003", "id_number": ID_NUMBER}),
                 404, "not_found")
    assert_error(post(stranger, f"{ROOT}pickup-persons/{person.pk}/remove/"), 404, "not_found")
    assert_error(api(care_staff()).get(f"{CHILDREN}{kid.pk}/"), 404, "not_found")

    assert snapshot() == before and not viewed("childcare.child_viewed", kid)
    assert PickupPerson.objects.get(pk=person.pk).active


def test_pick_up_persons_are_added_and_removed_and_their_numbers_never_leave_in_clear(clock):
    kid = child()
    client = api(kid.guardian.user)

    added = post(client, f"{CHILDREN}{kid.pk}/pickup-persons/",
                 {"name": "李叔叔", "relation": "舅舅", "mobile": "13900000003", "id_number": ID_NUMBER})

    assert added.status_code == 201, added.content
    person = added.json()
    assert (person["id_number"], person["mobile"]) == ("110***********002X", "139****0003")
    assert "photo" not in person and person["active"]
    listed = client.get(CHILDREN)
    detail = client.get(f"{CHILDREN}{kid.pk}/")
    assert [p["name"] for p in detail.json()["pickup_persons"]] == [kid.guardian.name, "李叔叔"]

    removed = post(client, f"{ROOT}pickup-persons/{person['id']}/remove/")

    assert removed.status_code == 200 and removed.json()["active"] is False
    assert [p["name"] for p in results(client.get(CHILDREN))[0]["pickup_persons"]] == [kid.guardian.name]
    for response in (added, listed, detail, removed):
        assert ID_NUMBER.encode() not in response.content and b"13900000003" not in response.content
        assert CONTACT_MOBILE.encode() not in response.content
    me = kid.pickup_persons.get(is_guardian=True)
    assert_error(post(client, f"{ROOT}pickup-persons/{me.pk}/remove/"), 409, "invalid_state")


def test_an_invalid_pick_up_person_answers_400_and_adds_nobody(clock):
    kid = child()
    before = snapshot()

    body = assert_error(post(api(kid.guardian.user), f"{CHILDREN}{kid.pk}/pickup-persons/",
                             {"name": "李叔叔", "relation": "舅舅", "mobile": "13900000003", "id_number": "123"}),
                        400, "invalid")

    assert body["detail"] == {"id_number": "invalid"} and snapshot() == before


# --- programmes and enrolments -------------------------------------------------------------------


def test_open_programmes_show_places_and_no_names(prog, door):
    enrolled(prog, name="小明")
    enrolled(prog, name="小刚")

    [row] = results(api(WorkerFactory().user).get(PROGRAMMES))

    assert (row["id"], row["name"], row["station"]) == (prog.pk, prog.name, prog.station.name)
    assert (row["weekdays"], row["min_age"], row["max_age"]) == ([1, 2, 3, 4, 5], 6, 12)
    assert (row["capacity"], row["enrolled"], row["waiting"], row["opens_at"]) == (20, 2, 0, "08:00:00")
    assert results(api(door).get(PROGRAMMES))[0]["id"] == prog.pk
    raw = api(WorkerFactory().user).get(PROGRAMMES).content.decode()
    assert "小明" not in raw and "小刚" not in raw
    assert_error(api(staff(Role.CLAIMS_OFFICER, "claims")).get(PROGRAMMES), 403, "forbidden")


def test_enrolment_the_waitlist_and_withdrawal(place):
    prog = programme(place, capacity=1)
    first, second = child(name="小明"), child(name="小刚")
    ask = {"programme": prog.pk}

    placed = post(api(first.guardian.user), ENROLMENTS, {**ask, "child": first.pk})
    waiting = post(api(second.guardian.user), ENROLMENTS, {**ask, "child": second.pk})
    again = post(api(second.guardian.user), ENROLMENTS, {**ask, "child": second.pk})

    assert placed.status_code == 201 and placed.json()["state"] == EnrolmentState.ENROLLED
    assert placed.json()["waitlist_position"] is None and placed.json()["reference"]
    assert waiting.status_code == 201 and waiting.json()["waitlist_position"] == 1
    assert waiting.json()["programme"] == {"id": prog.pk, "name": prog.name, "station": place.name}
    assert again.status_code == 200 and again.json()["id"] == waiting.json()["id"]
    [mine] = results(api(second.guardian.user).get(ENROLMENTS))
    assert (mine["id"], mine["state"], mine["child"]) == (waiting.json()["id"], "waitlisted",
                                                         {"id": second.pk, "name": "小刚"})

    stranger = api(second.guardian.user)
    assert_error(post(stranger, f"{ENROLMENTS}{placed.json()['id']}/withdraw/"), 404, "not_found")
    withdrawn = post(api(first.guardian.user), f"{ENROLMENTS}{placed.json()['id']}/withdraw/")

    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == EnrolmentState.WITHDRAWN
    assert Enrolment.objects.get(pk=waiting.json()["id"]).state == EnrolmentState.ENROLLED


@pytest.mark.parametrize("case", ["someone_else_s_child", "unknown_programme", "too_young", "no_child"])
def test_an_enrolment_refused_answers_400_and_enrols_nobody(prog, case):
    mine, theirs, little = child(), child(), child(age=4)
    data = {"child": mine.pk, "programme": prog.pk}
    user = mine.guardian.user
    if case == "someone_else_s_child":
        data["child"] = theirs.pk
    elif case == "unknown_programme":
        data["programme"] = prog.pk + 1000
    elif case == "too_young":
        data["child"], user = little.pk, little.guardian.user
    else:
        del data["child"]
    before = snapshot()

    body = assert_error(post(api(user), ENROLMENTS, data), 400, "invalid")

    expected = {"someone_else_s_child": "child", "unknown_programme": "programme", "too_young": "age",
                "no_child": "child"}[case]
    assert expected in body["detail"] and snapshot() == before


# --- the roster ----------------------------------------------------------------------------------


@pytest.fixture
def kid_enrolled(prog):
    enrolment = enrolled(prog, name="小明", allergies=ALLERGY, medical_notes=NOTES)
    grandma(enrolment.child)
    return enrolment


def test_the_roster_shows_medical_notes_to_the_staff_on_duty_only(place, prog, door, kid_enrolled):
    colleague = care_staff(mobile="+8613700004444")
    place.staff.add(colleague)
    on_duty(prog, door)

    [row] = results(api(door).get(ROSTER))
    [theirs] = results(api(colleague).get(ROSTER))

    assert (row["enrolment"], row["child"], row["attendance"]) == (
        kid_enrolled.pk, {"id": kid_enrolled.child.pk, "name": "小明"}, None)
    assert (row["allergies"], row["medical_notes"]) == (ALLERGY, NOTES)
    assert [(p["name"], p["id_number"]) for p in row["pickup_persons"]] == [
        (kid_enrolled.child.guardian.name, ""), ("王奶奶", "110***********002X")]
    assert "allergies" not in theirs and "medical_notes" not in theirs
    assert theirs["enrolment"] == kid_enrolled.pk
    raw = api(colleague).get(ROSTER).content.decode()
    assert ALLERGY not in raw and NOTES not in raw and ID_NUMBER not in raw
    coordinator_row = results(api(place.coordinator).get(ROSTER))[0]
    assert coordinator_row["medical_notes"] == NOTES
    assert len(viewed("childcare.roster_viewed", place)) == 4


def test_the_roster_of_a_day_and_a_search(place, prog, door, kid_enrolled):
    enrolled(prog, name="小刚")
    client = api(door)

    assert [r["child"]["name"] for r in results(client.get(ROSTER, {"q": "刚"}))] == ["小刚"]
    assert len(results(client.get(ROSTER, {"day": "2026-07-07"}))) == 2
    assert results(client.get(ROSTER, {"day": "2026-07-11"})) == []  # a Saturday
    assert_error(client.get(ROSTER, {"day": "tomorrow"}), 400, "invalid")


def test_another_station_s_staff_get_an_empty_roster_and_404s(place, prog, door, kid_enrolled):
    other = care_staff(mobile="+8613700002222")
    elsewhere = station(members=[other], name="另一个驿站")
    on_duty(prog, door)
    attendance = post(api(door), check_in_url(kid_enrolled), {"brought_by": "妈妈"}).json()
    person = kid_enrolled.child.pickup_persons.get(is_guardian=True)
    client = api(other)
    before = snapshot()

    assert results(client.get(ROSTER)) == []
    assert_error(post(client, check_in_url(kid_enrolled), {"brought_by": "妈妈"}), 404, "not_found")
    assert_error(post(client, check_out_url(attendance), {"collector": person.pk, "code": code_of(kid_enrolled)}),
                 404, "not_found")
    assert_error(post(client, f"{ENROLMENTS}{kid_enrolled.pk}/incidents/",
                      {"occurred_at": at(7).isoformat(), "kind": "injury", "description": "x", "action_taken": "y"}),
                 404, "not_found")
    assert snapshot() == before
    assert len(viewed("childcare.roster_viewed", elsewhere)) == 1


def test_the_roster_is_for_care_staff(kid_enrolled):
    for user in (kid_enrolled.child.guardian.user, staff(Role.FRONT_DESK), staff(Role.CENTER_MANAGER)):
        assert_error(api(user).get(ROSTER), 403, "forbidden")
    assert not AuditEvent.objects.filter(event_type="childcare.roster_viewed").exists()


# --- check-in, check-out ---------------------------------------------------------------------------


def test_check_in_then_check_out_with_the_code(prog, door, kid_enrolled):
    on_duty(prog, door)
    client = api(door)

    came = post(client, check_in_url(kid_enrolled), {"brought_by": "妈妈"})

    assert came.status_code == 200, came.content
    attendance = came.json()
    assert (attendance["state"], attendance["brought_by"], attendance["day"]) == ("checked_in", "妈妈", "2026-07-06")
    code = code_of(kid_enrolled)
    assert code.encode() not in came.content and "code_hash" not in attendance
    again = post(client, check_in_url(kid_enrolled), {"brought_by": "爸爸"})
    assert again.json()["id"] == attendance["id"] and again.json()["brought_by"] == "妈妈"
    row = results(client.get(ROSTER))[0]
    assert row["attendance"]["id"] == attendance["id"]

    person = kid_enrolled.child.pickup_persons.get(name="王奶奶")
    left = post(client, check_out_url(attendance), {"collector": person.pk, "code": code})

    assert left.status_code == 200, left.content
    assert (left.json()["state"], left.json()["collected_by"]) == ("checked_out", "王奶奶")
    assert Attendance.objects.get(pk=attendance["id"]).state == AttendanceState.CHECKED_OUT
    assert ID_NUMBER.encode() not in left.content and code.encode() not in left.content


def test_check_in_refused_without_enough_staff_answers_409(kid_enrolled, door):
    body = assert_error(post(api(door), check_in_url(kid_enrolled), {"brought_by": "妈妈"}), 409, "invalid_state")

    assert body["detail"] == {"ratio": "full"} and not Attendance.objects.exists()


@pytest.fixture
def here(prog, door, kid_enrolled):
    on_duty(prog, door)
    return services.check_in(actor=door, enrolment=kid_enrolled, brought_by="妈妈")


def test_a_refused_pick_up_answers_409_and_is_recorded(here, door, kid_enrolled):
    body = assert_error(post(api(door), check_out_url(here), {"collector": None, "presented_name": "陌生人"}),
                        409, "invalid_state")

    assert body["detail"] == {"pickup": RefusalReason.NOT_AUTHORISED} and "陌生人" in body["message"]
    [row] = PickupRefusal.objects.all()
    assert (row.attendance_id, row.presented_name, row.reason, row.refused_by) == (
        here.pk, "陌生人", RefusalReason.NOT_AUTHORISED, door)
    assert Attendance.objects.get(pk=here.pk).state == AttendanceState.CHECKED_IN
    assert OutboundSms.objects.filter(template="care_pickup_refused").count() == 1


def test_a_wrong_code_is_refused_and_recorded(here, door, kid_enrolled):
    person = kid_enrolled.child.pickup_persons.get(name="王奶奶")
    code = code_of(kid_enrolled)
    wrong = "000000" if code != "000000" else "111111"

    body = assert_error(post(api(door), check_out_url(here), {"collector": person.pk, "code": wrong}),
                        409, "invalid_state")

    assert body["detail"] == {"pickup": RefusalReason.WRONG_CODE}
    assert PickupRefusal.objects.get().reason == RefusalReason.WRONG_CODE
    assert Attendance.objects.get(pk=here.pk).state == AttendanceState.CHECKED_IN


@pytest.mark.parametrize("data", [
    {"collector": None},  # no name given
    {"collector": None, "presented_name": "  "},
    {"code": "123456"},  # collector missing
    {"collector": "abc", "code": "123456"},
    {"collector": 999999, "code": "123456"},  # nobody on the roster
])
def test_an_incomplete_check_out_answers_400_and_records_nothing(here, door, kid_enrolled, data):
    before = snapshot()

    assert_error(post(api(door), check_out_url(here), data), 400, "invalid")

    assert snapshot() == before


def test_a_check_out_without_the_code_answers_400_and_records_nothing(here, door, kid_enrolled):
    person = kid_enrolled.child.pickup_persons.get(name="王奶奶")
    before = snapshot()

    body = assert_error(post(api(door), check_out_url(here), {"collector": person.pk}), 400, "invalid")

    assert "code" in body["detail"] and snapshot() == before


# --- incidents -------------------------------------------------------------------------------------


def test_the_staff_record_an_incident(here, door, kid_enrolled, clock):
    clock.set(at(11))

    response = post(api(door), f"{ENROLMENTS}{kid_enrolled.pk}/incidents/",
                    {"occurred_at": at(10).isoformat(), "kind": "injury", "description": "跑步时摔倒",
                     "action_taken": "消毒包扎"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["enrolment"], body["kind"], body["action_taken"]) == (kid_enrolled.pk, "injury", "消毒包扎")
    assert datetime.datetime.fromisoformat(body["occurred_at"]) == at(10) and body["guardian_told_at"]
    assert Incident.objects.get().description == "跑步时摔倒"
    assert OutboundSms.objects.filter(template="care_incident").count() == 1


@pytest.mark.parametrize(("changes", "field"), [
    ({"kind": "fight"}, "kind"),
    ({"occurred_at": "yesterday"}, "occurred_at"),
    ({"occurred_at": at(12).isoformat()}, "occurred_at"),  # in the future
    ({"occurred_at": at(10, day=TODAY - datetime.timedelta(days=1)).isoformat()}, "occurred_at"),  # before it began
    ({"occurred_at": "0147-08-26T07:22:11Z"}, "occurred_at"),  # found by tests/test_api_fuzz.py
    ({"description": ""}, "description"),
    ({"action_taken": "x" * (services.TEXT_MAX + 1)}, "action_taken"),
])
def test_an_invalid_incident_answers_400_and_records_nothing(here, door, kid_enrolled, clock, changes, field):
    clock.set(at(11))
    data = {"occurred_at": at(10).isoformat(), "kind": "injury", "description": "摔倒", "action_taken": "包扎",
            **changes}
    before = snapshot()

    body = assert_error(post(api(door), f"{ENROLMENTS}{kid_enrolled.pk}/incidents/", data), 400, "invalid")

    assert field in body["detail"] and snapshot() == before


def test_a_guardian_cannot_record_an_incident(here, kid_enrolled):
    before = snapshot()

    assert_error(post(api(kid_enrolled.child.guardian.user), f"{ENROLMENTS}{kid_enrolled.pk}/incidents/",
                      {"occurred_at": at(7).isoformat(), "kind": "injury", "description": "x", "action_taken": "y"}),
                 404, "not_found")

    assert snapshot() == before


# --- anonymous, and the schema ---------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [
    ("get", "children/"), ("post", "children/"), ("get", "children/{c}/"), ("post", "children/{c}/pickup-persons/"),
    ("post", "pickup-persons/{p}/remove/"), ("get", "enrolments/"), ("post", "enrolments/"),
    ("post", "enrolments/{e}/withdraw/"), ("post", "enrolments/{e}/incidents/"), ("get", "programmes/"),
    ("get", "roster/"), ("post", "roster/{e}/check-in/"), ("post", "attendance/{a}/check-out/"),
])
def test_anonymous_is_refused_everywhere(here, kid_enrolled, method, path):
    kid = kid_enrolled.child
    url = ROOT + path.format(c=kid.pk, p=kid.pickup_persons.get(name="王奶奶").pk, e=kid_enrolled.pk, a=here.pk)
    before = snapshot()

    response = api().get(url) if method == "get" else post(api(), url, {"brought_by": "x"})

    body = assert_error(response, 403, "not_authenticated")
    assert body["detail"] == {} and snapshot() == before


def test_the_openapi_schema_describes_the_childcare_endpoints():
    paths = api().get("/api/schema/", {"format": "json"}).json()["paths"]

    assert {"get", "post"} <= set(paths[CHILDREN]) and "get" in paths[f"{CHILDREN}{{id}}/"]
    assert {"get", "post"} <= set(paths[ENROLMENTS])
    for path in (f"{CHILDREN}{{id}}/pickup-persons/", f"{ROOT}pickup-persons/{{id}}/remove/",
                 f"{ENROLMENTS}{{id}}/withdraw/", f"{ENROLMENTS}{{id}}/incidents/", f"{ROSTER}{{id}}/check-in/",
                 f"{ROOT}attendance/{{id}}/check-out/"):
        assert "post" in paths[path], path
    assert "get" in paths[PROGRAMMES] and "get" in paths[ROSTER]
    roster_params = {p["name"] for p in paths[ROSTER]["get"]["parameters"]}
    assert {"day", "q"} <= roster_params
