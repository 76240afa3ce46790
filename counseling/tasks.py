"""Counseling's background work: SMS reminders of appointments (24 h and 2 h before).

Every reminder is a ReminderDue row made with its booking. Two things run the sweep that
sends them (counseling.services.reminders_send_due, exactly once per row):
* ``wake_reminders``, queued for each reminder's own time by the booking's transaction;
* ``send_due_reminders``, registered with care.tasks_runtime as a daily task (07:00), the
  safety net for a wake-up that failed. It has its own task path because ensure_daily_tasks
  does not queue a daily task while one of that path is waiting, and wake-ups for weeks
  ahead are always waiting.
Both are idempotent: run twice, the second finds nothing due.
"""

from django.tasks import task


@task()
def send_due_reminders() -> int:
    """Daily: send every reminder that is due and not sent; returns how many SMS were queued."""
    from counseling import services

    return services.reminders_send_due()


@task()
def wake_reminders() -> int:
    """Queued for a reminder's due time: the same sweep."""
    from counseling import services

    return services.reminders_send_due()
