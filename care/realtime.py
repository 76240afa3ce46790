"""Websocket pushes: always after commit, always through this one helper."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def queue_group(department: str) -> str:
    return f"queue.{department}"


def push_after_commit(group: str, event: dict) -> None:
    """Send ``event`` to a channel-layer group once the current transaction commits.

    Realtime is a convenience: if the channel layer (Redis) is down, pages keep working and
    the push is dropped with a warning.
    """

    def send():
        try:
            async_to_sync(get_channel_layer().group_send)(group, {"type": "hall.event", **event})
        except Exception:  # noqa: BLE001 - realtime degrades, the write has committed
            log.warning("realtime push to %s failed", group, exc_info=True)

    transaction.on_commit(send)
