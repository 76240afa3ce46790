"""The media of a video hearing, behind one interface with two implementations chosen by the
``VIDEO_PROVIDER`` setting:

* ``builtin`` (the default, no outside account): browser-to-browser WebRTC; the signalling
  (offer, answer, ICE candidates) goes over the room's websocket (legal.consumers), relayed only
  between admitted participants who share a space. STUN/TURN servers: ``VIDEO_ICE_SERVERS``.
  For small hearings (up to about six people: every browser sends to every other).
* ``twilio``: Twilio Video group rooms, created by the server through the twilio SDK with a
  status callback (``/meet/callback/<room>/``, signature checked, stored raw first). Each space
  (the hearing, and the private room of a mediation) is a Twilio room of its own; an admitted
  participant gets a short-lived access token whose VideoGrant names the room of their space
  only, and the page connects with the ``twilio-video`` library (from npm).

``page_config`` is what every participant's page gets (no secret); ``media_access`` what an
admitted participant gets over the websocket, for their current space.
"""

from django.conf import settings
from django.urls import reverse
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VideoGrant

from care.sms_transport import make_twilio_client

BUILTIN = "builtin"
TWILIO = "twilio"
SPACES = ("main", "private")
# How long a Twilio room that nobody joined, or everybody left, stays open (minutes).
ROOM_TIMEOUT_MINUTES = 60


def provider_name() -> str:
    name = getattr(settings, "VIDEO_PROVIDER", BUILTIN)
    if name not in (BUILTIN, TWILIO):
        raise ValueError(f"VIDEO_PROVIDER must be {BUILTIN!r} or {TWILIO!r}, not {name!r}")
    return name


def page_config(room) -> dict:
    if room.provider == TWILIO:
        return {"provider": TWILIO}
    return {"provider": BUILTIN, "ice_servers": list(getattr(settings, "VIDEO_ICE_SERVERS", []))}


def twilio_room_name(room, space: str) -> str:
    """The unique name of a space's Twilio room: what a token grants, and what the page joins."""
    if space not in SPACES:
        raise ValueError(space)
    return f"hearing-{room.hearing_id}-room-{room.pk}-{space}"


def media_access(room, participant, space: str) -> dict | None:
    """For an admitted participant: with Twilio, a token for the Twilio room of ``space`` and
    its name; nothing with the built-in provider (its peers come with the state)."""
    if room.provider != TWILIO:
        return None
    token = AccessToken(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_API_KEY_SID, settings.TWILIO_API_KEY_SECRET,
                        identity=participant_identity(participant), ttl=settings.VIDEO_TOKEN_SECONDS)
    name = twilio_room_name(room, space)
    token.add_grant(VideoGrant(room=name))
    return {"token": token.to_jwt(), "room": name}


def participant_identity(participant) -> str:
    return f"participant-{participant.pk}"


def participant_id_of(identity: str) -> int | None:
    prefix = "participant-"
    if isinstance(identity, str) and identity.startswith(prefix) and identity[len(prefix):].isdigit():
        return int(identity[len(prefix):])
    return None


def _client():
    return make_twilio_client(account_sid=settings.TWILIO_ACCOUNT_SID, auth_token=settings.TWILIO_AUTH_TOKEN,
                              api_base=settings.TWILIO_API_BASE, timeout=settings.TWILIO_TIMEOUT_SECONDS)


def create_twilio_rooms(room) -> dict[str, str]:
    """Create the Twilio group rooms of the hearing's spaces, with the status callback;
    returns their SIDs by space. A room that exists already (made by an earlier attempt) is
    looked up by its unique name instead."""
    from twilio.base.exceptions import TwilioRestException

    client = _client()
    callback = f"{settings.SITE_URL}{reverse('meet:callback', args=[room.pk])}"
    sids = {}
    for space in SPACES:
        name = twilio_room_name(room, space)
        try:
            created = client.video.v1.rooms.create(
                unique_name=name, type="group", status_callback=callback, status_callback_method="POST",
                record_participants_on_connect=bool(room.recorded and space == "main"),
                empty_room_timeout=ROOM_TIMEOUT_MINUTES, unused_room_timeout=ROOM_TIMEOUT_MINUTES)
        except TwilioRestException as exc:
            if exc.code != 53113:  # "Room exists"
                raise
            created = client.video.v1.rooms(name).fetch()
        sids[space] = created.sid
    return sids


def end_twilio_rooms(room) -> None:
    client = _client()
    for space in SPACES:
        client.video.v1.rooms(twilio_room_name(room, space)).update(status="completed")
