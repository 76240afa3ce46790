"""SMS to workers: the transactional outbox, templates and languages, quiet hours, delivery,
Twilio's signed callbacks, STOP/START, staff retries, the outbox page and the services that
tell workers what happened to their requests.

Time: ``care.sms`` reads ``django.utils.timezone.now``; tests that depend on the hour freeze it
with the ``clock`` fixture (noon, Asia/Shanghai, unless a test moves it).
"""

import re
import uuid
from datetime import UTC, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult, get_date_max
from twilio.request_validator import RequestValidator

from care import services, sms
from care.errors import HallError, InvalidState, NotAllowed
from care.models import AuditEvent, OutboundSms, SmsOptOut, SmsReport, SmsStatus, Stage, Urgency
from care.roles import Role
from tests.factories import CaseFactory, WorkerFactory, staff
from tests.twilio_fakes.fixtures import fake_twilio, fake_twilio_factory, twilio_settings  # noqa: F401

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
TOKEN = "test-twilio-auth-token"
SAMPLE = {"code": "482913", "ref": "QD-2026-000123", "link": "https://hall.example.org/cases/1/"}
SECRET = "老板拖欠三个月工资-PRIVATE-7731"
SEND_SMS = "care.tasks.send_sms"


def local(year, month, day, hour, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


class Clock:
    def __init__(self, now: datetime):
        self.start = self.now = now

    def at(self, hour: int, minute: int = 0, days: int = 0) -> datetime:
        """Move to ``hour:minute`` local, ``days`` after the day the clock started on."""
        day = timezone.localtime(self.start).date() + timedelta(days=days)
        self.now = datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)
        return self.now

    def advance(self, **kwargs) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock(monkeypatch, settings):
    """Freeze ``timezone.now`` at today's noon in Asia/Shanghai, with the default quiet hours."""
    settings.SMS_QUIET_HOURS = (21, 8)
    today = timezone.localtime(timezone.now(), SHANGHAI).date()
    frozen = Clock(datetime.combine(today, time(12), tzinfo=SHANGHAI))
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


def send_tasks(message=None) -> list[DBTaskResult]:
    rows = DBTaskResult.objects.filter(task_path=SEND_SMS).order_by("enqueued_at", "run_after")
    return [row for row in rows if message is None or row.args_kwargs["args"] == [message.pk]]


def deferred(tasks: list[DBTaskResult]) -> list[DBTaskResult]:
    return [task for task in tasks if task.run_after != get_date_max()]


def runs_now(task: DBTaskResult) -> bool:
    return task.run_after == get_date_max() or task.run_after <= timezone.now()


def fresh(message: OutboundSms) -> OutboundSms:
    return OutboundSms.objects.get(pk=message.pk)


def notify(worker, template="request_received", context=None, **kwargs) -> OutboundSms:
    context = context or {**SAMPLE, **sms.templates()[template].sample}
    return sms.notify(recipient=worker, template=template, context=context, **kwargs)


def rendered(template: str, language: str, context=None) -> str:
    with translation.override(language):
        spec = sms.templates()[template]
        return str(spec.text) % (context or {**SAMPLE, **spec.sample})


def set_status(message: OutboundSms, status: str, **fields) -> OutboundSms:
    """Put a row in a state without the transitions (the status field is protected)."""
    OutboundSms.objects.filter(pk=message.pk).update(status=status, **fields)
    return fresh(message)


def events(event_type: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("seq"))


@pytest.fixture
def worker():
    return WorkerFactory(mobile="+8613800000001")


# --- notify and the transaction ----------------------------------------------------------------


