"""PostgreSQL only: no two holding appointments (requested, confirmed, checked in) of one
counselor, or of one room, overlap, counting the buffer: each holds [starts_at, blocked_until)
with blocked_until = ends_at + the counselor's buffer (half open, so one may start when the
previous one's buffer ends). counseling.services checks the same under row locks and turns
these constraints' refusal into the same message; on SQLite the service's check stands alone.

Not part of the model state (Appointment.Meta must work on SQLite too), so makemigrations
does not see them. btree_gist lets a GiST index compare ids with "="; it is a trusted
extension, so the database owner may create it. The state values are those of
counseling.models.HOLDING_STATES."""

from django.db import migrations

HOLDING = "state IN ('requested', 'confirmed', 'checked_in')"

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""ALTER TABLE counseling_appointment ADD CONSTRAINT counseling_counselor_no_overlap EXCLUDE USING gist (
        counselor_id WITH =,
        tstzrange(starts_at, blocked_until, '[)') WITH &&
    ) WHERE ({HOLDING})""",
    f"""ALTER TABLE counseling_appointment ADD CONSTRAINT counseling_room_no_overlap EXCLUDE USING gist (
        room_id WITH =,
        tstzrange(starts_at, blocked_until, '[)') WITH &&
    ) WHERE (room_id IS NOT NULL AND {HOLDING})""",
]
DROP = [
    "ALTER TABLE counseling_appointment DROP CONSTRAINT IF EXISTS counseling_room_no_overlap",
    "ALTER TABLE counseling_appointment DROP CONSTRAINT IF EXISTS counseling_counselor_no_overlap",
]


def _on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("counseling", "0001_initial")]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
    ]
