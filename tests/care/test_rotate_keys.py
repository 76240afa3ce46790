"""manage.py rotate_encryption_keys: reseals every encrypted value with the newest key."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from care import crypto
from care.audit import CareEvent
from care.models import AuditEvent, Case, Worker
from tests.conftest import TEST_KEY_NEW, TEST_KEY_OLD
from tests.factories import CaseFactory, WorkerFactory

pytestmark = pytest.mark.django_db

OLD_ONLY = f"k1:{TEST_KEY_OLD}"
NEW_FIRST = f"k2:{TEST_KEY_NEW},k1:{TEST_KEY_OLD}"
SEALED = {Worker: "national_id", Case: "description"}


def raw_rows(model) -> dict[int, dict]:
    """Every column of every row, as stored, by pk."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)} ORDER BY id")
        names = [column[0] for column in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def raw_sealed(model) -> list[str]:
    return [row[SEALED[model]] for row in raw_rows(model).values()]


def plaintexts() -> dict:
    return {model: dict(model.objects.values_list("pk", field)) for model, field in SEALED.items()}


def rotate(**options) -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out, verbosity=0, **options)
    return out.getvalue()


@pytest.fixture
def old_rows(settings):
    """Three cases (and their three workers) sealed with k1 only; then k2 is put first."""
    settings.FIELD_ENCRYPTION_KEYS = OLD_ONLY
    CaseFactory.create_batch(3)
    settings.FIELD_ENCRYPTION_KEYS = NEW_FIRST


def test_rotation_reseals_every_row_and_changes_nothing_else(old_rows):
    before_plain, before_raw = plaintexts(), {model: raw_rows(model) for model in SEALED}
    assert all(value.startswith("enc1:k1:") for model in SEALED for value in raw_sealed(model))

    assert "re-encrypted 6 rows with key k2" in rotate()

    assert all(value.startswith("enc1:k2:") for model in SEALED for value in raw_sealed(model))
    assert plaintexts() == before_plain
    for model, field in SEALED.items():
        after = raw_rows(model)
        for pk, row in before_raw[model].items():
            assert {k: v for k, v in after[pk].items() if k != field} == {k: v for k, v in row.items() if k != field}
    event = AuditEvent.objects.get(event_type=CareEvent.KEYS_ROTATED)
    assert event.new == {"key_id": "k2", "rows": 6}
    assert (event.subject_type, event.subject_id, event.actor_id) == ("care.auditchainhead", "1", None)


def test_a_second_run_touches_nothing(old_rows):
    rotate()
    sealed = {model: raw_sealed(model) for model in SEALED}
    assert "re-encrypted 0 rows" in rotate()
    assert {model: raw_sealed(model) for model in SEALED} == sealed  # fresh nonces would change them
    assert [e.new["rows"] for e in AuditEvent.objects.filter(event_type=CareEvent.KEYS_ROTATED)] == [6, 0]


def test_dry_run_only_counts(old_rows):
    sealed = {model: raw_sealed(model) for model in SEALED}
    out = rotate(dry_run=True)
    assert "care.Worker: 3 rows" in out and "care.Case: 3 rows" in out and "6 rows to re-encrypt" in out
    assert {model: raw_sealed(model) for model in SEALED} == sealed
    assert not AuditEvent.objects.exists()


def test_an_interrupted_run_keeps_finished_batches_and_a_rerun_completes(settings, monkeypatch):
    settings.FIELD_ENCRYPTION_KEYS = OLD_ONLY
    WorkerFactory.create_batch(5)
    settings.FIELD_ENCRYPTION_KEYS = NEW_FIRST
    before = plaintexts()
    real_encrypt, calls = crypto.encrypt, []

    def crash_on_third(plaintext, *, context):
        calls.append(context)
        if len(calls) == 3:
            raise RuntimeError("power cut")
        return real_encrypt(plaintext, context=context)

    monkeypatch.setattr(crypto, "encrypt", crash_on_third)
    with pytest.raises(RuntimeError, match="power cut"):
        rotate(batch_size=1)
    monkeypatch.undo()

    assert [value[:8] for value in raw_sealed(Worker)] == ["enc1:k2:"] * 2 + ["enc1:k1:"] * 3
    assert plaintexts() == before
    assert not AuditEvent.objects.filter(event_type=CareEvent.KEYS_ROTATED).exists()

    assert "re-encrypted 3 rows" in rotate(batch_size=1)
    assert all(value.startswith("enc1:k2:") for value in raw_sealed(Worker))
    assert plaintexts() == before


def tampered(raw: str) -> str:
    middle = len(raw) - 20
    return raw[:middle] + ("A" if raw[middle] != "A" else "B") + raw[middle + 1 :]


@pytest.mark.parametrize("corrupt", [tampered, lambda raw: raw.replace("enc1:k1:", "enc1:k0:"), lambda raw: "plain"])
def test_an_undecryptable_row_stops_the_run_and_is_not_overwritten(settings, corrupt):
    settings.FIELD_ENCRYPTION_KEYS = OLD_ONLY
    first, bad, last = WorkerFactory.create_batch(3)
    settings.FIELD_ENCRYPTION_KEYS = NEW_FIRST
    broken = corrupt(raw_rows(Worker)[bad.pk]["national_id"])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE care_worker SET national_id = %s WHERE id = %s", [broken, bad.pk])

    with pytest.raises(CommandError, match=rf"care\.Worker pk={bad.pk}: national_id cannot be decrypted"):
        rotate(batch_size=1)

    rows = raw_rows(Worker)
    assert rows[first.pk]["national_id"].startswith("enc1:k2:")
    assert rows[bad.pk]["national_id"] == broken
    assert rows[last.pk]["national_id"].startswith("enc1:k1:")
    assert not AuditEvent.objects.filter(event_type=CareEvent.KEYS_ROTATED).exists()