class Rollback(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_notify_in_a_rolled_back_transaction_leaves_no_message_and_no_task(worker, clock):
    with pytest.raises(Rollback), transaction.atomic():
        notify(worker)
        assert OutboundSms.objects.count() == 1  # written inside the transaction ...
        raise Rollback

    assert not OutboundSms.objects.exists()  # ... and gone with it
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_notify_in_a_committed_transaction_leaves_one_message_and_one_ready_task(worker, clock):
    with transaction.atomic():
        notify(worker)

    message = OutboundSms.objects.get()
    assert (message.to, message.worker, message.status) == (worker.mobile, worker, SmsStatus.QUEUED)
    [task] = DBTaskResult.objects.all()
    assert (task.task_path, task.args_kwargs["args"], task.status) == (SEND_SMS, [message.pk], "READY")
    assert list(DBTaskResult.objects.ready()) == [task]


@pytest.mark.django_db(transaction=True)
def test_notify_outside_a_transaction_refuses_and_writes_nothing(worker):
    assert not transaction.get_connection().in_atomic_block

    with pytest.raises(RuntimeError):
        notify(worker)

    assert not OutboundSms.objects.exists()
    assert not DBTaskResult.objects.exists()


# --- templates, languages, sensitive words -----------------------------------------------------

TEMPLATE_CODES = sorted(sms.templates())
LANGUAGES = ["en", "zh-hans"]


def test_the_templates_of_the_brief_are_registered():
    assert {"signin_code", "request_received", "request_taken_up", "request_closed"} <= set(TEMPLATE_CODES)
    assert sms.templates()["signin_code"].essential
    assert not sms.templates()["request_received"].essential


@pytest.mark.parametrize("template", TEMPLATE_CODES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_worker_gets_the_text_in_their_own_language(template, language):
    worker = WorkerFactory(user__language=language)

    with translation.override("en" if language != "en" else "zh-hans"):  # not the request's language
        message = notify(worker, template)

    assert message.language == language
    assert message.body == rendered(template, language)


@pytest.mark.parametrize("template", TEMPLATE_CODES)
def test_the_english_text_is_english(template):
    body = notify(WorkerFactory(user__language="en"), template).body
    assert body.isascii()
    assert SAMPLE["ref"] in body or SAMPLE["code"] in body


@pytest.mark.parametrize("template", TEMPLATE_CODES)
def test_the_chinese_text_is_translated(template, request):
    if rendered(template, "zh-hans") == rendered(template, "en"):
        request.applymarker(pytest.mark.xfail(strict=False, reason="translations pending"))

    body = notify(WorkerFactory(user__language="zh-hans"), template).body

    assert body != rendered(template, "en")
    assert re.search(r"[\u4e00-\u9fff]", body)


def test_a_number_without_a_worker_gets_the_active_language():
    with translation.override("en"):
        message = sms.notify(recipient="+8613900000009", template="signin_code", context={"code": "123456"})
    assert message.worker is None
    assert message.body == rendered("signin_code", "en", {"code": "123456"})


@pytest.mark.parametrize("template", TEMPLATE_CODES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_template_contains_a_sensitive_word(template, language):
    body = rendered(template, language).lower()
    assert [word for word in sms.SENSITIVE_WORDS if word.lower() in body] == []


@pytest.mark.parametrize(
    ("language", "ref"),
    [
        ("zh-hans", "法律援助"),
        ("zh-hans", "心理咨询"),
        ("zh-hans", "劳动争议仲裁"),
        ("en", "legal aid"),
        ("en", "QD-Lawyer-1"),
        ("en", "Labour DISPUTE"),
        ("en", "Counseling-7"),
    ],
)
def test_notify_refuses_a_context_that_puts_a_sensitive_word_into_the_body(language, ref):
    worker = WorkerFactory(user__language=language)

    with pytest.raises(ValueError):
        notify(worker, "request_received", {"ref": ref, "link": SAMPLE["link"]})

    assert not OutboundSms.objects.exists()
    assert not DBTaskResult.objects.exists()


# --- quiet hours ----------------------------------------------------------------------------------


@pytest.fixture
def default_quiet_hours(settings):
    settings.SMS_QUIET_HOURS = (21, 8)


@pytest.mark.usefixtures("default_quiet_hours")
@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local(2026, 3, 10, 22, 30), local(2026, 3, 11, 8)),
        (local(2026, 3, 10, 7, 59), local(2026, 3, 10, 8)),
        (local(2026, 3, 10, 21, 0), local(2026, 3, 11, 8)),
        (local(2026, 3, 10, 0, 0), local(2026, 3, 10, 8)),
        (local(2026, 12, 31, 23, 59), local(2027, 1, 1, 8)),
        (datetime(2026, 3, 10, 14, 30, tzinfo=UTC), local(2026, 3, 11, 8)),  # 22:30 in Shanghai
    ],
    ids=["22:30", "07:59", "21:00", "00:00", "new-year", "utc-input"],
)
def test_a_normal_message_in_quiet_hours_waits_until_eight(now, expected):
    start = sms.first_send_time(now, Urgency.NORMAL)

    assert start == expected
    assert timezone.localtime(start, SHANGHAI).time() == time(8)


