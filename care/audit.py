"""Writing and verifying the audit log. Services call ``record`` inside their transaction."""

import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

from care.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64


class CareEvent(models.TextChoices):
    """Event types of the hall itself; each department keeps its own enum."""

    CASE_FILED = "case.filed"
    CASE_VIEWED = "case.viewed"
    CASE_TAKEN_UP = "case.taken_up"
    CASE_CLOSED = "case.closed"
    CASE_WITHDRAWN = "case.withdrawn"
    WORKER_REGISTERED = "worker.registered"
    WORKER_VIEWED = "worker.viewed"
    KEYS_ROTATED = "crypto.keys_rotated"


def _plain(values: dict | None) -> dict:
    return json.loads(json.dumps(values or {}, cls=DjangoJSONEncoder))


def subject_of(obj: models.Model) -> tuple[str, str]:
    return obj._meta.label_lower, str(obj.pk)


def record(
    *, actor, event_type: str, subject: models.Model, old: dict | None = None, new: dict | None = None
) -> AuditEvent:
    """Append one event. Must run inside the caller's transaction (it locks the chain head)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must be called inside a transaction")
    head = AuditChainHead.objects.select_for_update().get(pk=1)  # made by migration 0002
    subject_type, subject_id = subject_of(subject)
    event = AuditEvent(
        seq=head.last_seq + 1,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        event_type=str(event_type),
        subject_type=subject_type,
        subject_id=subject_id,
        old=_plain(old),
        new=_plain(new),
        prev_hash=head.last_hash,
    )
    event.hash = event.compute_hash()
    event.save(force_insert=True)
    AuditChainHead.objects.filter(pk=1).update(last_seq=event.seq, last_hash=event.hash)
    return event


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def verify(batch_size: int = 2000) -> Iterator[ChainBreak]:
    """Walk the chain in order up to its head; yield every place where it does not hold.

    The head is read first, so events appended while the walk runs are not mistaken for
    breaks."""
    head = AuditChainHead.objects.filter(pk=1).first()
    last_seq, last_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS)
    expected_seq, prev = 1, GENESIS
    events = AuditEvent.objects.filter(seq__lte=last_seq).order_by("seq")
    for event in events.iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            yield ChainBreak(expected_seq, f"events {expected_seq}..{event.seq - 1} are missing")
        if event.prev_hash != prev:
            yield ChainBreak(event.seq, "does not follow the event before it")
        if event.compute_hash() != event.hash:
            yield ChainBreak(event.seq, "content does not match its hash")
        expected_seq, prev = event.seq + 1, event.hash
    if expected_seq - 1 != last_seq or prev != last_hash:
        yield ChainBreak(last_seq, f"the chain ends at event {expected_seq - 1}, its head names {last_seq}")


def events_for(obj: models.Model):
    subject_type, subject_id = subject_of(obj)
    return AuditEvent.objects.filter(subject_type=subject_type, subject_id=subject_id).select_related("actor")
