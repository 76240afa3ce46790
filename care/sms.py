"""SMS to workers: the one notification service of the hall, and SMS sign-in codes.

``notify`` writes an outbox row and the task that sends it inside the caller's transaction:
a rolled-back change sends nothing, a committed one cannot be forgotten. ``deliver`` (run by
the ``send_sms`` task) talks to Twilio outside any transaction and never sends a message
twice: the attempt is committed as SENDING before the request goes out, and an attempt whose
outcome is unknown (timeout, dropped connection, crashed worker) is looked up at Twilio
before anything is resent.
"""

import hashlib
import hmac
import logging
import random
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed
from twilio.base.exceptions import TwilioException, TwilioRestException

from care import audit
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import OutboundSms, SignInCode, SmsOptOut, SmsReport, SmsStatus, Urgency, User, Worker
from care.sms_transport import make_twilio_client

log = logging.getLogger(__name__)


class SmsEvent:
    OPTED_OUT = "sms.opted_out"
    OPTED_IN = "sms.opted_in"
    RETRIED = "sms.retried"


# --- templates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmsTemplate:
    """An SMS text per event, translated by the recipient's language. It says what happened,
    when and where, with a link; never private content, never the name of a sensitive
    service. Essential messages (sign-in codes, safety) ignore opt-outs."""

    code: str
    text: Promise
    essential: bool = False
    # Example values of the template's own placeholders (besides ref, link and code), so
    # that tests can render every template and check it reveals nothing.
    sample: dict = field(default_factory=dict)


_templates: dict[str, SmsTemplate] = {}


def register_template(template: SmsTemplate) -> None:
    _templates[template.code] = template


def templates() -> dict[str, SmsTemplate]:
    return dict(_templates)


for _template in [
    SmsTemplate(
        "signin_code",
        _("Your sign-in code for the Worker Service Center is %(code)s. It is valid for 5 minutes; never share it."),
        essential=True,
    ),
    SmsTemplate("request_received", _("Worker Service Center: your request %(ref)s was received. Details: %(link)s")),
    SmsTemplate(
        "request_taken_up", _("Worker Service Center: a caseworker is now handling %(ref)s. Details: %(link)s")
    ),
    SmsTemplate("request_closed", _("Worker Service Center: %(ref)s is completed. Details: %(link)s")),
]:
    register_template(_template)

# Words that must never appear in an SMS: they would tell whoever reads the phone which
# service a worker uses (and carriers refuse such texts).
SENSITIVE_WORDS = (
    "legal",
    "lawyer",
    "arbitrat",
    "dispute",
    "lawsuit",
    "litigation",
    "counsel",
    "psycholog",
    "mental",
    "therapy",
    "crisis",
    "diagnos",
    "matchmak",
    "dating",
    "marriage",
    "insurance claim",
    "法律",
    "律师",
    "仲裁",
    "劳动争议",
    "纠纷",
    "诉讼",
    "心理",
    "咨询",
    "抑郁",
    "危机",
    "诊断",
    "婚恋",
    "相亲",
    "红娘",
)


def contains_sensitive_word(text: str) -> str | None:
    lowered = text.lower()
    return next((w for w in SENSITIVE_WORDS if w in lowered), None)


def link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


# --- notify ------------------------------------------------------------------------------------


