"""Social events (联谊活动): seats and the waitlist, the balance between women and men, who may
sign up (verified members of the event's ages), check-in, and marks after the event: two marks
that meet make an introduction both accepted (the contacts go by SMS), one alone nothing."""

import datetime

import pytest
from django.utils import timezone, translation

from care.errors import InvalidState, NotAllowed
from care.models import OutboundSms
from matchmaking import services
from matchmaking.models import EventSignup, Introduction, IntroState, SignupState
from tests.matchmaking.helpers import matchmaker, member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def keeper():
    return matchmaker()


def event(keeper, **fields):
    start = timezone.now() + datetime.timedelta(days=3)
    values = {"title": "冬日联谊", "place": "工人文化宫三楼", "starts_at": start,
              "ends_at": start + datetime.timedelta(hours=3), "capacity": 4, "balance_genders": True, **fields}
    return services.event_create(actor=keeper, **values)


def sign(profile, ev):
    return services.event_signup(actor=profile.worker.user, profile=profile, event=ev)


def state(signup) -> str:
    return EventSignup.objects.get(pk=signup.pk).state


def test_gender_balance_holds_seats_for_each_half_and_the_waitlist_promotes_in_order(keeper):
    ev = event(keeper, capacity=4)
    men = [member(gender="male", seeking="female") for _ in range(3)]
    women = [member(gender="female", seeking="male") for _ in range(2)]
    places = [sign(p, ev) for p in men] + [sign(p, ev) for p in women]
    assert [state(s) for s in places] == ["booked", "booked", "waitlisted", "booked", "booked"]
    assert "候补名单第1位" in OutboundSms.objects.filter(template="match_event_waitlisted").get().body
    # a woman gives her seat back: the waiting man may not take a woman's half
    services.event_signup_cancel(actor=women[0].worker.user, signup=places[3])
    assert state(places[2]) == "waitlisted"
    # a man gives his seat back: the waiting man gets it
    services.event_signup_cancel(actor=men[0].worker.user, signup=places[0])
    assert state(places[2]) == "booked"
    assert OutboundSms.objects.filter(template="match_event_promoted", worker=men[2].worker).count() == 1


def test_without_balance_seats_go_in_order(keeper):
    ev = event(keeper, capacity=2, balance_genders=False)
    places = [sign(member(gender="male", seeking="female"), ev) for _ in range(3)]
    assert [state(s) for s in places] == ["booked", "booked", "waitlisted"]


def test_only_verified_members_of_the_event_s_ages_sign_up(keeper):
    ev = event(keeper, min_age=25, max_age=35)
    with pytest.raises(InvalidState) as young:
        sign(member(gender="male", seeking="female", born=f"{timezone.localdate().year - 21}0101"), ev)
    assert young.value.detail == {"age": "out_of_range"}
    with pytest.raises(InvalidState):
        sign(member(gender="male", seeking="female", verify=False), ev)
    assert not EventSignup.objects.exists()
    with pytest.raises(NotAllowed):
        services.event_create(actor=member().worker.user, title="x", place="y", starts_at=ev.starts_at,
                              ends_at=ev.ends_at, capacity=10)


def _came(keeper, ev, *profiles, clock):
    signups = [sign(p, ev) for p in profiles]
    clock.set(ev.starts_at + datetime.timedelta(minutes=30))
    for signup in signups:
        services.event_check_in(actor=keeper, signup=signup)
    return signups


class Clock:
    def __init__(self, monkeypatch):
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, now):
        self.now = now


def test_mutual_marks_make_an_accepted_introduction_and_one_mark_alone_nothing(keeper, monkeypatch):
    clock = Clock(monkeypatch)
    ev = event(keeper, capacity=6)
    him, her, other = (member(gender="male", seeking="female"), member(gender="female", seeking="male"),
                       member(gender="female", seeking="male"))
    _came(keeper, ev, him, her, other, clock=clock)
    assert services.event_mark(actor=him.worker.user, profile=him, event=ev, other=other) is None
    assert services.event_mark(actor=him.worker.user, profile=him, event=ev, other=her) is None
    assert not OutboundSms.objects.filter(template="match_contact").exists()
    intro = services.event_mark(actor=her.worker.user, profile=her, event=ev, other=him)
    assert intro.state == IntroState.CONTACT_SHARED
    messages = OutboundSms.objects.filter(template="match_contact")
    assert {m.to for m in messages} == {him.worker.mobile, her.worker.mobile}
    assert Introduction.objects.count() == 1  # other marked nobody back


def test_marks_only_between_people_who_came_and_never_across_a_block(keeper, monkeypatch):
    clock = Clock(monkeypatch)
    ev = event(keeper, capacity=6)
    him, her, absent = (member(gender="male", seeking="female"), member(gender="female", seeking="male"),
                        member(gender="female", seeking="male"))
    sign(absent, ev)  # booked, never checked in
    _came(keeper, ev, him, her, clock=clock)
    with pytest.raises(InvalidState):
        services.event_mark(actor=him.worker.user, profile=him, event=ev, other=absent)
    services.block(actor=her.worker.user, profile=her, other=him)
    services.event_mark(actor=him.worker.user, profile=him, event=ev, other=her)
    assert services.event_mark(actor=her.worker.user, profile=her, event=ev, other=him) is None
    assert not Introduction.objects.exists()


def test_check_in_only_from_an_hour_before_and_only_booked_seats(keeper):
    ev = event(keeper, capacity=2, balance_genders=False)
    booked = sign(member(gender="male", seeking="female"), ev)
    with pytest.raises(InvalidState):
        services.event_check_in(actor=keeper, signup=booked)  # three days early
    assert state(booked) == SignupState.BOOKED
