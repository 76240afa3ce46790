"""PostgreSQL only: one member's enrolments in one plan never overlap (both days included),
and the claims roles get their permissions (care.roles).

The exclusion constraint is not in Enrolment.Meta (which must work on SQLite too), so
makemigrations does not see it; care.claims.services checks the same first and turns this
constraint's refusal into the same message."""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """ALTER TABLE care_enrolment ADD CONSTRAINT claims_enrolment_no_overlap EXCLUDE USING gist (
        worker_id WITH =,
        plan_id WITH =,
        daterange(starts_on, ends_on, '[]') WITH &&
    )""",
]
DROP = ["ALTER TABLE care_enrolment DROP CONSTRAINT IF EXISTS claims_enrolment_no_overlap"]


def _on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


def sync_roles(apps, schema_editor):
    from care.roles import sync_role_groups

    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [("care", "0007_claims")]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
