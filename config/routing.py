"""Websocket routes of every app, gathered in one place."""

from django.urls import path

from care.consumers import QueueConsumer
from legal.consumers import VideoRoomConsumer

websocket_urlpatterns = [
    path("ws/queue/", QueueConsumer.as_asgi()),
    path("ws/meet/<int:room_id>/", VideoRoomConsumer.as_asgi()),
]
