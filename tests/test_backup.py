"""Backup and restore, as docs/operations.md says to do them (bin/backup, bin/restore), on
PostgreSQL: a dump of the test database restored into an empty one verifies: its audit chain
holds and every encrypted value opens with the keys; the case reads the same. The checks are
real: an edited audit event or a spoilt ciphertext in the restored copy fails them, and a
database that is not empty is refused."""

import subprocess
from pathlib import Path

import pytest
from django.db import connection
from django.db.transaction import atomic

from care import services
from care.models import Case
from care.roles import Role
from tests.factories import WorkerFactory, staff

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="backups are of the PostgreSQL database"),
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[1]
SECRET = "拖欠工资的细节-BACKUP-SECRET-7142"


def url(name: str) -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def run(*args, database: str) -> subprocess.CompletedProcess:
    """A command of the hall against ``database``, with the test suite's keys and settings."""
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": url(database), "DJANGO_SETTINGS_MODULE": "tests.asgi_settings",
           "TEST_DATABASE_NAME": database, "HOME": str(ROOT)}
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def psql(database: str, sql: str) -> str:
    return run("psql", url(database), "-tAc", sql, database=database).stdout.strip()


@pytest.fixture
def restored_name():
    name = f"{connection.settings_dict['NAME']}_restore"
    admin = connection.settings_dict["NAME"]
    psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(admin, f'CREATE DATABASE "{name}"')
    yield name
    psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_restores_into_an_empty_database_and_verifies(tmp_path, restored_name):
    worker = WorkerFactory()
    with atomic():
        case = services.request_file(actor=worker.user, worker=worker, department="legal", description=SECRET)
    services.case_take_up(case=case, actor=staff(Role.LEGAL_OFFICER, "legal"))
    source = connection.settings_dict["NAME"]

    dump = tmp_path / "hall.dump"
    backup = run(str(ROOT / "bin" / "backup"), str(dump), database=source)
    assert backup.returncode == 0, backup.stderr
    assert dump.stat().st_size > 0 and SECRET.encode() not in dump.read_bytes()  # encrypted in the dump too

    restore = run(str(ROOT / "bin" / "restore"), str(dump), database=restored_name)
    assert restore.returncode == 0, restore.stderr + restore.stdout
    assert "audit log OK" in restore.stdout and "encryption OK" in restore.stdout
    read = run(str(ROOT / ".venv" / "bin" / "python"), "manage.py", "shell", "-c",
               f"from care.models import Case; print(Case.objects.get(reference='{case.reference}').description)",
               database=restored_name)
    assert read.stdout.strip().endswith(SECRET), read.stderr
    assert psql(restored_name, "SELECT count(*) FROM care_auditevent") == str(
        psql(source, "SELECT count(*) FROM care_auditevent"))

    # Into a database that is not empty: refused, nothing written.
    again = run(str(ROOT / "bin" / "restore"), str(dump), database=restored_name)
    assert again.returncode == 2 and "empty database" in again.stderr

    # The checks would catch a copy that is not faithful.
    psql(restored_name, "UPDATE care_auditevent SET new = '{\"stage\": \"closed\"}' WHERE seq = "
                        "(SELECT max(seq) FROM care_auditevent)")
    audit = run(str(ROOT / ".venv" / "bin" / "python"), "manage.py", "verify_audit_log", database=restored_name)
    assert audit.returncode != 0 and "does not verify" in audit.stderr
    psql(restored_name, f"UPDATE care_case SET description = 'v1:k2:AAAA:spoilt' WHERE id = {case.pk}")
    sealed = run(str(ROOT / ".venv" / "bin" / "python"), "manage.py", "verify_encryption", database=restored_name)
    assert sealed.returncode != 0 and f"care.Case.description pk={case.pk}" in sealed.stderr
    assert Case.objects.get(pk=case.pk).description == SECRET  # the source is untouched
