"""A video hearing's room under simultaneous clicks, on PostgreSQL (real connections, real row
locks): the arbitrator's two tabs admit the same worker at once (one admission, one audit event);
the hearing ends while someone is being admitted (either the admission came first and the
participant then left with everyone, or it is refused: never someone in session in an ended room)."""

import pytest
from django.db import connection

from care import audit
from care.errors import InvalidState
from care.models import AuditEvent
from legal import video
from legal.models import Participant, ParticipantRole, ParticipantState, RoomState, VideoRoom
from tests.concurrency import race
from tests.legal.video_helpers import chair, seated, video_hearing

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]
R = ParticipantRole


@pytest.mark.parametrize("attempt", range(3))
def test_two_tabs_admitting_one_worker_admit_once(attempt):
    vh = video_hearing()
    arbitrator = chair(vh)
    worker = seated(vh, R.WORKER)
    outcomes = race(lambda: video.admit(participant=worker, actor=arbitrator),
                    lambda: video.admit(participant=worker, actor=arbitrator))
    assert all(isinstance(o, Participant) and o.state == ParticipantState.IN_SESSION for o in outcomes), outcomes
    assert AuditEvent.objects.filter(event_type=video.VideoEvent.ADMITTED, subject_id=str(worker.pk)).count() == 1
    assert list(audit.verify()) == []


@pytest.mark.parametrize("attempt", range(3))
def test_ending_while_admitting_never_leaves_anyone_in_an_ended_room(attempt):
    vh = video_hearing()
    arbitrator = chair(vh)
    worker = seated(vh, R.WORKER)
    outcomes = race(lambda: video.admit(participant=worker, actor=arbitrator),
                    lambda: video.room_step(room=vh.room, actor=arbitrator, step="end"))
    assert isinstance(outcomes[1], VideoRoom) and outcomes[1].state == RoomState.ENDED, outcomes
    assert isinstance(outcomes[0], Participant | InvalidState), outcomes
    assert Participant.objects.get(pk=worker.pk).state in (ParticipantState.LEFT, ParticipantState.WAITING)
    assert not Participant.objects.filter(room=vh.room, state__in=video.ADMITTED_STATES).exists()
    assert list(audit.verify()) == []
