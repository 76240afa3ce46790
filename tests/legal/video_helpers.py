"""A video hearing with its room, for the cloud-arbitration tests: a legal case with a worker,
an employer's representative with a mobile number, its legal aid officer and an arbitrator;
scheduled by video and moved to "now" (it began ten minutes ago) so its links work."""

import datetime
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from care.models import OutboundSms, Stage
from care.permissions import grant_case
from care.roles import Role
from legal import hearings, video
from legal.models import Hearing, LegalCase, LegalState, Participant, ParticipantRole, Representative, VideoRoom
from tests.factories import CaseFactory, WorkerFactory, staff

SECRET = "视频庭审案情-VIDEO-SECRET-6620"


@dataclass
class VideoHearing:
    hearing: Hearing
    officer: object
    arbitrator: object
    worker: object
    links: dict  # role -> personal link token

    @property
    def room(self) -> VideoRoom:
        """The room as it is now."""
        return VideoRoom.objects.get(hearing=self.hearing)

    def participant(self, role: str) -> Participant:
        return Participant.objects.get(room=self.room, role=role)


def video_hearing(*, recorded: bool = False, begun: bool = True) -> VideoHearing:
    officer = staff(Role.LEGAL_OFFICER, "legal", first_name="法援甲")
    arbitrator = staff(Role.ARBITRATOR, first_name="仲裁员甲", mobile="+8613700000031")
    worker = WorkerFactory(name="刘职工", user__language="en")
    case = CaseFactory(department="legal", assignee=officer, stage=Stage.IN_PROGRESS, worker=worker,
                       description=SECRET)
    grant_case(case=case, user=officer)
    legal_case = LegalCase.objects.create(case=case, state=LegalState.COMMITTEE_ACCEPTED,
                                          employer_name="青岛某制造有限公司")
    Representative.objects.create(legal_case=legal_case, side=Representative.Side.EMPLOYER, name="厂方代表",
                                  mobile="+8613900000041")
    day = timezone.localdate() + datetime.timedelta(days=10)
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
    with transaction.atomic():
        hearing = hearings.hearing_schedule(legal_case=legal_case, actor=officer, arbitrator=arbitrator,
                                            starts_at=start, ends_at=start + datetime.timedelta(hours=2), place="",
                                            is_video=True)
        if recorded:
            hearing.room.recorded = True
            hearing.room.save(update_fields=["recorded"])
    if begun:
        now = timezone.now()
        Hearing.objects.filter(pk=hearing.pk).update(starts_at=now - datetime.timedelta(minutes=10),
                                                     ends_at=now + datetime.timedelta(hours=1))
    links = {}
    for message in OutboundSms.objects.filter(template="video_join"):
        token = re.search(r"/meet/([A-Za-z0-9_-]+)/", message.body).group(1)
        role = ParticipantRole.WORKER if message.to == worker.mobile else ParticipantRole.EMPLOYER_REP
        links[role] = token
    return VideoHearing(Hearing.objects.get(pk=hearing.pk), officer, arbitrator, worker, links)


def seated(vh: VideoHearing, role: str, *, device: str = "device-1") -> Participant:
    """``role`` joined, checked their devices and waits (the arbitrator: is in session)."""
    participant = vh.participant(role)
    video.join(participant=participant, device=device)
    return video.devices_checked(participant=vh.participant(role), consent=True)


def chair(vh: VideoHearing, *, start: bool = True) -> Participant:
    """The arbitrator in the room, the waiting room open and (``start``) the session started."""
    arbitrator = seated(vh, ParticipantRole.ARBITRATOR)
    video.room_step(room=vh.room, actor=arbitrator, step="open")
    if start:
        video.room_step(room=vh.room, actor=arbitrator, step="start")
    return Participant.objects.get(pk=arbitrator.pk)
