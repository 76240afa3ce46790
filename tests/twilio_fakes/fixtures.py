"""pytest fixtures for the fake Twilio server.

Use them from any test package by importing them into its conftest.py::

    from tests.twilio_fakes.fixtures import (  # noqa: F401
        fake_twilio, fake_twilio_factory, twilio_client, twilio_settings,
    )

How the REAL SDK is pointed at the fake (the same call production uses, with
``settings.TWILIO_API_BASE`` empty there)::

    from care.sms_transport import make_twilio_client
    client = make_twilio_client(
        account_sid=fake.account_sid, auth_token=fake.auth_token, api_base=fake.base_url, timeout=2
    )
    msg = client.messages.create(to="+8613812345678", from_="+15005550006", body="...")

Faults: ``fake_twilio.inject(Fault.unavailable(), None, Fault.hang_after_create(5))`` or a
configured instance from ``fake_twilio_factory(fault_rate=0.3, seed=7, fault_on={"create"})``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from twilio.rest import Client

from care.sms_transport import make_twilio_client
from tests.twilio_fakes.fake_twilio import TEST_FROM_NUMBER, TEST_MESSAGING_SERVICE_SID, FakeTwilio

# Short enough that a timeout test is quick, long enough for a loaded CI machine.
TEST_CLIENT_TIMEOUT = 2.0


@pytest.fixture
def fake_twilio_factory() -> Iterator[Callable[..., FakeTwilio]]:
    """Start fakes with custom settings (``FakeTwilio`` keyword arguments); all stopped after the test."""
    started: list[FakeTwilio] = []

    def make(**kwargs: Any) -> FakeTwilio:
        fake = FakeTwilio(**kwargs).start()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        fake.stop()


@pytest.fixture
def fake_twilio(fake_twilio_factory: Callable[..., FakeTwilio]) -> FakeTwilio:
    """A fake Twilio on 127.0.0.1, free port, default settings, stopped after the test."""
    return fake_twilio_factory()


def client_for(fake: FakeTwilio, *, timeout: float = TEST_CLIENT_TIMEOUT) -> Client:
    """A real ``twilio.rest.Client`` talking to ``fake``."""
    return make_twilio_client(
        account_sid=fake.account_sid, auth_token=fake.auth_token, api_base=fake.base_url, timeout=timeout
    )


@pytest.fixture
def twilio_client(fake_twilio: FakeTwilio) -> Client:
    return client_for(fake_twilio)


@pytest.fixture
def twilio_settings(settings: Any, fake_twilio: FakeTwilio) -> FakeTwilio:
    """Point the project's TWILIO_* settings at ``fake_twilio`` (pytest-django ``settings``)."""
    settings.TWILIO_ACCOUNT_SID = fake_twilio.account_sid
    settings.TWILIO_AUTH_TOKEN = fake_twilio.auth_token
    settings.TWILIO_FROM_NUMBER = TEST_FROM_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_BASE = fake_twilio.base_url
    settings.TWILIO_TIMEOUT_SECONDS = TEST_CLIENT_TIMEOUT
    return fake_twilio


__all__ = [
    "TEST_CLIENT_TIMEOUT",
    "TEST_MESSAGING_SERVICE_SID",
    "client_for",
    "fake_twilio",
    "fake_twilio_factory",
    "twilio_client",
    "twilio_settings",
]
