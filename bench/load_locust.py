"""The users of bench/load.py's load test: a locustfile. bench/load.py runs locust with it in a
process of its own (locust's gevent patches the standard library, which the hall must never
see) and names the user classes of each phase on locust's command line.

It reads the plan that load.py wrote (a JSON file named by LOAD_PLAN): the server's address, the
session keys of the people it made (sessions made server-side: no sign-in through the pages), the
cases each may read, and the rooms of the live video hearings with their participants' personal
links. Every request goes as the TLS proxy in front of the hall would pass it on
(``X-Forwarded-Proto: https``, which the production settings trust).

HTTP users (FastHttpUser, think time 0.5-2 s):

  - ``WorkerUser``: my requests, one of their cases, the case API (their own cases);
  - ``CaseworkerUser``: a department's officer: the queue, one of their cases, the case API;
  - ``ArbitratorUser``: their hearings; ``ManagerUser``: the figures page (default period);
  - ``BaselineUser`` (the baseline phase only): a static file served by whitenoise, and the
    sign-in page (Django and a template, no query).

Websocket users, the waiting rooms of the video hearings (``/ws/meet/<room>/``):

  - ``ChairUser`` (one per room): the arbitrator, signed in, opens the room page, stays on the
    room's socket, admits whoever is waiting as soon as the roster shows them, and answers every
    media offer;
  - ``ParticipantUser`` (``participants`` per room, each one personal link): opens the link (the
    landing GET once, then the POST that binds it to this device and puts the participant in the
    session), connects, says "ready", waits to be admitted, then stays about ten seconds in the
    hearing, sending an offer to the arbitrator and waiting for its answer every 2-4 s (three in
    all), says "leave" and waits for the server to close the socket; again after 2-5 s.

What the websocket users measure goes to locust as requests of type "WS", so it is in the same
statistics: the connection (TCP, handshake, the consumer's accept), "ready" until the state says
waiting, "ready" until admitted (the bot arbitrator's turn included: a person takes longer), an
offer's round trip through the server to the arbitrator and back, and "leave" until the server
closes the socket. A refusal, a close, an error message or a wait of more than WAIT_SECONDS is a
failure.
"""

import itertools
import json
import os
import random
import time
from pathlib import Path

import websocket
from locust import FastHttpUser, between, constant, task

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text(encoding="utf-8"))
HOST = PLAN["host"]  # http://127.0.0.1:port
ORIGIN = HOST.replace("http://", "https://", 1)  # the page's origin, behind the TLS proxy
FORWARDED = {"X-Forwarded-Proto": "https"}
WAIT_SECONDS = 15
OFFERS = 3

# Each user takes the next entry of its role: distinct people as long as there are enough.
_next = {name: itertools.cycle(PLAN[name]) for name in ("workers", "caseworkers", "arbitrators", "managers")}
_chairs = iter(PLAN["rooms"])
_links = iter([dict(link, room=room["room"], chair=room["chair"]) for room in PLAN["rooms"]
               for link in room["links"]])


class Failed(Exception):
    pass


class Lost(Failed):
    """A send on a socket the server has closed."""


# --- HTTP ----------------------------------------------------------------------------------------


def has_results(content: bytes) -> bool:
    try:
        return isinstance(answer := json.loads(content), dict) and "results" in answer
    except ValueError:
        return False



