"""The matchmaking station's pages through Django's test client: consent first, the profile sent
for review, suggestions and asking, answering (the contact never on a page, also not after both
said yes), block and report, withdrawal; the matchmaker's review, proposal and reports; and
nobody else reaching a profile."""

import pytest
from django.test import Client
from django.utils import translation

from care.models import OutboundSms
from care.roles import Role
from matchmaking import services
from matchmaking.models import Block, Introduction, IntroState, Profile, ProfileState, Report
from tests.factories import staff
from tests.matchmaking.helpers import matchmaker, member, worker

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def browser(user) -> Client:
    user.language = "en"
    user.save(update_fields=["language"])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_consent_first_then_the_profile_goes_for_review():
    who = worker()
    client = browser(who.user)
    page = client.get("/matchmaking/")
    assert b"You take part only if you choose to" in page.content
    refused = client.post("/matchmaking/", {"gender": "female", "seeking": "male"})  # no consent ticked
    assert refused.status_code == 200 and not Profile.objects.exists()
    assert client.post("/matchmaking/", {"gender": "female", "seeking": "male", "consent": "on"}).status_code == 302
    profile = Profile.objects.get(worker=who)
    bad = client.post("/matchmaking/profile/", {"display_name": "小雨", "contact": "not a contact!",
                                                "hobbies": "登山", "action": "submit"})
    assert b"WeChat ID" in bad.content and "登山".encode() in bad.content  # kept
    client.post("/matchmaking/profile/", {"display_name": "小雨", "contact": "wx_xiaoyu88", "hobbies": "登山",
                                          "action": "submit"})
    assert Profile.objects.get(pk=profile.pk).state == ProfileState.SUBMITTED


def test_suggestion_ask_answer_and_the_contact_never_on_a_page():
    him = member(gender="male", seeking="female")
    her = member(gender="female", seeking="male")
    his, hers = browser(him.worker.user), browser(her.worker.user)
    page = his.get("/matchmaking/suggestions/")
    assert her.display_name.encode() in page.content and her.contact.encode() not in page.content
    assert her.worker.name.encode() not in page.content and her.worker.mobile.encode() not in page.content
    assert his.post(f"/matchmaking/people/{her.pk}/ask/").status_code == 302
    intro = Introduction.objects.get()
    listing = hers.get("/matchmaking/introductions/")
    assert b"Waiting for your answer" in listing.content and him.contact.encode() not in listing.content
    hers.post(f"/matchmaking/introductions/{intro.pk}/answer/", {"accept": "yes"})
    assert Introduction.objects.get().state == IntroState.CONTACT_SHARED
    for client, other in ((his, her), (hers, him)):
        body = client.get("/matchmaking/introductions/").content + client.get("/matchmaking/").content
        assert other.contact.encode() not in body and b"the contact came by SMS" in body
    assert OutboundSms.objects.filter(template="match_contact").count() == 2


def test_a_decline_reads_not_now_and_a_block_is_silent():
    him = member(gender="male", seeking="female")
    her = member(gender="female", seeking="male")
    services.introduction_request(actor=him.worker.user, profile=him, other=her)
    intro = Introduction.objects.get()
    browser(her.worker.user).post(f"/matchmaking/introductions/{intro.pk}/answer/", {"accept": "no"})
    assert b"Not now" in browser(him.worker.user).get("/matchmaking/introductions/").content
    other = member(gender="female", seeking="male")
    browser(him.worker.user).post(f"/matchmaking/people/{other.pk}/block/")
    assert Block.objects.filter(blocker=him, blocked=other).exists()
    assert other.display_name.encode() not in browser(him.worker.user).get("/matchmaking/suggestions/").content
    assert him.display_name.encode() not in browser(other.worker.user).get("/matchmaking/suggestions/").content


def test_a_member_cannot_reach_someone_outside_their_pool():
    him = member(gender="male", seeking="female")
    man = member(gender="male", seeking="female")  # not someone he may meet
    client = browser(him.worker.user)
    for url in (f"/matchmaking/people/{man.pk}/ask/", f"/matchmaking/people/{man.pk}/block/",
                f"/matchmaking/people/{man.pk}/report/"):
        assert client.post(url).status_code == 404
    assert not Introduction.objects.exists() and not Block.objects.exists() and not Report.objects.exists()


def test_report_then_the_matchmaker_suspends():
    him = member(gender="male", seeking="female")
    her = member(gender="female", seeking="male")
    browser(her.worker.user).post(f"/matchmaking/people/{him.pk}/report/", {"reason": "言语骚扰"})
    report = Report.objects.get()
    keeper = browser(matchmaker())
    assert "言语骚扰".encode() in keeper.get("/matchmaking/reports/").content
    keeper.post("/matchmaking/reports/", {"report": report.pk, "step": "action", "outcome": "属实",
                                          "suspend": "yes"})
    assert Profile.objects.get(pk=him.pk).state == ProfileState.SUSPENDED