@pytest.mark.usefixtures("default_quiet_hours")
@pytest.mark.parametrize(
    "now", [local(2026, 3, 10, 12), local(2026, 3, 10, 8), local(2026, 3, 10, 20, 59)], ids=["12:00", "08:00", "20:59"]
)
def test_a_normal_message_outside_quiet_hours_goes_now(now):
    assert sms.first_send_time(now, Urgency.NORMAL) == now


@pytest.mark.usefixtures("default_quiet_hours")
@pytest.mark.parametrize("now", [local(2026, 3, 10, 22, 30), local(2026, 3, 10, 7, 59), local(2026, 3, 10, 12)])
def test_an_urgent_message_goes_now(now):
    assert sms.first_send_time(now, Urgency.URGENT) == now


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local(2026, 3, 10, 12), local(2026, 3, 10, 12)),
        (local(2026, 3, 10, 7), local(2026, 3, 10, 7)),
        (local(2026, 3, 10, 23, 30), local(2026, 3, 10, 23, 30)),
        (local(2026, 3, 10, 3), local(2026, 3, 10, 7)),
    ],
    ids=["12:00", "07:00", "23:30", "03:00"],
)
def test_quiet_hours_that_do_not_cross_midnight(settings, now, expected):
    """Quiet from 00:00 to 07:00: a message at noon goes now, one at 03:00 waits until 07:00."""
    settings.SMS_QUIET_HOURS = (0, 7)
    assert sms.first_send_time(now, Urgency.NORMAL) == expected


def test_notify_in_quiet_hours_queues_a_task_for_eight(worker, clock):
    clock.at(22, 30)

    message = notify(worker)

    assert message.send_after == clock.at(8, days=1)
    [task] = send_tasks(message)
    assert task.run_after == message.send_after


def test_an_urgent_notify_in_quiet_hours_is_queued_for_now(clock):
    clock.at(22, 30)
    message = sms.notify(recipient="+8613900000009", template="signin_code", context=SAMPLE, urgency=Urgency.URGENT)
    assert message.send_after == clock.now
    [task] = send_tasks(message)
    assert runs_now(task)


# --- deliver (console transport) ---------------------------------------------------------------


def test_deliver_sends_a_queued_message_once(worker, clock, capsys):
    message = notify(worker)

    sms.deliver(message_id=message.pk)

    sent = fresh(message)
    assert sent.status == SmsStatus.SENT
    assert sent.provider_sid.startswith("CONSOLE")
    assert (sent.attempts, sent.sent_at) == (1, clock.now)
    printed = capsys.readouterr().out
    assert printed.count(f"[SMS to {worker.mobile}]") == 1
    assert message.body in printed

    sms.deliver(message_id=message.pk)  # a second run of the task: nothing happens

    again = fresh(message)
    assert (again.status, again.provider_sid, again.attempts) == (SmsStatus.SENT, sent.provider_sid, 1)
    assert "[SMS to" not in capsys.readouterr().out


def test_the_send_sms_task_delivers(worker, clock, capsys):
    from care.tasks import send_sms

    message = notify(worker)

    assert send_sms.call(message.pk) == SmsStatus.SENT
    assert fresh(message).status == SmsStatus.SENT
    assert send_sms.call(message.pk + 1000) == "missing"


def test_deliver_before_send_after_waits_for_its_own_task(worker, clock, capsys):
    clock.at(22, 30)
    message = notify(worker)
    clock.advance(minutes=1)

    sms.deliver(message_id=message.pk)

    assert fresh(message).status == SmsStatus.QUEUED
    assert len(send_tasks(message)) == 1
    assert capsys.readouterr().out == ""


def test_an_opted_out_number_gets_no_normal_message(worker, clock, capsys):
    SmsOptOut.objects.create(mobile=worker.mobile)
    message = notify(worker)

    sms.deliver(message_id=message.pk)

    skipped = fresh(message)
    assert skipped.status == SmsStatus.SKIPPED
    assert skipped.provider_sid is None
    assert capsys.readouterr().out == ""


def test_an_opted_out_number_still_gets_a_signin_code(worker, clock, capsys):
    SmsOptOut.objects.create(mobile=worker.mobile)
    message = notify(worker, "signin_code", urgency=Urgency.URGENT)
    assert message.essential

    sms.deliver(message_id=message.pk)

    assert fresh(message).status == SmsStatus.SENT
    assert SAMPLE["code"] in capsys.readouterr().out


