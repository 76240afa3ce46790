"""Cloud arbitration's pages: the way in from the hearing page, the room by personal link (no
sign-in, bound to one device, never cached) or signed in, the attendance log; nobody else gets in,
and the room page carries no case content."""

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from care.roles import Role
from legal import video
from legal.models import ParticipantRole, VideoRoom
from tests.factories import WorkerFactory, staff
from tests.legal.video_helpers import SECRET, chair, seated, video_hearing

pytestmark = pytest.mark.django_db
R = ParticipantRole


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def english(user=None) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


def test_the_hearing_page_shows_its_participants_the_way_in():
    vh = video_hearing()
    page = english(vh.arbitrator).get(f"/legal/hearings/{vh.hearing.pk}/").content.decode()
    assert f"/legal/hearings/{vh.hearing.pk}/room/" in page and "Join the online hearing" in page
    early = video_hearing(begun=False)
    page = english(early.arbitrator).get(f"/legal/hearings/{early.hearing.pk}/").content.decode()
    assert "The room opens 30 minutes before the hearing" in page and "/room/" not in page


def test_the_room_signed_in_is_for_its_participants_only():
    vh = video_hearing()
    response = english(vh.arbitrator).get(f"/legal/hearings/{vh.hearing.pk}/room/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="video-config"' in body and "legal/video_room.js" in body and SECRET not in body
    for outsider in (staff(Role.LEGAL_OFFICER, "legal"), staff(Role.ARBITRATOR), WorkerFactory().user,
                     staff(Role.CENTER_MANAGER)):
        assert english(outsider).get(f"/legal/hearings/{vh.hearing.pk}/room/").status_code == 404
    assert Client().get(f"/legal/hearings/{vh.hearing.pk}/room/").status_code == 302  # sign in first


def test_a_personal_link_opens_the_room_on_one_device_and_is_never_cached():
    vh = video_hearing()
    phone = english()
    landing = phone.get(f"/meet/{vh.links[R.EMPLOYER_REP]}/")  # what a link preview sees: nothing binds
    assert landing.status_code == 200 and "Enter the room" in landing.content.decode()
    assert video.DEVICE_COOKIE not in landing.cookies and "no-store" in landing["Cache-Control"]
    assert vh.participant(R.EMPLOYER_REP).device_hash == ""
    response = phone.post(f"/meet/{vh.links[R.EMPLOYER_REP]}/")
    assert response.status_code == 302 and response.url == f"/meet/{vh.links[R.EMPLOYER_REP]}/"
    room = phone.get(response.url)
    assert 'id="video-config"' in room.content.decode() and SECRET not in room.content.decode()
    assert "no-store" in response["Cache-Control"] and response["Referrer-Policy"] == "same-origin"
    cookie = response.cookies[video.DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["path"] == f"/meet/{vh.links[R.EMPLOYER_REP]}/"
    assert 'id="video-config"' in phone.get(f"/meet/{vh.links[R.EMPLOYER_REP]}/").content.decode()  # again
    other = english().post(f"/meet/{vh.links[R.EMPLOYER_REP]}/")
    assert other.status_code == 403 and "already in use on another device" in other.content.decode()
    assert english().get("/meet/" + "A" * 43 + "/").status_code == 404
    assert english().get("/meet/not-a-token/").status_code == 404


def test_too_early_the_link_says_when_the_room_opens():
    vh = video_hearing(begun=False)
    response = english().post(f"/meet/{vh.links[R.WORKER]}/")
    assert response.status_code == 409 and "opens 30 minutes before the hearing" in response.content.decode()


def test_the_attendance_log_is_for_those_who_may_read_the_hearing():
    vh = video_hearing()
    arbitrator = chair(vh)
    video.admit(participant=seated(vh, R.WORKER), actor=arbitrator)
    page = english(vh.officer).get(f"/legal/hearings/{vh.hearing.pk}/attendance/").content.decode()
    assert "刘职工" in page and "admitted" in page and "in the waiting room" in page
    assert english(staff(Role.LEGAL_OFFICER, "legal")).get(
        f"/legal/hearings/{vh.hearing.pk}/attendance/").status_code == 404


def test_a_recorded_video_hearing_is_scheduled_from_the_form():
    from tests.legal.test_hearings import make_legal_case, slot

    officer = staff(Role.LEGAL_OFFICER, "legal")
    arbitrator = staff(Role.ARBITRATOR)
    legal_case = make_legal_case(officer)
    times = slot(days=10)
    response = english(officer).post(f"/legal/cases/{legal_case.pk}/hearings/new/", {
        "arbitrator": arbitrator.pk, "starts_at": times["starts_at"].strftime("%Y-%m-%dT%H:%M"),
        "ends_at": times["ends_at"].strftime("%Y-%m-%dT%H:%M"), "is_video": "on", "recorded": "on"})
    assert response.status_code == 302, response.content.decode()[:500]
    room = VideoRoom.objects.get(hearing__legal_case=legal_case)
    assert room.recorded and room.participants.count() == 3  # arbitrator, officer, worker
