"""A local, threaded fake of the parts of Twilio's REST API 2010 that the hall uses for SMS.

Drive it with the REAL ``twilio`` SDK (``care.sms_transport.make_twilio_client(api_base=fake.base_url)``)
so that tests exercise the SDK's real HTTP, serialisation and error handling.

Emulated (``/2010-04-01/Accounts/{AccountSid}/...``):

* ``POST Messages.json`` (form: To, From or MessagingServiceSid, Body, StatusCallback, ...)
  -> 201 + Message resource JSON (``sid`` "SM"+32 hex, ``status`` "queued", or "accepted"
  when sent through a Messaging Service without From, as Twilio does);
* ``GET Messages.json`` (To, From, DateSent, ``DateSent<``, ``DateSent>``, PageSize, Page)
  -> ``{"messages": [...], "page": .., "page_size": .., "uri": .., "next_page_uri": .., ...}``
  newest first, as Twilio lists;
* ``GET Messages/{Sid}.json``;
* HTTP basic auth with (account sid, auth token), or (API key sid, secret) from ``api_keys``;
* Twilio-shaped errors ``{"code", "message", "more_info", "status"}``: 21211 for an invalid
  To (default: anything not ``+861`` followed by 10 digits, plus ``invalid_numbers``),
  ``number_errors`` maps a To number to any other code (e.g. 21610 unsubscribed);
* fault injection (:class:`Fault`): an explicit sequence and/or a seeded random share of
  requests answering 500/503/429+Retry-After, hanging (before processing, or after the
  message was created: the ambiguous timeout), dropping the connection, or answering slowly;
* a record of every request and created message, and status callbacks signed exactly as
  Twilio signs them (``X-Twilio-Signature``, HMAC-SHA1 keyed by the auth token).

Stdlib only (plus ``twilio.request_validator`` to compute signatures). Each HTTP connection
serves one request (HTTP/1.0), so an injected drop never hits a reused keep-alive socket.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import email.utils
import json
import math
import random
import re
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
TEST_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TEST_AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
TEST_FROM_NUMBER = "+15005550006"  # Twilio's magic "valid From" test number
TEST_MESSAGING_SERVICE_SID = "MG" + "fedcba9876543210" * 2

# Valid To: mainland China mobile, "+86" "1" and 10 more digits.
DEFAULT_VALID_TO = r"^\+861\d{10}$"

ERRORS: dict[int, tuple[int, str]] = {
    20001: (400, "Invalid parameter {detail}"),
    20003: (401, "Authenticate"),
    20004: (405, "Method not allowed"),
    20404: (404, "The requested resource {detail} was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "An internal server error has occurred"),
    20503: (503, "Service unavailable"),
    21211: (400, "Invalid 'To' Phone Number: {detail}"),
    21408: (
        400,
        "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {detail}",
    ),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21609: (400, "Invalid StatusCallback url: {detail}"),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21612: (400, "The 'To' phone number: {detail}, is not currently reachable using the 'From' phone number via SMS."),
    21614: (400, "'To' number {detail} is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
    21701: (400, "The Messaging Service Sid {detail} is invalid."),
}
_STATUS_DEFAULT_CODE = {400: 20001, 401: 20003, 404: 20404, 405: 20004, 429: 20429, 500: 20500, 503: 20503}

MESSAGE_STATUSES = (
    "accepted", "scheduled", "queued", "sending", "sent", "delivered",
    "undelivered", "failed", "read", "canceled", "receiving", "received",
)  # fmt: skip
_SENT_STATUSES = {"sending", "sent", "delivered", "undelivered", "read"}

Operation = Literal["create", "fetch", "list", "other"]
ALL_OPERATIONS: frozenset[str] = frozenset({"create", "fetch", "list", "other"})

_MESSAGES_RE = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages\.json$")
_MESSAGE_RE = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json$")
_MG_SID_RE = re.compile(r"^MG[0-9a-fA-F]{32}$")


def twilio_error_body(code: int, detail: str = "", status: int | None = None) -> dict[str, Any]:
    """The JSON body Twilio answers an error with."""
    default_status, template = ERRORS.get(code, (status or 400, "Error {detail}"))
    return {
        "code": code,
        "message": template.format(detail=detail).strip(),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status or default_status,
    }


# --- faults ---------------------------------------------------------------------------------------

FaultKind = Literal["error", "hang", "hang_after_processing", "drop", "drop_after_processing", "delay"]


@dataclasses.dataclass(frozen=True)
class Fault:
    """What to do to one request instead of (or around) answering it normally.

    * ``error``: answer ``status`` with a Twilio error body (``code``), nothing processed;
      with ``retry_after`` a ``Retry-After`` header (429);
    * ``hang``: keep the connection open ``seconds``, then close it without an answer;
      nothing processed (the message is NOT created);
    * ``hang_after_processing``: process the request (the message IS created), wait
      ``seconds``, then send the normal answer (to a client that has probably timed out);
    * ``drop``: close the connection without an answer, nothing processed;
    * ``drop_after_processing``: process (message created), then close without an answer;
    * ``delay``: wait ``seconds``, then process and answer normally (a slow success).

    A hang ends early when the fake is stopped.
    """

    kind: FaultKind
    status: int = 0
    code: int | None = None
    retry_after: int | None = None
    seconds: float = 0.0

    @classmethod
    def error(cls, status: int = 500, code: int | None = None) -> Fault:
        return cls("error", status=status, code=code)

    @classmethod
    def server_error(cls) -> Fault:
        return cls.error(500)

    @classmethod
    def unavailable(cls) -> Fault:
        return cls.error(503)

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> Fault:
        return cls("error", status=429, code=20429, retry_after=retry_after)

    @classmethod
    def hang(cls, seconds: float = 30.0) -> Fault:
        return cls("hang", seconds=seconds)

    @classmethod
    def hang_after_create(cls, seconds: float = 30.0) -> Fault:
        return cls("hang_after_processing", seconds=seconds)

    @classmethod
    def drop(cls) -> Fault:
        return cls("drop")

    @classmethod
    def drop_after_create(cls) -> Fault:
        return cls("drop_after_processing")

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        return cls("delay", seconds=seconds)


# --- records --------------------------------------------------------------------------------------


@dataclasses.dataclass
class RecordedRequest:
    method: str
    path: str
    operation: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: dict[str, str]
    auth_user: str | None
    fault: Fault | None
    response_status: int | None = None  # None: no answer was sent (hang/drop)

    def param(self, name: str) -> str | None:
        values = self.form.get(name) or self.query.get(name)
        return values[0] if values else None


@dataclasses.dataclass
class _StoredMessage:
    resource: dict[str, Any]
    status_callback: str | None
    date_created: dt.datetime
    date_sent: dt.datetime | None
    index: int


@dataclasses.dataclass(frozen=True)
class StatusCallback:
    """A status callback as Twilio would POST it (use with Django's test client or any HTTP client)."""

    url: str
    params: dict[str, str]
    signature: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Twilio-Signature": self.signature, "Content-Type": "application/x-www-form-urlencoded"}

    @property
    def body(self) -> bytes:
        return urllib.parse.urlencode(self.params).encode()

    def django_client_kwargs(self) -> dict[str, Any]:
        """For ``django.test.Client().post(path, **cb.django_client_kwargs())``.

        The signature covers the full URL: the test client's request must build the same
        absolute URL (``http://testserver/...`` by default), or verification fails.
        """
        return {"data": self.params, "headers": {"X-Twilio-Signature": self.signature}}


@dataclasses.dataclass(frozen=True)
class CallbackDelivery:
    callback: StatusCallback
    status_code: int | None  # None: could not connect
    body: bytes
    error: str = ""


# --- the server -----------------------------------------------------------------------------------


class FakeTwilio:
    """The fake. ``with FakeTwilio() as fake: ... fake.base_url ...`` or ``start()``/``stop()``."""

    def __init__(
        self,
        *,
        account_sid: str = TEST_ACCOUNT_SID,
        auth_token: str = TEST_AUTH_TOKEN,
        api_keys: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | str = 0,
        faults: Iterable[Fault | None] = (),
        fault_rate: float = 0.0,
        fault_choices: Sequence[Fault] = (Fault.server_error(), Fault.unavailable()),
        fault_on: Iterable[str] = ALL_OPERATIONS,
        valid_to: str = DEFAULT_VALID_TO,
        invalid_numbers: Iterable[str] = (),
        number_errors: dict[str, int] | None = None,
        service_from_number: str = TEST_FROM_NUMBER,
        unsent_match_date_filters: bool = False,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        """
        :param faults: consumed one per matching request, in arrival order (``None`` = no
            fault); once exhausted, ``fault_rate`` applies.
        :param fault_rate: share (0..1) of matching requests that get a fault drawn from
            ``fault_choices``; deterministic for a given ``seed`` and request order.
        :param fault_on: which operations faults apply to ("create", "fetch", "list", "other").
        :param valid_to: regex a To number must match, else 21211.
        :param number_errors: To number -> Twilio error code answered on create (e.g. 21610).
        :param unsent_match_date_filters: Twilio filters ``DateSent`` on date_sent, which is
            null until a message is sent; by default such messages match no DateSent filter.
            True: fall back to date_created for them.
        """
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.api_keys = dict(api_keys or {})
        self.host = host
        self._requested_port = port
        self.seed = seed
        self.fault_on = set(fault_on)
        unknown = self.fault_on - ALL_OPERATIONS
        if unknown:
            raise ValueError(f"unknown operations in fault_on: {sorted(unknown)}")
        self.valid_to = re.compile(valid_to)
        self.invalid_numbers = set(invalid_numbers)
        self.number_errors = dict(number_errors or {})
        self.service_from_number = service_from_number
        self.unsent_match_date_filters = unsent_match_date_filters
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._fault_queue: list[Fault | None] = list(faults)
        self._fault_rng = random.Random(f"faults:{seed}")
        self._sid_rng = random.Random(f"sids:{seed}")
        self._request_id_rng = random.Random(f"request-ids:{seed}")
        self.set_random_faults(fault_rate, fault_choices)
        self._messages: dict[str, _StoredMessage] = {}
        self.requests: list[RecordedRequest] = []
        self.callbacks: list[CallbackDelivery] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ----------------------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        if self._server is not None:
            raise RuntimeError("already started")
        self._stopping.clear()
        server = ThreadingHTTPServer((self.host, self._requested_port), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-twilio", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """What to pass as ``api_base`` (the SDK keeps its ``/2010-04-01/...`` paths)."""
        return f"http://{self.host}:{self.port}"

    # configuration --------------------------------------------------------------------------------

    def inject(self, *faults: Fault | None) -> None:
        """Append to the explicit fault sequence (``None`` = let one request through)."""
        with self._lock:
            self._fault_queue.extend(faults)

    def set_random_faults(self, rate: float, choices: Sequence[Fault] = (), *, seed: int | str | None = None) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within 0..1")
        if rate and not choices:
            raise ValueError("a fault rate needs fault choices")
        with self._lock:
            self.fault_rate = rate
            self.fault_choices = tuple(choices)
            if seed is not None:
                self._fault_rng = random.Random(f"faults:{seed}")

    def reset(self) -> None:
        """Forget messages, requests, callbacks and pending faults."""
        with self._lock:
            self._messages.clear()
            self.requests.clear()
            self.callbacks.clear()
            self._fault_queue.clear()
            self.fault_rate = 0.0

    # inspection -----------------------------------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every created message (resource JSON, copies), in creation order."""
        with self._lock:
            return [json.loads(json.dumps(m.resource)) for m in sorted(self._messages.values(), key=lambda m: m.index)]

    def message(self, sid: str) -> dict[str, Any]:
        with self._lock:
            return json.loads(json.dumps(self._messages[sid].resource))

    def messages_to(self, to: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["to"] == to]

    def create_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.operation == "create"]

    def assert_no_duplicates(self, key: Callable[[dict[str, Any]], Any] = lambda m: (m["to"], m["body"])) -> None:
        """Fail if two created messages share ``key`` (default: same To and Body)."""
        seen: dict[Any, str] = {}
        for m in self.messages:
            k = key(m)
            if k in seen:
                raise AssertionError(f"message sent twice: {seen[k]} and {m['sid']} share {k!r}")
            seen[k] = m["sid"]

    # status changes and callbacks -----------------------------------------------------------------

    def set_status(self, sid: str, status: str, *, error_code: int | None = None) -> dict[str, Any]:
        """Move a message to ``status`` (sets date_sent, from for a service, error fields)."""
        if status not in MESSAGE_STATUSES:
            raise ValueError(f"unknown message status {status!r}")
        if status in ("failed", "undelivered") and error_code is None:
            error_code = 30008  # Twilio's "Unknown error"
        with self._lock:
            stored = self._messages[sid]
            now = self.clock()
            res = stored.resource
            res["status"] = status
            res["date_updated"] = _rfc2822(now)
            if status in _SENT_STATUSES and stored.date_sent is None:
                stored.date_sent = now
                res["date_sent"] = _rfc2822(now)
                res["price"] = "-0.04000"
            if res["from"] is None and status not in ("accepted", "scheduled", "canceled"):
                res["from"] = self.service_from_number
            res["error_code"] = error_code
            res["error_message"] = None if error_code is None else f"Error {error_code}"
            return json.loads(json.dumps(res))

    def status_callback(
        self, sid: str, status: str, *, error_code: int | None = None, url: str | None = None
    ) -> StatusCallback:
        """Move the message to ``status`` and build the signed callback Twilio would send.

        ``url`` defaults to the message's StatusCallback; the signature covers it exactly.
        """
        res = self.set_status(sid, status, error_code=error_code)
        with self._lock:
            target = url or self._messages[sid].status_callback
        if not target:
            raise ValueError(f"message {sid} has no StatusCallback and no url was given")
        params = {
            "AccountSid": res["account_sid"],
            "ApiVersion": API_VERSION,
            "From": res["from"] or "",
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": res["to"],
        }
        if res["messaging_service_sid"]:
            params["MessagingServiceSid"] = res["messaging_service_sid"]
        if res["error_code"] is not None:
            params["ErrorCode"] = str(res["error_code"])
        return StatusCallback(target, params, self.sign(target, params))

    def sign(self, url: str, params: dict[str, str]) -> str:
        """``X-Twilio-Signature`` for a POST of ``params`` to ``url``."""
        return RequestValidator(self.auth_token).compute_signature(url, params)

    def fire_status_callback(
        self, sid: str, status: str, *, error_code: int | None = None, url: str | None = None, timeout: float = 5.0
    ) -> CallbackDelivery:
        """POST the signed status callback to its URL over HTTP (no proxy) and record the outcome."""
        cb = self.status_callback(sid, status, error_code=error_code, url=url)
        request = urllib.request.Request(
            cb.url,
            data=cb.body,
            method="POST",
            headers={
                **cb.headers,
                "User-Agent": "TwilioProxy/1.1",
                "I-Twilio-Idempotency-Token": f"{sid}-{status}",
            },
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=timeout) as response:
                delivery = CallbackDelivery(cb, response.status, response.read())
        except urllib.error.HTTPError as exc:
            delivery = CallbackDelivery(cb, exc.code, exc.read())
        except OSError as exc:
            delivery = CallbackDelivery(cb, None, b"", error=repr(exc))
        with self._lock:
            self.callbacks.append(delivery)
        return delivery

    # request handling (called from handler threads) -----------------------------------------------

    def _next_fault(self, operation: str) -> Fault | None:
        with self._lock:
            if operation not in self.fault_on:
                return None
            if self._fault_queue:
                return self._fault_queue.pop(0)
            if self.fault_rate and self._fault_rng.random() < self.fault_rate:
                return self._fault_rng.choice(self.fault_choices)
            return None

    def _handle(self, handler: _Handler, method: str) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        path = parts.path
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        form: dict[str, list[str]] = {}
        if raw and "x-www-form-urlencoded" in (handler.headers.get("Content-Type") or ""):
            form = urllib.parse.parse_qs(raw.decode("utf-8"), keep_blank_values=True)

        operation, account, sid = _route(method, path)
        auth_user, auth_ok = self._check_auth(handler.headers.get("Authorization"))
        fault = self._next_fault(operation)
        record = RecordedRequest(
            method=method,
            path=path,
            operation=operation,
            query=query,
            form=form,
            headers={k: v for k, v in handler.headers.items() if k.lower() != "authorization"},
            auth_user=auth_user,
            fault=fault,
        )
        with self._lock:
            self.requests.append(record)

        if fault is not None:
            if fault.kind == "error":
                code = fault.code or _STATUS_DEFAULT_CODE.get(fault.status, 20500)
                extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                self._respond(handler, record, fault.status, twilio_error_body(code, status=fault.status), extra)
                return
            if fault.kind == "hang":
                self._stopping.wait(fault.seconds)
                _drop(handler)
                return
            if fault.kind == "drop":
                _drop(handler)
                return
            if fault.kind == "delay":
                self._stopping.wait(fault.seconds)

        if not auth_ok:
            status, body, extra = 401, twilio_error_body(20003), {"WWW-Authenticate": 'Basic realm="Twilio API"'}
        elif account is not None and account != self.account_sid:
            status, body, extra = 401, twilio_error_body(20003), {}
        elif operation == "create":
            status, body, extra = self._create(account, form)
        elif operation == "list":
            status, body, extra = self._list(account, path, parts.query, query)
        elif operation == "fetch":
            status, body, extra = self._fetch(path, sid)
        elif method in ("GET", "POST", "DELETE") and (account is not None):
            status, body, extra = 405, twilio_error_body(20004), {}
        else:
            status, body, extra = 404, twilio_error_body(20404, path), {}

        if fault is not None and fault.kind == "drop_after_processing":
            _drop(handler)
            return
        if fault is not None and fault.kind == "hang_after_processing":
            self._stopping.wait(fault.seconds)
        self._respond(handler, record, status, body, extra)

    def _check_auth(self, header: str | None) -> tuple[str | None, bool]:
        if not header or not header.startswith("Basic "):
            return None, False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, False
        if user == self.account_sid:
            return user, password == self.auth_token
        if user in self.api_keys:
            return user, password == self.api_keys[user]
        return user, False

    def _respond(
        self, handler: _Handler, record: RecordedRequest, status: int, body: Any, extra: dict[str, str]
    ) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        record.response_status = status
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(data)))
            handler.send_header("Twilio-Request-Id", "RQ" + self._hex32(self._request_id_rng))
            for name, value in extra.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:  # the client gave up (timeout) before we answered
            record.response_status = None

    def _hex32(self, rng: random.Random) -> str:
        with self._lock:
            return f"{rng.getrandbits(128):032x}"

    def _create(self, account: str | None, form: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        def first(name: str) -> str | None:
            values = form.get(name)
            return values[0] if values else None

        to, from_, service, body = first("To"), first("From"), first("MessagingServiceSid"), first("Body")
        callback = first("StatusCallback")
        media = form.get("MediaUrl") or []
        if not to:
            return 400, twilio_error_body(21604), {}
        if not from_ and not service:
            return 400, twilio_error_body(21603), {}
        if service and not _MG_SID_RE.match(service):
            return 400, twilio_error_body(21701, service), {}
        if not body and not media and not first("ContentSid"):
            return 400, twilio_error_body(21602), {}
        if body and len(body) > 1600:
            return 400, twilio_error_body(21617), {}
        if callback and not _is_http_url(callback):
            return 400, twilio_error_body(21609, callback), {}
        if to in self.number_errors:
            return 400, twilio_error_body(self.number_errors[to], to), {}
        if to in self.invalid_numbers or not self.valid_to.match(to):
            return 400, twilio_error_body(21211, to), {}

        now = self.clock()
        with self._lock:
            sid = "SM" + self._hex32(self._sid_rng)
            uri = f"/{API_VERSION}/Accounts/{account}/Messages/{sid}.json"
            resource = {
                "account_sid": account,
                "api_version": API_VERSION,
                "body": body or "",
                "date_created": _rfc2822(now),
                "date_sent": None,
                "date_updated": _rfc2822(now),
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": from_,
                "messaging_service_sid": service,
                "num_media": str(len(media)),
                "num_segments": str(sms_segments(body or "")),
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "status": "queued" if from_ else "accepted",
                "subresource_uris": {"media": f"/{API_VERSION}/Accounts/{account}/Messages/{sid}/Media.json"},
                "to": to,
                "uri": uri,
            }
            self._messages[sid] = _StoredMessage(resource, callback, now, None, len(self._messages))
            return 201, resource, {}

    def _fetch(self, path: str, sid: str | None) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            stored = self._messages.get(sid or "")
            if stored is None:
                return 404, twilio_error_body(20404, path), {}
            return 200, stored.resource, {}

    def _list(
        self, account: str | None, path: str, raw_query: str, query: dict[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        def first(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        try:
            page_size = int(first("PageSize") or 50)
            page = int(first("Page") or 0)
        except ValueError:
            return 400, twilio_error_body(20001, "PageSize/Page"), {}
        if not 1 <= page_size <= 1000 or page < 0:
            return 400, twilio_error_body(20001, "PageSize/Page"), {}
        date_filters = []
        for name in ("DateSent", "DateSent<", "DateSent>"):
            value = first(name)
            if value is None:
                continue
            parsed = _parse_date_filter(value)
            if parsed is None:
                return 400, twilio_error_body(20001, name), {}
            date_filters.append((name, parsed))

        with self._lock:
            selected = []
            for m in self._messages.values():
                res = m.resource
                if first("To") is not None and res["to"] != first("To"):
                    continue
                if first("From") is not None and res["from"] != first("From"):
                    continue
                when = m.date_sent or (m.date_created if self.unsent_match_date_filters else None)
                if date_filters and (when is None or not all(_date_matches(when, op, v) for op, v in date_filters)):
                    continue
                selected.append(m)
            selected.sort(key=lambda m: (m.date_created, m.index), reverse=True)
            chunk = selected[page * page_size : (page + 1) * page_size]
            records = [json.loads(json.dumps(m.resource)) for m in chunk]

        kept = [
            (k, v)
            for k, v in urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
            if k not in ("Page", "PageSize", "PageToken")
        ]

        def page_uri(n: int, token: str | None = None) -> str:
            params = [*kept, ("PageSize", str(page_size)), ("Page", str(n))]
            if token:
                params.append(("PageToken", token))
            return f"{path}?{urllib.parse.urlencode(params)}"

        has_next = len(selected) > (page + 1) * page_size
        start = page * page_size
        payload = {
            "end": start + max(len(records) - 1, 0),
            "first_page_uri": page_uri(0),
            "messages": records,
            "next_page_uri": page_uri(page + 1, "PA" + chunk[-1].resource["sid"]) if has_next else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": start,
            "uri": page_uri(page),
        }
        return 200, payload, {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection
    server_version = "FakeTwilio/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # quiet; FakeTwilio.requests records
        pass

    def _dispatch(self) -> None:
        self.server.fake._handle(self, self.command)  # type: ignore[attr-defined]

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch


def _route(method: str, path: str) -> tuple[str, str | None, str | None]:
    m = _MESSAGES_RE.match(path)
    if m:
        op = {"POST": "create", "GET": "list"}.get(method, "other")
        return op, m["account"], None
    m = _MESSAGE_RE.match(path)
    if m:
        return ("fetch" if method == "GET" else "other"), m["account"], m["sid"]
    return "other", None, None


def _drop(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection without answering (the client sees 'connection aborted')."""
    handler.close_connection = True
    try:
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _rfc2822(when: dt.datetime) -> str:
    return email.utils.format_datetime(when.astimezone(dt.UTC))


def _is_http_url(value: str) -> bool:
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _parse_date_filter(value: str) -> dt.date | dt.datetime | None:
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _date_matches(when: dt.datetime, op: str, value: dt.date | dt.datetime) -> bool:
    if isinstance(value, dt.datetime):
        left: dt.date | dt.datetime = when
    else:
        left = when.astimezone(dt.UTC).date()
    if op == "DateSent":
        return left == value
    if op == "DateSent<":
        return left <= value  # Twilio's "DateSent<=": on or before
    return left >= value  # "DateSent>=": on or after


_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXT = set("^{}\\[~]|€\f")


def sms_segments(body: str) -> int:
    """How many SMS segments Twilio bills ``body`` as (GSM-7: 160/153, else UCS-2: 70/67)."""
    if all(c in _GSM7 or c in _GSM7_EXT for c in body):
        units = sum(2 if c in _GSM7_EXT else 1 for c in body)
        single, multi = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, multi = 70, 67
    if units <= single:
        return 1
    return math.ceil(units / multi)


# --- a receiver for status callbacks -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReceivedCallback:
    path: str
    headers: dict[str, str]
    params: dict[str, str]
    raw: bytes


class CallbackRecorder:
    """A tiny local HTTP server that records the POSTs it gets (a stand-in webhook endpoint)."""

    def __init__(self, *, host: str = "127.0.0.1", reply_status: int = 204) -> None:
        self.host = host
        self.reply_status = reply_status
        self.received: list[ReceivedCallback] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str = "/sms/status/") -> str:
        assert self._server is not None, "not started"
        return f"http://{self.host}:{self._server.server_address[1]}{path}"

    def start(self) -> CallbackRecorder:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                params = dict(urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
                with recorder._lock:
                    recorder.received.append(ReceivedCallback(self.path, dict(self.headers.items()), params, raw))
                self.send_response(recorder.reply_status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> CallbackRecorder:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
