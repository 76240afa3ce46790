"""How fast does the hall's worker drain the SMS outbox, compared with bare Twilio SDK calls?

    .venv/bin/python bench/sms_drain.py [--messages 10000] [--per-transaction 100]

Uses a throwaway database (bench/throwaway.py): a SQLite file under /tmp, or, when
DATABASE_URL points at PostgreSQL, a database of its own on that server (``bench_sms``, created
and dropped here; the database named in DATABASE_URL is not touched). Migrates it, starts the
local fake Twilio (tests/twilio_fakes/fake_twilio.py, no faults) in this process, queues N
messages with ``sms.notify`` in transactions of ``--per-transaction`` messages, and drains them
with the real worker (``run_worker --batch``, in-process). Then, in the same run and against
the same fake, a bare loop of N ``client.messages.create`` calls gives the baseline: what the
SDK and the fake cost without the hall's outbox, locking, encryption and task queue.

Prints N, seconds and messages/second for queueing, the worker and the bare loop, the ratio
worker/bare, and the peak RSS of this process (which includes the fake Twilio's threads).
"""

import argparse
import sys
import time

from throwaway import ThrowawayDatabase, bench_environment, migrate, peak_rss_mb, setup_django


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10000, help="how many messages (default: %(default)s)")
    parser.add_argument(
        "--per-transaction", type=int, default=100, help="messages queued per transaction (default: %(default)s)"
    )
    parser.add_argument("--db-name", default="bench_sms", help="PostgreSQL database to create and drop")
    parser.add_argument("--keep-db", action="store_true", help="leave the throwaway database behind")
    args = parser.parse_args()
    if args.messages < 1 or args.per_transaction < 1:
        parser.error("--messages and --per-transaction must be positive")
    return args


# --- the run --------------------------------------------------------------------------------------


def never_quiet():
    """No quiet hours: equal start and end hours mean none (care.sms.first_send_time)."""
    from django.test.utils import override_settings

    return override_settings(SMS_QUIET_HOURS=(0, 0))


def queue_messages(n: int, per_transaction: int) -> float:
    from django.db import transaction

    from care import sms

    started = time.perf_counter()
    for first in range(0, n, per_transaction):
        with transaction.atomic():
            for i in range(first, min(first + per_transaction, n)):
                ref = f"QD-2026-{i:06d}"
                sms.notify(
                    recipient=number(i),
                    template="request_received",
                    context={"ref": ref, "link": sms.link(f"/r/{ref}/")},
                )
    return time.perf_counter() - started


def number(i: int) -> str:
    return f"+86139{i:08d}"


def drain() -> tuple[float, int]:
    from django.core.management import call_command
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from care.tasks import send_sms

    pending = DBTaskResult.objects.filter(
        task_path=send_sms.module_path, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    )
    started = time.perf_counter()
    rounds = 0
    while pending.exists() and rounds < 20:
        rounds += 1
        call_command("run_worker", "--batch", "--no-startup-delay", "--verbosity", "0")
    return time.perf_counter() - started, rounds


def bare_loop(fake, n: int, site_url: str) -> float:
    from care.sms_transport import make_twilio_client
    from tests.twilio_fakes.fake_twilio import TEST_FROM_NUMBER

    client = make_twilio_client(
        account_sid=fake.account_sid, auth_token=fake.auth_token, api_base=fake.base_url, timeout=10
    )
    started = time.perf_counter()
    for i in range(n):
        client.messages.create(
            to=number(i),
            from_=TEST_FROM_NUMBER,
            body=f"Worker Service Center: your request QD-2026-{i:06d} was received. Details: {site_url}/r/{i}/",
            status_callback=f"{site_url}/sms/status/{i + 1}/",
        )
    return time.perf_counter() - started


def main() -> int:
    args = parse_args()
    n = args.messages
    database = ThrowawayDatabase(args.db_name, args.keep_db)
    bench_environment(database.url)
    database.create()
    try:
        setup_django()
        from django.conf import settings

        from care.models import OutboundSms, SmsStatus
        from tests.twilio_fakes.fake_twilio import TEST_FROM_NUMBER, FakeTwilio

        migrate_seconds = migrate()

        with FakeTwilio(seed="bench") as fake, never_quiet():
            settings.TWILIO_ACCOUNT_SID = fake.account_sid
            settings.TWILIO_AUTH_TOKEN = fake.auth_token
            settings.TWILIO_FROM_NUMBER = TEST_FROM_NUMBER
            settings.TWILIO_MESSAGING_SERVICE_SID = ""
            settings.TWILIO_API_BASE = fake.base_url
            settings.TWILIO_TIMEOUT_SECONDS = 10
            settings.SITE_URL = "https://hall.example.org"

            queue_seconds = queue_messages(n, args.per_transaction)
            worker_seconds, rounds = drain()
            sent = OutboundSms.objects.filter(status=SmsStatus.SENT).count()
            at_fake = len(fake.messages)
            fake.reset()
            bare_seconds = bare_loop(fake, n, settings.SITE_URL)
            bare_at_fake = len(fake.messages)

        worker_rate, bare_rate = n / worker_seconds, n / bare_seconds
        print(  # noqa: T201
            f"database          {database.label} (migrate {migrate_seconds:.1f}s)\n"
            f"N                 {n}\n"
            f"queue (notify)    {queue_seconds:.2f}s  {n / queue_seconds:.0f} msg/s "
            f"({args.per_transaction} per transaction)\n"
            f"worker            {worker_seconds:.2f}s  {worker_rate:.0f} msg/s  ({rounds} batch run(s), "
            f"{sent} SENT, fake holds {at_fake})\n"
            f"bare SDK loop     {bare_seconds:.2f}s  {bare_rate:.0f} msg/s  (fake holds {bare_at_fake})\n"
            f"ratio worker/bare {worker_rate / bare_rate:.2f}\n"
            f"peak RSS          {peak_rss_mb():.0f} MiB (this process, fake Twilio included)"
        )
        if sent != n or at_fake != n or bare_at_fake != n:
            print(f"MISMATCH: {n} queued, {sent} SENT, fake saw {at_fake} and {bare_at_fake}")  # noqa: T201
            return 1
        return 0
    finally:
        database.drop()


if __name__ == "__main__":
    sys.exit(main())
