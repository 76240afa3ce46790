"""Pages of cloud arbitration (legal.video, ADR 0017).

- ``/meet/<token>/`` (no sign-in: the personal link of the SMS is the proof): for a worker or a
  representative, who they join as and a button; the button (POST) opens the room and binds the
  link to this device (a cookie).
- ``/legal/hearings/<id>/room/`` (signed in): the room, for the arbitrator, the legal aid
  officer and the worker of the case.
- ``/legal/hearings/<id>/attendance/``: the attendance log, for those who may read the hearing.
- ``/meet/callback/<room id>/`` (POST, Twilio): the video provider's status callback.

Both room pages show the same page (legal/video_room.html): the camera and microphone check,
the consent to the recording, the waiting room, the session and, for the arbitrator, the
controls. Everything after the page is loaded goes through the room's websocket
(legal.consumers), which knows the participant from the session."""

import secrets

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from care.errors import HallError, NotAllowed
from care.sms_views import twilio_signature_valid
from legal import hearings, video, video_providers
from legal.consumers import session_key
from legal.signing_views import personal_link_page

DEVICE_COOKIE_AGE = 2 * 24 * 3600


def _room_page(request, participant, *, device: str = ""):
    try:
        participant = video.join(participant=participant, device=device)
    except HallError as refusal:
        status = 403 if isinstance(refusal, NotAllowed) else 409
        return render(request, "legal/video_refused.html", {"message": refusal.message}, status=status)
    room = participant.room
    request.session[session_key(room.pk)] = participant.pk
    config = {"room": room.pk, "me": participant.pk, "chair": video.is_chair(participant),
              "recorded": room.recorded, "socket": f"/ws/meet/{room.pk}/",
              "media": video_providers.page_config(room)}
    return render(request, "legal/video_room.html", {
        "participant": participant, "room": room, "hearing": room.hearing, "config": config,
        "chair": video.is_chair(participant)})


@personal_link_page
@require_http_methods(["GET", "POST"])
def join(request, token: str):
    """GET: who you join as, when, and a button (a phone's link preview must not take the link
    for its own device); POST: into the room, the link bound to this browser, then back to GET,
    which for this browser is the room from now on (a reload after a drop goes straight in)."""
    participant = video.participant_for_token(token)
    device = request.COOKIES.get(video.DEVICE_COOKIE, "")
    entered = device and request.session.get(session_key(participant.room_id)) == participant.pk
    if request.method == "GET" and not entered:
        return render(request, "legal/video_join.html", {"participant": participant,
                                                         "hearing": participant.room.hearing})
    device = device or secrets.token_urlsafe(24)
    response = _room_page(request, participant, device=device)
    if request.method == "POST" and response.status_code == 200:
        response = redirect("meet:join", token=token)  # a reload (a reconnection) is a GET
    response.set_cookie(video.DEVICE_COOKIE, device, max_age=DEVICE_COOKIE_AGE, httponly=True, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE, path=reverse("meet:join", args=[token]))
    return response


@login_required
def hearing_room(request, hearing_id: int):
    return _room_page(request, video.participant_for_user(hearing_id=hearing_id, user=request.user))


@csrf_exempt
@require_POST
def provider_callback(request, room_id: int):
    """Twilio Video's status callback of a hearing's rooms: stored raw, processed if signed."""
    body = request.body.decode("utf-8", "replace")  # read before the form data: kept as it came
    valid = twilio_signature_valid(request)
    video.provider_callback(room_id=room_id, provider=video_providers.TWILIO, payload=request.POST.dict(),
                            body=body, signature_valid=valid)
    return HttpResponse(status=204) if valid else HttpResponseForbidden("invalid signature")


@login_required
def attendance(request, hearing_id: int):
    hearing = hearings.hearing_get_for_user(hearing_id=hearing_id, user=request.user)
    return render(request, "legal/video_attendance.html",
                  {"hearing": hearing, "rows": video.attendance(hearing=hearing)})
