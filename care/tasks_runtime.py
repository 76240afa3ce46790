"""Keeping the task queue healthy (docs/decisions/0005-background-tasks.md).

Tasks go through Django's Tasks API and are stored by django-tasks-db as rows in the same
database, so a task enqueued inside a transaction exists only if that transaction commits.

A worker marks a row RUNNING before it calls the task and SUCCESSFUL or FAILED after. A
worker that dies in between (killed, out of memory, machine lost) leaves the row RUNNING
for ever, and nothing else would run it again. ``requeue_stale_tasks`` puts such rows back
to READY; ``manage.py run_worker`` calls it at start and then periodically.

Delivery is therefore *at least once*: a task may run a second time after a crash, or after
running for longer than ``TASK_STALE_AFTER_SECONDS`` while its worker was still alive. Every
task must be idempotent: check the state it is about to change and return early when the
work is already done, the way services do.
"""

import logging
from datetime import datetime, time, timedelta

from django.conf import settings
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)


def requeue_stale_tasks(*, older_than: timedelta | None = None) -> int:
    """Set RUNNING tasks started longer than ``older_than`` ago back to READY.

    ``older_than`` defaults to ``settings.TASK_STALE_AFTER_SECONDS``. One UPDATE, so two
    sweepers running at once cannot requeue a row twice. Returns how many were requeued.
    """
    if older_than is None:
        older_than = timedelta(seconds=settings.TASK_STALE_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    count = (
        DBTaskResult.objects.running()
        .filter(started_at__lt=cutoff)
        .update(status=TaskResultStatus.READY, started_at=None)
    )
    if count:
        logger.warning("Requeued %d task(s) left RUNNING since before %s", count, cutoff.isoformat())
    else:
        logger.debug("No stale RUNNING tasks")
    return count


# --- daily tasks ---------------------------------------------------------------------------------

_daily: dict[str, time] = {}


def register_daily(task_path: str, at: time) -> None:
    """Run the task at ``task_path`` every day at local time ``at`` (apps call this in ready())."""
    _daily[task_path] = at


def ensure_daily_tasks(*, now: datetime | None = None) -> int:
    """Queue each registered daily task for its next run, unless one is already waiting.
    The worker calls this at every sweep, so a daily task re-arms itself after it ran."""
    now = timezone.localtime(now or timezone.now())
    queued = 0
    for path, at in _daily.items():
        if DBTaskResult.objects.filter(task_path=path, status=TaskResultStatus.READY).exists():
            continue
        run_at = timezone.make_aware(datetime.combine(now.date(), at), now.tzinfo)
        if run_at <= now:
            run_at += timedelta(days=1)
        import_string(path).using(run_after=run_at).enqueue()
        queued += 1
    return queued


def housekeeping() -> None:
    """What the worker does at each sweep."""
    requeue_stale_tasks()
    ensure_daily_tasks()
