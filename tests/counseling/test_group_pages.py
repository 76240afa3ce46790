"""The pages of group sessions and workshops, through the test client: the worker's list (seats
left, the waitlist when full), signing up and giving a place back (the next on the waitlist
promoted, with an SMS), consent for a group session given on the page, the front desk signing
up a walk-in, the facilitator scheduling (bad input kept on the form), the roster (404 for
anyone else), attendance once started, and cancelling a place or the whole session."""

from html import unescape

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from care.models import Case, OutboundSms, Stage, Survey
from care.roles import Role
from counseling.models import GroupSession, GroupSignup, HealthConsent, SignupState
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

GROUPS = "/counseling/groups/"
LEAD = "/counseling/groups/lead/"


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


def browser(user=None, language="en") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user)
    return client


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return unescape(response.content.decode())


def sign_up_url(session) -> str:
    return f"{GROUPS}{session.pk}/sign-up/"


def place_cancel_url(signup) -> str:
    return f"{GROUPS}places/{signup.pk}/cancel/"


def roster_url(session) -> str:
    return f"{LEAD}{session.pk}/"


def attendance_url(signup) -> str:
    return f"{LEAD}places/{signup.pk}/attendance/"


def walk_in_url(worker, session=None) -> str:
    return f"{GROUPS}for/{worker.pk}/" + (f"{session.pk}/sign-up/" if session is not None else "")


def state(signup) -> str:
    return GroupSignup.objects.get(pk=signup.pk).state


def sms(template: str) -> list[OutboundSms]:
    return list(OutboundSms.objects.filter(template=template).order_by("pk"))


def signup_of(session, worker) -> GroupSignup:
    return GroupSignup.objects.exclude(state=SignupState.CANCELLED).get(session=session, worker=worker)


# --- who may open what -------------------------------------------------------------------------


def test_each_page_by_role(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14))
    worker, desk, manager = consenting_worker(), staff(Role.FRONT_DESK), staff(Role.CENTER_MANAGER)
    other_counselor, claims = counselor(), staff(Role.CLAIMS_OFFICER, "claims")
    pages = {
        GROUPS: {worker.user: 200, leader: 403, desk: 403, manager: 403, claims: 403},
        walk_in_url(worker): {desk: 200, worker.user: 403, leader: 403, manager: 403},
        LEAD: {leader: 200, other_counselor: 200, worker.user: 403, desk: 403, manager: 403, claims: 403},
        roster_url(session): {leader: 200, other_counselor: 404, worker.user: 404, desk: 404, manager: 404,
                              claims: 404},
    }
    for url, expected in pages.items():
        got = {user.username: browser(user).get(url).status_code for user in expected}
        assert got == {user.username: code for user, code in expected.items()}, url
        anonymous = browser().get(url)
        assert anonymous.status_code == 302 and "login" in anonymous.url, url


def test_the_menus_link_the_group_pages(leader):
    worker = consenting_worker()
    assert f'href="{GROUPS}"' in text(browser(worker.user).get("/counseling/appointments/"))
    assert f'href="{LEAD}"' in text(browser(leader).get("/counseling/"))
    desk_page = text(browser(staff(Role.FRONT_DESK)).get("/front-desk/", {"q": worker.mobile}))
    assert "Sign this worker up for a group session" in desk_page and f'href="{walk_in_url(worker)}"' in desk_page


# --- the worker --------------------------------------------------------------------------------


def test_the_worker_sees_the_coming_sessions_with_the_seats_left(clock, leader):
    open_one = group_session(facilitator=leader, starts_at=at(1, 14), capacity=3, kind="workshop",
                             title="午间减压工作坊")
    GroupSession.objects.filter(pk=open_one.pk).update(description="带上瑜伽垫")
    full = group_session(facilitator=leader, starts_at=at(2, 9), capacity=1, title="情绪小组")
    browser(consenting_worker().user).post(sign_up_url(open_one))
    browser(consenting_worker().user).post(sign_up_url(full))
    browser(consenting_worker().user).post(sign_up_url(full))  # waiting
    started = group_session(facilitator=leader, starts_at=at(0, 9), title="已开始的小组")
    cancelled = group_session(facilitator=leader, starts_at=at(3, 9), title="取消的小组")
    GroupSession.objects.filter(pk=cancelled.pk).update(cancelled_at=at(0, 8))
    assert started.title in text(browser(consenting_worker().user).get(GROUPS))
    clock.set(at(0, 9, 30))

    page = text(browser(consenting_worker().user).get(GROUPS))

    assert "午间减压工作坊" in page and "Stress-relief workshop" in page and "带上瑜伽垫" in page
    assert "2026-03-03" in page and "14:00–16:00" in page and open_one.room.name in page
    assert "Seats left: 2" in page
    assert "情绪小组" in page and "Group session" in page and "Full — join the waitlist (1 waiting)" in page
    assert "Join the waitlist" in page
    assert "取消的小组" not in page and "已开始的小组" not in page
    assert leader.username not in page  # no names in the public list


