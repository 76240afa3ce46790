"""SMS delivery through the REAL twilio SDK against the local fake Twilio, drained by the real worker.

``sms.notify`` stores the message and its ``send_sms`` task in the caller's transaction;
``manage.py run_worker --batch`` runs the task in-process; the fake (tests/twilio_fakes)
answers as Twilio does, or fails the way Twilio and networks fail. Each test says what the
fake did and what must be true afterwards, most importantly that no message reaches a
worker's phone twice.

Runs on SQLite and PostgreSQL; the one test that needs concurrent writers is marked
``postgres``.
"""

import datetime as dt
import io
import signal
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker as DbWorker
from django_tasks_db.models import DBTaskResult, get_date_max

import config.settings as production
from care import sms
from care.models import OutboundSms, SmsStatus, Urgency
from care.tasks import send_sms
from tests.factories import WorkerFactory
from tests.twilio_fakes.fake_twilio import TEST_FROM_NUMBER, FakeTwilio, Fault
from tests.twilio_fakes.fixtures import client_for, fake_twilio, fake_twilio_factory  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 0.5  # TWILIO_TIMEOUT_SECONDS: a hang costs half a second
HANG = 2.0  # how long the fake hangs: well past the client's timeout
IN_FLIGHT = 3 * TIMEOUT  # deliver() leaves a SENDING message alone this long
SITE_URL = "https://hall.example.org"
TO = "+8613812345678"
INVALID_TO = "+15551234567"  # not a mainland mobile number: the fake answers 21211
SEND_SMS_PATH = send_sms.module_path
PENDING = (TaskResultStatus.READY, TaskResultStatus.RUNNING)


# --- settings and helpers shared with test_sms_faults.py ------------------------------------------


def never_quiet_hours(settings) -> None:
    """No quiet hours: (0, 0), equal hours, means none (test_zero_length_quiet_hours_mean_no_quiet_hours)."""
    settings.SMS_QUIET_HOURS = (0, 0)
    now = timezone.now()
    assert sms.first_send_time(now, Urgency.NORMAL) == now, "the tests need a time outside quiet hours"


def configure_sms(settings, *, api_base: str, account_sid: str, auth_token: str, **overrides) -> None:
    """Point the hall's TWILIO_* settings at a local server and make retries due at once."""
    settings.TWILIO_ACCOUNT_SID = account_sid
    settings.TWILIO_AUTH_TOKEN = auth_token
    settings.TWILIO_FROM_NUMBER = TEST_FROM_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_BASE = api_base
    settings.TWILIO_TIMEOUT_SECONDS = TIMEOUT
    settings.SITE_URL = SITE_URL
    settings.SMS_RETRY_BASE_SECONDS = 0
    settings.SMS_MAX_ATTEMPTS = 8
    never_quiet_hours(settings)
    for name, value in overrides.items():
        setattr(settings, name, value)


def use_fake(settings, fake: FakeTwilio, **overrides) -> FakeTwilio:
    configure_sms(
        settings, api_base=fake.base_url, account_sid=fake.account_sid, auth_token=fake.auth_token, **overrides
    )
    return fake


@pytest.fixture
def twilio(settings, fake_twilio):  # noqa: F811
    """The fake Twilio, with the hall's settings pointing at it."""
    return use_fake(settings, fake_twilio)


@pytest.fixture(autouse=True)
def _keep_signal_handlers():
    """db_worker installs its own SIGINT/SIGTERM handlers; give pytest its own back."""
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]
    saved = {s: signal.getsignal(s) for s in signals}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


def queue(to: str = TO, *, ref: str = "QD-2026-000001", recipient=None) -> OutboundSms:
    """One message queued the way services queue it: sms.notify inside a transaction."""
    with transaction.atomic():
        return sms.notify(
            recipient=recipient or to,
            template="request_received",
            context={"ref": ref, "link": sms.link(f"/r/{ref}/")},
        )


