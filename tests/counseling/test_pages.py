"""The counseling pages, driven through the test client as the worker, another worker, the
counselor, another counselor, the front desk and a claims officer: who may open what, consent
first, booking (and a time taken meanwhile), cancelling and moving, the counselor's steps, the
calendar file, and nothing shown to others."""

from html import unescape

import pytest
from django.conf import settings
from django.test import Client

from care.models import AuditEvent, OutboundSms
from care.roles import Role
from counseling import views
from counseling.models import Appointment, AppointmentState, HealthConsent, Mode
from tests.counseling.helpers import at, book, consenting_worker, counselor, freeze, room, service
from tests.factories import WorkerFactory, staff

pytestmark = pytest.mark.django_db


def browser(user=None, language="en") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user)
    return client


def text(response) -> str:
    return unescape(response.content.decode())


def fresh(appointment) -> Appointment:
    return Appointment.objects.get(pk=appointment.pk)


@pytest.fixture
def clock(monkeypatch):
    return freeze(monkeypatch)


@pytest.fixture
def world(clock):
    """A counselor (with a colleague), one room, a service, a worker with a confirmed-to-be
    appointment tomorrow at 10:00, and everyone else."""
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


# --- who may open what -------------------------------------------------------------------------


def _status(user, url, method="get"):
    client = browser(user)
    return getattr(client, method)(url).status_code


def test_each_page_by_role(world):
    a = world["appointment"]
    w, ow, c, oc = (world["worker"].user, world["other_worker"].user, world["counselor"],
                    world["other_counselor"])
    desk, claims = world["desk"], world["claims"]
    pages = {
        "/counseling/book/": {w: 200, ow: 200, c: 403, desk: 403, claims: 403},
        f"/counseling/book/for/{world['worker'].pk}/": {desk: 200, w: 403, c: 403, claims: 403},
        "/counseling/appointments/": {w: 200, c: 403, desk: 403, claims: 403},
        f"/counseling/appointments/{a.pk}/": {w: 200, ow: 404, c: 200, oc: 404, desk: 404, claims: 404},
        f"/counseling/appointments/{a.pk}/calendar.ics": {w: 200, ow: 404, c: 200, oc: 404, desk: 404,
                                                          claims: 404},
        f"/counseling/appointments/{a.pk}/reschedule/": {w: 200, ow: 404, c: 200, oc: 404, desk: 404},
        "/counseling/": {c: 200, oc: 200, w: 403, desk: 403, claims: 403},
    }
    for url, expected in pages.items():
        got = {user.username: _status(user, url) for user in expected}
        assert got == {user.username: status for user, status in expected.items()}, url
        anonymous = browser().get(url)
        assert anonymous.status_code == 302 and "login" in anonymous.url, url


def test_every_read_of_an_appointment_is_audited_and_a_refusal_is_not_a_read(world):
    a = world["appointment"]
    for user in (world["worker"].user, world["counselor"], world["other_counselor"], world["desk"]):
        browser(user).get(f"/counseling/appointments/{a.pk}/")
        browser(user).get(f"/counseling/appointments/{a.pk}/calendar.ics")
    readers = AuditEvent.objects.filter(event_type="case.viewed", subject_id=str(a.case_id))
    assert sorted(readers.values_list("actor_id", flat=True)) == sorted(
        [world["worker"].user.pk] * 2 + [world["counselor"].pk] * 2)


def test_steps_on_someone_elses_appointment_are_404_and_change_nothing(world):
    a = world["appointment"]
    for user in (world["other_worker"].user, world["other_counselor"], world["desk"], world["claims"]):
        for transition in ("cancel", "confirm"):
            response = browser(user).post(f"/counseling/appointments/{a.pk}/step/{transition}/")
            assert response.status_code == 404
        response = browser(user).post(f"/counseling/appointments/{a.pk}/reschedule/",
                                      {"starts_at": at(2, 10).isoformat()})
        assert response.status_code == 404
    assert fresh(a).state == AppointmentState.REQUESTED
    assert Appointment.objects.count() == 1


# --- booking -----------------------------------------------------------------------------------


def test_consent_first_then_booking_through_the_pages(clock):
    the_counselor = counselor()
    room("1号室")
    the_service = service()
    worker = WorkerFactory()
    client = browser(worker.user)
    page = text(client.get("/counseling/book/"))
    assert "I agree" in page and 'name="starts_at"' not in page
    client.post("/counseling/book/", {"action": "consent"})
    assert HealthConsent.objects.filter(worker=worker, withdrawn_at__isnull=True).count() == 1
    profile = the_counselor.counselor_profile
    choice = {"service": the_service.pk, "counselor": profile.pk, "mode": Mode.IN_PERSON}
    page = text(client.get("/counseling/book/", choice))
    assert "I agree" not in page
    assert f'value="{at(0, 10).isoformat()}"' in page  # 09:00 is within the two hours' notice
    assert f'value="{at(0, 9).isoformat()}"' not in page
    response = client.post("/counseling/book/", {**choice, "starts_at": at(1, 14).isoformat()})
    appointment = Appointment.objects.get()
    assert response.status_code == 302 and response.url == f"/counseling/appointments/{appointment.pk}/"
    assert appointment.starts_at == at(1, 14) and appointment.case.worker == worker
    assert appointment.room.name == "1号室"
    assert OutboundSms.objects.count() == 1
    page = text(client.get(response.url))
    assert "Requested" in page and "1号室" in page