def test_sign_up_books_a_seat_then_the_waitlist_when_full(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    first, second = consenting_worker(), consenting_worker()

    response = browser(first.user).post(sign_up_url(session), follow=True)

    page = text(response)
    seat = signup_of(session, first)
    assert seat.state == SignupState.BOOKED and seat.case.worker == first
    assert response.redirect_chain == [(GROUPS, 302)]
    assert f"Your seat on 2026-03-03 14:00 is booked ({seat.case.reference})." in page
    assert "You have a seat." in page and "Give back my seat" in page

    page = text(browser(second.user).post(sign_up_url(session), follow=True))

    waiting = signup_of(session, second)
    assert waiting.state == SignupState.WAITLISTED
    assert "you are number 1 on the waitlist" in page
    assert "You are number 1 on the waitlist: we will tell you by SMS if a seat frees up." in page
    assert "Leave the waitlist" in page
    assert [m.worker_id for m in sms("group_booked")] == [first.pk]
    assert [m.worker_id for m in sms("group_waitlisted")] == [second.pk]


def test_signing_up_twice_keeps_one_place(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14))
    worker = consenting_worker()
    client = browser(worker.user)
    client.post(sign_up_url(session))
    client.post(sign_up_url(session))
    assert GroupSignup.objects.filter(worker=worker).count() == 1 and len(sms("group_booked")) == 1


def test_a_seat_given_back_goes_to_the_next_with_an_sms(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    first, second = consenting_worker(), consenting_worker()
    browser(first.user).post(sign_up_url(session))
    browser(second.user).post(sign_up_url(session))
    seat, waiting = signup_of(session, first), signup_of(session, second)

    response = browser(first.user).post(place_cancel_url(seat), follow=True)

    page = text(response)
    assert response.redirect_chain == [(GROUPS, 302)]
    assert f"You have given back your place {seat.case.reference}." in page
    assert (state(seat), state(waiting)) == (SignupState.CANCELLED, SignupState.BOOKED)
    assert [m.worker_id for m in sms("group_promoted")] == [second.pk]
    assert "Cancelled" in page and "Join the waitlist" in page  # given back; the seat went to the next
    assert "You have a seat." in text(browser(second.user).get(GROUPS))


def test_nobody_gives_back_someone_elses_place(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14))
    owner = consenting_worker()
    browser(owner.user).post(sign_up_url(session))
    place = signup_of(session, owner)
    for user in (consenting_worker().user, counselor(), staff(Role.FRONT_DESK), staff(Role.CENTER_MANAGER)):
        assert browser(user).post(place_cancel_url(place)).status_code in (403, 404)
    assert state(place) == SignupState.BOOKED and not sms("group_cancelled")


def test_a_worker_cannot_give_back_once_started(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14))
    worker = consenting_worker()
    browser(worker.user).post(sign_up_url(session))
    clock.set(at(1, 14, 5))
    page = text(browser(worker.user).post(place_cancel_url(signup_of(session, worker)), follow=True))
    assert "The session has already started." in page
    assert state(signup_of(session, worker)) == SignupState.BOOKED


def test_consent_for_a_group_session_is_given_on_the_page(leader):
    group = group_session(facilitator=leader, starts_at=at(1, 9), kind="group")
    workshop = group_session(facilitator=leader, starts_at=at(1, 14), kind="workshop")
    worker = WorkerFactory()
    client = browser(worker.user)

    page = text(client.get(GROUPS))
    assert "Consent to the processing of health information" in page and "I agree" in page
    assert "Needs your consent first (see above)." in page

    response = client.post(sign_up_url(group))
    assert response.status_code == 302 and response.url == f"{GROUPS}#consent"
    assert "Before a first appointment the worker must consent" in text(client.get(response.url))
    assert not GroupSignup.objects.exists() and not Case.objects.exists()

    client.post(sign_up_url(workshop))  # a workshop needs no consent
    assert signup_of(workshop, worker).state == SignupState.BOOKED

    page = text(client.post(GROUPS, {"action": "consent"}, follow=True))
    assert "Thank you: your consent is recorded. You can now sign up." in page
    assert HealthConsent.objects.get(worker=worker).recorded_by == worker.user
    assert "I agree" not in page

    client.post(sign_up_url(group))
    assert signup_of(group, worker).state == SignupState.BOOKED


