"""How fast are the hall's hot pages on a million cases, compared with a bare SQL query of the
rows they show?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/pages.py [--cases 1000000] [--workers 200000]

PostgreSQL only: a database of its own on the server of DATABASE_URL (``bench_pages``, created
and dropped by bench/throwaway.py; the database named in DATABASE_URL is not touched). Fills it
with bench/figures.py's generation (workers, cases, surveys, SMS, in SQL), then, in SQL too:

  - a legal officer (department "legal") assigned and granted (``view_case``, in the direct
    foreign-key table ``care_caseuserobjectpermission``) 2 000 legal cases;
  - a worker with an account (group ``worker``) who has 20 more cases;
  - an arbitrator with 50 hearings, scheduled by the officer through
    ``legal.hearings.hearing_schedule`` on 50 of the officer's cases;

then VACUUM (ANALYZE). For each page, with Django's test Client (force_login): its SQL queries
(CaptureQueriesContext) and the median of 5 runs after a warm-up; and a baseline, a raw cursor
query of the same rows (median of 5 after a warm-up), the ratio page/baseline, and the slowest
query of the page with its EXPLAIN (ANALYZE, BUFFERS).
"""

import argparse
import json
import os
import sys
import time
import warnings

from figures import RUNS, captured, check_sample, explain, generate, median_seconds, staff_users
from throwaway import ThrowawayDatabase, bench_environment, migrate, peak_rss_mb, setup_django

OFFICER_CASES = 2_000
WORKER_CASES = 20
HEARINGS = 50
PLACE = "市南区香港中路100号 3楼301室"

# --- the people and their cases ---------------------------------------------------------------------

ASSIGN_SQL = """
UPDATE care_case SET assignee_id = %(user)s,
                     stage = CASE WHEN stage = 'received' THEN 'in_progress' ELSE stage END
WHERE id IN (SELECT id FROM care_case WHERE department = 'legal' ORDER BY random() LIMIT %(n)s)
"""
GRANT_SQL = """
INSERT INTO care_caseuserobjectpermission (permission_id, user_id, content_object_id)
SELECT %(perm)s, %(user)s, id FROM care_case WHERE assignee_id = %(user)s
"""
WORKER_CASES_SQL = """
UPDATE care_case SET worker_id = %(worker)s
WHERE id IN (SELECT id FROM care_case WHERE assignee_id IS DISTINCT FROM %(officer)s ORDER BY random() LIMIT %(n)s)
"""


def people() -> dict:
    """The officer, the worker with an account, the arbitrator and their cases; the ids."""
    from django.contrib.auth.models import Group, Permission
    from django.db import connection

    from care.models import User, Worker
    from care.roles import Role

    officer = User.objects.create_user(username="bench-legal-officer", password=None, department="legal")
    officer.groups.add(Group.objects.get(name=Role.LEGAL_OFFICER))
    arbitrator = User.objects.create_user(username="bench-arbitrator", password=None, first_name="仲裁员甲")
    arbitrator.groups.add(Group.objects.get(name=Role.ARBITRATOR))
    member = User.objects.create_user(username="bench-worker", password=None)
    member.groups.add(Group.objects.get(name=Role.WORKER))
    worker = Worker.objects.order_by("pk").first()
    Worker.objects.filter(pk=worker.pk).update(user=member)
    perm = Permission.objects.get(content_type__app_label="care", codename="view_case").pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(ASSIGN_SQL, {"user": officer.pk, "n": OFFICER_CASES})
        cursor.execute(GRANT_SQL, {"perm": perm, "user": officer.pk})
        cursor.execute(WORKER_CASES_SQL, {"worker": worker.pk, "officer": officer.pk, "n": WORKER_CASES})
    return {"officer": officer, "arbitrator": arbitrator, "member": member, "worker": worker.pk, "perm": perm}


def hearings(officer, arbitrator) -> int:
    """HEARINGS hearings before the arbitrator, one a day from 10 days on, on the officer's most
    recent cases (each made a legal case accepted by the committee); the case of the first."""
    import datetime

    from django.db import transaction
    from django.utils import timezone

    from care.models import Case
    from legal.hearings import hearing_schedule
    from legal.models import LegalCase, LegalState

    cases = Case.objects.filter(assignee=officer).order_by("-opened_at")[:HEARINGS]
    today = timezone.localdate()
    first = None
    for n, case in enumerate(cases):
        legal_case = LegalCase.objects.create(case=case, state=LegalState.COMMITTEE_ACCEPTED,
                                              employer_name="青岛某制造有限公司")
        day = today + datetime.timedelta(days=10 + n)
        starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
        with transaction.atomic():
            hearing_schedule(legal_case=legal_case, actor=officer, arbitrator=arbitrator, starts_at=starts,
                             ends_at=starts + datetime.timedelta(hours=2), place=PLACE)
        first = first or case.pk
    return first


BOOKED = 40