def test_a_slot_taken_meanwhile_shows_the_message_and_the_slots_again(world):
    other = world["other_worker"]
    choice = {"service": world["service"].pk, "counselor": world["counselor"].counselor_profile.pk,
              "mode": Mode.IN_PERSON}
    sms_before = OutboundSms.objects.count()
    response = browser(other.user).post("/counseling/book/", {**choice, "starts_at": at(1, 10).isoformat()})
    assert response.status_code == 200
    page = text(response)
    assert "This time has just been taken" in page
    assert f'value="{at(1, 11).isoformat()}"' in page  # the free times again
    assert f'value="{at(1, 10).isoformat()}"' not in page
    assert Appointment.objects.count() == 1 and fresh(world["appointment"]).case.worker == world["worker"]
    assert OutboundSms.objects.count() == sms_before


def test_the_front_desk_records_consent_and_books_for_a_walk_in(world):
    walk_in = WorkerFactory(name="李四")
    client = browser(world["desk"])
    url = f"/counseling/book/for/{walk_in.pk}/"
    assert "The worker has signed the consent form" in text(client.get(url))
    client.post(url, {"action": "consent"})
    choice = {"service": world["service"].pk, "counselor": world["counselor"].counselor_profile.pk,
              "mode": Mode.PHONE}
    response = client.post(url, {**choice, "starts_at": at(2, 9).isoformat()})
    assert response.status_code == 302 and response.url.startswith("/front-desk/?q=")
    appointment = Appointment.objects.get(case__worker=walk_in)
    assert appointment.mode == Mode.PHONE and appointment.room is None
    assert client.get(f"/counseling/appointments/{appointment.pk}/").status_code == 404


# --- the worker changes an appointment ---------------------------------------------------------


def test_cancel_inside_the_cut_off_is_said_and_recorded_late(world, clock):
    a = world["appointment"]  # tomorrow 10:00
    clock.set(at(0, 12))  # 22 hours before: inside the 24 hours
    client = browser(world["worker"].user)
    page = text(client.get(f"/counseling/appointments/{a.pk}/"))
    assert "late cancellation" in page
    assert "late cancellation" in text(client.get("/counseling/appointments/"))
    response = client.post(f"/counseling/appointments/{a.pk}/step/cancel/", {"reason": "加班"})
    assert response.status_code == 302
    assert fresh(a).state == AppointmentState.CANCELLED_LATE


def test_cancel_well_ahead_is_a_plain_cancel(world, clock):
    a = world["appointment"]
    client = browser(world["worker"].user)
    assert "late cancellation" not in text(client.get(f"/counseling/appointments/{a.pk}/"))
    client.post(f"/counseling/appointments/{a.pk}/step/cancel/")
    assert fresh(a).state == AppointmentState.CANCELLED


def test_the_worker_cannot_take_counselor_steps(world):
    a = world["appointment"]
    response = browser(world["worker"].user).post(f"/counseling/appointments/{a.pk}/step/confirm/")
    assert response.status_code == 302
    assert fresh(a).state == AppointmentState.REQUESTED


def test_reschedule_links_the_new_appointment_to_the_old(world):
    old = world["appointment"]
    client = browser(world["worker"].user)
    page = text(client.get(f"/counseling/appointments/{old.pk}/reschedule/"))
    assert f'value="{at(2, 14).isoformat()}"' in page
    response = client.post(f"/counseling/appointments/{old.pk}/reschedule/", {"starts_at": at(2, 14).isoformat()})
    new = Appointment.objects.get(replaces=old)
    assert response.url == f"/counseling/appointments/{new.pk}/"
    assert fresh(old).state == AppointmentState.CANCELLED and new.starts_at == at(2, 14)
    assert new.room == world["room"]
    assert f"/counseling/appointments/{old.pk}/" in text(client.get(response.url))  # "Replaces"
    assert f"/counseling/appointments/{new.pk}/" in text(client.get(f"/counseling/appointments/{old.pk}/"))


# --- the counselor -----------------------------------------------------------------------------


