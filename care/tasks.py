"""The hall's background tasks. Every task must be idempotent: see care/tasks_runtime.py."""

from django.tasks import task

from care.tasks_runtime import requeue_stale_tasks


@task()
def sweep_stale_tasks() -> int:
    """Requeue tasks left RUNNING by a dead worker; returns how many."""
    return requeue_stale_tasks()