def run_worker_batch(max_tasks: int = 1000) -> None:
    """The real worker, in-process: every due task, then exit. ``--max-tasks`` bounds one run,
    so a message retried for ever (due at once, as SMS_RETRY_BASE_SECONDS=0 makes it) fails
    the test in ``drain`` instead of hanging it."""
    out = io.StringIO()
    call_command(
        "run_worker", "--batch", "--no-startup-delay", "--max-tasks", str(max_tasks), "--verbosity", "0",
        stdout=out, stderr=out,
    )  # fmt: skip


def pending_sends():
    return DBTaskResult.objects.filter(task_path=SEND_SMS_PATH, status__in=PENDING)


def assert_no_crashed_tasks() -> None:
    crashed = list(
        DBTaskResult.objects.filter(task_path=SEND_SMS_PATH, status=TaskResultStatus.FAILED).values_list(
            "traceback", flat=True
        )[:1]
    )
    assert not crashed, f"a send_sms task raised:\n{crashed[0]}"


def drain(*, max_rounds: int = 40, max_sleep: float = 2.0, worker=run_worker_batch) -> int:
    """Run ``run_worker --batch`` until no send_sms task is READY or RUNNING; returns the rounds.

    A batch worker exits when nothing is due; tasks scheduled for later (retries, a SENDING
    message left alone for 3×timeout) make another round after a short sleep.
    """
    for rounds in range(1, max_rounds + 1):
        worker()
        assert_no_crashed_tasks()
        pending = pending_sends()
        if not pending.exists():
            return rounds
        # Tasks enqueued without a time carry django-tasks-db's "far future" marker: due now.
        due = pending.exclude(run_after=get_date_max()).order_by("run_after").values_list("run_after", flat=True)
        wait = (due[0] - timezone.now()).total_seconds() if due else 0.0
        time.sleep(min(max(wait, 0.0) + 0.02, max_sleep))
    left = list(pending_sends().values_list("args_kwargs", "status", "run_after"))
    raise AssertionError(f"send_sms tasks still pending after {max_rounds} rounds: {left[:10]}")


def reload(message: OutboundSms) -> OutboundSms:
    return OutboundSms.objects.get(pk=message.pk)


def as_if_attempted(message: OutboundSms, *, started_at: dt.datetime, attempts: int = 1) -> None:
    """Put a message where an earlier attempt left it (SENDING, outcome unknown).

    The status field is protected (django-fsm), so this writes the row the way the crashed
    worker's committed transaction did. The message was queued before that attempt started."""
    created_at = min(message.created_at, started_at - timedelta(seconds=1))
    OutboundSms.objects.filter(pk=message.pk).update(
        status=SmsStatus.SENDING,
        attempts=attempts,
        attempt_started_at=started_at,
        error="ReadTimeout",
        created_at=created_at,
        send_after=created_at,
    )


def creates(fake: FakeTwilio) -> list:
    return fake.create_requests()


# --- the happy path ---------------------------------------------------------------------------------


def test_notified_message_is_sent_by_the_worker(twilio):
    worker = WorkerFactory()
    message = queue(recipient=worker)

    rounds = drain()

    message = reload(message)
    [created] = twilio.messages
    [request] = creates(twilio)
    assert rounds == 1
    assert message.status == SmsStatus.SENT
    assert message.provider_sid == created["sid"]
    assert message.attempts == 1
    assert message.error == ""
    assert message.sent_at is not None
    assert request.param("To") == worker.mobile
    assert request.param("From") == TEST_FROM_NUMBER
    assert request.param("MessagingServiceSid") is None
    assert request.param("Body") == message.body
    assert "QD-2026-000001" in request.param("Body")
    assert request.param("StatusCallback") == f"{SITE_URL}/sms/status/{message.pk}/"
    assert request.auth_user == twilio.account_sid
    [task] = DBTaskResult.objects.filter(task_path=SEND_SMS_PATH)
    assert (task.status, task.return_value) == (TaskResultStatus.SUCCESSFUL, SmsStatus.SENT)