def test_the_rate_limit_postpones_the_third_message_in_the_window(worker, clock, settings, capsys):
    settings.SMS_RATE_LIMIT = 2
    first, second, third = (notify(worker) for _ in range(3))
    assert len(send_tasks()) == 3

    for message in (first, second, third):
        sms.deliver(message_id=message.pk)

    assert [fresh(m).status for m in (first, second)] == [SmsStatus.SENT, SmsStatus.SENT]
    postponed = fresh(third)
    assert postponed.status == SmsStatus.QUEUED
    assert postponed.send_after > clock.now
    assert postponed.send_after == clock.now + timedelta(seconds=settings.SMS_RATE_WINDOW_SECONDS)
    assert postponed.provider_sid is None
    tasks = send_tasks(third)
    assert len(tasks) == 2
    assert [task.run_after for task in deferred(tasks)] == [postponed.send_after]
    assert capsys.readouterr().out.count("[SMS to") == 2

    clock.now = postponed.send_after + timedelta(seconds=1)  # the window has passed
    sms.deliver(message_id=third.pk)
    assert fresh(third).status == SmsStatus.SENT


def test_the_rate_limit_counts_per_number(worker, clock, settings):
    settings.SMS_RATE_LIMIT = 2
    other = WorkerFactory()
    messages = [notify(worker), notify(worker), notify(other)]

    for message in messages:
        sms.deliver(message_id=message.pk)

    assert {fresh(m).status for m in messages} == {SmsStatus.SENT}


def test_a_message_due_in_quiet_hours_is_postponed_to_eight(worker, clock, capsys):
    message = notify(worker)  # at noon: due at once
    night = clock.at(22, 30)  # ... but the worker only ran the task at night

    sms.deliver(message_id=message.pk)

    postponed = fresh(message)
    assert postponed.status == SmsStatus.QUEUED
    assert postponed.send_after == clock.at(8, days=1)
    assert postponed.send_after > night
    tasks = send_tasks(message)
    assert len(tasks) == 2
    assert [task.run_after for task in deferred(tasks)] == [postponed.send_after]
    assert capsys.readouterr().out == ""


def test_an_urgent_message_is_sent_in_quiet_hours(clock, capsys):
    clock.at(23)
    message = sms.notify(recipient="+8613900000009", template="signin_code", context=SAMPLE, urgency=Urgency.URGENT)

    sms.deliver(message_id=message.pk)

    assert fresh(message).status == SmsStatus.SENT


class StubTransport:
    """A transport whose outcome the test chooses; it records what deliver asked of it."""

    def __init__(self, *, send=None, found=None):
        self.outcome, self.found, self.calls = send, found, []

    def send(self, *, to, body, status_callback):
        self.calls.append("send")
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome or f"SM{uuid.uuid4().hex}"

    def find(self, *, to, body, since):
        self.calls.append("find")
        return self.found


FOUND_SID = "SM" + "9" * 32


def unsure(message: OutboundSms) -> OutboundSms:
    """A first attempt whose outcome is unknown (read timeout): the message stays SENDING."""
    sms.deliver(message_id=message.pk, transport=StubTransport(send=sms.AmbiguousOutcome("ReadTimeout")))
    row = fresh(message)
    assert (row.status, row.attempts) == (SmsStatus.SENDING, 1)
    return row


def test_an_unsure_attempt_is_looked_up_before_it_is_sent_again(worker, clock):
    message = unsure(notify(worker))
    clock.advance(minutes=5)
    twilio = StubTransport(found=FOUND_SID)

    sms.deliver(message_id=message.pk, transport=twilio)

    assert twilio.calls == ["find"]
    assert (fresh(message).status, fresh(message).provider_sid) == (SmsStatus.SENT, FOUND_SID)


@pytest.mark.parametrize("why", ["quiet-hours", "rate-limit"])
def test_an_unsure_attempt_delayed_by_quiet_hours_or_the_rate_limit_is_still_looked_up(worker, clock, settings, why):
    """The first attempt may have reached Twilio: whatever delays the next attempt, it must look
    the message up before sending it again, or the worker gets the SMS twice."""
    clock.at(20, 58)
    message = unsure(notify(worker))
    if why == "quiet-hours":
        clock.at(21, 5)  # the retry task runs in quiet hours
    else:
        settings.SMS_RATE_LIMIT = 1
        clock.at(20, 59)
        other = notify(worker)
        sms.deliver(message_id=other.pk, transport=StubTransport())
        assert fresh(other).status == SmsStatus.SENT
        clock.advance(seconds=30)  # the retry task runs: one message already went in the window
    sms.deliver(message_id=message.pk, transport=StubTransport(send=AssertionError("must not send now")))
    assert max(task.run_after for task in deferred(send_tasks(message))) > clock.now  # tried again later

    clock.at(8, days=1)  # the next attempt, after the delay
    twilio = StubTransport(found=FOUND_SID)
    sms.deliver(message_id=message.pk, transport=twilio)

    assert twilio.calls == ["find"]
    assert (fresh(message).status, fresh(message).provider_sid) == (SmsStatus.SENT, FOUND_SID)


