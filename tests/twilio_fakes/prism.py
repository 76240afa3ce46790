"""Stoplight Prism as a contract-test harness for Twilio's REST API 2010.

``prism mock <spec> --errors`` answers from the examples in Twilio's own OpenAPI description
(npm ``@twilio-alpha/mcp``, ``twilio-oai/spec/json/twilio_api_v2010.json``) and, with
``--errors``, rejects a request that violates it (422 for a bad/missing parameter, 401
without basic auth credentials: Prism checks that credentials are present, not their value).

``prism proxy <spec> <upstream> --errors`` forwards to ``upstream`` (our fake) and validates
both the request and the upstream's answer against the spec (500 on a response violation):
that keeps the fake honest.

Both tools are devDependencies in package.json; ``npm ci`` installs them. Without them the
tests are skipped loudly, and FAIL under CI (``CI`` set), so CI can never skip them silently.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PRISM_BIN = PROJECT_ROOT / "node_modules" / ".bin" / "prism"
TWILIO_SPECS = PROJECT_ROOT / "node_modules" / "@twilio-alpha" / "mcp" / "twilio-oai" / "spec" / "json"
TWILIO_API_SPEC = TWILIO_SPECS / "twilio_api_v2010.json"
TWILIO_VIDEO_SPEC = TWILIO_SPECS / "twilio_video_v1.json"  # video rooms (legal.video_providers)
STARTUP_TIMEOUT = float(os.environ.get("PRISM_STARTUP_TIMEOUT", "90"))


class PrismURL(str):
    """The base URL of a running Prism (a ``str``), with how long it took to start."""

    startup_seconds: float
    log_path: Path
    mode: str


def require_prism(spec: Path = TWILIO_API_SPEC) -> None:
    """Skip (locally) or fail (under CI) when Prism, node or the spec is not installed."""
    missing = []
    if shutil.which("node") is None:
        missing.append("the `node` executable")
    if not PRISM_BIN.exists():
        missing.append(str(PRISM_BIN.relative_to(PROJECT_ROOT)))
    if not spec.exists():
        missing.append(str(spec.relative_to(PROJECT_ROOT)))
    if not missing:
        return
    message = (
        "!!! TWILIO CONTRACT TESTS NOT RUN: missing " + ", ".join(missing) + ". "
        "Run `npm ci` in the project root: it installs the devDependencies @stoplight/prism-cli and "
        "@twilio-alpha/mcp (Twilio's OpenAPI specs). !!!"
    )
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set: failing instead of skipping)", pytrace=False)
    pytest.skip(message)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    """Any HTTP answer (Prism says 404 'no path matched' for /) means it is listening."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url + "/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)  # our own session: prism (node) and anything it forked
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextmanager
def run_prism(
    mode: str, log_dir: Path, *, upstream: str | None = None, host: str = "127.0.0.1", extra_args: tuple[str, ...] = (),
    spec: Path = TWILIO_API_SPEC,
) -> Iterator[PrismURL]:
    """Run ``prism mock`` (or ``prism proxy`` to ``upstream``) on a Twilio spec (by default the
    2010 API's) with ``--errors``."""
    require_prism(spec)
    if mode not in ("mock", "proxy") or (mode == "proxy") != bool(upstream):
        raise ValueError("mode is 'mock', or 'proxy' with an upstream")
    last_log = ""
    for attempt in range(3):  # another process may grab the free port before Prism binds it
        port = _free_port(host)
        args = [str(PRISM_BIN), mode, str(spec)]
        if upstream:
            args.append(upstream)
        args += ["--host", host, "--port", str(port), "--errors", *extra_args]
        if mode == "mock":
            args += ["--dynamic=false"]  # answer the spec's examples, deterministically
        log_path = log_dir / f"prism-{mode}-{port}-{attempt}.log"
        started = time.monotonic()
        with log_path.open("wb") as log:
            # Output to a file, not a pipe: Prism logs every request and would block on a full pipe.
            process = subprocess.Popen(
                args, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        url = PrismURL(f"http://{host}:{port}")
        try:
            while process.poll() is None and time.monotonic() - started < STARTUP_TIMEOUT:
                if _answers(url):
                    break
                time.sleep(0.1)
            else:
                last_log = log_path.read_text(errors="replace")[-4000:]
                if process.poll() is not None and "EADDRINUSE" in last_log:
                    continue
                raise RuntimeError(
                    f"Prism did not start within {STARTUP_TIMEOUT}s (exit code {process.poll()}); "
                    f"command: {' '.join(args)}\nlog tail:\n{last_log}"
                )
            url.startup_seconds = time.monotonic() - started
            url.log_path = log_path
            url.mode = mode
            yield url
            return
        finally:
            _stop(process)
    raise RuntimeError(f"Prism could not bind a port after 3 attempts; log tail:\n{last_log}")


@pytest.fixture(scope="session")
def prism_twilio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrismURL]:
    """Base URL of ``prism mock`` serving Twilio's API 2010 spec with request validation on.

    Session-scoped: one start per test session (per xdist worker).
    """
    with run_prism("mock", tmp_path_factory.mktemp("prism")) as url:
        yield url


@pytest.fixture(scope="session")
def prism_twilio_video(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrismURL]:
    """Base URL of ``prism mock`` serving Twilio's Video v1 spec (rooms), request validation on."""
    with run_prism("mock", tmp_path_factory.mktemp("prism-video"), spec=TWILIO_VIDEO_SPEC) as url:
        yield url
