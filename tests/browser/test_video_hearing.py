"""Cloud arbitration in two real browsers (Debian's headless Chromium, fake camera and
microphone), served by daphne with its websockets: the arbitrator enters signed in and opens the
room; the worker opens the personal link of their SMS, checks their devices and waits; the
arbitrator admits them; their RTCPeerConnection reaches "connected" and each receives the other's
video. Then the worker's connection drops and comes back without a new admission."""

import pytest

from legal.models import Participant, ParticipantRole, ParticipantState
from tests.legal.video_helpers import video_hearing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONNECTED = """() => window.videoRoom && window.videoRoom.remoteTracks > 0
    && [...window.videoRoom.peers.values()].some((pc) => pc.connectionState === "connected")"""
PLAYING = """() => [...document.querySelectorAll("video[data-peer]")].some((v) => v.videoWidth > 0)"""


def watch(page, violations: list):
    page.on("console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text))
    return page


def test_the_arbitrator_admits_the_worker_and_their_browsers_connect(asgi_server, browser, shot):
    vh = video_hearing()
    violations = []
    phone = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN"}
    chair = watch(browser.new_context(**phone).new_page(), violations)
    worker = watch(browser.new_context(**phone).new_page(), violations)

    chair.goto(f"{asgi_server}/login/")
    chair.fill("input[name=username]", vh.arbitrator.username)
    chair.fill("input[name=password]", "pass-word-123")  # UserFactory's password
    chair.click("main form button[type=submit]")
    chair.wait_for_load_state()
    chair.goto(f"{asgi_server}/legal/hearings/{vh.hearing.pk}/room/")
    chair.wait_for_selector("#ready:not([disabled])", timeout=20_000)
    shot(chair, "video", "01-arbitrator-device-check")
    chair.click("#ready")
    chair.wait_for_selector("#controls:not([hidden])", timeout=20_000)
    chair.click("[data-step=open]")
    chair.click("[data-step=start]")
    shot(chair, "video", "02-arbitrator-in-the-room")

    worker.goto(f"{asgi_server}/meet/{vh.links[ParticipantRole.WORKER]}/")
    shot(worker, "video", "03-worker-personal-link")
    worker.click("main form button[type=submit]")  # the landing page's "Enter the room"
    worker.wait_for_selector("#ready:not([disabled])", timeout=20_000)
    shot(worker, "video", "04-worker-device-check")
    worker.click("#ready")
    worker.wait_for_selector("#waiting:not([hidden])", timeout=20_000)
    assert worker.evaluate("window.videoRoom.peers.size") == 0  # waiting: no media
    shot(worker, "video", "05-worker-waiting-room")
    chair.wait_for_selector("#roster button[data-action=admit]", timeout=20_000)
    shot(chair, "video", "06-arbitrator-sees-the-worker-waiting")

    chair.click("#roster button[data-action=admit]", timeout=20_000)
    for page in (chair, worker):
        page.wait_for_function(CONNECTED, timeout=30_000)
        page.wait_for_function(PLAYING, timeout=30_000)
    shot(worker, "video", "07-worker-in-session")
    shot(chair, "video", "08-arbitrator-in-session")
    me = Participant.objects.get(room__hearing=vh.hearing, role=ParticipantRole.WORKER)
    assert me.state == ParticipantState.IN_SESSION

    # The worker's page goes away and comes back by the same link: straight in, no new admission.
    worker.goto("about:blank")
    chair.wait_for_selector("#roster td[data-state=disconnected]", timeout=20_000)
    worker.goto(f"{asgi_server}/meet/{vh.links[ParticipantRole.WORKER]}/")  # this browser: straight in
    worker.wait_for_selector("#session:not([hidden])", timeout=20_000)
    worker.wait_for_function(CONNECTED, timeout=30_000)
    worker.wait_for_function(PLAYING, timeout=30_000)
    assert Participant.objects.get(pk=me.pk).state == ParticipantState.IN_SESSION
    assert not violations