def test_an_unsure_attempt_to_a_number_that_opted_out_meanwhile_does_not_break_the_task(worker, clock):
    message = unsure(notify(worker))
    SmsOptOut.objects.create(mobile=worker.mobile)  # the worker replied STOP meanwhile
    clock.advance(minutes=5)
    twilio = StubTransport()

    sms.deliver(message_id=message.pk, transport=twilio)  # must neither raise nor leave it SENDING

    assert fresh(message).status == SmsStatus.SKIPPED
    assert "send" not in twilio.calls


# --- deliver through Twilio (the fake) ---------------------------------------------------------


def test_deliver_through_twilio_sends_once_with_our_status_callback(worker, clock, settings, twilio_settings):  # noqa: F811
    settings.SITE_URL = "http://testserver"
    message = notify(worker)

    sms.deliver(message_id=message.pk)
    sms.deliver(message_id=message.pk)

    [sent] = twilio_settings.messages_to(worker.mobile)
    assert sent["body"] == message.body
    assert fresh(message).provider_sid == sent["sid"]
    assert fresh(message).status == SmsStatus.SENT
    twilio_settings.assert_no_duplicates()

    callback = twilio_settings.status_callback(sent["sid"], "delivered")
    assert callback.url == f"http://testserver/sms/status/{message.pk}/"
    response = Client().post(f"/sms/status/{message.pk}/", **callback.django_client_kwargs())

    assert response.status_code == 204
    assert fresh(message).status == SmsStatus.DELIVERED


# --- Twilio status callbacks -------------------------------------------------------------------


def signed_post(path: str, params: dict, *, token: str = TOKEN, url: str | None = None):
    signature = RequestValidator(token).compute_signature(url or f"http://testserver{path}", params)
    return Client().post(path, params, headers={"X-Twilio-Signature": signature})


def report(message: OutboundSms, status: str, **extra) -> dict:
    return {
        "MessageSid": message.provider_sid or "SM" + "0" * 32,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": message.to,
        "AccountSid": "AC" + "1" * 32,
        **extra,
    }


@pytest.fixture
def twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.SITE_URL = "http://testserver"


@pytest.fixture
def sent(worker, clock, twilio_token, capsys):
    message = notify(worker)
    sms.deliver(message_id=message.pk)
    message = fresh(message)
    assert message.status == SmsStatus.SENT
    return message


def state(message: OutboundSms) -> tuple:
    row = fresh(message)
    return row.status, row.status_at, row.error, row.provider_sid, SmsReport.objects.count()


def test_a_signed_delivered_report_moves_sent_to_delivered_and_is_stored_raw(sent):
    payload = report(sent, "delivered")

    response = signed_post(f"/sms/status/{sent.pk}/", payload)

    assert response.status_code == 204
    assert fresh(sent).status == SmsStatus.DELIVERED
    [stored] = SmsReport.objects.all()
    assert (stored.kind, stored.message_id, stored.payload) == ("status", sent.pk, payload)


def test_a_late_sent_report_after_delivered_changes_nothing(sent):
    signed_post(f"/sms/status/{sent.pk}/", report(sent, "delivered"))
    before = state(sent)

    response = signed_post(f"/sms/status/{sent.pk}/", report(sent, "sent"))

    assert response.status_code == 204
    assert state(sent)[:4] == before[:4]
    assert fresh(sent).status == SmsStatus.DELIVERED
    assert SmsReport.objects.count() == 2  # still stored raw


def test_undelivered_with_an_error_code_records_the_error(sent):
    signed_post(f"/sms/status/{sent.pk}/", report(sent, "sent"))
    assert fresh(sent).status == SmsStatus.SENT

    response = signed_post(f"/sms/status/{sent.pk}/", report(sent, "undelivered", ErrorCode="30003"))

    assert response.status_code == 204
    row = fresh(sent)
    assert row.status == SmsStatus.UNDELIVERED
    assert "30003" in row.error
    assert row.status_at is not None


