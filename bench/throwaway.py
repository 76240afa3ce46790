"""What the benchmarks share: a throwaway database, the environment they run Django with, and
a few setup helpers.

Imported by the scripts of this folder as ``from throwaway import ...`` (a script's own folder
is on ``sys.path`` when it runs). Importing it puts the project root on ``sys.path`` too, so the
scripts can then import ``care`` and ``config``.

The database is a SQLite file under /tmp, or, when DATABASE_URL points at PostgreSQL, a database
of its own on that server (created and dropped here; the database named in DATABASE_URL is not
touched).
"""

import base64
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))


class ThrowawayDatabase:
    """A SQLite file under /tmp, or a fresh database on the PostgreSQL server of DATABASE_URL.

    ``db_name`` is the PostgreSQL database to create and drop; on SQLite it is the prefix of the
    file's name."""

    def __init__(self, db_name: str, keep: bool):
        self.keep = keep
        source = os.environ.get("DATABASE_URL", "")
        self.postgres = source.startswith(("postgres://", "postgresql://", "pgsql://"))
        if self.postgres:
            parts = urlsplit(source)
            self.db_name = db_name
            self.url = urlunsplit((parts.scheme, parts.netloc, f"/{db_name}", parts.query, ""))
            self.admin_url = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
            self.label = f"PostgreSQL {parts.hostname}:{parts.port or 5432}/{db_name}"
        else:
            fd, path = tempfile.mkstemp(prefix=f"{db_name}_", suffix=".sqlite3", dir="/tmp")
            os.close(fd)
            self.path = Path(path)
            self.url = f"sqlite:///{path}"
            self.label = f"SQLite {path}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def create(self) -> None:
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            self._admin(f'CREATE DATABASE "{self.db_name}"')

    def drop(self) -> None:
        if self.keep:
            print(f"kept: {self.label}")  # noqa: T201
            return
        if self.postgres:
            from django.db import connections

            for conn in connections.all():
                conn.close()
                if hasattr(conn, "close_pool"):
                    conn.close_pool()
            self._admin(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)


def bench_environment(database_url: str) -> None:
    """Settings come from the environment (config/settings.py); none of them secret here. Fixed
    keys, so that config/settings.py does not generate development secrets."""
    key = base64.urlsafe_b64encode(b"b" * 32).decode().rstrip("=")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_ENV": "development",
            "DEBUG": "0",  # DEBUG would keep every SQL query in memory
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench-only-secret-key",
            "FIELD_ENCRYPTION_KEYS": f"k1:{key}",
            "BLIND_INDEX_KEY": "bench-only-blind-index-key",
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "LOG_LEVEL": "WARNING",
        }
    )


def setup_django(*quiet_loggers: str) -> None:
    """django.setup(), with these loggers (and Django's task queue's) at WARNING."""
    import logging

    import django

    django.setup()
    for name in ("django.tasks", "django_tasks_db", "care", *quiet_loggers):
        logging.getLogger(name).setLevel(logging.WARNING)


def migrate() -> float:
    """Run the migrations (they also make the roles' groups and permissions); the seconds taken."""
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    return time.perf_counter() - started


def peak_rss_mb() -> float:
    """The peak resident set size of this process, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
