"""The counselor's case pages, driven through the test client: the queue (crises first, every
crisis of the department to acknowledge), the case page (its counselor, a supervisor named by
them, and a 404 for everyone else), notes read there only and audited, writing a note from the
appointment page, naming and revoking a supervisor, the risk level with its crisis SMS, and
the messages for what cannot be done."""

from html import unescape

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from care import audit
from care.models import AuditEvent, Case, OutboundSms, Priority
from care.roles import Role
from counseling import services
from counseling.models import Note, RiskFlag, RiskLevel, SupervisionGrant
from tests.counseling.helpers import at, book, consenting_worker, counselor, freeze
from tests.factories import staff

pytestmark = pytest.mark.django_db

ON_CALL = "+8613900000001"
CONTACT = "+8613900000002"
BODY = "来访者谈到工作压力和失眠，约定下周继续。"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _numbers(settings):
    settings.COUNSELING_ON_CALL_MOBILE = ON_CALL
    settings.COUNSELING_CRISIS_CONTACT_MOBILE = CONTACT


def browser(user=None, language="en") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user)
    return client


def text(response) -> str:
    return unescape(response.content.decode())


def notes_viewed(case) -> list[AuditEvent]:
    return list(audit.events_for(case).filter(event_type="counseling.notes_viewed").order_by("seq"))


def alerts() -> list[OutboundSms]:
    return list(OutboundSms.objects.filter(template="crisis_alert").order_by("to"))


@pytest.fixture
def clock(monkeypatch):
    return freeze(monkeypatch)


@pytest.fixture
def world(clock):
    """A counselor with two cases (tomorrow 10:00, then 14:00, the later booked last), a note on
    the first, a colleague, and people of other roles."""
    the_counselor = counselor()
    first = book(worker=consenting_worker(name="王秀英"), counselor=the_counselor, starts_at=at(1, 10))
    second = book(worker=consenting_worker(name="李建国"), counselor=the_counselor, starts_at=at(1, 14))
    note = services.note_add(appointment=first, actor=the_counselor, body=BODY)
    return {
        "counselor": the_counselor, "first": first, "second": second, "note": note,
        "case": Case.objects.get(pk=first.case_id), "other_case": Case.objects.get(pk=second.case_id),
        "colleague": counselor(), "manager": staff(Role.CENTER_MANAGER),
        "admin": staff(Role.ADMINISTRATOR, is_staff=True, is_superuser=True),
        "desk": staff(Role.FRONT_DESK), "legal": staff(Role.LEGAL_OFFICER, "legal"),
    }


def case_url(case) -> str:
    return f"/counseling/cases/{case.pk}/"


# --- the queue ---------------------------------------------------------------------------------


def test_the_queue_puts_a_crisis_first_with_its_badge_and_button(world):
    client = browser(world["counselor"])
    case, other = world["case"], world["other_case"]
    page = text(client.get("/counseling/cases/"))
    assert page.index(other.reference) < page.index(case.reference)  # newest first
    assert "Crisis" not in page and "/acknowledge/" not in page
    assert f'href="{case_url(case)}"' in page and "王秀英" in page

    services.risk_flag(case=case, actor=world["counselor"], level=RiskLevel.HIGH)
    page = text(client.get("/counseling/cases/"))
    mine = page[page.index("My cases"):]
    assert mine.index(case.reference) < mine.index(other.reference)  # the crisis on top
    assert "Crises awaiting acknowledgement" in page and "Crisis" in mine
    assert f'action="/counseling/cases/{case.pk}/acknowledge/"' in mine
    assert f'action="/counseling/cases/{other.pk}/acknowledge/"' not in page


def test_any_counselor_acknowledges_a_crisis_from_the_queue(world, clock):
    case = world["case"]
    services.risk_flag(case=case, actor=world["counselor"], level=RiskLevel.HIGH)
    on_call = world["colleague"]
    client = browser(on_call)
    page = text(client.get("/counseling/cases/"))
    assert case.reference in page and f'action="/counseling/cases/{case.pk}/acknowledge/"' in page
    assert "王秀英" not in page  # another counselor's case: the reference only
    assert f'href="{case_url(case)}"' not in page

    clock.set(at(0, 9))
    response = client.post(f"/counseling/cases/{case.pk}/acknowledge/", {"next": "/counseling/cases/?page=1"})
    assert response.status_code == 302 and response.url == "/counseling/cases/?page=1"
    flag = RiskFlag.objects.get(case=case)
    assert (flag.acknowledged_by, flag.acknowledged_at) == (on_call, at(0, 9))
    assert Case.objects.get(pk=case.pk).priority == Priority.NORMAL
    page = text(client.get("/counseling/cases/"))
    assert "You have acknowledged the crisis of" in page and "Crises awaiting acknowledgement" not in page

    # a second click (or the case's counselor a moment later) changes nothing and says so
    before = AuditEvent.objects.count()
    page = text(browser(world["counselor"]).post(f"/counseling/cases/{case.pk}/acknowledge/", follow=True))
    assert "had already been acknowledged" in page
    assert AuditEvent.objects.count() == before
    assert RiskFlag.objects.get(case=case).acknowledged_by == on_call