def counseling(clerk, member) -> dict:
    """A counselor working every day 09:00-12:00 and 14:00-17:00 (six sessions of 50 minutes a
    day), three rooms, a service; the worker with an account consents; the front desk books
    BOOKED of the next two weeks' free times in person for other workers, through the service."""
    import datetime

    from django.contrib.auth.models import Group
    from django.db import transaction

    from care.models import User, Worker
    from care.roles import Role
    from counseling import selectors, services
    from counseling.models import CounselorProfile, HealthConsent, Mode, Room, Service, WorkingHours

    counselor = User.objects.create_user(username="bench-counselor", password=None, department="counseling")
    counselor.groups.add(Group.objects.get(name=Role.COUNSELOR))
    profile = CounselorProfile.objects.create(user=counselor, session_minutes=50, buffer_minutes=10)
    WorkingHours.objects.bulk_create([WorkingHours(counselor=profile, weekday=day, starts=datetime.time(a),
                                                   ends=datetime.time(b))
                                      for day in range(7) for a, b in ((9, 12), (14, 17))])
    Room.objects.bulk_create([Room(name=f"{n}号室") for n in (1, 2, 3)])
    service = Service.objects.create(code="IND", name="个体咨询")
    others = list(Worker.objects.exclude(user=member).order_by("pk")[:BOOKED])
    HealthConsent.objects.bulk_create([HealthConsent(worker=w, text_version="2026-1", recorded_by=clerk)
                                       for w in [Worker.objects.get(user=member), *others]])
    times = list(selectors.free_times(profile=profile, mode=Mode.IN_PERSON).items())
    for worker, (starts_at, (_end, room)) in zip(others, times[1::2], strict=False):  # every other one
        with transaction.atomic():
            services.appointment_book(actor=clerk, worker=worker, service=service, counselor=counselor,
                                      starts_at=starts_at, mode=Mode.IN_PERSON, room=room)
    return {"counselor": counselor.pk, "profile": profile.pk, "service": service.pk}


# --- the baselines: the same rows, a raw cursor ---------------------------------------------------

QUEUE_SQL = """
SELECT * FROM care_case
WHERE (department = 'legal' AND (assignee_id = %(user)s OR (assignee_id IS NULL AND stage = 'received')))
   OR id IN (SELECT content_object_id FROM care_caseuserobjectpermission WHERE user_id = %(user)s
             AND permission_id = %(perm)s)
ORDER BY opened_at DESC, id DESC LIMIT 25
"""
REQUESTS_SQL = """
SELECT care_case.* FROM care_case JOIN care_worker ON care_worker.id = care_case.worker_id
WHERE care_worker.user_id = %(member)s ORDER BY opened_at DESC, care_case.id DESC LIMIT 25
"""
CASE_SQL = "SELECT * FROM care_case WHERE id = %(case)s"
HEARINGS_SQL = """
SELECT h.*, c.reference FROM legal_hearing h JOIN legal_legalcase l ON l.id = h.legal_case_id
JOIN care_case c ON c.id = l.case_id
WHERE h.arbitrator_id = %(arbitrator)s AND h.state <> 'cancelled' ORDER BY h.starts_at, h.id
"""
SLOTS_SQL = """
SELECT starts_at, blocked_until, room_id FROM counseling_appointment
WHERE (counselor_id = %(counselor)s OR room_id IN (SELECT id FROM counseling_room WHERE active))
  AND state IN ('requested', 'confirmed', 'checked_in') AND starts_at < now() + interval '15 days'
  AND blocked_until > now() - interval '1 day'
ORDER BY starts_at
"""
REFERENCE = 1  # the column of care_case.* holding the reference


def rows(sql: str, params: dict) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- the measures -----------------------------------------------------------------------------------


def measure(name: str, url: str, client, baseline: str | None, params: dict, reference_at: int | None) -> dict:
    """The page's queries and median time, its baseline's, and the slowest query's EXPLAIN. The
    references of the baseline's rows must all be on the page (the same rows)."""
    shown = rows(baseline, params) if baseline else []

    def page():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")
        return response

    content = page().content
    if url.startswith("/api/") and reference_at is not None:
        listed = [row["reference"] for row in json.loads(content)["results"]]
        if listed != [row[reference_at] for row in shown]:
            raise RuntimeError(f"GET {url}: not the baseline's rows")
    elif reference_at is not None:
        missing = [row[reference_at] for row in shown if row[reference_at].encode() not in content]
        if missing:
            raise RuntimeError(f"GET {url}: {len(missing)} of the baseline's rows not shown ({missing[:3]})")
    queries = captured(page)
    slowest = max(queries, key=lambda q: float(q["time"]))
    result = {"name": name, "url": url, "rows": len(shown) if baseline else None, "queries": len(queries),
              "page s": median_seconds(page), "slowest ms": float(slowest["time"]) * 1000,
              "slowest": " ".join(slowest["sql"].split())[:110], "explain": explain(slowest["sql"])}
    result["baseline s"] = median_seconds(lambda: rows(baseline, params)) if baseline else None
    return result


