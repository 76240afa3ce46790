"""Cloud arbitration's room (legal.video): the invitations, the personal links (their time
window, bound to one device), the waiting room, admission by the arbitrator only, consent to
the recording, drops and reconnection, the private room of a mediation, removal, the end, and
the attendance log. Media signalling is allowed only between admitted participants who share a
space (``can_signal``)."""

import datetime

import pytest
from django.http import Http404
from django.utils import timezone, translation

from care import tokens
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import AuditEvent, OutboundSms
from legal import video
from legal.models import Hearing, Participant, ParticipantRole, ParticipantState, RoomState, VideoRoom
from tests.legal.video_helpers import SECRET, chair, seated, video_hearing

pytestmark = pytest.mark.django_db

R = ParticipantRole
S = ParticipantState


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def state(participant) -> str:
    return Participant.objects.get(pk=participant.pk).state


def test_a_video_hearing_gets_its_room_and_personal_links_by_sms():
    vh = video_hearing()
    people = {p.role: p for p in vh.room.participants.all()}
    assert set(people) == {R.ARBITRATOR, R.LEGAL_OFFICER, R.WORKER, R.EMPLOYER_REP}
    assert people[R.ARBITRATOR].user == vh.arbitrator and people[R.LEGAL_OFFICER].user == vh.officer
    assert all(p.state == S.INVITED for p in people.values())
    messages = list(OutboundSms.objects.filter(template="video_join"))
    assert sorted(m.to for m in messages) == sorted([vh.worker.mobile, "+8613900000041"])
    for message in messages:
        assert vh.hearing.legal_case.case.reference in message.body and "/meet/" in message.body
        for word in ("legal", "仲裁", "arbitration", SECRET):
            assert word not in message.body
    # Only the tokens' hashes are kept.
    for role, token in vh.links.items():
        assert people[role].token_hash == tokens.token_hash(token)
        assert token not in str(list(Participant.objects.values_list("token_hash", flat=True)))
    assert AuditEvent.objects.filter(event_type=video.VideoEvent.ROOM_PREPARED).count() == 1


def test_the_link_works_from_half_an_hour_before_until_the_end():
    vh = video_hearing(begun=False)
    worker = vh.participant(R.WORKER)
    with pytest.raises(InvalidState, match="opens 30 minutes before"):
        video.join(participant=worker, device="d1")
    assert state(worker) == S.INVITED
    now = timezone.now()
    Hearing.objects.filter(pk=vh.hearing.pk).update(starts_at=now + datetime.timedelta(minutes=29),
                                                    ends_at=now + datetime.timedelta(hours=2))
    assert video.join(participant=worker, device="d1").state == S.CHECKING
    Hearing.objects.filter(pk=vh.hearing.pk).update(starts_at=now - datetime.timedelta(hours=3),
                                                    ends_at=now - datetime.timedelta(minutes=1))
    with pytest.raises(InvalidState, match="This hearing is over"):
        video.join(participant=worker, device="d1")


def test_a_link_is_bound_to_the_first_device_that_opens_it():
    vh = video_hearing()
    rep = vh.participant(R.EMPLOYER_REP)
    video.join(participant=rep, device="phone-of-the-rep")
    with pytest.raises(NotAllowed, match="another device"):
        video.join(participant=rep, device="someone-elses-laptop")
    assert video.join(participant=rep, device="phone-of-the-rep").state == S.CHECKING


def test_the_waiting_room_then_the_arbitrator_admits():
    vh = video_hearing()
    arbitrator = seated(vh, R.ARBITRATOR)
    assert arbitrator.state == S.IN_SESSION  # the chair is admitted by no one
    worker = seated(vh, R.WORKER)
    assert worker.state == S.WAITING
    with pytest.raises(InvalidState, match="Open the waiting room first"):
        video.admit(participant=worker, actor=arbitrator)
    video.room_step(room=vh.room, actor=arbitrator, step="open")
    assert video.admit(participant=worker, actor=arbitrator).state == S.IN_SESSION
    assert video.admit(participant=worker, actor=arbitrator).state == S.IN_SESSION  # twice: once
    assert AuditEvent.objects.filter(event_type=video.VideoEvent.ADMITTED, subject_id=str(worker.pk)).count() == 1
    log = video.attendance(hearing=vh.hearing)
    assert [(row["name"], row["event"]) for row in log if row["name"] == "刘职工"] == [
        ("刘职工", "joined: checking camera and microphone"), ("刘职工", "in the waiting room"),
        ("刘职工", "admitted")]
    assert all(isinstance(row["at"], datetime.datetime) for row in log)


@pytest.mark.parametrize("step", ["admit", "remove", "mute"])
def test_only_the_arbitrator_controls_the_room(step):
    vh = video_hearing()
    chair(vh)
    worker, rep = seated(vh, R.WORKER), seated(vh, R.EMPLOYER_REP)
    before = AuditEvent.objects.count()
    with pytest.raises(NotAllowed):
        getattr(video, step)(participant=rep, actor=worker)
    with pytest.raises(NotAllowed):
        video.room_step(room=vh.room, actor=worker, step="end")
    assert state(rep) == S.WAITING and AuditEvent.objects.count() == before
    assert VideoRoom.objects.get(pk=vh.room.pk).state == RoomState.IN_SESSION


def test_a_recorded_hearing_needs_each_participants_consent():
    vh = video_hearing(recorded=True)
    worker = video.join(participant=vh.participant(R.WORKER), device="d1")
    with pytest.raises(InvalidInput, match="agree to the recording"):
        video.devices_checked(participant=worker, consent=False)
    assert state(worker) == S.CHECKING
    worker = video.devices_checked(participant=worker, consent=True)
    assert worker.state == S.WAITING and worker.consent_at is not None
    event = AuditEvent.objects.get(event_type=video.VideoEvent.WAITING, subject_id=str(worker.pk))
    assert event.new["consent"] is True


