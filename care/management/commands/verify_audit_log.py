"""Check the audit log's hash chain: exits non-zero if any event was edited, removed or added."""

from django.core.management.base import BaseCommand, CommandError

from care.audit import verify
from care.models import AuditEvent


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exit non-zero and list every break if it does not hold."

    def handle(self, **options):
        breaks = list(verify())
        for chain_break in breaks:
            self.stderr.write(f"audit log broken at event {chain_break.seq}: {chain_break.reason}")
        if breaks:
            raise CommandError(f"audit log does not verify: {len(breaks)} break(s)")
        self.stdout.write(f"audit log OK: {AuditEvent.objects.count()} events")
