"""Build the Twilio REST client the hall sends SMS with.

A pure function (no Django imports): the caller passes settings in. Two things the bare
``twilio.rest.Client()`` does not give:

* a timeout on every request. Twilio's own ``TwilioHttpClient`` has *no* timeout by default,
  so a stalled connection would hang a worker for ever;
* ``api_base``: send the requests for ``https://api.twilio.com`` to another base URL, keeping
  the path (tests point it at a local fake or at a Prism mock of Twilio's OpenAPI spec).
  The SDK has no setting for this: the host is hard-coded in ``twilio.rest.api.ApiBase``
  and its ``edge``/``region`` options only rewrite the host *within* ``twilio.com``.
  So the HTTP client rewrites each URL just before it is sent; that also covers the
  paging URLs (``next_page_uri``) the SDK builds itself.

What the SDK raises (twilio 9.x on requests):

* an error answer (4xx/5xx): ``twilio.base.exceptions.TwilioRestException`` with ``.status``
  (HTTP status) and ``.code`` (Twilio error code, e.g. 21211; the HTTP status when the body
  has none). Paging (``list``/``stream``) raises a bare ``TwilioException("Unable to fetch
  page")`` for a non-200 page instead;
* transport failures are *not* wrapped, they are ``requests`` exceptions:
  ``requests.exceptions.ReadTimeout`` (the request may have been acted on: ambiguous),
  ``requests.exceptions.ConnectTimeout`` (never reached the server; note it subclasses both
  ``ConnectionError`` and ``Timeout``), ``requests.exceptions.ConnectionError`` (refused, or
  the connection dropped; a drop after the request was sent is ambiguous too).

No retries are configured: creating a message is not idempotent, so the caller decides.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

TWILIO_API_HOST = "api.twilio.com"
# api.twilio.com (SMS) and video.twilio.com (video rooms, legal.video_providers), and the
# edge/region forms the SDK derives from them (api.sydney.au1.twilio.com). Their paths do not
# overlap (/2010-04-01/..., /v1/Rooms...), so one base serves both.
_API_HOST_RE = re.compile(r"^(?:api|video)(?:\.[a-z0-9-]+){0,2}\.twilio\.com$", re.IGNORECASE)
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class RedirectingTwilioHttpClient(TwilioHttpClient):
    """``TwilioHttpClient`` that sends ``https://api.twilio.com/<path>`` to ``<api_base>/<path>``.

    Requests for any other Twilio host are refused rather than sent to the real internet.
    """

    def __init__(self, *, api_base: str, timeout: float, **kwargs: Any) -> None:
        super().__init__(timeout=timeout, **kwargs)
        parts = urlsplit(api_base)
        self.api_base = api_base.rstrip("/")
        self._base_path = parts.path.rstrip("/")
        self._base_scheme = parts.scheme
        self._base_netloc = parts.netloc
        if self.session is not None and (parts.hostname or "") in _LOOPBACK_HOSTS:
            # Never route a loopback test server through an HTTP(S)_PROXY from the environment.
            self.session.trust_env = False

    def rewrite_url(self, url: str) -> str:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not _API_HOST_RE.match(host):
            raise ValueError(
                f"make_twilio_client(api_base={self.api_base!r}) only redirects {TWILIO_API_HOST} and "
                f"video.twilio.com; "
                f"refusing to send a request for {host!r} anywhere"
            )
        return urlunsplit((self._base_scheme, self._base_netloc, self._base_path + parts.path, parts.query, ""))

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ):
        return super().request(
            method,
            self.rewrite_url(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


def _check_api_base(api_base: str) -> None:
    parts = urlsplit(api_base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"api_base must be an http(s) URL with a host, got {api_base!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"api_base must not carry a query or fragment, got {api_base!r}")


def make_twilio_client(
    *,
    account_sid: str,
    auth_token: str,
    api_base: str = "",
    timeout: float = 10.0,
) -> Client:
    """A ``twilio.rest.Client`` whose every request has ``timeout`` seconds (connect and read).

    ``api_base`` (e.g. ``"http://127.0.0.1:8123"``): when set, requests go there instead of
    ``https://api.twilio.com``, path and query kept.
    """
    if not account_sid or not auth_token:
        raise ValueError("account_sid and auth_token are required")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not math.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if api_base:
        _check_api_base(api_base)
        http_client: TwilioHttpClient = RedirectingTwilioHttpClient(api_base=api_base, timeout=float(timeout))
    else:
        http_client = TwilioHttpClient(timeout=float(timeout))
    return Client(username=account_sid, password=auth_token, account_sid=account_sid, http_client=http_client)