def test_a_drop_is_disconnected_and_an_admitted_participant_comes_straight_back():
    vh = video_hearing()
    arbitrator = chair(vh)
    worker = video.admit(participant=seated(vh, R.WORKER), actor=arbitrator)
    rep = seated(vh, R.EMPLOYER_REP)
    assert video.disconnected(participant=worker).state == S.DISCONNECTED
    assert video.disconnected(participant=rep).state == S.DISCONNECTED
    assert {p["id"]: p["state"] for p in video.roster(vh.room)}[worker.pk] == S.DISCONNECTED
    assert video.join(participant=vh.participant(R.WORKER), device="device-1").state == S.IN_SESSION
    assert video.join(participant=vh.participant(R.EMPLOYER_REP), device="device-1").state == S.WAITING
    assert video.is_chair(video.disconnected(participant=arbitrator))
    assert video.join(participant=vh.participant(R.ARBITRATOR)).state == S.IN_SESSION  # keeps control
    video.mute(participant=vh.participant(R.WORKER), actor=vh.participant(R.ARBITRATOR))
    assert vh.participant(R.WORKER).muted


def test_the_private_room_takes_one_side_apart():
    vh = video_hearing()
    arbitrator = chair(vh)
    officer = video.admit(participant=seated(vh, R.LEGAL_OFFICER), actor=arbitrator)
    worker = video.admit(participant=seated(vh, R.WORKER), actor=arbitrator)
    rep = video.admit(participant=seated(vh, R.EMPLOYER_REP), actor=arbitrator)
    room = video.private_room(room=vh.room, actor=arbitrator, side="worker")
    worker, officer, rep, arbitrator = (Participant.objects.get(pk=p.pk) for p in (worker, officer, rep, arbitrator))
    assert (worker.state, officer.state, rep.state) == (S.PRIVATE, S.PRIVATE, S.IN_SESSION)
    assert video.can_signal(arbitrator, worker, room) and video.can_signal(worker, officer, room)
    assert not video.can_signal(arbitrator, rep, room) and not video.can_signal(rep, worker, room)
    assert not video.can_signal(rep, arbitrator, room)
    # A drop in the private room comes back to it.
    video.disconnected(participant=worker)
    assert video.join(participant=vh.participant(R.WORKER), device="device-1").state == S.PRIVATE
    room = video.private_room(room=room, actor=arbitrator, side="")
    people = {p.role: p for p in room.participants.all()}
    assert all(p.state == S.IN_SESSION for p in people.values())
    assert video.can_signal(people[R.EMPLOYER_REP], people[R.WORKER], room)
    with pytest.raises(InvalidInput):
        video.private_room(room=room, actor=arbitrator, side="everyone")


def test_nobody_signals_before_being_admitted_or_across_rooms():
    vh, other = video_hearing(), video_hearing()
    arbitrator = chair(vh)
    worker = seated(vh, R.WORKER)
    assert not video.can_signal(arbitrator, worker, vh.room) and not video.can_signal(worker, arbitrator, vh.room)
    worker = video.admit(participant=worker, actor=arbitrator)
    assert video.can_signal(arbitrator, worker, vh.room)
    stranger = chair(other)
    assert not video.can_signal(stranger, worker, vh.room) and not video.can_signal(worker, stranger, other.room)
    video.room_step(room=vh.room, actor=arbitrator, step="pause")
    assert video.can_signal(arbitrator, worker, VideoRoom.objects.get(pk=vh.room.pk))  # paused: still connected


def test_a_removed_participant_is_out_and_their_link_dead():
    vh = video_hearing()
    arbitrator = chair(vh)
    rep = video.admit(participant=seated(vh, R.EMPLOYER_REP), actor=arbitrator)
    assert video.remove(participant=rep, actor=arbitrator).state == S.REMOVED
    assert not video.can_signal(arbitrator, Participant.objects.get(pk=rep.pk), vh.room)
    with pytest.raises(Http404):
        video.participant_for_token(vh.links[R.EMPLOYER_REP])
    with pytest.raises(NotAllowed):
        video.join(participant=Participant.objects.get(pk=rep.pk), device="device-1")
    with pytest.raises(InvalidState, match="cannot remove themselves"):
        video.remove(participant=arbitrator, actor=arbitrator)


def test_ending_the_hearing_sends_everyone_out():
    vh = video_hearing()
    arbitrator = chair(vh)
    worker = video.admit(participant=seated(vh, R.WORKER), actor=arbitrator)
    room = video.room_step(room=vh.room, actor=arbitrator, step="end")
    assert room.state == RoomState.ENDED and room.ended_at is not None
    assert state(worker) == S.LEFT and state(arbitrator) == S.LEFT
    assert state(vh.participant(R.EMPLOYER_REP)) == S.INVITED  # never came
    with pytest.raises(InvalidState, match="over"):
        video.join(participant=vh.participant(R.WORKER), device="device-1")
    with pytest.raises(InvalidState):
        video.room_step(room=room, actor=arbitrator, step="start")
    assert "left" in [row["event"] for row in video.attendance(hearing=vh.hearing) if row["name"] == "刘职工"]


def test_an_unknown_step_or_a_malformed_link_is_refused():
    vh = video_hearing()
    arbitrator = chair(vh, start=False)
    with pytest.raises(InvalidInput):
        video.room_step(room=vh.room, actor=arbitrator, step="explode")
    for token in ("", "short", "x" * 43, None):
        with pytest.raises(Http404):
            video.participant_for_token(token)