def test_a_delivered_report_after_undelivered_changes_nothing(sent):
    signed_post(f"/sms/status/{sent.pk}/", report(sent, "undelivered", ErrorCode="30003"))
    before = state(sent)

    signed_post(f"/sms/status/{sent.pk}/", report(sent, "delivered"))

    assert state(sent)[:4] == before[:4]


@pytest.mark.parametrize(
    "how",
    ["unsigned", "other-token", "tampered", "other-url", "garbage"],
)
def test_a_badly_signed_report_is_refused_and_changes_nothing(sent, how):
    path, payload = f"/sms/status/{sent.pk}/", report(sent, "delivered")
    before = state(sent)

    if how == "unsigned":
        response = Client().post(path, payload)
    elif how == "other-token":
        response = signed_post(path, payload, token="someone-elses-token")
    elif how == "tampered":
        signature = RequestValidator(TOKEN).compute_signature(f"http://testserver{path}", report(sent, "sent"))
        response = Client().post(path, payload, headers={"X-Twilio-Signature": signature})
    elif how == "other-url":
        response = signed_post(path, payload, url=f"http://testserver/sms/status/{sent.pk + 1}/")
    else:
        response = Client().post(path, payload, headers={"X-Twilio-Signature": "not-a-signature"})

    assert response.status_code == 403
    assert state(sent) == before
    assert not SmsReport.objects.exists()


@pytest.mark.parametrize("token", ["", TOKEN])
def test_without_an_auth_token_every_report_is_refused(sent, settings, token):
    settings.TWILIO_AUTH_TOKEN = ""
    before = state(sent)

    response = signed_post(f"/sms/status/{sent.pk}/", report(sent, "delivered"), token=token)

    assert response.status_code == 403
    assert state(sent) == before


def test_a_report_must_be_a_post(sent):
    response = Client().get(f"/sms/status/{sent.pk}/")
    assert response.status_code in (403, 405)
    assert fresh(sent).status == SmsStatus.SENT


# --- inbound STOP / START ----------------------------------------------------------------------


def inbound(body: str, number: str = "+8613800000001", **kwargs):
    params = {"From": number, "To": "+15005550006", "Body": body, "MessageSid": "SM" + "2" * 32}
    return signed_post("/sms/inbound/", params, **kwargs)


def assert_twiml(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert "<Response" in response.content.decode()


@pytest.mark.usefixtures("twilio_token")
@pytest.mark.parametrize("word", ["退订", "STOP", "stop", " Stop "])
def test_stop_opts_the_number_out_with_an_audit_event(word):
    response = inbound(word)

    assert_twiml(response)
    opt_out = SmsOptOut.objects.get()
    assert opt_out.mobile == "+8613800000001"
    [event] = events(sms.SmsEvent.OPTED_OUT)
    assert (event.subject_type, event.subject_id) == ("care.smsoptout", str(opt_out.pk))
    assert SmsReport.objects.get().kind == "inbound"


@pytest.mark.usefixtures("twilio_token")
def test_stop_twice_keeps_one_opt_out():
    inbound("STOP")
    inbound("退订")
    assert SmsOptOut.objects.count() == 1
    assert len(events(sms.SmsEvent.OPTED_OUT)) == 1


@pytest.mark.usefixtures("twilio_token")
@pytest.mark.parametrize("word", ["订阅", "START", "start"])
def test_start_opts_the_number_back_in(word):
    SmsOptOut.objects.create(mobile="+8613800000001")
    SmsOptOut.objects.create(mobile="+8613800000002")

    response = inbound(word)

    assert_twiml(response)
    assert list(SmsOptOut.objects.values_list("mobile", flat=True)) == ["+8613800000002"]
    assert len(events(sms.SmsEvent.OPTED_IN)) == 1


@pytest.mark.usefixtures("twilio_token")
@pytest.mark.parametrize("opted_out", [False, True])
@pytest.mark.parametrize("text", ["你好，我的申请怎么样了？", "STOP please", "Y", ""])
def test_other_text_changes_nothing(text, opted_out):
    if opted_out:
        SmsOptOut.objects.create(mobile="+8613800000001")
    events_before = AuditEvent.objects.count()

    response = inbound(text)

    assert_twiml(response)
    assert SmsOptOut.objects.count() == int(opted_out)
    assert AuditEvent.objects.count() == events_before


@pytest.mark.usefixtures("twilio_token")
def test_an_unsigned_stop_is_refused():
    response = Client().post("/sms/inbound/", {"From": "+8613800000001", "Body": "STOP"})
    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()
    assert not AuditEvent.objects.filter(event_type=sms.SmsEvent.OPTED_OUT).exists()


# --- staff retry -------------------------------------------------------------------------------


@pytest.fixture
def failed(worker, clock):
    message = notify(worker)
    DBTaskResult.objects.all().delete()
    return set_status(message, SmsStatus.FAILED, attempts=8, error="Twilio 400 / 21211: invalid", status_at=clock.now)


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.FRONT_DESK])
def test_a_failed_message_is_retried_by_staff_with_the_permission(failed, role, clock):
    actor = staff(role)
    assert actor.has_perm("care.retry_outboundsms")

    sms.sms_retry(message=failed, actor=actor)

    row = fresh(failed)
    assert (row.status, row.attempts, row.attempt_started_at) == (SmsStatus.QUEUED, 0, None)
    assert row.send_after == clock.now
    [task] = send_tasks(failed)
    assert runs_now(task)
    [event] = events(sms.SmsEvent.RETRIED)
    assert (event.actor, event.old, event.new) == (actor, {"status": "failed"}, {"status": "queued"})

    sms.deliver(message_id=failed.pk)
    assert fresh(failed).status == SmsStatus.SENT