def test_nothing_is_sent_for_a_rolled_back_change(twilio):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        sms.notify(recipient=TO, template="request_received", context={"ref": "X", "link": sms.link("/")})
        raise Boom

    drain()

    assert not OutboundSms.objects.exists()
    assert twilio.requests == []


# --- refused: permanent ------------------------------------------------------------------------------


def test_invalid_number_fails_at_once_without_retry(twilio):
    message = queue(INVALID_TO)

    drain()

    message = reload(message)
    assert message.status == SmsStatus.FAILED
    assert message.attempts == 1
    assert "21211" in message.error and "400" in message.error
    assert message.status_at is not None
    assert len(creates(twilio)) == 1
    assert twilio.messages == []
    assert not pending_sends().exists()


# --- transient: retried --------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [Fault.unavailable(), Fault.rate_limited(retry_after=1)], ids=["503", "429"])
def test_transient_error_then_success_is_sent_on_the_second_attempt(twilio, fault):
    twilio.inject(fault)
    message = queue()

    drain()

    message = reload(message)
    [created] = twilio.messages
    assert [r.response_status for r in creates(twilio)] == [fault.status, 201]
    assert message.status == SmsStatus.SENT
    assert message.attempts == 2
    assert message.provider_sid == created["sid"]
    assert message.error == ""


def test_hang_before_processing_is_retried_and_sent_once(twilio):
    twilio.inject(Fault.hang(HANG))  # the create never reaches Twilio's processing
    message = queue()

    drain()

    message = reload(message)
    [created] = twilio.messages
    assert message.status == SmsStatus.SENT
    assert message.attempts == 2
    assert message.provider_sid == created["sid"]
    # The second attempt looked first (nothing there), then created.
    assert [r.operation for r in twilio.requests] == ["create", "list", "create"]


def test_twilio_down_for_good_gives_up_after_max_attempts(settings, fake_twilio_factory):  # noqa: F811
    fake = use_fake(
        settings, fake_twilio_factory(fault_rate=1.0, fault_choices=[Fault.unavailable()]), SMS_MAX_ATTEMPTS=3
    )
    message = queue()

    drain(max_rounds=3)

    message = reload(message)
    assert message.status == SmsStatus.FAILED
    assert message.attempts == 3
    assert message.error.startswith("gave up after 3 attempts")
    assert "503" in message.error
    assert len(creates(fake)) == 3
    assert fake.messages == []
    assert not pending_sends().exists()


class Outage:
    """Twilio out of reach (connection refused: nothing listens on the port) or answering 503 to
    everything, until ``end`` on a simulated clock; the test moves the clock from one due task to
    the next instead of sleeping."""

    def __init__(self, settings, fake: FakeTwilio, kind: str, *, start: dt.datetime, hours: float):
        self.settings, self.fake, self.kind = settings, fake, kind
        self.now, self.end = start, start + timedelta(hours=hours)
        if kind == "refused":
            with socket.socket() as probe:  # a free port, closed again: connections are refused
                probe.bind(("127.0.0.1", 0))
                settings.TWILIO_API_BASE = f"http://127.0.0.1:{probe.getsockname()[1]}"
        else:
            fake.set_random_faults(1.0, [Fault.unavailable()])

    def advance_to(self, moment: dt.datetime) -> None:
        self.now = max(self.now, moment)
        if self.now >= self.end:  # back up
            self.settings.TWILIO_API_BASE = self.fake.base_url
            self.fake.set_random_faults(0.0)