def test_acknowledging_from_elsewhere_goes_back_to_the_queue_only(world):
    case = world["case"]
    services.risk_flag(case=case, actor=world["counselor"], level=RiskLevel.HIGH)
    response = browser(world["counselor"]).post(f"/counseling/cases/{case.pk}/acknowledge/",
                                                {"next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == "/counseling/cases/"


def test_nothing_to_acknowledge_and_no_one_else_acknowledges(world):
    case = world["case"]
    assert browser(world["counselor"]).post(f"/counseling/cases/{case.pk}/acknowledge/").status_code == 404
    services.risk_flag(case=case, actor=world["counselor"], level=RiskLevel.HIGH)
    for who in ("manager", "admin", "desk", "legal"):
        assert browser(world[who]).post(f"/counseling/cases/{case.pk}/acknowledge/").status_code == 404, who
    assert browser(world["case"].worker.user).post(f"/counseling/cases/{case.pk}/acknowledge/").status_code == 404
    assert RiskFlag.objects.get(case=case).awaiting_acknowledgement


def test_the_queue_is_for_counselors_and_in_their_menu(world):
    for who in ("manager", "admin", "desk", "legal"):
        assert browser(world[who]).get("/counseling/cases/").status_code == 403, who
    assert browser(world["case"].worker.user).get("/counseling/cases/").status_code == 403
    anonymous = browser().get("/counseling/cases/")
    assert anonymous.status_code == 302 and "login" in anonymous.url
    assert 'href="/counseling/cases/"' in text(browser(world["counselor"]).get("/counseling/"))
    page = text(browser(world["colleague"]).get("/counseling/cases/"))
    assert "You have no counseling cases." in page and "王秀英" not in page


def test_the_queue_is_paginated(world):
    client = browser(world["counselor"])
    assert "Page 1 of" not in text(client.get("/counseling/cases/"))
    for day in range(2, 15):
        for hour in (9, 10):
            book(worker=consenting_worker(), counselor=world["counselor"], starts_at=at(day, hour + 6))
    page = text(client.get("/counseling/cases/"))
    assert "Page 1 of 2" in page and "?page=2" in page
    assert "Page 2 of 2" in text(client.get("/counseling/cases/", {"page": 2}))


def test_the_queue_lists_the_cases_one_supervises(world):
    services.supervision_grant(case=world["case"], supervisor=world["colleague"], actor=world["counselor"])
    page = text(browser(world["colleague"]).get("/counseling/cases/"))
    assert "Cases you supervise" in page and f'href="{case_url(world["case"])}"' in page


# --- the case page: who sees it ----------------------------------------------------------------


def test_the_case_page_is_for_its_counselor_and_a_current_supervisor_only(world):
    case, url = world["case"], case_url(world["case"])
    assert browser(world["counselor"]).get(url).status_code == 200
    for who in ("colleague", "manager", "admin", "desk", "legal"):
        assert browser(world[who]).get(url).status_code == 404, who
    assert browser(case.worker.user).get(url).status_code == 404
    assert browser(world["counselor"]).get("/counseling/cases/999999/").status_code == 404
    anonymous = browser().get(url)
    assert anonymous.status_code == 302 and "login" in anonymous.url

    services.supervision_grant(case=case, supervisor=world["colleague"], actor=world["counselor"])
    response = browser(world["colleague"]).get(url)
    assert response.status_code == 200
    page = text(response)
    assert BODY in page and "You supervise this case" in page
    assert "王秀英" not in page  # the notes only: not the worker, the risk form or the supervisors
    for hidden in ("/risk/", "/supervisors/", "/counseling/appointments/"):
        assert hidden not in page
    assert browser(world["colleague"]).get(case_url(world["other_case"])).status_code == 404  # not granted

    services.supervision_revoke(case=case, supervisor=world["colleague"], actor=world["counselor"])
    assert browser(world["colleague"]).get(url).status_code == 404


def test_the_case_page_shows_appointments_notes_risk_and_supervisors(world):
    page = text(browser(world["counselor"]).get(case_url(world["case"])))
    assert "王秀英" in page and BODY in page and "No risk" in page
    assert f'href="/counseling/appointments/{world["first"].pk}/"' in page
    assert f'href="/counseling/appointments/{world["second"].pk}/"' not in page  # another case
    assert 'name="level"' in page and "Nobody supervises this case." in page
    options = page[page.index('name="supervisor"'):]
    assert world["colleague"].username in options
    assert f'value="{world["counselor"].pk}"' not in options  # not oneself


def test_reading_the_notes_on_the_case_page_is_audited_once_per_page(world):
    case = world["case"]
    assert notes_viewed(case) == []
    browser(world["counselor"]).get(case_url(case))
    [event] = notes_viewed(case)
    assert event.actor == world["counselor"] and event.new == {"notes": [world["note"].pk]}
    browser(world["colleague"]).get(case_url(case))  # refused (404): nothing read
    assert len(notes_viewed(case)) == 1
    [opened] = audit.events_for(case).filter(event_type="case.viewed")  # the case page is a read of the case
    assert opened.actor == world["counselor"]


def test_the_appointment_page_never_shows_notes_nor_reads_them(world):
    client = browser(world["counselor"])
    page = text(client.get(f"/counseling/appointments/{world['first'].pk}/"))
    assert BODY not in page and "Write a session note" in page
    assert f'href="{case_url(world["case"])}"' in page
    assert f'action="/counseling/appointments/{world["first"].pk}/notes/"' in page
    assert notes_viewed(world["case"]) == []
    worker_page = text(browser(world["case"].worker.user).get(f"/counseling/appointments/{world['first'].pk}/"))
    assert "Write a session note" not in worker_page and "/counseling/cases/" not in worker_page


# --- notes -------------------------------------------------------------------------------------


def test_a_note_written_on_the_appointment_page(world):
    appointment = world["first"]
    client = browser(world["counselor"])
    response = client.post(f"/counseling/appointments/{appointment.pk}/notes/", {"body": "  第二次会谈。 "})
    assert response.status_code == 302 and response.url == f"/counseling/appointments/{appointment.pk}/"
    note = Note.objects.latest("pk")
    assert (note.body, note.appointment, note.author) == ("第二次会谈。", appointment, world["counselor"])
    page = text(client.get(response.url))
    assert "The note is saved" in page and "第二次会谈。" not in page
    assert "第二次会谈。" in text(client.get(case_url(world["case"])))


def test_an_empty_note_is_refused_with_a_message(world):
    appointment = world["first"]
    before = Note.objects.count()
    response = browser(world["counselor"]).post(f"/counseling/appointments/{appointment.pk}/notes/", {"body": "  "})
    assert response.status_code == 200
    assert "Write the note." in text(response)
    assert Note.objects.count() == before


def test_a_refused_note_keeps_its_text(world, monkeypatch):
    from care.errors import InvalidInput

    def refuse(**kwargs):
        raise InvalidInput("Refused for the test.")

    monkeypatch.setattr(services, "note_add", refuse)
    appointment = world["first"]
    response = browser(world["counselor"]).post(f"/counseling/appointments/{appointment.pk}/notes/",
                                                {"body": "很长的一段记录 <b>"})
    page = response.content.decode()
    assert response.status_code == 200 and "Refused for the test." in page
    assert "很长的一段记录 &lt;b&gt;</textarea>" in page  # kept, and escaped


def test_nobody_else_writes_a_note(world):
    appointment = world["first"]
    before = Note.objects.count()
    for who in ("colleague", "manager", "admin", "desk"):
        response = browser(world[who]).post(f"/counseling/appointments/{appointment.pk}/notes/", {"body": "x"})
        assert response.status_code == 404, who
    response = browser(world["case"].worker.user).post(f"/counseling/appointments/{appointment.pk}/notes/",
                                                        {"body": "x"})
    assert response.status_code == 200 and "You are not allowed to do this." in text(response)
    assert Note.objects.count() == before


# --- supervision -------------------------------------------------------------------------------


def test_naming_and_revoking_a_supervisor_through_the_page(world):
    case, colleague = world["case"], world["colleague"]
    client = browser(world["counselor"])
    response = client.post(f"/counseling/cases/{case.pk}/supervisors/", {"supervisor": colleague.pk})
    assert response.status_code == 302 and response.url == case_url(case)
    grant = SupervisionGrant.objects.get(case=case, supervisor=colleague, revoked_at__isnull=True)
    page = text(client.get(case_url(case)))
    assert "may now read the notes of" in page
    assert f'action="/counseling/cases/{case.pk}/supervisors/{colleague.pk}/revoke/"' in page
    assert BODY in text(browser(colleague).get(case_url(case)))

    response = client.post(f"/counseling/cases/{case.pk}/supervisors/{colleague.pk}/revoke/")
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert "may no longer read the notes of" in text(client.get(case_url(case)))
    assert browser(colleague).get(case_url(case)).status_code == 404

    page = text(client.post(f"/counseling/cases/{case.pk}/supervisors/{colleague.pk}/revoke/", follow=True))
    assert "does not supervise the case" in page


def test_a_supervisor_must_be_another_counselor(world):
    case = world["case"]
    client = browser(world["counselor"])
    for data in ({}, {"supervisor": ""}, {"supervisor": world["counselor"].pk}, {"supervisor": world["manager"].pk},
                 {"supervisor": "x"}):
        page = text(client.post(f"/counseling/cases/{case.pk}/supervisors/", data, follow=True))
        assert "Choose another counselor as supervisor." in page, data
    assert not SupervisionGrant.objects.exists()


def test_only_the_case_counselor_names_or_revokes(world):
    case, colleague = world["case"], world["colleague"]
    services.supervision_grant(case=case, supervisor=colleague, actor=world["counselor"])
    third = counselor()
    page = text(browser(colleague).post(f"/counseling/cases/{case.pk}/supervisors/", {"supervisor": third.pk},
                                        follow=True))
    assert "You are not allowed to do this." in page
    browser(colleague).post(f"/counseling/cases/{case.pk}/supervisors/{colleague.pk}/revoke/")
    for who in ("manager", "admin", "desk"):
        assert browser(world[who]).post(f"/counseling/cases/{case.pk}/supervisors/",
                                        {"supervisor": third.pk}).status_code == 404
        assert browser(world[who]).post(
            f"/counseling/cases/{case.pk}/supervisors/{colleague.pk}/revoke/").status_code == 404
    assert list(SupervisionGrant.objects.values_list("supervisor", "revoked_at")) == [(colleague.pk, None)]


# --- risk --------------------------------------------------------------------------------------


def test_setting_high_risk_on_the_page_alerts_by_sms(world):
    case = world["case"]
    client = browser(world["counselor"])
    response = client.post(f"/counseling/cases/{case.pk}/risk/", {"level": RiskLevel.HIGH})
    assert response.status_code == 302 and response.url == case_url(case)
    assert [m.to for m in alerts()] == [ON_CALL, CONTACT]
    assert all(case.reference in m.body and "王秀英" not in m.body for m in alerts())
    assert Case.objects.get(pk=case.pk).priority == Priority.URGENT
    page = text(client.get(case_url(case)))
    assert "is now “High risk (crisis)”" in page and "Crisis" in page
    assert f'action="/counseling/cases/{case.pk}/acknowledge/"' in page

    client.post(f"/counseling/cases/{case.pk}/risk/", {"level": RiskLevel.LOW})
    assert RiskFlag.objects.get(case=case).level == RiskLevel.LOW
    assert len(alerts()) == 2 and Case.objects.get(pk=case.pk).priority == Priority.NORMAL


def test_an_invalid_risk_level_is_refused_with_a_message(world):
    case = world["case"]
    for data in ({}, {"level": "extreme"}):
        page = text(browser(world["counselor"]).post(f"/counseling/cases/{case.pk}/risk/", data, follow=True))
        assert "Choose the risk level from the list." in page
    assert not RiskFlag.objects.exists() and alerts() == []


def test_only_the_case_counselor_sets_the_risk(world):
    case = world["case"]
    services.supervision_grant(case=case, supervisor=world["colleague"], actor=world["counselor"])
    page = text(browser(world["colleague"]).post(f"/counseling/cases/{case.pk}/risk/", {"level": RiskLevel.HIGH},
                                                 follow=True))
    assert "You are not allowed to do this." in page
    for who in ("manager", "admin", "desk", "legal"):
        response = browser(world[who]).post(f"/counseling/cases/{case.pk}/risk/", {"level": RiskLevel.HIGH})
        assert response.status_code == 404, who
    assert not RiskFlag.objects.exists() and alerts() == []


def test_the_pages_in_chinese(world):
    services.risk_flag(case=world["case"], actor=world["counselor"], level=RiskLevel.HIGH)
    client = browser(world["counselor"], language="zh-hans")
    for url in ("/counseling/cases/", case_url(world["case"])):
        response = client.get(url)
        assert response.status_code == 200 and 'lang="zh-hans"' in text(response)
