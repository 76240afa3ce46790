"""The SMS outbox permissions of the roles (care.roles)."""

from django.db import migrations


def sync_roles(apps, schema_editor):
    from care.roles import sync_role_groups

    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [("care", "0003_sms")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
