"""PostgreSQL only: no two scheduled hearings of one arbitrator overlap (half-open ranges, so
one may end when the next starts). legal.hearings checks the same under a row lock and turns
this constraint's refusal into the same message; on SQLite the service's check stands alone.

Not part of the model state (the constraint is not in Hearing.Meta, which must work on SQLite
too), so makemigrations does not see it. btree_gist lets a GiST index compare arbitrator ids
with "="; it is a trusted extension, so the database owner may create it."""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """ALTER TABLE legal_hearing ADD CONSTRAINT hearing_no_overlap EXCLUDE USING gist (
        arbitrator_id WITH =,
        tstzrange(starts_at, ends_at, '[)') WITH &&
    ) WHERE (state = 'scheduled')""",
]
DROP = ["ALTER TABLE legal_hearing DROP CONSTRAINT IF EXISTS hearing_no_overlap"]


def _on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("legal", "0001_initial")]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
    ]
