"""Contract: what the hall sends to Twilio satisfies Twilio's own OpenAPI description.

``prism mock --errors`` (tests/twilio_fakes/prism.py) serves Twilio's API 2010 spec and
answers 422 to any request that violates it. Here a message queued with ``sms.notify`` is
delivered by ``sms.deliver`` through ``TwilioTransport`` (the real SDK): Prism accepting it
means our exact request (To, From or MessagingServiceSid, Body, StatusCallback) is one
Twilio accepts. And a request Prism refuses ends FAILED at once: a contract violation is a
permanent failure, not something to retry.
"""

from urllib.parse import urlsplit

import pytest
from django.db import transaction

from care import sms
from care.models import OutboundSms, SmsStatus
from tests.care.test_sms_twilio import SITE_URL, configure_sms, pending_sends
from tests.twilio_fakes.fake_twilio import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    TEST_MESSAGING_SERVICE_SID,
)
from tests.twilio_fakes.prism import prism_twilio  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

TO = "+8613812345678"


@pytest.fixture
def prism(settings, prism_twilio):  # noqa: F811
    """Prism's base URL, with the hall's settings pointing at it (generous timeout: node is slow to warm up)."""
    configure_sms(
        settings,
        api_base=str(prism_twilio),
        account_sid=TEST_ACCOUNT_SID,
        auth_token=TEST_AUTH_TOKEN,
        TWILIO_TIMEOUT_SECONDS=10,
    )
    return prism_twilio


class RecordingTransport(sms.TwilioTransport):
    """The production transport; remembers the last form it sent (the SDK keeps it for tests)."""

    def sent_form(self) -> dict[str, str]:
        request = self.client.http_client._test_only_last_request
        assert urlsplit(request.url).path == f"/2010-04-01/Accounts/{TEST_ACCOUNT_SID}/Messages.json"
        assert request.method == "POST"
        return dict(request.data)


class BadCallbackTransport(RecordingTransport):
    """Our transport called with a StatusCallback that is not a URL."""

    def send(self, *, to: str, body: str, status_callback: str) -> str:
        return super().send(to=to, body=body, status_callback="not-a-url")


def queue() -> OutboundSms:
    with transaction.atomic():
        return sms.notify(
            recipient=TO,
            template="request_received",
            context={"ref": "QD-2026-000001", "link": sms.link("/r/QD-2026-000001/")},
        )


def test_notified_message_is_accepted_by_twilios_contract(prism):
    message = queue()
    transport = RecordingTransport()

    sms.deliver(message_id=message.pk, transport=transport)

    message = OutboundSms.objects.get(pk=message.pk)
    assert message.status == SmsStatus.SENT, message.error
    assert message.provider_sid.startswith("SM") and len(message.provider_sid) == 34
    assert transport.sent_form() == {
        "To": TO,
        "From": TEST_FROM_NUMBER,
        "Body": message.body,
        "StatusCallback": f"{SITE_URL}/sms/status/{message.pk}/",
    }


def test_message_through_a_messaging_service_is_accepted_by_twilios_contract(settings, prism):
    settings.TWILIO_MESSAGING_SERVICE_SID = TEST_MESSAGING_SERVICE_SID
    settings.TWILIO_FROM_NUMBER = ""
    message = queue()
    transport = RecordingTransport()

    sms.deliver(message_id=message.pk, transport=transport)

    message = OutboundSms.objects.get(pk=message.pk)
    assert message.status == SmsStatus.SENT, message.error
    assert transport.sent_form() == {
        "To": TO,
        "MessagingServiceSid": TEST_MESSAGING_SERVICE_SID,
        "Body": message.body,
        "StatusCallback": f"{SITE_URL}/sms/status/{message.pk}/",
    }


@pytest.mark.parametrize(
    ("transport_class", "site_url"),
    [(BadCallbackTransport, SITE_URL), (RecordingTransport, "not-a-url")],
    ids=["transport-sends-not-a-url", "SITE_URL-not-a-url"],
)
def test_request_twilio_would_refuse_fails_at_once(settings, prism, transport_class, site_url):
    settings.SITE_URL = site_url
    message = queue()
    transport = transport_class()

    sms.deliver(message_id=message.pk, transport=transport)

    message = OutboundSms.objects.get(pk=message.pk)
    assert transport.sent_form()["StatusCallback"].startswith("not-a-url")
    assert message.status == SmsStatus.FAILED
    assert message.attempts == 1
    assert message.error.startswith("Twilio 422"), message.error
    assert message.provider_sid is None
    # No retry is scheduled: only the original task (already run here by hand) is left.
    assert pending_sends().count() == 1
    sms.deliver(message_id=message.pk, transport=transport_class())
    assert OutboundSms.objects.get(pk=message.pk).attempts == 1