def test_counselor_steps_through_the_page(world, clock):
    a = world["appointment"]
    client = browser(world["counselor"])
    page = text(client.get(f"/counseling/appointments/{a.pk}/"))
    assert world["worker"].name in page and "missed 0 appointments" in page
    assert "/step/confirm/" in page and "/step/complete/" not in page and "/step/no_show/" not in page
    client.post(f"/counseling/appointments/{a.pk}/step/confirm/")
    assert fresh(a).state == AppointmentState.CONFIRMED
    clock.set(at(1, 9, 55))
    client = browser(world["counselor"])  # sessions last eight hours
    client.post(f"/counseling/appointments/{a.pk}/step/check_in/")
    assert fresh(a).state == AppointmentState.CHECKED_IN
    clock.set(at(1, 10, 50))
    page = text(client.get(f"/counseling/appointments/{a.pk}/"))
    assert "/step/complete/" in page and "/step/refer/" in page and "/step/cancel/" not in page
    client.post(f"/counseling/appointments/{a.pk}/step/complete/")
    assert fresh(a).state == AppointmentState.COMPLETED


def test_counselor_cancels_with_a_reason_and_the_worker_hears(world):
    a = world["appointment"]
    before = OutboundSms.objects.count()
    browser(world["counselor"]).post(f"/counseling/appointments/{a.pk}/step/cancel/", {"reason": "生病"})
    a = fresh(a)
    assert a.state == AppointmentState.CANCELLED and a.cancel_reason == "生病"
    assert OutboundSms.objects.count() == before + 1


def test_no_show_after_the_start_is_counted_on_the_page(world, clock):
    a = world["appointment"]
    client = browser(world["counselor"])
    client.post(f"/counseling/appointments/{a.pk}/step/confirm/")
    clock.set(at(1, 10, 30))
    client = browser(world["counselor"])  # sessions last eight hours
    client.post(f"/counseling/appointments/{a.pk}/step/no_show/")
    assert fresh(a).state == AppointmentState.NO_SHOW
    assert "missed 1 appointment" in text(client.get(f"/counseling/appointments/{a.pk}/"))


def test_the_counselors_day(world):
    client = browser(world["counselor"])
    page = text(client.get("/counseling/", {"day": at(1, 0).date().isoformat()}))
    assert world["worker"].name in page and "10:00" in page and "Requested" in page
    assert f"/counseling/appointments/{world['appointment'].pk}/" in page
    assert "No appointments on this day." in text(client.get("/counseling/"))  # today
    # 7 days × 6 slots, less the 08:00 + 2 hours' notice today (09:00) and the booked 10:00 tomorrow
    assert "40 free times in the next seven days." in text(client.get("/counseling/"))
    other = text(browser(world["other_counselor"]).get("/counseling/", {"day": at(1, 0).date().isoformat()}))
    assert world["worker"].name not in other


# --- the calendar file -------------------------------------------------------------------------


def test_the_ics_file(world):
    a = world["appointment"]
    for user in (world["worker"].user, world["counselor"]):
        response = browser(user).get(f"/counseling/appointments/{a.pk}/calendar.ics")
        assert response["Content-Type"].startswith("text/calendar")
        assert response["Content-Disposition"].startswith("attachment")
        body = response.content.decode()
        assert body.endswith("\r\n") and "\n" not in body.replace("\r\n", "")
        lines = body.split("\r\n")[:-1]
        assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
        fields = dict(line.split(":", 1) for line in lines if not line.startswith(" "))
        assert fields["DTSTART"] == "20260303T020000Z"  # 10:00 in Shanghai
        assert fields["DTEND"] == "20260303T025000Z"
        assert fields["SUMMARY"] == "Appointment at the Worker Service Center"
        assert "1号室" in fields["LOCATION"]
        assert fields["UID"].startswith(f"appointment-{a.pk}@")
        assert "DESCRIPTION" not in fields
        assert "个体咨询" not in body and "counsel" not in body.lower()


def test_ics_escaping_and_folding():
    assert views.ics_escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "LOCATION:" + "职工服务中心" * 10
    folded = views.ics_fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts)
    assert parts[0] + "".join(p[1:] for p in parts[1:]) == line


# --- nothing shown to others -------------------------------------------------------------------


def test_no_page_shows_the_consent_and_the_nav_links(world):
    a = world["appointment"]
    for user, url in ((world["counselor"], f"/counseling/appointments/{a.pk}/"),
                      (world["counselor"], f"/counseling/?day={at(1, 0).date().isoformat()}"),
                      (world["worker"].user, f"/counseling/appointments/{a.pk}/"),
                      (world["worker"].user, "/counseling/appointments/")):
        page = text(browser(user).get(url))
        assert "consent" not in page.lower() and "2026-1" not in page
    # a consented worker's booking page at the desk asks nothing and tells nothing of it
    page = text(browser(world["desk"]).get(f"/counseling/book/for/{world['worker'].pk}/"))
    assert "consent" not in page.lower()
    assert 'href="/counseling/appointments/"' in text(browser(world["worker"].user).get("/requests/"))
    assert 'href="/counseling/"' in text(browser(world["counselor"]).get("/counseling/"))
