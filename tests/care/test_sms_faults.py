"""Fault injection: 200 messages through the real worker while Twilio misbehaves on ~30% of requests.

The fake fails (500/503), rate-limits (429), hangs before processing, creates and then hangs
or drops the connection (the ambiguous outcomes), or answers slowly, on a seeded share of ALL
requests, the lookups (list) included, with SMS_MAX_ATTEMPTS=4 so that some messages run out
of attempts in the middle of it. The worker is drained until no send_sms task is left.
Whatever happened, each message ends SENT or FAILED with a reason, no phone gets the same
message twice, and the outbox's SENT messages are exactly the messages Twilio holds.

Which request meets which fault is seeded, but the order of requests depends on timing (a
SENDING message is left alone for 3×timeout), so the mix differs a little from run to run.
"""

import time
from collections import Counter

import pytest
from django.db import transaction

from care import sms
from care.models import OutboundSms, SmsStatus
from tests.care.test_sms_twilio import (  # noqa: F401 - fixtures used by name
    _keep_signal_handlers,
    drain,
    pending_sends,
    use_fake,
)
from tests.twilio_fakes.fake_twilio import Fault
from tests.twilio_fakes.fixtures import fake_twilio_factory  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

VALID = 180
INVALID = 20
SEED = 20261126
FAULT_RATE = 0.3
# Low enough that some messages run out of attempts in the middle of the faults: giving up
# must not lose track of a message Twilio may have.
MAX_ATTEMPTS = 4
FAULTS = [
    Fault.server_error(),
    Fault.unavailable(),
    Fault.rate_limited(retry_after=1),
    Fault.hang(1.0),  # not processed: the client times out (ambiguous to us)
    Fault.hang_after_create(1.0),  # created, the client times out (ambiguous)
    Fault.hang_after_create(1.0),
    Fault.drop(),  # not processed, connection closed (ambiguous to us)
    Fault.drop_after_create(),  # created, connection closed (ambiguous)
    Fault.delay(0.1),  # a slow success
]


def numbers() -> tuple[list[str], list[str]]:
    valid = [f"+86139{n:08d}" for n in range(VALID)]
    invalid = [f"+1555{n:07d}" for n in range(INVALID)]  # not mainland mobiles: 21211
    return valid, invalid


def queue_all(recipients: list[str], *, per_transaction: int = 25) -> list[OutboundSms]:
    """Queue one message per recipient, as services do: in transactions of a few changes each."""
    queued = []
    for start in range(0, len(recipients), per_transaction):
        with transaction.atomic():
            for n, to in enumerate(recipients[start : start + per_transaction], start):
                ref = f"QD-2026-{n:06d}"
                queued.append(
                    sms.notify(
                        recipient=to,
                        template="request_received",
                        context={"ref": ref, "link": sms.link(f"/r/{ref}/")},
                    )
                )
    return queued


def history(fake, to: str) -> str:
    """What the fake saw for one number, to tell which path sent a message twice."""
    seen = [
        f"{r.operation}:{r.fault.kind if r.fault else 'ok'}->{r.response_status}"
        for r in fake.requests
        if to in (r.param("To"), *r.query.get("To", []))
    ]
    message = OutboundSms.objects.get(to=to)
    return f"requests for {to}: {', '.join(seen)}; outbox: {message.status}, {message.attempts} attempts"


def test_200_messages_through_a_faulty_twilio(settings, fake_twilio_factory, capsys):  # noqa: F811
    fake = use_fake(
        settings,
        fake_twilio_factory(seed=SEED, fault_rate=FAULT_RATE, fault_choices=FAULTS),
        SMS_MAX_ATTEMPTS=MAX_ATTEMPTS,
    )
    valid, invalid = numbers()
    recipients = [to for pair in zip(valid[:INVALID], invalid, strict=True) for to in pair] + valid[INVALID:]
    started = time.monotonic()
    queued = queue_all(recipients)

    rounds = drain(max_rounds=60)

    seconds = time.monotonic() - started
    rows = list(OutboundSms.objects.all())
    by_status = Counter(m.status for m in rows)
    attempts = Counter(m.attempts for m in rows)
    injected = Counter(r.fault.kind if r.fault else "ok" for r in fake.requests)
    operations = Counter(r.operation for r in fake.requests)
    per_key = Counter((m["to"], m["body"]) for m in fake.messages)
    duplicates = {key: n for key, n in per_key.items() if n > 1}
    with capsys.disabled():
        print(  # noqa: T201 - the summary the test exists to show
            f"\nsms faults: {len(rows)} messages in {seconds:.1f}s, {rounds} worker rounds; "
            f"outcome {dict(sorted(by_status.items()))}; attempts {dict(sorted(attempts.items()))}; "
            f"requests {dict(operations)} faults {dict(injected)}; "
            f"fake holds {len(fake.messages)} messages, {sum(duplicates.values()) - len(duplicates)} duplicates"
        )

    assert len(rows) == len(queued) == VALID + INVALID
    assert sum(1 for r in fake.requests if r.fault) >= 0.2 * len(fake.requests), "the faults did not happen"
    assert any(r.fault and r.fault.kind == "hang_after_processing" for r in fake.requests)
    # Every message has an outcome; nothing is left half-way.
    assert not pending_sends().exists()
    assert set(by_status) <= {SmsStatus.SENT, SmsStatus.DELIVERED, SmsStatus.FAILED}, by_status
    failed_without_reason = [m.pk for m in rows if m.status == SmsStatus.FAILED and not m.error]
    assert failed_without_reason == []
    # No phone got the same message twice.
    assert duplicates == {}, f"{len(duplicates)} sent more than once; {history(fake, next(iter(duplicates))[0])}"
    # What the outbox says was sent is exactly what Twilio has, sid for sid.
    sent = {m.provider_sid: (m.to, m.body) for m in rows if m.status in (SmsStatus.SENT, SmsStatus.DELIVERED)}
    at_twilio = {m["sid"]: (m["to"], m["body"]) for m in fake.messages if m["to"] in set(valid)}
    not_in_outbox = sorted(set(at_twilio) - set(sent))
    assert not_in_outbox == [], f"at Twilio but not SENT: {history(fake, at_twilio[not_in_outbox[0]][0])}"
    assert sent == at_twilio
    # Invalid numbers: refused by Twilio (21211) and not retried, unless every attempt met a
    # fault before Twilio could answer (then: given up).
    refused = list(OutboundSms.objects.filter(to__in=invalid))
    assert len(refused) == INVALID
    unexpected = [
        (m.to, m.status, m.attempts, m.error)
        for m in refused
        if m.status != SmsStatus.FAILED or not ("21211" in m.error or m.error.startswith("gave up after "))
    ]
    assert unexpected == []
    assert sum("21211" in m.error for m in refused) >= INVALID * 0.8
    assert not [m for m in fake.messages if m["to"] in set(invalid)]
