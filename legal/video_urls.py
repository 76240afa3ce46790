"""Video hearings by personal link (legal.video_views), included under /meet/ by config.urls.
The prefix names no service: these links are sent by SMS."""

from django.urls import path

from legal import video_views

app_name = "meet"

urlpatterns = [
    path("callback/<int:room_id>/", video_views.provider_callback, name="callback"),
    path("<str:token>/", video_views.join, name="join"),
]
