"""The real twilio SDK against the local fake: what works, and what the SDK raises when it does not."""

import datetime as dt
import time
import zoneinfo

import pytest
import requests
from twilio.base import serialize
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.request_validator import RequestValidator

from care.sms_transport import make_twilio_client
from tests.twilio_fakes.fake_twilio import (
    TEST_FROM_NUMBER,
    TEST_MESSAGING_SERVICE_SID,
    CallbackRecorder,
    FakeTwilio,
    Fault,
    sms_segments,
)
from tests.twilio_fakes.fixtures import client_for

TO = "+8613812345678"
OTHER = "+8613912345678"
CALLBACK = "https://hall.example.org/sms/status/"


def send(client, to=TO, body="您好，您的案件已受理。", **kwargs):
    kwargs.setdefault("from_", TEST_FROM_NUMBER)
    return client.messages.create(to=to, body=body, **kwargs)


# --- the happy path -------------------------------------------------------------------------------


def test_create_returns_a_twilio_shaped_message(fake_twilio, twilio_client):
    msg = send(twilio_client, status_callback=CALLBACK)

    assert msg.sid.startswith("SM") and len(msg.sid) == 34
    assert msg.status == "queued"
    assert (msg.to, msg.from_, msg.body) == (TO, TEST_FROM_NUMBER, "您好，您的案件已受理。")
    assert msg.account_sid == fake_twilio.account_sid
    assert msg.direction == "outbound-api"
    assert msg.date_created.tzinfo is not None  # the SDK parsed the RFC 2822 date
    assert msg.date_sent is None
    assert msg.num_segments == "1"
    assert msg.error_code is None
    [stored] = fake_twilio.messages
    assert stored["sid"] == msg.sid
    [req] = fake_twilio.create_requests()
    assert req.param("StatusCallback") == CALLBACK
    assert req.auth_user == fake_twilio.account_sid
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_create_through_a_messaging_service(fake_twilio, twilio_client):
    msg = twilio_client.messages.create(to=TO, messaging_service_sid=TEST_MESSAGING_SERVICE_SID, body="hi")

    assert msg.status == "accepted"  # Twilio: "accepted" until the service picks a sender
    assert msg.from_ is None
    assert msg.messaging_service_sid == TEST_MESSAGING_SERVICE_SID


def test_fetch(fake_twilio, twilio_client):
    sid = send(twilio_client).sid
    fake_twilio.set_status(sid, "delivered")

    fetched = twilio_client.messages(sid).fetch()

    assert fetched.sid == sid
    assert fetched.status == "delivered"
    assert fetched.date_sent is not None


def test_fetch_unknown_sid_is_a_404(twilio_client):
    with pytest.raises(TwilioRestException) as exc:
        twilio_client.messages("SM" + "0" * 32).fetch()
    assert (exc.value.status, exc.value.code) == (404, 20404)


def test_list_by_to_newest_first_across_pages(fake_twilio, twilio_client):
    sids = [send(twilio_client, body=f"m{i}").sid for i in range(5)]
    send(twilio_client, to=OTHER)

    listed = twilio_client.messages.list(to=TO, page_size=2)

    assert [m.sid for m in listed] == sids[::-1]
    pages = [r.param("Page") for r in fake_twilio.requests if r.operation == "list"]
    assert pages == [None, "1", "2"]  # the SDK followed next_page_uri, rewritten to the fake


def test_list_date_sent_filter_skips_unsent_messages(fake_twilio, twilio_client):
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    queued = send(twilio_client, body="queued").sid
    sent = send(twilio_client, body="sent").sid
    fake_twilio.set_status(sent, "sent")

    listed = twilio_client.messages.list(to=TO, date_sent_after=before)

    assert [m.sid for m in listed] == [sent]  # date_sent is null for `queued`
    assert queued in {m.sid for m in twilio_client.messages.list(to=TO)}