@pytest.mark.parametrize("status", [SmsStatus.SENT, SmsStatus.DELIVERED, SmsStatus.SKIPPED])
def test_only_a_failed_message_can_be_retried(failed, status):
    message = set_status(failed, status)
    before = (fresh(message).status, fresh(message).attempts, AuditEvent.objects.count())

    with pytest.raises(InvalidState):
        sms.sms_retry(message=message, actor=staff(Role.ADMINISTRATOR))

    assert (fresh(message).status, fresh(message).attempts, AuditEvent.objects.count()) == before
    assert send_tasks(message) == []


@pytest.mark.parametrize("role", [Role.WORKER, Role.LEGAL_OFFICER, Role.CENTER_MANAGER])
def test_retry_without_the_permission_is_not_allowed(failed, role):
    before = (fresh(failed).status, AuditEvent.objects.count())

    with pytest.raises(NotAllowed):
        sms.sms_retry(message=failed, actor=staff(role))

    assert (fresh(failed).status, AuditEvent.objects.count()) == before
    assert send_tasks(failed) == []


def test_the_retry_button_of_the_outbox_retries(failed):
    client = browser(staff(Role.ADMINISTRATOR))

    response = client.post(f"/sms/outbox/{failed.pk}/retry/")

    assert response.status_code == 302
    assert fresh(failed).status == SmsStatus.QUEUED


# --- the outbox page ---------------------------------------------------------------------------


def browser(user) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def page(client, **query) -> str:
    response = client.get("/sms/outbox/", query)
    assert response.status_code == 200
    return unescape(response.content.decode())


@pytest.fixture
def outbox_rows():
    """Three messages to three numbers: queued, failed (yesterday-ish, in January) and a sign-in code."""
    a, b = WorkerFactory(mobile="+8613800000011"), WorkerFactory(mobile="+8613800000022")
    queued = notify(a, "request_received")
    failed = set_status(notify(b, "request_closed"), SmsStatus.FAILED, created_at=local(2026, 1, 5, 12))
    code = sms.notify(recipient="+8613800000033", template="signin_code", context=SAMPLE, urgency=Urgency.URGENT)
    return queued, failed, code


def numbers_on(html: str) -> set[str]:
    return {n for n in ("+8613800000011", "+8613800000022", "+8613800000033") if n in html}


def test_the_outbox_lists_messages_for_an_administrator(outbox_rows):
    html = page(browser(staff(Role.ADMINISTRATOR)))
    assert numbers_on(html) == {"+8613800000011", "+8613800000022", "+8613800000033"}
    assert outbox_rows[0].body in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "failed"}, {"+8613800000022"}),
        ({"status": "queued"}, {"+8613800000011", "+8613800000033"}),
        ({"template": "signin_code"}, {"+8613800000033"}),
        ({"number": "13800000011"}, {"+8613800000011"}),
        ({"number": "+86 138 0000 0022"}, {"+8613800000022"}),
        ({"day": "2026-01-05"}, {"+8613800000022"}),
        ({"status": "failed", "template": "request_received"}, set()),
    ],
    ids=["status-failed", "status-queued", "template", "number", "number-spaced", "day", "combined"],
)
def test_the_outbox_filters(outbox_rows, query, expected):
    html = page(browser(staff(Role.ADMINISTRATOR)), **query)
    assert numbers_on(html) == expected


