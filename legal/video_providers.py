"""The media of a video hearing, behind one interface with two implementations chosen by the
``VIDEO_PROVIDER`` setting:

* ``builtin`` (the default, no outside account): browser-to-browser WebRTC; the signalling
  (offer, answer, ICE candidates) goes over the room's websocket (legal.consumers), relayed only
  between admitted participants who share a space. STUN/TURN servers: ``VIDEO_ICE_SERVERS``.
  For small hearings (up to about six people: every browser sends to every other).
* ``twilio``: Twilio Video group rooms (see ADR 0017).

``access(room, participant)`` is what an admitted participant's page needs to connect.
"""

from django.conf import settings

BUILTIN = "builtin"
TWILIO = "twilio"


def provider_name() -> str:
    name = getattr(settings, "VIDEO_PROVIDER", BUILTIN)
    if name not in (BUILTIN, TWILIO):
        raise ValueError(f"VIDEO_PROVIDER must be {BUILTIN!r} or {TWILIO!r}, not {name!r}")
    return name


def ice_servers() -> list[dict]:
    return list(getattr(settings, "VIDEO_ICE_SERVERS", []))


def access(room, participant) -> dict:
    """What the page of an admitted participant needs to connect its media."""
    if room.provider == BUILTIN:
        return {"provider": BUILTIN, "ice_servers": ice_servers(), "me": participant.pk}
    raise NotImplementedError("Twilio Video access tokens: see the open part of issue 5")