def test_sdk_date_filters_drop_the_time_zone():
    """PITFALL: the SDK formats an aware datetime's wall time and appends "Z" without converting.

    Pass UTC datetimes (``dt.astimezone(dt.UTC)``) to date_sent_after/before.
    """
    shanghai = dt.datetime(2026, 5, 1, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert serialize.iso8601_datetime(shanghai) == "2026-05-01T09:00:00Z"  # really 01:00Z
    assert serialize.iso8601_datetime(shanghai.astimezone(dt.UTC)) == "2026-05-01T01:00:00Z"


# --- Twilio errors --------------------------------------------------------------------------------


def test_invalid_to_number_is_error_21211(fake_twilio, twilio_client):
    with pytest.raises(TwilioRestException) as exc:
        send(twilio_client, to="+15551234567")

    assert exc.value.status == 400
    assert exc.value.code == 21211
    assert "Invalid 'To' Phone Number" in exc.value.msg
    assert fake_twilio.messages == []


def test_configured_invalid_and_error_numbers(fake_twilio_factory):
    fake = fake_twilio_factory(invalid_numbers={"+8613800000000"}, number_errors={"+8613900000000": 21610})
    client = client_for(fake)
    with pytest.raises(TwilioRestException) as invalid:
        send(client, to="+8613800000000")
    with pytest.raises(TwilioRestException) as unsubscribed:
        send(client, to="+8613900000000")
    assert invalid.value.code == 21211
    assert (unsubscribed.value.status, unsubscribed.value.code) == (400, 21610)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"from_": None}, 21603),
        ({"body": None}, 21602),
        ({"body": "x" * 1601}, 21617),
        ({"status_callback": "not-a-url"}, 21609),
        ({"messaging_service_sid": "MGnope", "from_": None}, 21701),
    ],
)
def test_other_create_errors(fake_twilio, twilio_client, kwargs, code):
    with pytest.raises(TwilioRestException) as exc:
        send(twilio_client, **kwargs)
    assert (exc.value.status, exc.value.code) == (400, code)
    assert fake_twilio.messages == []


def test_wrong_auth_token_is_401(fake_twilio):
    client = make_twilio_client(account_sid=fake_twilio.account_sid, auth_token="wrong", api_base=fake_twilio.base_url)
    with pytest.raises(TwilioRestException) as exc:
        send(client)
    assert (exc.value.status, exc.value.code) == (401, 20003)


def test_api_key_auth(fake_twilio_factory):
    fake = fake_twilio_factory(api_keys={"SK" + "1" * 32: "key-secret"})
    client = make_twilio_client(account_sid=fake.account_sid, auth_token="x", api_base=fake.base_url)
    client.username, client.password = "SK" + "1" * 32, "key-secret"
    client.auth = (client.username, client.password)
    assert send(client).status == "queued"


# --- injected faults ------------------------------------------------------------------------------


def test_503_raises_rest_exception(fake_twilio, twilio_client):
    fake_twilio.inject(Fault.unavailable())
    with pytest.raises(TwilioRestException) as exc:
        send(twilio_client)
    assert (exc.value.status, exc.value.code) == (503, 20503)
    assert fake_twilio.messages == []


def test_500(fake_twilio, twilio_client):
    fake_twilio.inject(Fault.server_error())
    with pytest.raises(TwilioRestException) as exc:
        send(twilio_client)
    assert exc.value.status == 500


def test_429_carries_retry_after_but_the_exception_does_not(fake_twilio, twilio_client):
    fake_twilio.inject(Fault.rate_limited(retry_after=7))
    with pytest.raises(TwilioRestException) as exc:
        send(twilio_client)
    assert (exc.value.status, exc.value.code) == (429, 20429)
    # TwilioRestException has no headers; the last response is only on a test-only attribute.
    assert twilio_client.http_client._test_only_last_response.headers["Retry-After"] == "7"


