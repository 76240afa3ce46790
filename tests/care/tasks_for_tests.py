"""Tasks that only tests enqueue: their effects are lines in a file, visible across processes."""

import time
from pathlib import Path

from django.tasks import task


@task()
def record_run(*, path: str, wait_for: str = "") -> str:
    """Append "started", wait (up to 30 s) until the file ``wait_for`` exists if given, append "finished"."""
    log = Path(path)
    with log.open("a") as f:
        f.write("started\n")
    if wait_for:
        deadline = time.monotonic() + 30
        while not Path(wait_for).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    with log.open("a") as f:
        f.write("finished\n")
    return "done"