def test_no_consent_section_when_only_workshops_are_planned(leader):
    group_session(facilitator=leader, starts_at=at(1, 14), kind="workshop")
    assert "I agree" not in text(browser(WorkerFactory().user).get(GROUPS))


# --- the front desk ----------------------------------------------------------------------------


def test_the_front_desk_signs_up_a_walk_in_after_their_signed_consent(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    desk, worker = staff(Role.FRONT_DESK), WorkerFactory(name="李建国")
    client = browser(desk)

    page = text(client.get(walk_in_url(worker)))
    assert "For 李建国" in page and "The worker has signed the consent form" in page
    assert "Needs the worker's consent first (see above)." in page

    response = client.post(walk_in_url(worker, session))
    assert response.url == f"{walk_in_url(worker)}#consent"
    assert not GroupSignup.objects.exists()

    client.post(walk_in_url(worker), {"action": "consent"})
    assert HealthConsent.objects.get(worker=worker).recorded_by == desk

    response = client.post(walk_in_url(worker, session), follow=True)

    signup = signup_of(session, worker)
    assert signup.state == SignupState.BOOKED and signup.case.filed_by == desk
    assert f"李建国 has a seat on 2026-03-03 14:00 ({signup.case.reference})." in text(response)
    assert [m.worker_id for m in sms("group_booked")] == [worker.pk]

    other = consenting_worker(name="张伟")
    page = text(client.post(walk_in_url(other, session), follow=True))
    assert "The session is full: 张伟 is number 1 on the waitlist" in page


def test_only_the_front_desk_signs_up_someone_else(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14))
    worker = consenting_worker()
    for user in (consenting_worker().user, leader, staff(Role.CENTER_MANAGER)):
        assert browser(user).post(walk_in_url(worker, session)).status_code == 403
    assert not GroupSignup.objects.exists()


# --- the facilitator ---------------------------------------------------------------------------


def schedule_form(**changes) -> dict:
    return {"service": group_service(kind="workshop").pk, "room": room("3号室").pk, "day": "2026-03-04",
            "starts": "14:00", "ends": "15:30", "capacity": "12", "title": "午间减压工作坊",
            "description": "带上瑜伽垫", **changes}


def test_the_facilitator_schedules_a_session(leader):
    response = browser(leader).post(LEAD, schedule_form(), follow=True)

    session = GroupSession.objects.get()
    assert response.redirect_chain == [(roster_url(session), 302)]
    assert (session.facilitator, session.starts_at, session.ends_at) == (leader, at(2, 14), at(2, 15, 30))
    assert (session.capacity, session.title, session.description) == (12, "午间减压工作坊", "带上瑜伽垫")
    page = text(response)
    assert "“午间减压工作坊” is scheduled for 2026-03-04 14:00." in page and "Nobody has signed up yet." in page
    listing = text(browser(leader).get(LEAD))
    assert "午间减压工作坊" in listing and "0 / 12" in listing
    assert "午间减压工作坊" not in text(browser(counselor()).get(LEAD))  # their own sessions only


@pytest.mark.parametrize(("changes", "message"), [
    ({"title": "  "}, "This field is required."),
    ({"capacity": "0"}, "Ensure this value is greater than or equal to 1."),
    ({"ends": "13:00"}, "The end must come after the start."),
    ({"day": "2026-03-01"}, "Choose a time in the future."),
    ({"service": "999999"}, "Choose a group session or workshop from the list."),
])
def test_bad_input_comes_back_with_the_message_and_everything_typed(leader, changes, message):
    form = schedule_form(**changes)

    response = browser(leader).post(LEAD, form)

    page = text(response)
    assert message in page
    assert "带上瑜伽垫</textarea>" in page
    assert f'value="{form["day"]}"' in page and f'value="{form["starts"]}"' in page
    assert f'value="{form["capacity"]}"' in page
    assert not GroupSession.objects.exists()


def test_a_time_already_taken_is_refused_on_the_form(leader):
    book(worker=consenting_worker(), counselor=leader, starts_at=at(2, 14))
    page = text(browser(leader).post(LEAD, schedule_form()))
    assert "You or the room are already booked at that time" in page and 'value="午间减压工作坊"' in page
    assert not GroupSession.objects.exists()