class SignedIn(FastHttpUser):
    abstract = True
    host = HOST
    wait_time = between(0.5, 2.0)
    role = ""

    def on_start(self):
        self.me = next(_next[self.role])
        self.headers = {**FORWARDED, "Cookie": f"sessionid={self.me['session']}"}

    def page(self, url: str, name: str, *, api: bool = False):
        with self.client.get(url, name=name, headers=self.headers, allow_redirects=False,
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif api and not has_results(response.content):
                response.failure("no results in the API's answer")

    def case(self):
        case_id = random.choice(self.me["cases"])
        self.page(f"/cases/{case_id}/", f"GET /cases/[id]/ ({self.role[:-1]})")


class WorkerUser(SignedIn):
    weight = 6
    role = "workers"

    @task(3)
    def my_requests(self):
        self.page("/requests/", "GET /requests/ (worker)")

    @task(2)
    def my_case(self):
        self.case()

    @task(2)
    def api(self):
        self.page("/api/v1/cases/", "GET /api/v1/cases/ (worker)", api=True)


class CaseworkerUser(SignedIn):
    weight = 3
    role = "caseworkers"

    @task(3)
    def queue(self):
        self.page("/queue/", "GET /queue/ (caseworker)")

    @task(3)
    def their_case(self):
        self.case()

    @task(2)
    def api(self):
        self.page("/api/v1/cases/", "GET /api/v1/cases/ (caseworker)", api=True)


class ArbitratorUser(SignedIn):
    weight = 1
    role = "arbitrators"

    @task
    def hearings(self):
        self.page("/legal/hearings/", "GET /legal/hearings/ (arbitrator)")


class ManagerUser(SignedIn):
    weight = 1
    role = "managers"

    @task
    def figures(self):
        self.page("/figures/", "GET /figures/ (manager)")


class BaselineUser(FastHttpUser):
    """The same think time against what costs the server least: a static file (whitenoise, before
    any of Django's middleware that reads a session), and the sign-in page (no query)."""

    host = HOST
    wait_time = between(0.5, 2.0)

    @task
    def static(self):
        with self.client.get(PLAN["static"], name="GET /static/ (baseline)", headers=FORWARDED,
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")

    @task
    def sign_in_page(self):
        with self.client.get("/login/", name="GET /login/ (baseline)", headers=FORWARDED,
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")


# --- websockets ----------------------------------------------------------------------------------


class Socket:
    """One websocket to a room, its measures reported to locust."""

    def __init__(self, user, room: int, session: str, who: str):
        self.user, self.room, self.session, self.who = user, room, session, who
        self.ws = None

    def report(self, name: str, started: float, error: Exception | None = None):
        self.user.environment.events.request.fire(
            request_type="WS", name=name, response_time=(time.perf_counter() - started) * 1000,
            response_length=0, exception=error, context={})

    def connect(self):
        name = f"connect /ws/meet/[room]/ ({self.who})"
        started = time.perf_counter()
        try:
            self.ws = websocket.create_connection(
                HOST.replace("http://", "ws://", 1) + f"/ws/meet/{self.room}/", timeout=WAIT_SECONDS,
                origin=ORIGIN, cookie=f"sessionid={self.session}", header=["X-Forwarded-Proto: https"])
        except Exception as error:  # noqa: BLE001 - refused, timed out, a bad status: a failure
            self.report(name, started, error)
            raise Failed(str(error)) from error
        self.report(name, started)

    def send(self, message: dict):
        try:
            self.ws.send(json.dumps(message))
        except (websocket.WebSocketException, OSError) as error:
            raise Lost(f"socket: {error}") from error

    def receive(self, timeout: float, *, errors_fail: bool = True) -> dict:
        """The next message; Failed on a close or an error message (unless ``errors_fail`` is
        false), TimeoutError after ``timeout`` seconds."""
        self.ws.settimeout(max(timeout, 0.01))
        try:
            opcode, data = self.ws.recv_data()
        except websocket.WebSocketTimeoutException:
            raise TimeoutError("no message in time") from None
        except (websocket.WebSocketException, OSError) as error:
            raise Failed(f"socket: {error}") from error
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else 1005
            raise Failed(f"closed by the server ({code})")
        message = json.loads(data)
        if message.get("type") == "error" and errors_fail:
            raise Failed(f"error: {message.get('message')}")
        return message

    def measured(self, name: str, started: float, check, timeout: float = WAIT_SECONDS) -> dict:
        """Wait for the first message that ``check`` accepts; report it to locust as ``name``,
        timed from ``started``. Failed (reported) on a close, an error or the timeout."""
        deadline = time.perf_counter() + timeout
        try:
            while True:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    raise TimeoutError(f"waited more than {timeout} s")
                message = self.receive(remaining)
                if check(message):
                    break
        except (Failed, TimeoutError) as error:
            self.report(name, started, error)
            raise Failed(str(error)) from error
        self.report(name, started)
        return message

    def closed(self, name: str, started: float, timeout: float = WAIT_SECONDS):
        """Wait for the server to close the socket (other messages passed over); report it."""
        deadline = time.perf_counter() + timeout
        try:
            while True:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    raise TimeoutError(f"not closed within {timeout} s")
                self.receive(remaining)
        except Failed as error:
            if "closed by the server" not in str(error):
                self.report(name, started, error)
                raise
        except TimeoutError as error:
            self.report(name, started, error)
            raise Failed(str(error)) from error
        self.report(name, started)

    def close(self):
        if self.ws is not None:
            try:
                self.ws.close(timeout=1)
            except Exception:  # noqa: BLE001, S110 - already gone
                pass
            self.ws = None


def state_in(*states: str):
    return lambda m: m.get("type") == "state" and m["me"]["state"] in states


class ChairUser(FastHttpUser):
    """The arbitrator of one live room (one user per room)."""

    host = HOST
    wait_time = constant(1)
    fixed_count = len(PLAN["rooms"])

    def on_start(self):
        room = next(_chairs)
        self.room, self.hearing, self.session = room["room"], room["hearing"], room["chair_session"]
        self.asked: set[int] = set()
        self.socket = None

    def on_stop(self):
        if self.socket is not None:
            self.socket.close()

    @task
    def chair(self):
        """Open the room page, connect, then admit and answer until the run ends (or the socket
        is lost: then again after wait_time)."""
        with self.client.get(f"/legal/hearings/{self.hearing}/room/", name="GET /legal/hearings/[id]/room/ (chair)",
                             headers={**FORWARDED, "Cookie": f"sessionid={self.session}"}, allow_redirects=False,
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return
        self.socket = socket = Socket(self, self.room, self.session, "chair")
        started = time.perf_counter()
        try:
            socket.connect()
            started = time.perf_counter()
            while True:
                try:
                    message = socket.receive(WAIT_SECONDS, errors_fail=False)
                except TimeoutError:
                    continue  # a quiet room
                if message.get("type") == "error":  # a command refused: reported, and on
                    socket.report("chair's command refused", time.perf_counter(), Failed(message.get("message")))
                    continue
                self.handle(message)
        except Failed as error:
            socket.report("chair's socket lost", started, error)
        finally:
            socket.close()
            self.socket = None

    def handle(self, message: dict):
        if message.get("type") == "state" and "roster" in message:
            waiting = {p["id"] for p in message["roster"] if p["state"] == "waiting"}
            for participant in waiting - self.asked:
                self.socket.send({"type": "admit", "participant": participant})
            self.asked = waiting
        elif message.get("type") == "signal" and message["data"].get("kind") == "offer":
            self.socket.send({"type": "signal", "to": message["from"],
                              "data": {"kind": "answer", "sdp": message["data"]["sdp"]}})


class ParticipantUser(FastHttpUser):
    """A party joining by personal link (one user per link)."""

    host = HOST
    wait_time = between(2, 5)
    fixed_count = sum(len(room["links"]) for room in PLAN["rooms"])

    def on_start(self):
        link = next(_links)
        self.token, self.me, self.room, self.chair_id = link["token"], link["id"], link["room"], link["chair"]
        self.landed = False
        self.socket = None

    def on_stop(self):
        if self.socket is not None:
            self.socket.close()

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.client.cookiejar if c.name == name), "")

    def cookies(self) -> str:
        """Every cookie the server set, for the Cookie header: the jar keeps the Secure ones (all
        of them, in production) but sends none over the plain HTTP that the TLS proxy speaks."""
        return "; ".join(f"{c.name}={c.value}" for c in self.client.cookiejar)

    def open_link(self) -> bool:
        url = f"/meet/{self.token}/"
        if not self.landed:  # the landing page: who you join as, and the button
            with self.client.get(url, name="GET /meet/[token]/ (participant)", headers=FORWARDED,
                                 allow_redirects=False, catch_response=True) as response:
                if response.status_code != 200 or not self.cookie("csrftoken"):
                    response.failure(f"HTTP {response.status_code}")
                    return False
            self.landed = True
        with self.client.post(url, name="POST /meet/[token]/ (participant)",
                              data={"csrfmiddlewaretoken": self.cookie("csrftoken")},
                              headers={**FORWARDED, "Origin": ORIGIN, "Cookie": self.cookies()},
                              allow_redirects=False,
                              catch_response=True) as response:
            if response.status_code != 302 or not self.cookie("sessionid"):
                response.failure(f"HTTP {response.status_code}")
                return False
        return True

    @task
    def hearing(self):
        if not self.open_link():
            return
        self.socket = socket = Socket(self, self.room, self.cookie("sessionid"), "participant")
        try:
            socket.connect()
            started = time.perf_counter()
            socket.send({"type": "ready", "consent": True})
            # The chair may admit before this socket has seen "waiting": either state ends that wait.
            socket.measured("ready -> waiting", started, state_in("waiting", "in_session"))
            socket.measured("ready -> admitted (bot chair)", started, state_in("in_session"))
            for n in range(OFFERS):  # in the hearing
                time.sleep(random.uniform(2, 4))  # gevent: only this user waits
                sdp = f"bench {self.me} {n} {time.time()}"
                started = time.perf_counter()
                socket.send({"type": "signal", "to": self.chair_id, "data": {"kind": "offer", "sdp": sdp}})
                socket.measured("offer -> answer (via the chair)", started,
                                lambda m, sdp=sdp: m.get("type") == "signal" and m["data"].get("sdp") == sdp)
            started = time.perf_counter()
            socket.send({"type": "leave"})
            socket.closed("leave -> closed", started)
        except Lost as error:  # a send on a lost socket (the waits report their own failures)
            socket.report("participant's socket lost", time.perf_counter(), error)
        except Failed:
            pass
        finally:
            socket.close()
            self.socket = None
