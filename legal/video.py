"""Cloud arbitration (云仲裁): the live room of a video hearing, its waiting room (候审室) and its
participants. Every write and every read of them; the websocket consumer (legal.consumers) and
the pages call these, and the media go through a provider (legal.video_providers).

A video hearing gets its room when it is scheduled (``room_prepare``): the arbitrator and the
legal aid officer join signed in; the worker and the representatives get a personal link by SMS
(``/meet/<token>/``), valid from JOIN_EARLY before the hearing to its end, bound to the first
device that opens it. Joining: devices checked (and consent to recording, when the hearing is
recorded) → the waiting room → admitted by the arbitrator → in session (⇄ the private room of
a mediation). A drop is "disconnected", never absence: an admitted participant who comes back
goes straight in. Every join, leave, admission, removal, mute and move is an audit event with
its time; ``attendance`` reads them back for the hearing page.

Writes lock the room first, then the participant. Side effects (the websocket pushes) go after
commit through care.realtime.
"""

import datetime
import hashlib

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from care import audit, sms, tokens
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import AuditEvent
from care.realtime import push_after_commit
from care.validators import normalize_mobile
from legal import tasks, video_providers
from legal.models import (
    ADMITTED_STATES,
    LIVE_ROOM_STATES,
    Hearing,
    HearingState,
    Participant,
    ParticipantRole,
    ParticipantState,
    Representative,
    RoomState,
    VideoRoom,
)

JOIN_EARLY = datetime.timedelta(minutes=30)
DEVICE_COOKIE = "meet_device"


class VideoEvent:
    ROOM_PREPARED = "legal.video.room_prepared"
    ROOM_OPENED = "legal.video.room_opened"
    ROOM_STARTED = "legal.video.room_started"
    ROOM_PAUSED = "legal.video.room_paused"
    ROOM_ENDED = "legal.video.room_ended"
    CHECKING = "legal.video.checking_devices"
    WAITING = "legal.video.waiting"
    ADMITTED = "legal.video.admitted"
    REMOVED = "legal.video.removed"
    MUTED = "legal.video.muted"
    UNMUTED = "legal.video.unmuted"
    PRIVATE = "legal.video.private_room"
    BACK = "legal.video.back_from_private_room"
    DISCONNECTED = "legal.video.disconnected"
    REJOINED = "legal.video.rejoined"
    LEFT = "legal.video.left"


ATTENDANCE_EVENTS = (VideoEvent.CHECKING, VideoEvent.WAITING, VideoEvent.ADMITTED, VideoEvent.REMOVED,
                     VideoEvent.PRIVATE, VideoEvent.BACK, VideoEvent.DISCONNECTED, VideoEvent.REJOINED,
                     VideoEvent.LEFT, VideoEvent.MUTED, VideoEvent.UNMUTED)

sms.register_template(sms.SmsTemplate(
    "video_join",
    gettext_lazy("Worker Service Center: the online appointment for %(ref)s is at %(when)s. Join it with your "
                 "personal link (from 30 minutes before): %(link)s"),
    sample={"when": "2026-12-01 09:00"},
))


def room_group(room_id: int) -> str:
    return f"video.{room_id}"


# --- reads -----------------------------------------------------------------------------------------


def participant_for_user(*, hearing_id: int, user) -> Participant:
    """The signed-in user's own place in a video hearing; Http404 for anyone not invited."""
    if not user.is_authenticated or not user.is_active:
        raise Http404
    found = (Participant.objects.select_related("room", "room__hearing").filter(
        room__hearing_id=hearing_id, user=user).exclude(state=ParticipantState.REMOVED).first())
    if found is None:
        raise Http404
    return found


def my_place(*, hearing: Hearing, user) -> Participant | None:
    """``user``'s place in a video hearing's room, if they are invited and not removed."""
    if not hearing.is_video or not user.is_authenticated:
        return None
    return (Participant.objects.filter(room__hearing=hearing, user=user)
            .exclude(state=ParticipantState.REMOVED).exclude(room__state=RoomState.ENDED).first())


def participant_for_token(token: str) -> Participant:
    """The participant a personal link stands for; Http404 for a malformed or unknown link, or
    one whose participant was removed or whose hearing is over or cancelled."""
    if not tokens.well_formed(token):
        raise Http404
    found = (Participant.objects.select_related("room", "room__hearing")
             .filter(token_hash=tokens.token_hash(token)).exclude(state=ParticipantState.REMOVED).first())
    if found is None or found.room.state == RoomState.ENDED or found.room.hearing.state == HearingState.CANCELLED:
        raise Http404
    return found