@pytest.mark.parametrize("role", [Role.WORKER, Role.LEGAL_OFFICER])
def test_the_outbox_is_closed_to_roles_without_the_permission(outbox_rows, role):
    response = browser(staff(role)).get("/sms/outbox/")
    assert response.status_code == 403


def test_signin_codes_are_shown_with_the_console_transport(outbox_rows):
    code = outbox_rows[2]
    html = page(browser(staff(Role.ADMINISTRATOR)), template="signin_code")
    assert code.body in html
    assert SAMPLE["code"] in html
    assert "(hidden)" not in html


def test_signin_codes_are_hidden_when_twilio_sends(outbox_rows, settings):
    settings.TWILIO_ACCOUNT_SID = "AC" + "3" * 32
    queued, _, code = outbox_rows

    html = page(browser(staff(Role.ADMINISTRATOR)))

    assert code.body not in html
    assert SAMPLE["code"] not in html
    assert "(hidden)" in html or "（已隐藏）" in html
    assert queued.body in html  # only essential messages are hidden


# --- the services tell the worker --------------------------------------------------------------


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://hall.example.org"


@pytest.fixture
def officer():
    return staff(Role.LEGAL_OFFICER, "legal")


def only_message(template: str) -> OutboundSms:
    [message] = OutboundSms.objects.filter(template=template)
    return message


def assert_tells(message: OutboundSms, case) -> None:
    assert (message.to, message.worker_id) == (case.worker.mobile, case.worker.pk)
    assert case.reference in message.body
    assert f"https://hall.example.org/cases/{case.pk}/" in message.body
    assert case.description not in message.body
    assert SECRET not in message.body
    assert not message.essential
    assert send_tasks(message)


@pytest.mark.usefixtures("site")
def test_filing_a_request_tells_the_worker_it_was_received(worker):
    case = services.request_file(actor=worker.user, worker=worker, department="legal", description=SECRET)

    message = only_message("request_received")
    assert_tells(message, case)
    assert OutboundSms.objects.count() == 1


@pytest.mark.usefixtures("site")
def test_a_walk_in_request_tells_the_worker_too(worker):
    case = services.request_file(actor=staff(Role.FRONT_DESK), worker=worker, department="legal", description=SECRET)
    assert_tells(only_message("request_received"), case)


@pytest.mark.usefixtures("site")
def test_taking_up_a_case_tells_the_worker(worker, officer):
    case = CaseFactory(worker=worker, department="legal", description=SECRET)

    services.case_take_up(case=case, actor=officer)

    assert_tells(only_message("request_taken_up"), case)


@pytest.mark.usefixtures("site")
def test_closing_a_case_tells_the_worker(worker, officer):
    case = CaseFactory(worker=worker, department="legal", description=SECRET)
    services.case_take_up(case=case, actor=officer)

    services.case_close(case=case, actor=officer)

    assert_tells(only_message("request_closed"), case)
    assert [m.template for m in OutboundSms.objects.order_by("pk")] == [
        "request_taken_up", "request_closed", "survey_invite"]


@pytest.mark.usefixtures("site")
def test_a_refused_close_sends_nothing(worker, officer):
    case = CaseFactory(worker=worker, department="legal", stage=Stage.RECEIVED, description=SECRET)

    with pytest.raises(HallError):  # not taken up: refused (NotAllowed or InvalidState)
        services.case_close(case=case, actor=officer)

    assert not OutboundSms.objects.exists()
    assert not DBTaskResult.objects.exists()


@pytest.mark.usefixtures("site")
def test_the_worker_is_told_in_their_language(officer):
    worker = WorkerFactory(user__language="en")
    case = CaseFactory(worker=worker, department="legal", description=SECRET)

    services.case_take_up(case=case, actor=officer)

    message = only_message("request_taken_up")
    assert message.language == "en"
    assert message.body == rendered(
        "request_taken_up", "en", {"ref": case.reference, "link": f"https://hall.example.org/cases/{case.pk}/"}
    )