def test_hang_before_processing_times_out_and_sends_nothing(fake_twilio):
    fake_twilio.inject(Fault.hang(30))
    client = client_for(fake_twilio, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        send(client)
    assert time.monotonic() - started < 5
    assert fake_twilio.messages == []


def test_hang_after_create_times_out_but_the_message_exists(fake_twilio):
    fake_twilio.inject(Fault.hang_after_create(30))
    client = client_for(fake_twilio, timeout=0.5)
    with pytest.raises(requests.exceptions.Timeout):  # ReadTimeout is a Timeout
        send(client, body="ambiguous")

    [created] = fake_twilio.messages  # the ambiguous case: a blind retry would send twice
    assert [m.sid for m in client.messages.list(to=TO)] == [created["sid"]]


def test_delay_is_a_slow_success(fake_twilio, twilio_client):
    fake_twilio.inject(Fault.delay(0.3))
    assert send(twilio_client).status == "queued"


def test_dropped_connection(fake_twilio, twilio_client):
    fake_twilio.inject(Fault.drop())
    with pytest.raises(requests.exceptions.ConnectionError) as exc:
        send(twilio_client)
    assert not isinstance(exc.value, requests.exceptions.Timeout)
    assert fake_twilio.messages == []


def test_dropped_after_create_is_ambiguous_too(fake_twilio, twilio_client):
    fake_twilio.inject(Fault.drop_after_create())
    with pytest.raises(requests.exceptions.ConnectionError):
        send(twilio_client)
    assert len(fake_twilio.messages) == 1


def test_server_down_is_a_connection_error(fake_twilio):
    client = client_for(fake_twilio)
    fake_twilio.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        send(client)


def test_fault_sequence_then_success_and_no_duplicates(fake_twilio, twilio_client):
    fake_twilio.inject(Fault.unavailable(), Fault.rate_limited(), None, Fault.server_error())
    outcomes = []
    for _ in range(3):
        try:
            send(twilio_client)
            outcomes.append("ok")
            break
        except TwilioRestException as exc:
            outcomes.append(exc.status)
    assert outcomes == [503, 429, "ok"]
    fake_twilio.assert_no_duplicates()
    assert [r.response_status for r in fake_twilio.create_requests()] == [503, 429, 201]


def test_faults_only_on_chosen_operations(fake_twilio_factory):
    fake = fake_twilio_factory(faults=[Fault.unavailable()], fault_on={"create"})
    client = client_for(fake)
    assert client.messages.list(to=TO) == []  # list not faulted, fault still pending
    with pytest.raises(TwilioRestException):
        send(client)


def test_a_failed_page_is_a_bare_twilio_exception(fake_twilio, twilio_client):
    fake_twilio.inject(Fault.unavailable())
    with pytest.raises(TwilioException) as exc:
        twilio_client.messages.list(to=TO)
    assert not isinstance(exc.value, TwilioRestException)  # paging does not say the status


def test_random_faults_are_deterministic_per_seed(fake_twilio_factory):
    def outcomes(seed):
        fake = fake_twilio_factory(seed=seed, fault_rate=0.5, fault_choices=[Fault.unavailable(), Fault.server_error()])
        client = client_for(fake)
        result = []
        for i in range(12):
            try:
                result.append(send(client, body=str(i)).sid)
            except TwilioRestException as exc:
                result.append(exc.status)
        return result

    first, again, other = outcomes(7), outcomes(7), outcomes(8)
    assert first == again  # same faults AND same sids
    assert {503, 500} & set(first) and any(str(x).startswith("SM") for x in first)
    assert first != other


def test_explicit_assert_no_duplicates_catches_a_double_send(fake_twilio, twilio_client):
    send(twilio_client)
    send(twilio_client)
    with pytest.raises(AssertionError, match="sent twice"):
        fake_twilio.assert_no_duplicates()


# --- status callbacks -----------------------------------------------------------------------------


def test_signed_status_callback_verifies(fake_twilio, twilio_client):
    with CallbackRecorder() as hall:
        url = hall.url("/sms/status/?case=QD-2026-000001")
        sid = send(twilio_client, status_callback=url).sid

        delivery = fake_twilio.fire_status_callback(sid, "delivered")
        failed = fake_twilio.fire_status_callback(sid, "undelivered", error_code=30005)

    assert delivery.status_code == failed.status_code == 204
    first, second = hall.received
    assert first.params == {
        "AccountSid": fake_twilio.account_sid,
        "ApiVersion": "2010-04-01",
        "From": TEST_FROM_NUMBER,
        "MessageSid": sid,
        "MessageStatus": "delivered",
        "SmsSid": sid,
        "SmsStatus": "delivered",
        "To": TO,
    }
    assert second.params["ErrorCode"] == "30005"
    validator = RequestValidator(fake_twilio.auth_token)
    for received in hall.received:
        signature = received.headers["X-Twilio-Signature"]
        assert validator.validate(url, received.params, signature)
        assert not RequestValidator("another-token").validate(url, received.params, signature)
        assert not validator.validate(url, {**received.params, "MessageStatus": "read"}, signature)
    assert twilio_client.messages(sid).fetch().error_code == 30005


def test_status_callback_for_django_test_client(fake_twilio, twilio_client):
    """No HTTP needed: sign for the URL Django's test client builds (http://testserver/...)."""
    sid = send(twilio_client, status_callback=CALLBACK).sid
    cb = fake_twilio.status_callback(sid, "sent", url="http://testserver/sms/status/")

    kwargs = cb.django_client_kwargs()
    assert RequestValidator(fake_twilio.auth_token).validate(cb.url, kwargs["data"], cb.signature)
    assert cb.signature == fake_twilio.sign("http://testserver/sms/status/", cb.params)


def test_service_message_gets_a_from_once_sent(fake_twilio, twilio_client):
    sid = twilio_client.messages.create(to=TO, messaging_service_sid=TEST_MESSAGING_SERVICE_SID, body="hi").sid
    cb = fake_twilio.status_callback(sid, "sent", url=CALLBACK)
    assert cb.params["From"] == TEST_FROM_NUMBER
    assert cb.params["MessagingServiceSid"] == TEST_MESSAGING_SERVICE_SID


# --- make_twilio_client ---------------------------------------------------------------------------


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan"), None, True])
def test_make_client_always_has_a_positive_timeout(timeout):
    with pytest.raises(ValueError):
        make_twilio_client(account_sid="AC1", auth_token="t", timeout=timeout)


def test_make_client_without_api_base_targets_twilio_with_a_timeout():
    client = make_twilio_client(account_sid="AC1", auth_token="t")
    assert client.http_client.timeout == 10.0
    assert client.api.base_url == "https://api.twilio.com"


@pytest.mark.parametrize("base", ["ftp://x", "127.0.0.1:80", "http://x/?q=1", "http://"])
def test_make_client_rejects_bad_api_base(base):
    with pytest.raises(ValueError):
        make_twilio_client(account_sid="AC1", auth_token="t", api_base=base)


def test_api_base_keeps_a_path_prefix_and_refuses_other_twilio_hosts():
    client = make_twilio_client(account_sid="AC1", auth_token="t", api_base="http://127.0.0.1:9/prefix/")
    http = client.http_client
    assert (
        http.rewrite_url("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?To=%2B86")
        == "http://127.0.0.1:9/prefix/2010-04-01/Accounts/AC1/Messages.json?To=%2B86"
    )
    with pytest.raises(ValueError, match="refusing"):
        http.rewrite_url("https://messaging.twilio.com/v1/Services")


def test_twilio_edge_and_region_from_the_environment_still_reach_the_fake(fake_twilio, monkeypatch):
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")
    client = client_for(fake_twilio)  # the SDK now builds https://api.sydney.au1.twilio.com/...
    assert send(client).status == "queued"


def test_sms_segments():
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("您" * 70) == 1
    assert sms_segments("您" * 71) == 2
    assert sms_segments("{" * 80) == 1  # extension characters count twice


def test_the_fake_works_as_a_context_manager_with_deterministic_sids():
    sids = []
    for _ in range(2):
        with FakeTwilio(seed=1) as fake:
            sids.append(send(client_for(fake)).sid)
        with pytest.raises(RuntimeError):
            fake.base_url  # stopped
    assert sids[0] == sids[1]


def test_twilio_settings_fixture_points_the_project_at_the_fake(twilio_settings):
    from django.conf import settings

    client = make_twilio_client(
        account_sid=settings.TWILIO_ACCOUNT_SID,
        auth_token=settings.TWILIO_AUTH_TOKEN,
        api_base=settings.TWILIO_API_BASE,
        timeout=settings.TWILIO_TIMEOUT_SECONDS,
    )
    sid = client.messages.create(to=TO, from_=settings.TWILIO_FROM_NUMBER, body="x").sid
    assert twilio_settings.message(sid)["to"] == TO