@pytest.mark.parametrize("kind", ["refused", "503"])
def test_twilio_down_for_an_hour_messages_wait_and_go_later(settings, fake_twilio_factory, monkeypatch, kind):  # noqa: F811
    """The drill: Twilio is down for an hour. With the production retry settings and the
    backoff's jitter at its shortest (the worst case: the retries run out soonest), every
    message waits (queued, nothing lost, nothing failed) and goes once Twilio is back, once."""
    fake = use_fake(settings, fake_twilio_factory())
    for name in ("SMS_RETRY_BASE_SECONDS", "SMS_RETRY_CAP_SECONDS", "SMS_MAX_ATTEMPTS"):
        setattr(settings, name, getattr(production, name))  # use_fake shortens them for speed
    monkeypatch.setattr(sms.random, "random", lambda: 0.0)
    start = timezone.now().replace(microsecond=0)
    outage = Outage(settings, fake, kind, start=start, hours=1)
    monkeypatch.setattr(timezone, "now", lambda: outage.now)
    numbers = [f"+861381234{i:04d}" for i in range(3)]
    queued = [queue(to, ref=f"QD-2026-{i:06d}") for i, to in enumerate(numbers)]

    for _ in range(200):
        run_worker_batch()
        assert_no_crashed_tasks()
        for message in OutboundSms.objects.filter(pk__in=[m.pk for m in queued]):
            assert message.status != SmsStatus.FAILED, f"gave up during the outage: {message.error}"
            if outage.now < outage.end:
                assert message.status in (SmsStatus.QUEUED, SmsStatus.SENDING), message.status
        due = pending_sends().exclude(run_after=get_date_max()).order_by("run_after")
        if not pending_sends().exists():
            break
        outage.advance_to(due.values_list("run_after", flat=True).first() or outage.now)
    else:
        raise AssertionError("the messages were still pending after 200 rounds")

    assert outage.now >= outage.end
    sent = list(OutboundSms.objects.filter(pk__in=[m.pk for m in queued]))
    assert {m.status for m in sent} == {SmsStatus.SENT}
    assert all(m.sent_at >= outage.end and m.attempts > 1 for m in sent)
    assert sorted(m["to"] for m in fake.messages) == numbers  # each once
    fake.assert_no_duplicates()


# --- ambiguous: looked up before anything is resent ---------------------------------------------------


def test_create_then_hang_is_found_by_lookup_not_sent_twice(twilio):
    twilio.inject(Fault.hang_after_create(HANG))  # Twilio created it, the answer never came
    message = queue()

    drain()

    message = reload(message)
    [created] = twilio.messages  # exactly one: no duplicate
    assert message.status == SmsStatus.SENT
    assert message.provider_sid == created["sid"]
    assert message.attempts == 2
    assert [r.operation for r in twilio.requests] == ["create", "list"]


def test_dropped_connection_after_create_is_found_by_lookup(twilio):
    twilio.inject(Fault.drop_after_create())
    message = queue()

    drain()

    message = reload(message)
    [created] = twilio.messages
    assert message.status == SmsStatus.SENT
    assert message.provider_sid == created["sid"]


def test_crashed_worker_message_is_looked_up_not_resent(twilio):
    message = queue()
    # The crashed worker's request did reach Twilio: the message is there.
    existing = client_for(twilio).messages.create(to=message.to, from_=TEST_FROM_NUMBER, body=message.body)
    as_if_attempted(message, started_at=timezone.now() - timedelta(hours=1))

    sms.deliver(message_id=message.pk)

    message = reload(message)
    assert len(creates(twilio)) == 1  # only the crashed worker's
    assert message.status == SmsStatus.SENT
    assert message.provider_sid == existing.sid
    assert message.attempts == 2


def test_crashed_worker_message_not_at_twilio_is_sent(twilio):
    message = queue()
    as_if_attempted(message, started_at=timezone.now() - timedelta(hours=1))

    sms.deliver(message_id=message.pk)

    message = reload(message)
    [created] = twilio.messages
    assert message.status == SmsStatus.SENT
    assert message.provider_sid == created["sid"]


def test_message_in_flight_elsewhere_is_left_alone(twilio):
    message = queue()
    as_if_attempted(message, started_at=timezone.now())  # another worker is waiting for Twilio now

    sms.deliver(message_id=message.pk)

    assert twilio.requests == []
    assert reload(message).status == SmsStatus.SENDING
    [later] = pending_sends().exclude(run_after=get_date_max())
    assert later.run_after > timezone.now() + timedelta(seconds=IN_FLIGHT / 2)


