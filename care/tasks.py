"""The hall's background tasks. Every task must be idempotent: see care/tasks_runtime.py."""

from django.tasks import task

from care.tasks_runtime import requeue_stale_tasks


@task()
def sweep_stale_tasks() -> int:
    """Requeue tasks left RUNNING by a dead worker; returns how many."""
    return requeue_stale_tasks()


@task()
def send_sms(message_id: int) -> str:
    """Send one outbox message (care.sms.deliver); safe to run more than once."""
    from care import sms

    message = sms.deliver(message_id=message_id)
    return message.status if message else "missing"


@task()
def monthly_figures_report() -> str:
    """Daily: make last month's report of the manager's figures, once (care.figures)."""
    from care import figures

    return str(figures.report_last_month())
