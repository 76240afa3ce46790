"""The websocket of a video hearing's room (``/ws/meet/<room_id>/``): it authenticates, relays
and forwards; every change goes through legal.video's services.

Who is speaking is the participant the join page put in the session (``meet.<room_id>``): the
signed-in user's place, or the one a personal link stands for. On every message the participant
and the room are read again, so a removal, an end or a move to the private room takes effect
at once. Media signalling (offer, answer, ICE) is relayed only between two admitted participants
of the same room and space, checked when sent and again when delivered."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from care.errors import HallError
from legal import video, video_providers
from legal.models import ADMITTED_STATES, Participant, ParticipantState, RoomState, VideoRoom

NOT_A_PARTICIPANT = 4403
GONE = 4410
SIGNAL_KINDS = {"offer", "answer", "candidate"}
MAX_SIGNAL_BYTES = 64 * 1024


def session_key(room_id: int) -> str:
    return f"meet.{room_id}"


def personal_group(room_id: int, participant_id: int) -> str:
    return f"video.{room_id}.p{participant_id}"


class VideoRoomConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.room_id = self.scope["url_route"]["kwargs"]["room_id"]
        session = self.scope.get("session")
        participant_id = session.get(session_key(self.room_id)) if session is not None else None
        self.participant_id = await self._valid_participant(participant_id)
        await self.accept()  # then close with a code the page can read (see care.consumers)
        if self.participant_id is None:
            await self.close(code=NOT_A_PARTICIPANT)
            return
        self.left = False
        await self.channel_layer.group_add(video.room_group(self.room_id), self.channel_name)
        await self.channel_layer.group_add(personal_group(self.room_id, self.participant_id), self.channel_name)
        # Everyone looks again: a participant coming back is offered the media again.
        await self.channel_layer.group_send(video.room_group(self.room_id), {"type": "hall.event", "event": "roster"})

    async def disconnect(self, code):
        if getattr(self, "participant_id", None) is None:
            return
        await self.channel_layer.group_discard(video.room_group(self.room_id), self.channel_name)
        await self.channel_layer.group_discard(personal_group(self.room_id, self.participant_id), self.channel_name)
        if not self.left:
            await self._call(video.disconnected)

    # --- from the page ---------------------------------------------------------------------------

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        try:
            if kind == "signal":
                await self._relay(content)
            elif kind == "ready":
                await self._call(video.devices_checked, consent=bool(content.get("consent")))
            elif kind == "leave":
                self.left = True
                await self._call(video.leave)
                await self.close()
            elif kind in ("admit", "remove", "mute", "unmute"):
                await self._control(kind, content.get("participant"))
            elif kind == "room":
                await self._room(video.room_step, step=str(content.get("step", "")))
            elif kind == "private":
                await self._room(video.private_room, side=str(content.get("side", "")))
        except HallError as refusal:
            await self.send_json({"type": "error", "message": str(refusal.message)})
        except Http404:
            await self.send_json({"type": "error", "message": "not found"})

    async def _relay(self, content):
        to, data = content.get("to"), content.get("data")
        if not isinstance(data, dict) or data.get("kind") not in SIGNAL_KINDS or len(str(data)) > MAX_SIGNAL_BYTES:
            return
        if await self._may_signal(self.participant_id, to):
            await self.channel_layer.group_send(personal_group(self.room_id, int(to)), {
                "type": "video.signal", "from": self.participant_id, "data": data})

    # --- from the room's group -------------------------------------------------------------------

    async def hall_event(self, event):
        """A change in the room (care.realtime's pushes): send this participant its new view."""
        if event.get("event") == "removed" and event.get("participant") == self.participant_id:
            await self.send_json({"type": "removed"})
            await self.close(code=GONE)
            return
        await self._send_state()

    async def video_signal(self, event):
        """Delivered only if both ends may still exchange media."""
        if await self._may_signal(event["from"], self.participant_id):
            await self.send_json({"type": "signal", "from": event["from"], "data": event["data"]})

    # --- helpers -----------------------------------------------------------------------------------

    async def _send_state(self):
        state = await self._state()
        await self.send_json(state)
        if state["room"]["state"] == RoomState.ENDED:
            await self.close(code=GONE)

    @database_sync_to_async
    def _valid_participant(self, participant_id):
        if participant_id is None:
            return None
        found = Participant.objects.filter(pk=participant_id, room_id=self.room_id).exclude(
            state=ParticipantState.REMOVED).values_list("pk", flat=True).first()
        return found

    @database_sync_to_async
    def _state(self) -> dict:
        me = Participant.objects.select_related("room").get(pk=self.participant_id)
        room = me.room
        people = list(room.participants.all())
        peers = [p.pk for p in people if video.can_signal(me, p, room)]
        space = video.space_of(me, room)
        view = {"type": "state", "room": {"state": room.state, "private_side": room.private_side,
                                          "recorded": room.recorded},
                "me": {"id": me.pk, "state": me.state, "muted": me.muted, "chair": video.is_chair(me),
                       "space": space},
                "peers": peers, "names": {p.pk: p.name for p in people if p.pk in peers}}
        if me.state in ADMITTED_STATES and room.state in (RoomState.IN_SESSION, RoomState.PAUSED):
            view["media"] = video_providers.media_access(room, me, space)
        if video.is_chair(me):
            view["roster"] = video.roster(room)
        return view

    @database_sync_to_async
    def _may_signal(self, sender_id, target_id) -> bool:
        try:
            ids = [int(sender_id), int(target_id)]
        except (TypeError, ValueError):
            return False
        people = {p.pk: p for p in Participant.objects.filter(pk__in=ids, room_id=self.room_id)}
        room = VideoRoom.objects.filter(pk=self.room_id).first()
        return (room is not None and len(people) == 2
                and video.can_signal(people[ids[0]], people[ids[1]], room))

    @database_sync_to_async
    def _call(self, service, **kwargs):
        me = Participant.objects.get(pk=self.participant_id)
        return service(participant=me, **kwargs)

    @database_sync_to_async
    def _control(self, kind, target_id):
        me = Participant.objects.get(pk=self.participant_id)
        target = video.participant_get(participant_id=target_id, room_id=self.room_id)
        if kind == "admit":
            return video.admit(participant=target, actor=me)
        if kind == "remove":
            return video.remove(participant=target, actor=me)
        return video.mute(participant=target, actor=me, muted=kind == "mute")

    @database_sync_to_async
    def _room(self, service, **kwargs):
        me = Participant.objects.select_related("room").get(pk=self.participant_id)
        return service(room=me.room, actor=me, **kwargs)
