"""Websocket consumers: authenticate, subscribe, forward. They change nothing themselves."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from care import permissions
from care.realtime import queue_group


class QueueConsumer(AsyncJsonWebsocketConsumer):
    """Tells a department's staff that their queue changed, so the page can offer a refresh."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        department = await self._department(user)
        if not department:
            await self.close(code=4403)
            return
        self.group = queue_group(department)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def hall_event(self, event):
        await self.send_json({k: v for k, v in event.items() if k != "type"})

    @staticmethod
    async def _department(user) -> str:
        from asgiref.sync import sync_to_async

        ok = await sync_to_async(permissions.is_staff_of_any_department)(user)
        return user.department if ok else ""
