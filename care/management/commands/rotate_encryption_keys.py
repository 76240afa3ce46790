"""Re-encrypt every encrypted field of every model with the newest key of FIELD_ENCRYPTION_KEYS.

Put the new key first in FIELD_ENCRYPTION_KEYS on every process, keep the old keys behind it,
then run this. It finds in SQL the rows holding a value sealed with another key (the raw text
is read through a Cast, which skips decryption), re-encrypts them in batches by ascending pk,
each batch its own transaction with its rows locked, and can be stopped and run again: it
picks up what is left. A value that does not decrypt stops it and is left as it is. Remove an
old key only after a run has found nothing left to do.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.db.models.functions import Cast, Left
from tqdm import tqdm

from care import crypto
from care.audit import CareEvent, record
from care.fields import encrypted_models
from care.models import AuditChainHead


def stale_rows(model, fields, prefix: str) -> models.QuerySet:
    """Rows where some encrypted column does not start with ``prefix``, as (pk, raw, raw, ...).

    Compared with ``Left(...) == prefix`` rather than ``startswith``: SQLite's LIKE ignores
    ASCII case, and a value sealed with key "K2" must not pass for one sealed with "k2".
    """
    raw = {f"raw_{f.attname}": Cast(f.attname, output_field=models.TextField()) for f in fields}
    head = {f"head_{name}": Left(name, len(prefix)) for name in raw}
    stale = models.Q()
    for name in raw:
        stale |= models.Q(**{f"{name}__isnull": False}) & ~models.Q(**{f"head_{name}": prefix})
    return model._base_manager.annotate(**raw).alias(**head).filter(stale).order_by("pk").values_list("pk", *raw)


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the newest key in FIELD_ENCRYPTION_KEYS (resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction (default 500)")
        parser.add_argument("--dry-run", action="store_true", help="only count the rows still to re-encrypt")

    def handle(self, *, batch_size, dry_run, verbosity, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        key_id = crypto.key_ring().current_id
        prefix = f"{crypto.PREFIX}:{key_id}:"
        total = 0
        for model, fields in encrypted_models():
            count = stale_rows(model, fields, prefix).count()
            if dry_run:
                self.stdout.write(f"{model._meta.label}: {count} rows to re-encrypt with key {key_id}")
                total += count
                continue
            with tqdm(total=count, desc=model._meta.label, unit="row", disable=verbosity == 0) as bar:
                total += self.rotate_model(model, fields, prefix, batch_size, bar)
        if dry_run:
            self.stdout.write(f"{total} rows to re-encrypt (dry run: nothing changed)")
            return
        with transaction.atomic():
            record(
                actor=None,
                event_type=CareEvent.KEYS_ROTATED,
                subject=AuditChainHead.objects.get(pk=1),
                new={"key_id": key_id, "rows": total},
            )
        self.stdout.write(f"re-encrypted {total} rows with key {key_id}")

    def rotate_model(self, model, fields, prefix: str, batch_size: int, bar) -> int:
        done, after = 0, None
        while True:
            with transaction.atomic():
                rows = stale_rows(model, fields, prefix).select_for_update()
                if after is not None:
                    rows = rows.filter(pk__gt=after)
                batch = list(rows[:batch_size])
                for pk, *raws in batch:
                    changes = {}
                    for field, raw in zip(fields, raws, strict=True):
                        if raw is None or raw.startswith(prefix):
                            continue
                        try:
                            plain = crypto.decrypt(raw, context=field.context())
                        except crypto.DecryptionError as exc:
                            raise CommandError(
                                f"{model._meta.label} pk={pk}: {field.name} cannot be decrypted ({exc}). "
                                "Nothing in this batch was changed; repair or restore that row, then run again."
                            ) from exc
                        changes[field.name] = field.from_plaintext(plain)
                    # update() encrypts through the field's get_prep_value, with the newest key.
                    model._base_manager.filter(pk=pk).update(**changes)
            if not batch:
                return done
            done, after = done + len(batch), batch[-1][0]
            bar.update(len(batch))