def report(results: list[dict]) -> str:
    lines = [f"{'page':<34} {'rows':>5} {'queries':>7} {'median ms':>9} {'baseline ms':>11} {'ratio':>7}"]
    for r in results:
        base = f"{r['baseline s'] * 1000:11.2f}" if r["baseline s"] else f"{'-':>11}"
        ratio = f"{r['page s'] / r['baseline s']:7.1f}" if r["baseline s"] else f"{'-':>7}"
        count = "-" if r["rows"] is None else r["rows"]
        lines.append(f"{r['name']:<34} {count:>5} {r['queries']:>7} {r['page s'] * 1000:9.1f} {base} {ratio}")
    lines.append("slowest query of each page (as CaptureQueriesContext times it) and its EXPLAIN (ANALYZE, BUFFERS):")
    for r in results:
        lines += [f"  {r['name']}: {r['slowest ms']:.1f} ms  {r['slowest']}", f"      {r['explain']}"]
    return "\n".join(lines)


# --- the run ----------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=200_000, help="workers (default: %(default)s)")
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases (default: %(default)s)")
    parser.add_argument("--db-name", default="bench_pages", help="PostgreSQL database to create and drop")
    parser.add_argument("--keep-db", action="store_true", help="leave the throwaway database behind")
    args = parser.parse_args()
    if args.workers < 1 or args.cases < 10 * OFFICER_CASES:
        parser.error(f"--workers must be positive and --cases at least {10 * OFFICER_CASES}")
    if args.workers > 99_999_999:
        parser.error("--workers must be below 100 000 000 (mobiles are +86139 and 8 digits)")
    return args


def main() -> int:
    args = parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://", "pgsql://")):
        print("bench/pages.py needs PostgreSQL: set DATABASE_URL=postgres://user@host:port/db "  # noqa: T201
              "(that database is not touched; --db-name is created and dropped)", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic here
    os.environ.pop("REDIS_URL", None)  # no Redis: local memory cache, in-memory channels
    database = ThrowawayDatabase(args.db_name, args.keep_db)
    bench_environment(database.url)
    database.create()
    try:
        setup_django()
        from django.db import connection
        from django.test import Client

        migrate_seconds = migrate()
        clerk, manager = staff_users()
        started = time.perf_counter()
        made = generate(args.workers, args.cases, clerk.pk)
        who = people()
        case_id = hearings(who["officer"], who["arbitrator"])
        counsel = counseling(clerk, who["member"])
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) care_case, care_caseuserobjectpermission, care_worker")
        setup_seconds = time.perf_counter() - started
        check_sample()

        def client_for(user) -> Client:
            client = Client()
            client.force_login(user)
            return client

        officer, arbitrator = client_for(who["officer"]), client_for(who["arbitrator"])
        params = {"user": who["officer"].pk, "perm": who["perm"], "member": who["member"].pk, "case": case_id,
                  "arbitrator": who["arbitrator"].pk, **counsel}
        choice = f"counselor={counsel['counselor']}&mode=in_person"
        results = [
            measure("queue GET /queue/", "/queue/", officer, QUEUE_SQL, params, REFERENCE),
            measure("API GET /api/v1/cases/", "/api/v1/cases/", officer, QUEUE_SQL, params, REFERENCE),
            measure("my requests GET /requests/", "/requests/", client_for(who["member"]), REQUESTS_SQL, params,
                    REFERENCE),
            measure(f"case GET /cases/{case_id}/", f"/cases/{case_id}/", officer, CASE_SQL, params, REFERENCE),
            measure("hearings GET /legal/hearings/", "/legal/hearings/", arbitrator, HEARINGS_SQL, params, -1),
            measure("slot finder GET /counseling/book/", f"/counseling/book/?service={counsel['service']}&counselor="
                    f"{counsel['profile']}&mode=in_person", client_for(who["member"]), SLOTS_SQL, params, None),
            measure("API GET /api/v1/counseling/slots/", f"/api/v1/counseling/slots/?{choice}",
                    client_for(who["member"]), SLOTS_SQL, params, None),
            measure("figures GET /figures/", "/figures/", client_for(manager), None, params, None),
        ]

        counts = made["counts"]
        steps = ", ".join(f"{name} {s:.1f}s" for name, s in made["seconds"].items())
        print(  # noqa: T201
            f"database   {database.label} (migrate {migrate_seconds:.1f}s)\n"
            f"generated  {setup_seconds:.1f}s ({steps}; then the officer, worker, hearings)\n"
            f"           {counts['workers']} workers, {counts['cases']} cases ({counts['open']} open), "
            f"{counts['sms']} SMS; care_case {counts['case table']} with its indexes\n"
            f"           officer: {OFFICER_CASES} legal cases assigned and granted; worker: "
            f"{rows('SELECT count(*) FROM care_case WHERE worker_id = %(w)s', {'w': who['worker']})[0][0]} cases; "
            f"arbitrator: {HEARINGS} hearings"
        )
        print(report(results))  # noqa: T201
        print(f"medians of {RUNS} runs after a warm-up; peak RSS"  # noqa: T201
              f" {peak_rss_mb():.0f} MiB (this process)")
        return 0
    finally:
        database.drop()


if __name__ == "__main__":
    sys.exit(main())
