"""Roles as groups with their model permissions (care.roles), and the audit chain's head."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from care.roles import sync_role_groups

    sync_role_groups(apps)
    apps.get_model("care", "AuditChainHead").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("care", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