# --- ways to send a message twice or mislabel it ---------------------------------------------------
# Each of these failed against 05cbe4b (the last one still against e00faa8).


def test_failed_lookup_after_ambiguous_create_does_not_resend(twilio):
    """A failed lookup (503 on the list) after an ambiguous create must keep the message
    unsure. (05cbe4b: ``_finish(retry=...)`` without ``unsure`` postponed SENDING -> QUEUED and
    the next attempt created the message again.)"""
    twilio.inject(Fault.hang_after_create(HANG), Fault.unavailable())  # create: ambiguous; list: 503
    message = queue()

    drain()

    message = reload(message)
    assert [r.operation for r in twilio.requests][:2] == ["create", "list"]
    assert len(twilio.messages) == 1, f"sent twice: {[m['sid'] for m in twilio.messages]}"
    assert message.status == SmsStatus.SENT
    assert message.provider_sid == twilio.messages[0]["sid"]


def test_ambiguous_lookup_keeps_looking_back_to_the_first_unconfirmed_attempt(settings, fake_twilio_factory):  # noqa: F811
    """After a lookup that itself timed out, the next lookup still covers the first attempt.
    (05cbe4b searched from the latest attempt's start minus one minute, and each attempt
    overwrites ``attempt_started_at``. In production the gap is ordinary: attempt 2 follows
    attempt 1 after 3×10 s in flight plus 15-45 s of backoff, later gaps grow to an hour.)"""
    shift = [timedelta(0)]
    fake = use_fake(settings, fake_twilio_factory(clock=lambda: dt.datetime.now(dt.UTC) - shift[0]))
    message = queue()
    # Attempt 1, ten minutes ago: Twilio created the message, the answer never came.
    shift[0] = timedelta(minutes=10)
    first = client_for(fake).messages.create(to=message.to, from_=TEST_FROM_NUMBER, body=message.body)
    shift[0] = timedelta(0)
    as_if_attempted(message, started_at=timezone.now() - timedelta(minutes=10, seconds=1))
    # Attempt 2, now: the lookup times out (ambiguous), so the message stays SENDING.
    fake.inject(Fault.hang(HANG))
    sms.deliver(message_id=message.pk)
    assert reload(message).status == SmsStatus.SENDING
    time.sleep(IN_FLIGHT + 0.1)

    # Attempt 3: must still find the message of attempt 1.
    sms.deliver(message_id=message.pk)

    message = reload(message)
    assert len(fake.messages) == 1, f"sent twice: {[m['sid'] for m in fake.messages]}"
    assert message.status == SmsStatus.SENT
    assert message.provider_sid == first.sid


def test_quiet_hours_do_not_forget_an_unconfirmed_attempt(settings, twilio):
    """A SENDING message whose outcome is unknown, postponed for quiet hours (or the
    per-number rate limit), is still looked up when they end. (05cbe4b: ``_postpone`` moved it
    SENDING -> QUEUED and it was sent again without a lookup.)"""
    message = queue()
    existing = client_for(twilio).messages.create(to=message.to, from_=TEST_FROM_NUMBER, body=message.body)
    as_if_attempted(message, started_at=timezone.now() - timedelta(hours=1))  # then the worker crashed
    never_quiet = settings.SMS_QUIET_HOURS
    hour = timezone.localtime().hour
    settings.SMS_QUIET_HOURS = (hour, (hour + 1) % 24)  # the crash is found during quiet hours

    sms.deliver(message_id=message.pk)

    assert len(creates(twilio)) == 1  # nothing sent in quiet hours
    # Morning: quiet hours are over and the postponed message is due.
    settings.SMS_QUIET_HOURS = never_quiet
    OutboundSms.objects.filter(pk=message.pk).update(send_after=timezone.now() - timedelta(seconds=1))
    sms.deliver(message_id=message.pk)

    message = reload(message)
    assert len(twilio.messages) == 1, f"sent twice: {[m['sid'] for m in twilio.messages]}"
    assert message.status == SmsStatus.SENT
    assert message.provider_sid == existing.sid