def test_the_matchmaker_reviews_and_proposes_but_never_sees_contacts_or_id_numbers():
    her = member(gender="female", seeking="male", verify=False)
    services.profile_submit(actor=her.worker.user, profile=her)
    him = member(gender="male", seeking="female")
    keeper = browser(matchmaker())
    listing = keeper.get("/matchmaking/members/")
    page = keeper.get(f"/matchmaking/members/{her.pk}/")
    for body in (listing.content, page.content):
        assert her.display_name.encode() in body
        assert her.contact.encode() not in body and her.worker.national_id.encode() not in body
        assert her.worker.mobile.encode() not in body
    keeper.post(f"/matchmaking/members/{her.pk}/", {"step": "verify"})
    assert Profile.objects.get(pk=her.pk).state == ProfileState.VERIFIED
    keeper.post(f"/matchmaking/members/{her.pk}/", {"action": "propose", "other": him.pk, "note": "都爱登山"})
    assert Introduction.objects.get().note == "都爱登山"


@pytest.mark.parametrize("role", [Role.LEGAL_OFFICER, Role.COUNSELOR, Role.CENTER_MANAGER, Role.CHILDCARE_STAFF,
                                  Role.FRONT_DESK])
def test_other_roles_reach_no_profile(role):
    her = member(gender="female", seeking="male")
    department = {"legal_officer": "legal", "counselor": "counseling", "childcare_staff": "childcare"}.get(role, "")
    client = browser(staff(role, department))
    for url in ("/matchmaking/members/", f"/matchmaking/members/{her.pk}/", "/matchmaking/reports/",
                "/matchmaking/", "/matchmaking/suggestions/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert her.display_name.encode() not in response.content


def test_withdrawal_hides_the_profile_at_once():
    him = member(gender="male", seeking="female")
    her = member(gender="female", seeking="male")
    client = browser(her.worker.user)
    assert client.post("/matchmaking/withdraw/").status_code == 302  # not confirmed: nothing
    assert Profile.objects.get(pk=her.pk).state == ProfileState.VERIFIED
    client.post("/matchmaking/withdraw/", {"confirm": "yes"})
    assert Profile.objects.get(pk=her.pk).state == ProfileState.WITHDRAWN
    assert her.display_name.encode() not in browser(him.worker.user).get("/matchmaking/suggestions/").content


def test_an_event_from_sign_up_to_mutual_marks_through_the_pages(monkeypatch):
    import datetime

    from django.utils import timezone

    keeper_user = matchmaker()
    keeper = browser(keeper_user)
    start = timezone.localtime(timezone.now() + datetime.timedelta(days=2)).replace(second=0, microsecond=0)
    keeper.post("/matchmaking/events/manage/", {
        "title": "冬日联谊", "place": "文化宫三楼", "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"), "capacity": 10,
        "balance_genders": "on", "min_age": 18, "max_age": 60})
    from matchmaking.models import Event, EventSignup

    event = Event.objects.get()
    him, her = member(gender="male", seeking="female"), member(gender="female", seeking="male")
    for who in (him, her):
        browser(who.worker.user).post(f"/matchmaking/events/{event.pk}/sign-up/")
    assert EventSignup.objects.filter(state="booked").count() == 2
    later = start + datetime.timedelta(minutes=30)
    monkeypatch.setattr(timezone, "now", lambda: later)
    keeper.force_login(keeper_user)  # signed in again: two days later, the staff session has ended
    for signup in EventSignup.objects.all():
        keeper.post(f"/matchmaking/events/manage/{event.pk}/", {"signup": signup.pk})
    assert EventSignup.objects.filter(state="attended").count() == 2
    page = browser(him.worker.user).get(f"/matchmaking/events/{event.pk}/marks/")
    assert her.display_name.encode() in page.content and her.contact.encode() not in page.content
    browser(him.worker.user).post(f"/matchmaking/events/{event.pk}/marks/", {"marked": [her.pk]})
    browser(her.worker.user).post(f"/matchmaking/events/{event.pk}/marks/", {"marked": [him.pk]})
    assert Introduction.objects.get().state == IntroState.CONTACT_SHARED
    outsider = member(gender="female", seeking="male")
    assert browser(outsider.worker.user).get(f"/matchmaking/events/{event.pk}/marks/").status_code == 404


def test_the_matchmaker_lists_introductions_and_nobody_else_does():
    him = member(gender="male", seeking="female")
    her = member(gender="female", seeking="male")
    services.introduction_request(actor=him.worker.user, profile=him, other=her)
    page = browser(matchmaker()).get("/matchmaking/introductions/all/?state=accepted_one")
    assert page.status_code == 200 and her.display_name.encode() in page.content
    assert her.contact.encode() not in page.content and him.contact.encode() not in page.content
    assert her.display_name.encode() not in browser(matchmaker()).get(
        "/matchmaking/introductions/all/?state=declined").content
    for user in (him.worker.user, staff(Role.CENTER_MANAGER), staff(Role.COUNSELOR, "counseling")):
        assert browser(user).get("/matchmaking/introductions/all/").status_code == 403
