"""The hash-chained audit log: record(), verify() and manage.py verify_audit_log."""

import json
import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from care.audit import CareEvent, record, verify
from care.models import AuditChainHead, AuditEvent
from tests.factories import UserFactory, WorkerFactory


def make_chain(n: int = 5) -> list[AuditEvent]:
    actor, worker = UserFactory(), WorkerFactory()
    with transaction.atomic():
        return [record(actor=actor, event_type=CareEvent.WORKER_VIEWED, subject=worker, new={"i": i}) for i in range(n)]


def verify_command() -> str:
    out = StringIO()
    call_command("verify_audit_log", stdout=out, stderr=out)
    return out.getvalue()


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.django_db
def test_an_untouched_chain_verifies():
    events = make_chain()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[1].prev_hash == events[0].hash
    assert "audit log OK: 5 events" in verify_command()


@pytest.mark.django_db
def test_an_edited_value_is_detected():
    make_chain()
    sql("UPDATE care_auditevent SET new = %s WHERE seq = 3", [json.dumps({"i": 99})])
    assert [(b.seq, b.reason) for b in verify()] == [(3, "content does not match its hash")]
    with pytest.raises(CommandError):
        verify_command()


@pytest.mark.django_db
def test_a_deleted_middle_event_is_detected():
    make_chain()
    sql("DELETE FROM care_auditevent WHERE seq = 3")
    assert [b.seq for b in verify()] == [3, 4]  # the gap, and event 4 no longer follows 2
    with pytest.raises(CommandError):
        verify_command()


@pytest.mark.django_db
def test_a_deleted_last_event_is_detected_by_the_head():
    make_chain()
    sql("DELETE FROM care_auditevent WHERE seq = 5")
    assert [b.reason for b in verify()] == ["the chain ends at event 4, its head names 5"]
    with pytest.raises(CommandError):
        verify_command()


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside a transaction"):
        record(actor=None, event_type=CareEvent.WORKER_VIEWED, subject=UserFactory())
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_an_event_cannot_be_saved_again_or_deleted():
    event = make_chain(1)[0]
    event.new = {"i": 42}
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).new == {"i": 0}
    assert list(verify()) == []


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_unbroken_chain():
    head, _ = AuditChainHead.objects.get_or_create(pk=1)  # a transactional test may have flushed it
    start, errors = threading.Barrier(8), []

    def append(thread: int) -> None:
        try:
            start.wait()
            for i in range(10):
                with transaction.atomic():
                    record(actor=None, event_type=CareEvent.CASE_VIEWED, subject=head, new={"t": thread, "i": i})
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, 81))
    assert sorted(e.new["t"] for e in AuditEvent.objects.all()) == sorted(list(range(8)) * 10)
    assert list(verify()) == []
