"""Websocket routes of every app, gathered in one place."""

from django.urls import path

from care.consumers import QueueConsumer

websocket_urlpatterns = [
    path("ws/queue/", QueueConsumer.as_asgi()),
]
