"""The care station's background work.

* ``closing_check``: queued by each check-in for its programme's closing time; it raises the
  alert for every child not yet collected (childcare.services.closing_alerts, once per child).
* ``closing_sweep``: the same, daily at 21:00 Beijing time, the safety net for a wake-up that
  failed (its own task path: ensure_daily_tasks skips a path already waiting).
* ``finish_ended_programmes``: daily, enrolments of programmes that are over finish.
All are idempotent: run twice, the second finds nothing to do.
"""

from django.tasks import task


@task()
def closing_check() -> int:
    from childcare import services

    return services.closing_alerts()


@task()
def closing_sweep() -> int:
    from childcare import services

    return services.closing_alerts()


@task()
def finish_ended_programmes() -> int:
    from childcare import services

    return services.enrolments_finish_ended()
