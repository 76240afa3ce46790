"""Background tasks: stored with the change that asked for them, run by the real database
worker, and brought back when a worker dies mid-task (docs/decisions/0005-background-tasks.md)."""

import io
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from care.management.commands.run_worker import sweep_periodically
from care.tasks import sweep_stale_tasks
from care.tasks_runtime import requeue_stale_tasks
from tests.care.tasks_for_tests import record_run

pytestmark = pytest.mark.django_db(transaction=True)

RUNNING = TaskResultStatus.RUNNING
READY = TaskResultStatus.READY
SUCCESSFUL = TaskResultStatus.SUCCESSFUL


@pytest.fixture(autouse=True)
def db_tasks(settings):
    """These tests need the real queue, not the immediate backend of tests/conftest.py."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _keep_signal_handlers():
    """db_worker installs its own SIGINT/SIGTERM handlers; give pytest its own back."""
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]
    saved = {s: signal.getsignal(s) for s in signals}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


def run_worker_batch() -> str:
    out = io.StringIO()
    call_command("run_worker", "--batch", "--no-startup-delay", stdout=out, stderr=out)
    return out.getvalue()


def mark_running(result, *, started_ago: timedelta, worker_id: str) -> None:
    DBTaskResult.objects.filter(id=result.id).update(
        status=RUNNING, started_at=timezone.now() - started_ago, worker_ids=[worker_id]
    )


class Boom(Exception):
    pass


def test_task_is_stored_in_the_transaction_of_the_change(tmp_path):
    with pytest.raises(Boom), transaction.atomic():
        Group.objects.create(name="asked-for-a-task")
        record_run.enqueue(path=str(tmp_path / "never.log"))
        assert DBTaskResult.objects.count() == 1
        raise Boom

    assert not Group.objects.filter(name="asked-for-a-task").exists()
    assert not DBTaskResult.objects.exists()

    with transaction.atomic():
        Group.objects.create(name="asked-for-a-task")
        result = record_run.enqueue(path=str(tmp_path / "later.log"))

    row = DBTaskResult.objects.get()
    assert str(row.id) == result.id
    assert row.status == READY
    assert not (tmp_path / "later.log").exists()  # stored, not run


def test_database_worker_runs_an_enqueued_task(tmp_path):
    log = tmp_path / "run.log"
    result = record_run.enqueue(path=str(log))
    assert result.status == READY

    run_worker_batch()

    result.refresh()
    assert result.status == SUCCESSFUL
    assert result.return_value == "done"
    assert log.read_text() == "started\nfinished\n"


def test_stale_running_task_is_requeued_and_run_once(tmp_path):
    stale_log, fresh_log = tmp_path / "stale.log", tmp_path / "fresh.log"
    stale = record_run.enqueue(path=str(stale_log))
    fresh = record_run.enqueue(path=str(fresh_log))
    mark_running(stale, started_ago=timedelta(minutes=20), worker_id="dead-worker")
    mark_running(fresh, started_ago=timedelta(minutes=1), worker_id="live-worker")
    fresh_started_at = DBTaskResult.objects.get(id=fresh.id).started_at

    assert requeue_stale_tasks() == 1

    stale_row = DBTaskResult.objects.get(id=stale.id)
    assert (stale_row.status, stale_row.started_at) == (READY, None)
    assert DBTaskResult.objects.get(id=fresh.id).status == RUNNING

    run_worker_batch()

    stale_row.refresh_from_db()
    assert stale_row.status == SUCCESSFUL
    assert stale_row.worker_ids[0] == "dead-worker" and len(stale_row.worker_ids) == 2
    assert stale_log.read_text() == "started\nfinished\n"
    fresh_row = DBTaskResult.objects.get(id=fresh.id)
    assert (fresh_row.status, fresh_row.started_at, fresh_row.worker_ids) == (
        RUNNING,
        fresh_started_at,
        ["live-worker"],
    )
    assert not fresh_log.exists()


def test_stale_threshold_comes_from_settings(settings, tmp_path):
    settings.TASK_STALE_AFTER_SECONDS = 30
    result = record_run.enqueue(path=str(tmp_path / "run.log"))
    mark_running(result, started_ago=timedelta(minutes=1), worker_id="dead-worker")

    assert requeue_stale_tasks() == 1
    assert DBTaskResult.objects.get(id=result.id).status == READY


def test_run_worker_sweeps_at_start(tmp_path):
    log = tmp_path / "run.log"
    result = record_run.enqueue(path=str(log))
    mark_running(result, started_ago=timedelta(minutes=20), worker_id="dead-worker")

    run_worker_batch()

    assert DBTaskResult.objects.get(id=result.id).status == SUCCESSFUL
    assert log.read_text() == "started\nfinished\n"


def test_sweeper_thread_requeues_while_the_worker_runs(tmp_path):
    result = record_run.enqueue(path=str(tmp_path / "run.log"))
    mark_running(result, started_ago=timedelta(minutes=20), worker_id="dead-worker")
    stop = threading.Event()
    thread = threading.Thread(target=sweep_periodically, args=(0.05, stop), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while DBTaskResult.objects.get(id=result.id).status != READY:
            assert time.monotonic() < deadline, "the sweeper thread never requeued the stale task"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_sweep_task_can_be_enqueued(settings, tmp_path):
    result = record_run.enqueue(path=str(tmp_path / "run.log"))
    mark_running(result, started_ago=timedelta(minutes=20), worker_id="dead-worker")
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

    assert sweep_stale_tasks.enqueue().return_value == 1
    assert DBTaskResult.objects.get(id=result.id).status == READY


def database_url_for_a_subprocess() -> str | None:
    """The test database as a DATABASE_URL another process can open, or None if it cannot."""
    db = connection.settings_dict
    if connection.vendor == "postgresql" and db["HOST"]:
        password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
        return f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        return f"sqlite:///{db['NAME']}"
    return None


def test_worker_killed_mid_task_leaves_it_running_until_swept(tmp_path):
    url = database_url_for_a_subprocess()
    if url is None:
        pytest.skip("the worker process needs a database it can open: PostgreSQL or an SQLite file")
    log, release = tmp_path / "run.log", tmp_path / "release"
    result = record_run.enqueue(path=str(log), wait_for=str(release))
    env = {**os.environ, "DATABASE_URL": url, "TASKS_BACKEND": "django_tasks_db.DatabaseBackend"}
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--no-reload", "--no-startup-delay", "--interval", "0.1"],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while not (log.exists() and log.read_text() == "started\n"):
            assert worker.poll() is None, worker.stderr.read().decode()
            assert time.monotonic() < deadline, "the worker never started the task"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        worker.kill()
        worker.wait()
        worker.stderr.close()

    row = DBTaskResult.objects.get(id=result.id)
    assert row.status == RUNNING  # nobody will finish it
    assert requeue_stale_tasks(older_than=timedelta(0)) == 1

    release.touch()
    run_worker_batch()

    row.refresh_from_db()
    assert row.status == SUCCESSFUL
    assert len(row.worker_ids) == 2
    assert log.read_text() == "started\nstarted\nfinished\n"
