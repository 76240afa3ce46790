"""Check that every encrypted value in the database opens with this environment's keys
(FIELD_ENCRYPTION_KEYS): after a restore from backup, after a key rotation, before removing an
old key. Reads every encrypted column of every model, raw (a Cast skips the field's own
decryption), in batches by ascending pk, and decrypts each value; exits non-zero and names the
rows when any does not open. Changes nothing."""

from django.core.management.base import BaseCommand, CommandError
from django.db import models
from django.db.models.functions import Cast

from care import crypto
from care.fields import encrypted_models


class Command(BaseCommand):
    help = "Decrypt every encrypted value with this environment's keys; exit non-zero if any does not open."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000, help="rows read per query (default 2000)")

    def handle(self, *, batch_size, **options):
        opened, failures = 0, []
        for model, fields in encrypted_models():
            raw = {f"raw_{f.attname}": Cast(f.attname, output_field=models.TextField()) for f in fields}
            rows = model._base_manager.annotate(**raw).order_by("pk").values_list("pk", *raw)
            for pk, *values in rows.iterator(chunk_size=batch_size):
                for field, value in zip(fields, values, strict=True):
                    if value is None:
                        continue
                    try:
                        crypto.decrypt(value, context=field.context())
                        opened += 1
                    except crypto.DecryptionError:
                        failures.append(f"{model._meta.label}.{field.name} pk={pk}")
        for failure in failures[:50]:
            self.stderr.write(f"does not decrypt: {failure}")
        if failures:
            raise CommandError(f"{len(failures)} encrypted value(s) do not decrypt with FIELD_ENCRYPTION_KEYS")
        self.stdout.write(f"encryption OK: {opened} values decrypt")