def notify(*, recipient: Worker | User | str, template: str, context: dict, urgency: str = Urgency.NORMAL):
    """Queue one SMS inside the caller's transaction. ``recipient`` is a worker, a staff user
    (their mobile), or an E.164 number of someone not registered (sign-in codes, other parties).
    Returns the message, or None for a staff user without a mobile number."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notify must be called inside the transaction of the change it reports")
    spec = _templates[template]
    if isinstance(recipient, Worker):
        to, language, worker = recipient.mobile, recipient.language, recipient
    elif isinstance(recipient, User):
        if not recipient.mobile:
            return None
        to, language, worker = recipient.mobile, recipient.language, None
    else:
        to, language, worker = recipient, translation.get_language() or settings.LANGUAGE_CODE, None
    with translation.override(language):
        body = str(spec.text) % context
    if word := contains_sensitive_word(body):
        raise ValueError(f"SMS {template!r} would reveal a sensitive word ({word!r})")
    now = timezone.now()
    message = OutboundSms.objects.create(
        to=to,
        worker=worker,
        template=template,
        language=language,
        body=body,
        urgency=urgency,
        essential=spec.essential,
        send_after=first_send_time(now, urgency),
        created_at=now,
    )
    _enqueue(message)
    return message


def _enqueue(message: OutboundSms) -> None:
    from care.tasks import send_sms

    task = send_sms if message.send_after <= timezone.now() else send_sms.using(run_after=message.send_after)
    task.enqueue(message.pk)


def _quiet_hours() -> tuple[time, time]:
    start, end = settings.SMS_QUIET_HOURS
    return time(start), time(end)


def first_send_time(now: datetime, urgency: str) -> datetime:
    """Now, or for a non-urgent message inside quiet hours (Asia/Shanghai), when they end."""
    if urgency == Urgency.URGENT:
        return now
    start, end = _quiet_hours()
    local = timezone.localtime(now)
    t = local.time()
    if start < end:  # e.g. 00:00–07:00, inside one day
        quiet = start <= t < end
    else:  # e.g. 21:00–08:00, across midnight; equal hours mean no quiet hours
        quiet = start != end and (start <= t or t < end)
    if quiet:
        day = local.date() if t < end else local.date() + timedelta(days=1)
        return timezone.make_aware(datetime.combine(day, end), local.tzinfo)
    return now


# --- transports --------------------------------------------------------------------------------


class PermanentFailure(Exception):
    """Twilio refused the message for a reason a resend cannot change (invalid number)."""


class TransientFailure(Exception):
    """Twilio did not take the message, and a later attempt may succeed (5xx, 429, no connection)."""


class AmbiguousOutcome(Exception):
    """The request may or may not have reached Twilio (read timeout, dropped connection)."""


class TwilioTransport:
    def __init__(self):
        self.client = make_twilio_client(
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            api_base=settings.TWILIO_API_BASE,
            timeout=settings.TWILIO_TIMEOUT_SECONDS,
        )

    def _call(self, fn):
        try:
            return fn()
        except TwilioRestException as exc:
            reason = f"Twilio {exc.status} / {exc.code}: {exc.msg}"
            if exc.status == 429 or exc.status >= 500:
                raise TransientFailure(reason) from exc
            raise PermanentFailure(reason) from exc
        except TwilioException as exc:  # a failed page while listing
            raise TransientFailure(str(exc)) from exc
        except requests.exceptions.ConnectTimeout as exc:  # never reached Twilio
            raise TransientFailure(f"connect timeout: {exc}") from exc
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as exc:
            raise AmbiguousOutcome(f"{type(exc).__name__}: {exc}") from exc

    def send(self, *, to: str, body: str, status_callback: str) -> str:
        sender = (
            {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"from_": settings.TWILIO_FROM_NUMBER}
        )
        return self._call(
            lambda: self.client.messages.create(to=to, body=body, status_callback=status_callback, **sender).sid
        )

    def find(self, *, to: str, body: str, since: datetime) -> str | None:
        """The sid of a message to ``to`` with ``body`` created since ``since``, if Twilio has one.

        Twilio's date filters are on the *sent* date (empty while a message is queued), so
        this lists the number's newest messages and compares the creation time itself."""
        try:
            found = self._call(lambda: self.client.messages.list(to=to, limit=50))
        except PermanentFailure as exc:
            raise TransientFailure(str(exc)) from exc
        for message in found:
            created = message.date_created
            if message.body == body and (created is None or created >= since - timedelta(minutes=1)):
                return message.sid
        return None