def participant_get(*, participant_id: int, room_id: int) -> Participant:
    try:
        return Participant.objects.select_related("room", "room__hearing").get(pk=participant_id, room_id=room_id)
    except (Participant.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def is_chair(participant: Participant) -> bool:
    """The arbitrator, who runs the room: opens, admits, removes, mutes, takes a side apart, ends."""
    return participant.role == ParticipantRole.ARBITRATOR and participant.state != ParticipantState.REMOVED


def joinable_now(hearing: Hearing, now: datetime.datetime | None = None) -> bool:
    now = now or timezone.now()
    return hearing.starts_at - JOIN_EARLY <= now < hearing.ends_at


def roster(room: VideoRoom) -> list[dict]:
    """Who is where, for the arbitrator's live list (names, roles and states only)."""
    return [{"id": p.pk, "name": p.name, "role": p.role, "role_label": str(p.get_role_display()),
             "state": p.state, "state_label": str(p.get_state_display()), "muted": p.muted, "side": p.side}
            for p in room.participants.all()]


def can_signal(sender: Participant, target: Participant, room: VideoRoom) -> bool:
    """Media signalling goes only between two admitted participants of the same room who share a
    space: when a side is in the private room, it and the chair talk apart from the other side."""
    if sender.room_id != room.pk or target.room_id != room.pk or sender.pk == target.pk:
        return False
    if room.state not in (RoomState.IN_SESSION, RoomState.PAUSED):
        return False
    if sender.state not in ADMITTED_STATES or target.state not in ADMITTED_STATES:
        return False
    return space_of(sender, room) == space_of(target, room)


def space_of(participant: Participant, room: VideoRoom) -> str:
    """"main" or "private". The chair follows the side they took into the private room."""
    if not room.private_side:
        return "main"
    if participant.state == ParticipantState.PRIVATE or is_chair(participant):
        return "private"
    return "main"


def attendance(*, hearing: Hearing) -> list[dict]:
    """The attendance log of a video hearing: every join, leave, admission and removal, with
    its time, oldest first."""
    room = VideoRoom.objects.filter(hearing=hearing).first()
    if room is None:
        return []
    names = dict(room.participants.values_list("pk", "name"))
    events = AuditEvent.objects.filter(subject_type="legal.participant", subject_id__in=[str(pk) for pk in names],
                                       event_type__in=ATTENDANCE_EVENTS).order_by("seq")
    labels = dict(ATTENDANCE_LABELS)
    return [{"at": e.at, "name": names.get(int(e.subject_id), ""), "event": str(labels.get(e.event_type, ""))}
            for e in events]


ATTENDANCE_LABELS = [
    (VideoEvent.CHECKING, gettext_lazy("joined: checking camera and microphone")),
    (VideoEvent.WAITING, gettext_lazy("in the waiting room")),
    (VideoEvent.ADMITTED, gettext_lazy("admitted")),
    (VideoEvent.REMOVED, gettext_lazy("removed")),
    (VideoEvent.PRIVATE, gettext_lazy("taken into the private room")),
    (VideoEvent.BACK, gettext_lazy("back from the private room")),
    (VideoEvent.DISCONNECTED, gettext_lazy("disconnected")),
    (VideoEvent.REJOINED, gettext_lazy("reconnected")),
    (VideoEvent.LEFT, gettext_lazy("left")),
    (VideoEvent.MUTED, gettext_lazy("muted by the arbitrator")),
    (VideoEvent.UNMUTED, gettext_lazy("unmuted by the arbitrator")),
]


# --- writes: the room ------------------------------------------------------------------------------


def room_prepare(*, hearing: Hearing, actor, recorded: bool = False) -> VideoRoom:
    """The room of a video hearing and its invitations, in the transaction that schedules it:
    the arbitrator and the case's legal aid officer (signed in), the worker and every
    representative with a mobile number (a personal link each, by SMS). Asked again, the room
    that exists stands."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("room_prepare must run in the transaction that schedules the hearing")
    existing = VideoRoom.objects.filter(hearing=hearing).first()
    if existing is not None:
        return existing
    room = VideoRoom.objects.create(hearing=hearing, provider=video_providers.provider_name(), recorded=recorded)
    legal_case = hearing.legal_case
    case = legal_case.case
    people = [(ParticipantRole.ARBITRATOR, hearing.arbitrator.get_full_name() or hearing.arbitrator.username,
               hearing.arbitrator, "")]
    if case.assignee_id:
        people.append((ParticipantRole.LEGAL_OFFICER, case.assignee.get_full_name() or case.assignee.username,
                       case.assignee, ""))
    people.append((ParticipantRole.WORKER, case.worker.name, case.worker.user, case.worker.mobile))
    for rep in legal_case.representatives.exclude(mobile=""):
        try:
            mobile = normalize_mobile(rep.mobile)
        except InvalidInput:
            continue
        role = ParticipantRole.WORKER_REP if rep.side == Representative.Side.WORKER else ParticipantRole.EMPLOYER_REP
        people.append((role, rep.name, None, mobile))
    links = []
    for role, name, user, mobile in people:
        participant = Participant(room=room, role=role, name=name[:50], user=user, mobile=mobile)
        if mobile:
            token, participant.token_hash = tokens.new_token()
            links.append((participant, token))
        participant.save()
    audit.record(actor=actor, event_type=VideoEvent.ROOM_PREPARED, subject=room,
                 new={"hearing": hearing.pk, "participants": len(people), "recorded": recorded})
    local = timezone.localtime(hearing.starts_at).strftime("%Y-%m-%d %H:%M")
    for participant, token in links:
        recipient = case.worker if participant.role == ParticipantRole.WORKER else participant.mobile
        language = case.worker.language if participant.role == ParticipantRole.WORKER else settings.LANGUAGE_CODE
        with translation.override(language):
            sms.notify(recipient=recipient, template="video_join",
                       context={"ref": case.reference, "when": local, "link": sms.link(reverse("meet:join",
                                                                                             args=[token]))})
    return room


def _locked_room(room_id: int) -> VideoRoom:
    return VideoRoom.objects.select_for_update(of=("self",)).select_related("hearing").get(pk=room_id)


def _locked(participant: Participant) -> tuple[VideoRoom, Participant]:
    room = _locked_room(participant.room_id)
    return room, Participant.objects.select_for_update().get(pk=participant.pk)


def _push(room: VideoRoom, event: str, **data) -> None:
    push_after_commit(room_group(room.pk), {"event": event, **data})


def _chair_only(actor: Participant) -> None:
    if not is_chair(actor):
        raise NotAllowed(_("Only the arbitrator runs the hearing room."))


# step: (the room's state after it, its audit event, whether the transition takes the time)
ROOM_STEPS = {
    "open": (RoomState.OPEN, VideoEvent.ROOM_OPENED, True),
    "start": (RoomState.IN_SESSION, VideoEvent.ROOM_STARTED, False),
    "pause": (RoomState.PAUSED, VideoEvent.ROOM_PAUSED, False),
    "end": (RoomState.ENDED, VideoEvent.ROOM_ENDED, True),
}


@transaction.atomic
def room_step(*, room: VideoRoom, actor: Participant, step: str) -> VideoRoom:
    """The arbitrator opens the waiting room, starts, pauses or ends the hearing. Ending sends
    everyone out (left)."""
    _chair_only(actor)
    room = _locked_room(room.pk)
    if step not in ROOM_STEPS:
        raise InvalidInput(_("Unknown step."), detail={"step": "invalid"})
    target, event, timed = ROOM_STEPS[step]
    if room.state == target:
        return room
    transition = getattr(room, step)
    if not can_proceed(transition):
        raise InvalidState(_("The hearing room cannot do that now."))
    old = room.state
    if timed:
        transition(timezone.now())
    else:
        transition()
    room.save()
    if room.provider == video_providers.TWILIO and step in ("open", "end"):
        # The provider's rooms are made (and closed) by a task, outside the transaction.
        task = tasks.video_rooms_create if step == "open" else tasks.video_rooms_end
        transaction.on_commit(lambda: task.enqueue(room.pk))
    if step == "end":
        for participant in room.participants.select_for_update().exclude(
                state__in=(ParticipantState.LEFT, ParticipantState.REMOVED, ParticipantState.INVITED)):
            participant.leave()
            participant.save(update_fields=["state", "updated_at"])
            audit.record(actor=actor.user, event_type=VideoEvent.LEFT, subject=participant,
                         new={"state": participant.state, "why": "ended"})
    audit.record(actor=actor.user, event_type=event, subject=room, old={"state": old}, new={"state": room.state})
    _push(room, "room", state=room.state)
    return room


# --- writes: joining ---------------------------------------------------------------------------------


def device_hash(device: str) -> str:
    return hashlib.sha256(f"meet-device:{device}".encode()).hexdigest()


@transaction.atomic
def join(*, participant: Participant, device: str = "") -> Participant:
    """A participant opens the room (their link, with the browser's ``device`` cookie; or their
    hearing page, signed in): they check their camera and microphone next. A link is bound to
    the first device that opens it; another device is refused. Outside the hearing's time, or
    once it ended, refused too."""
    room, participant = _locked(participant)
    hearing = room.hearing
    now = timezone.now()
    if room.state == RoomState.ENDED or hearing.state == HearingState.CANCELLED or now >= hearing.ends_at:
        raise InvalidState(_("This hearing is over."))
    if not joinable_now(hearing, now):
        raise InvalidState(_("The room opens 30 minutes before the hearing, at %(when)s.")
                           % {"when": timezone.localtime(hearing.starts_at - JOIN_EARLY).strftime("%Y-%m-%d %H:%M")})
    if participant.state == ParticipantState.REMOVED:
        raise NotAllowed(_("The arbitrator has removed you from this hearing."))
    if device:  # by the personal link: it is bound to the first device that opens it
        if participant.device_hash and participant.device_hash != device_hash(device):
            raise NotAllowed(_("This personal link is already in use on another device."))
        participant.device_hash = device_hash(device)
    if participant.state == ParticipantState.DISCONNECTED:
        return _reconnect(room, participant)
    if participant.state in ADMITTED_STATES or participant.state == ParticipantState.WAITING:
        return participant  # the same page opened again
    old = participant.state
    participant.check_devices()
    participant.save(update_fields=["state", "device_hash", "updated_at"])
    audit.record(actor=participant.user, event_type=VideoEvent.CHECKING, subject=participant,
                 old={"state": old}, new={"state": participant.state})
    _push(room, "roster")
    return participant


@transaction.atomic
def devices_checked(*, participant: Participant, consent: bool) -> Participant:
    """Camera and microphone work: into the waiting room. A recorded hearing needs the
    participant's consent to the recording first. The arbitrator goes straight in."""
    room, participant = _locked(participant)
    if participant.state != ParticipantState.CHECKING:
        if participant.state in (ParticipantState.WAITING, *ADMITTED_STATES):
            return participant
        raise InvalidState(_("Open the room again from your link."))
    if room.recorded and not consent:
        raise InvalidInput(_("This hearing is recorded: agree to the recording to join it."),
                           detail={"consent": "required"})
    participant.wait(timezone.now() if room.recorded else None)
    participant.save(update_fields=["state", "consent_at", "updated_at"])
    audit.record(actor=participant.user, event_type=VideoEvent.WAITING, subject=participant,
                 new={"state": participant.state, "consent": bool(participant.consent_at)})
    if is_chair(participant):  # the chair admits, and is admitted by no one
        participant.admit()
        participant.save(update_fields=["state", "admitted", "updated_at"])
        audit.record(actor=participant.user, event_type=VideoEvent.ADMITTED, subject=participant,
                     new={"state": participant.state})
    _push(room, "roster")
    return participant


def _reconnect(room: VideoRoom, participant: Participant) -> Participant:
    """Back after a drop: straight in if they had been admitted, else to the waiting room."""
    if participant.admitted:
        participant.rejoin()
        if room.private_side and participant.side == room.private_side:
            participant.go_private()  # their side is still in the private room
    else:
        participant.rejoin_waiting()
    participant.save(update_fields=["state", "device_hash", "updated_at"])
    audit.record(actor=participant.user, event_type=VideoEvent.REJOINED, subject=participant,
                 new={"state": participant.state})
    _push(room, "roster")
    return participant


def disconnected(*, participant: Participant) -> Participant:
    """The participant's connection dropped (the websocket closed without a goodbye)."""
    return _step(participant, "drop", VideoEvent.DISCONNECTED)


def leave(*, participant: Participant) -> Participant:
    return _step(participant, "leave", VideoEvent.LEFT)


@transaction.atomic
def _step(participant: Participant, transition: str, event: str) -> Participant:
    """A participant's own move (drop, leave), if it can still be made: audited, pushed."""
    room, participant = _locked(participant)
    move = getattr(participant, transition)
    if not can_proceed(move):
        return participant
    old = participant.state
    move()
    participant.save(update_fields=["state", "updated_at"])
    audit.record(actor=participant.user, event_type=event, subject=participant,
                 old={"state": old}, new={"state": participant.state})
    _push(room, "roster")
    return participant


# --- writes: the arbitrator's controls -----------------------------------------------------------------


@transaction.atomic
def admit(*, participant: Participant, actor: Participant) -> Participant:
    _chair_only(actor)
    room, participant = _locked(participant)
    if participant.state in ADMITTED_STATES:
        return participant
    if room.state not in LIVE_ROOM_STATES:
        raise InvalidState(_("Open the waiting room first."))
    if participant.state != ParticipantState.WAITING:
        raise InvalidState(_("%(name)s is not in the waiting room.") % {"name": participant.name})
    participant.admit()
    participant.save(update_fields=["state", "admitted", "updated_at"])
    audit.record(actor=actor.user, event_type=VideoEvent.ADMITTED, subject=participant,
                 old={"state": ParticipantState.WAITING}, new={"state": participant.state})
    _push(room, "roster")
    _push(room, "admitted", participant=participant.pk)
    return participant


@transaction.atomic
def remove(*, participant: Participant, actor: Participant) -> Participant:
    _chair_only(actor)
    room, participant = _locked(participant)
    if participant.pk == actor.pk:
        raise InvalidState(_("The arbitrator cannot remove themselves: end the hearing instead."))
    if participant.state == ParticipantState.REMOVED:
        return participant
    old = participant.state
    participant.remove()
    participant.save(update_fields=["state", "admitted", "updated_at"])
    audit.record(actor=actor.user, event_type=VideoEvent.REMOVED, subject=participant,
                 old={"state": old}, new={"state": participant.state})
    _push(room, "roster")
    _push(room, "removed", participant=participant.pk)
    return participant


@transaction.atomic
def mute(*, participant: Participant, actor: Participant, muted: bool = True) -> Participant:
    _chair_only(actor)
    room, participant = _locked(participant)
    if participant.muted == muted:
        return participant
    participant.muted = muted
    participant.save(update_fields=["muted", "updated_at"])
    audit.record(actor=actor.user, event_type=VideoEvent.MUTED if muted else VideoEvent.UNMUTED, subject=participant,
                 new={"muted": muted})
    _push(room, "roster")
    _push(room, "muted", participant=participant.pk, muted=muted)
    return participant


@transaction.atomic
def private_room(*, room: VideoRoom, actor: Participant, side: str) -> VideoRoom:
    """背靠背: the arbitrator takes one side ("worker" or "employer") into the private room, or
    brings it back (``side=""``). The other side hears and sees nothing of it."""
    _chair_only(actor)
    room = _locked_room(room.pk)
    if side not in ("", "worker", "employer"):
        raise InvalidInput(_("Choose a side."), detail={"side": "invalid"})
    if room.state != RoomState.IN_SESSION:
        raise InvalidState(_("A private room is held during the session."))
    if room.private_side == side:
        return room
    participants = list(room.participants.select_for_update())
    for participant in participants:
        if side and participant.side == side and participant.state == ParticipantState.IN_SESSION:
            participant.go_private()
            event = VideoEvent.PRIVATE
        elif participant.state == ParticipantState.PRIVATE and participant.side != side:
            participant.come_back()
            event = VideoEvent.BACK
        else:
            continue
        participant.save(update_fields=["state", "updated_at"])
        audit.record(actor=actor.user, event_type=event, subject=participant, new={"state": participant.state})
    room.private_side = side
    room.save(update_fields=["private_side"])
    _push(room, "roster")
    _push(room, "spaces", private_side=side)
    return room


# --- the provider's callbacks ----------------------------------------------------------------------


def provider_callback(*, room_id: int, provider: str, payload: dict, body: str, signature_valid: bool):
    """A status callback of the video provider: stored raw first (in its own transaction, so it
    stays whatever happens next), then, if its signature is valid, processed: a participant the
    provider saw disconnect is "disconnected" here too; every event is in the audit log."""
    from legal.models import ProviderCallback

    callback = ProviderCallback.objects.create(provider=provider, body=body, signature_valid=signature_valid)
    if not signature_valid:
        return callback
    try:
        with transaction.atomic():
            room = _locked_room(room_id)
            event = str(payload.get("StatusCallbackEvent", ""))[:40]
            audit.record(actor=None, event_type="legal.video.provider_event", subject=room,
                         new={"event": event, "callback": callback.pk,
                              "identity": str(payload.get("ParticipantIdentity", ""))[:40]})
            participant_id = video_providers.participant_id_of(payload.get("ParticipantIdentity", ""))
            if event == "participant-disconnected" and participant_id is not None:
                participant = room.participants.filter(pk=participant_id).first()
                if participant is not None:
                    disconnected(participant=participant)
    except Exception as exc:  # noqa: BLE001 - kept with the raw callback, for a person to look at
        callback.error = f"{type(exc).__name__}: {exc}"[:300]
    callback.processed_at = timezone.now()
    callback.save(update_fields=["processed_at", "error"])
    return callback