def test_the_roster_in_order_with_the_waitlist(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    workers = [consenting_worker(name=name) for name in ("王秀英", "李建国", "张伟")]
    for worker in workers:
        browser(worker.user).post(sign_up_url(session))

    page = text(browser(leader).get(roster_url(session)))

    assert page.index("王秀英") < page.index("李建国") < page.index("张伟")
    rows = page.split("<tr>")
    assert "Seat booked" in rows[2] and "On the waitlist" in rows[3] and "<td>1</td>" in rows[3]
    assert "<td>2</td>" in rows[4]
    assert all(signup_of(session, w).case.reference in page for w in workers)
    assert "1 of 1 taken, 2 on the waitlist" in page


def test_the_facilitator_cancels_a_place_and_the_next_gets_it(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    first, second = consenting_worker(name="王秀英"), consenting_worker()
    for worker in (first, second):
        browser(worker.user).post(sign_up_url(session))
    seat = signup_of(session, first)

    response = browser(leader).post(place_cancel_url(seat), follow=True)

    assert response.redirect_chain == [(roster_url(session), 302)]
    assert f"The place {seat.case.reference} of 王秀英 is cancelled; they are told by SMS." in text(response)
    assert [m.worker_id for m in sms("group_cancelled")] == [first.pk]
    assert [m.worker_id for m in sms("group_promoted")] == [second.pk]


def test_attendance_buttons_only_once_the_session_has_started(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=2)
    came, missed = consenting_worker(), consenting_worker()
    for worker in (came, missed):
        browser(worker.user).post(sign_up_url(session))
    client = browser(leader)

    page = text(client.get(roster_url(session)))
    assert "Came" not in page and "Did not come" not in page
    assert "Attendance can be recorded once the session has started." in page
    page = text(client.post(attendance_url(signup_of(session, came)), {"attended": "yes"}, follow=True))
    assert "This can be recorded once the session has started." in page
    assert state(signup_of(session, came)) == SignupState.BOOKED

    clock.set(at(1, 16))
    client = browser(leader)  # signed in again: the session cookie lasts eight hours
    page = text(client.get(roster_url(session)))
    assert page.count('value="yes"') == 2 and page.count('value="no"') == 2
    assert "Cancel the whole session" not in page

    client.post(attendance_url(signup_of(session, came)), {"attended": "yes"})
    client.post(attendance_url(signup_of(session, missed)), {"attended": "no"})

    assert state(signup_of(session, came)) == SignupState.ATTENDED
    assert state(signup_of(session, missed)) == SignupState.ABSENT
    assert [s.case_id for s in Survey.objects.all()] == [signup_of(session, came).case_id]
    assert set(Case.objects.values_list("stage", flat=True)) == {Stage.CLOSED}
    page = text(client.get(roster_url(session)))
    assert page.count('value="yes"') == 1 and page.count('value="no"') == 1  # each can be corrected


def test_only_the_facilitator_marks_or_cancels(clock, leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=2)
    worker = consenting_worker()
    browser(worker.user).post(sign_up_url(session))
    place = signup_of(session, worker)
    clock.set(at(1, 16))
    for user in (counselor(), staff(Role.CENTER_MANAGER), worker.user, staff(Role.FRONT_DESK)):
        client = browser(user)
        assert client.post(attendance_url(place), {"attended": "yes"}).status_code == 404
        assert client.post(f"{roster_url(session)}cancel/", {"confirm": "yes"}).status_code == 404
    assert state(place) == SignupState.BOOKED
    assert GroupSession.objects.get().cancelled_at is None


def test_the_facilitator_cancels_the_whole_session_once_confirmed(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    workers = [consenting_worker(), consenting_worker()]
    for worker in workers:
        browser(worker.user).post(sign_up_url(session))
    client = browser(leader)
    assert "Cancel the whole session" in text(client.get(roster_url(session)))

    page = text(client.post(f"{roster_url(session)}cancel/", follow=True))  # not confirmed
    assert "Tick the box to confirm" in page
    assert GroupSession.objects.get().cancelled_at is None and not sms("group_cancelled")

    page = text(client.post(f"{roster_url(session)}cancel/", {"confirm": "yes"}, follow=True))

    assert "The session is cancelled; every worker with a place is told by SMS." in page
    assert GroupSession.objects.get().cancelled_at is not None
    assert set(GroupSignup.objects.values_list("state", flat=True)) == {SignupState.CANCELLED}
    assert sorted(m.worker_id for m in sms("group_cancelled")) == sorted(w.pk for w in workers)
    assert "Cancel the whole session" not in page and "Cancel this place" not in page
    assert "This session has been cancelled." in text(browser(workers[0].user).get(GROUPS))


def test_pages_in_chinese(leader):
    session = group_session(facilitator=leader, starts_at=at(1, 14), capacity=1)
    worker = consenting_worker()
    page = text(browser(worker.user, language="zh-hans").get(GROUPS))
    assert session.title in page and 'lang="zh-hans"' in page
