"""Running calls at the same moment, for the concurrency tests (PostgreSQL)."""

import threading

from django.db import connection


def race(*calls) -> list:
    """Run each call in its own thread, all released at the same moment; return what each
    returned or raised, in order."""
    start, outcomes = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i, call):
        try:
            start.wait()
            outcomes[i] = call()
        except Exception as exc:  # noqa: BLE001 - returned to the test
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return outcomes