def test_ambiguous_last_attempt_is_looked_up_before_giving_up(settings, twilio):
    """An unsure last attempt is looked up before the message is given up. (At e00faa8 the
    give-up branch of ``_finish`` came before the ``unsure`` one: the message was FAILED
    "gave up after N attempts" although Twilio had it, so the worker got the SMS while the
    outbox said failed, delivery reports could not move it (report_sent/report_delivered
    start from SENDING/SENT only), and a staff retry (sms_retry: QUEUED, attempts 0, no
    lookup) sent it a second time.)"""
    settings.SMS_MAX_ATTEMPTS = 2
    twilio.inject(Fault.unavailable(), Fault.hang_after_create(HANG))
    message = queue()

    drain()

    message = reload(message)
    [created] = twilio.messages
    assert (message.status, message.provider_sid) == (SmsStatus.SENT, created["sid"]), message.error


def test_zero_length_quiet_hours_mean_no_quiet_hours(settings):
    """(0, 0) means no quiet hours, and a window within one day is quiet only inside it.
    (05cbe4b tested ``start <= t or t < end``, right only for a window across midnight: (0, 0)
    and (1, 6) made every hour quiet, and non-urgent messages were postponed for ever.)"""
    tz = timezone.get_default_timezone()
    noon = timezone.make_aware(dt.datetime(2026, 11, 26, 12, 0), tz)

    settings.SMS_QUIET_HOURS = (0, 0)
    assert sms.first_send_time(noon, Urgency.NORMAL) == noon
    settings.SMS_QUIET_HOURS = (1, 6)
    assert sms.first_send_time(noon, Urgency.NORMAL) == noon
    settings.SMS_QUIET_HOURS = (21, 8)  # the default still holds back a message at 22:00
    late = noon.replace(hour=22)
    assert sms.first_send_time(late, Urgency.NORMAL) == timezone.make_aware(dt.datetime(2026, 11, 27, 8, 0), tz)


# --- concurrent workers (PostgreSQL) ------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent workers need PostgreSQL row locks")
def test_concurrent_workers_send_each_message_once(settings, fake_twilio_factory, monkeypatch):  # noqa: F811
    """Three in-process workers drain the same queue while a third of the creates end
    ambiguously; every message is sent exactly once."""
    fake = use_fake(
        settings,
        fake_twilio_factory(
            seed="concurrent",
            fault_rate=0.3,
            fault_on={"create"},
            fault_choices=[Fault.hang_after_create(1.0), Fault.drop_after_create(), Fault.unavailable()],
        ),
    )
    # db_worker sets signal handlers, which only the main thread may do.
    monkeypatch.setattr(DbWorker, "configure_signals", lambda self: None)
    messages = []
    for batch in range(4):
        with transaction.atomic():
            for i in range(10):
                n = batch * 10 + i
                ref = f"QD-2026-{n:06d}"
                messages.append(
                    sms.notify(
                        recipient=f"+86137{n:08d}",
                        template="request_received",
                        context={"ref": ref, "link": sms.link(f"/r/{ref}/")},
                    )
                )
    errors: list[BaseException] = []

    def one_worker():
        try:
            run_worker_batch()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    def three_workers():
        threads = [threading.Thread(target=one_worker) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)

    drain(worker=three_workers)

    assert errors == []
    fake.assert_no_duplicates()
    statuses = dict(OutboundSms.objects.values_list("pk", "status"))
    assert set(statuses.values()) == {SmsStatus.SENT}
    sids = set(OutboundSms.objects.values_list("provider_sid", flat=True))
    assert sids == {m["sid"] for m in fake.messages}
    assert len(fake.messages) == len(messages)
