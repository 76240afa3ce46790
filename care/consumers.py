"""Websocket consumers: authenticate, subscribe, forward. They change nothing themselves."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from care import permissions
from care.realtime import queue_group

NOT_SIGNED_IN = 4401
NOT_ALLOWED = 4403


class QueueConsumer(AsyncJsonWebsocketConsumer):
    """Tells a department's staff that their queue changed, so the page can offer a refresh."""

    async def connect(self):
        user = self.scope.get("user")
        department = await self._department(user) if user is not None and user.is_authenticated else None
        # Accept, then close with a code: a refusal before accepting reaches the browser as 1006,
        # and the page could not tell "do not retry" from a network drop.
        await self.accept()
        if not department:
            await self.close(code=NOT_SIGNED_IN if department is None else NOT_ALLOWED)
            return
        self.group = queue_group(department)
        await self.channel_layer.group_add(self.group, self.channel_name)

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def hall_event(self, event):
        await self.send_json({k: v for k, v in event.items() if k != "type"})

    @database_sync_to_async
    def _department(self, user) -> str:
        return user.department if permissions.is_staff_of_any_department(user) else ""
