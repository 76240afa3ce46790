"""The hall's worker: django-tasks-db's ``db_worker`` plus the stale-task sweeper.

It takes every ``db_worker`` option (``--batch``, ``--queue-name``, ``--interval``,
``--no-startup-delay``, ``--reload``, ``--max-tasks``, ...) and adds ``--sweep-every``.
Tasks left RUNNING by a dead worker are requeued once at start and, unless ``--batch``,
every ``--sweep-every`` seconds after that, from a background thread: db_worker's loop
has no hook for it, and a thread keeps sweeping while this worker is busy with a long task.
"""

import logging
import os
import threading

from django.db import connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import valid_interval

from care.tasks_runtime import housekeeping

logger = logging.getLogger(__name__)


def sweep_periodically(every: float, stop: threading.Event) -> None:
    """Requeue stale tasks every ``every`` seconds until ``stop`` is set; never dies on an error."""
    while not stop.wait(every):
        try:
            housekeeping()
        except Exception:
            logger.exception("Sweeping stale tasks failed; trying again in %s s", every)
        finally:
            connections.close_all()  # this thread's connections only


class Command(DbWorkerCommand):
    help = "Run the hall's background worker (db_worker plus a sweeper for tasks of dead workers)"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--sweep-every",
            default=60,
            type=valid_interval,
            help="Seconds between sweeps for stale RUNNING tasks; 0 sweeps only at start (default: %(default)r)",
        )

    def handle(self, *args, sweep_every: float, **options):
        # With --reload the parent process only watches files; the child runs the tasks.
        if options["reload"] and not options["batch"] and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            return super().handle(*args, **options)
        housekeeping()
        if sweep_every and not options["batch"]:
            threading.Thread(
                target=sweep_periodically,
                args=(sweep_every, threading.Event()),
                name="stale-task-sweeper",
                daemon=True,
            ).start()
        return super().handle(*args, **options)