class ConsoleTransport:
    """Development and demo: prints the message; the outbox page shows it."""

    def send(self, *, to: str, body: str, status_callback: str) -> str:
        print(f"[SMS to {to}] {body}", flush=True)  # noqa: T201 - the console backend's job
        return f"CONSOLE{uuid.uuid4().hex}"

    def find(self, *, to: str, body: str, since: datetime) -> str | None:
        return None


def get_transport():
    return TwilioTransport() if settings.TWILIO_ACCOUNT_SID else ConsoleTransport()


def uses_console() -> bool:
    return not settings.TWILIO_ACCOUNT_SID


# --- delivery ----------------------------------------------------------------------------------


# After the last send whose outcome is unsure, how many more passes only look it up.
SMS_EXTRA_LOOKUPS = 3


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: about base·2^(n-1), capped, times 0.5–1.5."""
    base, cap = settings.SMS_RETRY_BASE_SECONDS, settings.SMS_RETRY_CAP_SECONDS
    return timedelta(seconds=min(cap, base * 2 ** max(attempts - 1, 0)) * (0.5 + random.random()))  # noqa: S311


def _rate_limited(message: OutboundSms, now: datetime) -> bool:
    window = now - timedelta(seconds=settings.SMS_RATE_WINDOW_SECONDS)
    recent = OutboundSms.objects.filter(to=message.to, sent_at__gte=window).exclude(pk=message.pk).count()
    return recent >= settings.SMS_RATE_LIMIT


def deliver(*, message_id: int, transport=None) -> OutboundSms | None:
    """Send one queued message (the body of the ``send_sms`` task). Safe to run twice."""
    now = timezone.now()
    with transaction.atomic():
        message = OutboundSms.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status not in (SmsStatus.QUEUED, SmsStatus.SENDING):
            return message
        if message.send_after > now:
            return message  # a task for the later time is already queued
        in_flight = timedelta(seconds=settings.TWILIO_TIMEOUT_SECONDS * 3)
        if message.status == SmsStatus.SENDING and message.attempt_started_at > now - in_flight:
            _later(message, now + in_flight)  # another worker may still be waiting for Twilio
            return message
        if not message.essential and SmsOptOut.objects.filter(mobile=message.to).exists():
            message.skip("the number opted out (STOP)")
            message.save(update_fields=["status", "error"])
            return message
        if message.urgency != Urgency.URGENT:
            if (start := first_send_time(now, message.urgency)) > now:
                return _postpone(message, start, "quiet hours")
            if _rate_limited(message, now):
                return _postpone(message, now + timedelta(seconds=settings.SMS_RATE_WINDOW_SECONDS), "rate limit")
        unsure = message.status == SmsStatus.SENDING  # an earlier attempt may have reached Twilio
        message.start_attempt(now)
        message.save(update_fields=["status", "attempts", "attempt_started_at"])

    transport = transport or get_transport()
    if unsure:
        try:
            # Nothing can have been sent before the message existed.
            sid = transport.find(to=message.to, body=message.body, since=message.created_at)
        except (TransientFailure, AmbiguousOutcome) as exc:
            return _finish(message_id, retry=f"look-up failed: {exc}", unsure=True)
        if sid:
            return _finish(message_id, sid=sid)
        if message.attempts > settings.SMS_MAX_ATTEMPTS:  # this pass only looked: no more sends
            return _finish(message_id, failed=f"gave up after {settings.SMS_MAX_ATTEMPTS} attempts")
    try:
        callback = link(reverse("care:sms_status", args=[message.pk]))
        sid = transport.send(to=message.to, body=message.body, status_callback=callback)
    except PermanentFailure as exc:
        return _finish(message_id, failed=str(exc))
    except TransientFailure as exc:
        return _finish(message_id, retry=str(exc))
    except AmbiguousOutcome as exc:
        return _finish(message_id, retry=str(exc), unsure=True)
    return _finish(message_id, sid=sid)


def _postpone(message: OutboundSms, until: datetime, why: str) -> OutboundSms:
    """Try again at ``until``. A message whose last attempt is unsure stays SENDING, so the
    next attempt still looks it up at Twilio before sending."""
    if message.status == SmsStatus.SENDING:
        message.error = why[:300]
        message.save(update_fields=["error"])
        _later(message, until)
        return message
    message.postpone(until, why)
    message.save(update_fields=["status", "send_after", "error"])
    _enqueue(message)
    return message


def _later(message: OutboundSms, at: datetime) -> None:
    from care.tasks import send_sms

    send_sms.using(run_after=at).enqueue(message.pk)


@transaction.atomic
def _finish(message_id: int, *, sid: str = "", failed: str = "", retry: str = "", unsure: bool = False):
    message = OutboundSms.objects.select_for_update().get(pk=message_id)
    now = timezone.now()
    if sid:
        if can_proceed(message.accepted):
            message.accepted(sid, now)
        else:  # a delivery report got here first
            message.provider_sid = message.provider_sid or sid
        message.save(update_fields=["status", "provider_sid", "sent_at", "error"])
    elif message.status != SmsStatus.SENDING:
        return message
    elif failed or (message.attempts >= settings.SMS_MAX_ATTEMPTS and not unsure) or (
        message.attempts >= settings.SMS_MAX_ATTEMPTS + SMS_EXTRA_LOOKUPS
    ):
        message.fail(failed or f"gave up after {message.attempts} attempts: {retry}", now)
        message.save(update_fields=["status", "error", "status_at"])
        log.warning("SMS %s failed: %s", message.pk, message.error)
    elif unsure:
        # Stay SENDING: the next attempt looks the message up at Twilio before resending
        # (after the last send, it only looks).
        message.error = retry[:300]
        message.save(update_fields=["error"])
        _later(message, now + retry_delay(message.attempts))
    else:  # Twilio surely did not take it: queue it again
        message.postpone(now + retry_delay(message.attempts), retry)
        message.save(update_fields=["status", "send_after", "error"])
        _enqueue(message)
    return message


# --- reports from Twilio -----------------------------------------------------------------------


@transaction.atomic
def status_report(*, message_id: int, payload: dict) -> OutboundSms | None:
    """A delivery report (already authenticated): stored raw, then applied forward-only."""
    message = OutboundSms.objects.select_for_update().filter(pk=message_id).first()
    SmsReport.objects.create(kind="status", message=message, payload=payload)
    if message is None:
        return None
    status, now = payload.get("MessageStatus", ""), timezone.now()
    error = f"carrier error {payload['ErrorCode']}" if payload.get("ErrorCode") else ""
    if status == "sent" and can_proceed(message.report_sent):
        message.report_sent(payload.get("MessageSid", ""), now)
    elif status in ("delivered", "read") and can_proceed(message.report_delivered):
        message.report_delivered(now)
    elif status == "undelivered" and can_proceed(message.report_undelivered):
        message.report_undelivered(error or "undelivered", now)
    elif status == "failed" and can_proceed(message.fail) and message.status != SmsStatus.QUEUED:
        message.fail(error or "failed", now)
    else:
        return message  # late, repeated or intermediate (queued/sending): nothing moves back
    message.save(update_fields=["status", "provider_sid", "sent_at", "status_at", "error"])
    return message


STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "TD", "退订"}
START_WORDS = {"START", "UNSTOP", "YES", "订阅"}


@transaction.atomic
def inbound(*, payload: dict) -> str:
    """An SMS from a worker (already authenticated): STOP/退订 opts out, START/订阅 back in."""
    SmsReport.objects.create(kind="inbound", payload=payload)
    number, word = payload.get("From", ""), payload.get("Body", "").strip().upper()
    if word in STOP_WORDS:
        opt_out, created = SmsOptOut.objects.get_or_create(mobile=number)
        if created:
            audit.record(actor=None, event_type=SmsEvent.OPTED_OUT, subject=opt_out)
        return "opted_out"
    if word in START_WORDS:
        for opt_out in SmsOptOut.objects.filter(mobile=number):
            audit.record(actor=None, event_type=SmsEvent.OPTED_IN, subject=opt_out)
            opt_out.delete()
        return "opted_in"
    return "ignored"


@transaction.atomic
def sms_retry(*, message: OutboundSms, actor) -> OutboundSms:
    """Staff send a failed message again."""
    if not actor.has_perm("care.retry_outboundsms"):
        raise NotAllowed()
    message = OutboundSms.objects.select_for_update().get(pk=message.pk)
    if message.status == SmsStatus.QUEUED:
        return message
    if not can_proceed(message.retry):
        raise InvalidState(_("Only a failed message can be sent again."))
    message.retry(timezone.now())
    message.save(update_fields=["status", "send_after", "attempts", "attempt_started_at"])
    audit.record(
        actor=actor,
        event_type=SmsEvent.RETRIED,
        subject=message,
        old={"status": "failed"},
        new={"status": message.status},
    )
    _enqueue(message)
    return message


# --- sign-in codes -----------------------------------------------------------------------------

CODE_TTL = timedelta(minutes=5)
CODE_MAX_ATTEMPTS = 5


def _code_hash(mobile: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"signin:{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def signin_code_request(*, mobile: str, client_ip: str = "") -> None:
    """Send a 6-digit code to ``mobile`` (registered or not: the answer never tells).

    Beyond SMS_CODES_PER_HOUR codes for one number, or SMS_CODES_PER_IP_PER_HOUR requests
    from one address, in an hour, nothing more is sent."""
    from care.validators import normalize_mobile

    mobile = normalize_mobile(mobile)
    if client_ip:
        key = f"signin-codes:{client_ip}"
        cache.add(key, 0, timeout=3600)
        if cache.incr(key) > settings.SMS_CODES_PER_IP_PER_HOUR:
            log.info("sign-in code limit reached for an address")
            return
    now = timezone.now()
    recent = SignInCode.objects.filter(mobile=mobile, created_at__gte=now - timedelta(hours=1)).count()
    if recent >= settings.SMS_CODES_PER_HOUR:
        log.info("sign-in code limit reached for a number")
        return
    code = f"{secrets.randbelow(10**6):06d}"
    SignInCode.objects.create(
        mobile=mobile, code_hash=_code_hash(mobile, code), created_at=now, expires_at=now + CODE_TTL
    )
    worker = Worker.objects.filter(mobile=mobile).first()
    notify(recipient=worker or mobile, template="signin_code", context={"code": code}, urgency=Urgency.URGENT)


def signin_code_verify(*, mobile: str, code: str) -> str:
    """Check a code; returns the normalized mobile, or raises InvalidInput. Each wrong try
    counts; after CODE_MAX_ATTEMPTS the code is dead."""
    from care.validators import normalize_mobile

    wrong = InvalidInput(_("The code is wrong or has expired. Ask for a new one if needed."))
    mobile = normalize_mobile(mobile)
    with transaction.atomic():
        entry = (
            SignInCode.objects.select_for_update()
            .filter(mobile=mobile, used_at__isnull=True, expires_at__gt=timezone.now())
            .order_by("-created_at")
            .first()
        )
        if entry is None or entry.attempts >= CODE_MAX_ATTEMPTS:
            raise wrong
        if not hmac.compare_digest(entry.code_hash, _code_hash(mobile, str(code).strip())):
            entry.attempts += 1
            entry.save(update_fields=["attempts"])
            ok = False
        else:
            entry.used_at = timezone.now()
            entry.save(update_fields=["used_at"])
            ok = True
    if not ok:
        raise wrong
    return mobile
