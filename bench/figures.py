"""How fast is the center manager's figures page on a million cases, compared with a bare count
of the cases in the same window?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/figures.py [--cases 1000000] [--workers 200000]

PostgreSQL only: a database of its own on the server of DATABASE_URL (``bench_figures``, created
and dropped here by bench/throwaway.py; the database named in DATABASE_URL is not touched).
Migrates it, then fills it in the database itself (INSERT ... SELECT generate_series, no row
goes through Python): N workers, M cases over the last three years in the five departments
(about 5% open now, 5% withdrawn, the rest closed 0.5-60 days after they were opened), surveys
of about 10% of the closed cases and 300 000 outbound SMS; then VACUUM (ANALYZE).

Then, for the default period (``Period.default()``, the last 12 weeks) and for a whole year:

  - ``care.figures.hall_figures(period)``: median wall time of 5 runs after a warm-up, and its
    SQL queries (CaptureQueriesContext);
  - the whole page, GET /figures/?since=..&until=.. with Django's test Client as a center
    manager: median of 5 after a warm-up, and its queries;
  - baselines, raw cursor, same window: ``SELECT count(*) FROM care_case WHERE opened_at >= ..
    AND opened_at < ..`` and the same grouped by department (median of 5 after a warm-up);
  - EXPLAIN (ANALYZE, BUFFERS) of the services table's queries: execution time, buffers and the
    scans (which index, or a sequential scan).

Prints the times, the ratios page/baseline and hall_figures/baseline, the cases in the window,
the slowest queries of hall_figures and the peak RSS of this process.
"""

import argparse
import datetime
import json
import os
import re
import statistics
import sys
import time
import warnings

from throwaway import ThrowawayDatabase, bench_environment, migrate, peak_rss_mb, setup_django

RUNS = 5
SMS_ROWS = 300_000
YEARS = 3
LONG_OPEN = 0.015  # cases still open long after their time (on top of the recent ones not yet closed)
WITHDRAWN = 0.05
SURVEYED = 0.10  # of the closed cases
ANSWERED = 0.6  # of the surveys
# How the requests split between the departments (a department not listed here weighs 1).
DEPARTMENT_WEIGHTS = {"claims": 35, "legal": 20, "counseling": 20, "childcare": 15, "matchmaking": 10}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=200_000, help="workers (default: %(default)s)")
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases (default: %(default)s)")
    parser.add_argument("--db-name", default="bench_figures", help="PostgreSQL database to create and drop")
    parser.add_argument("--keep-db", action="store_true", help="leave the throwaway database behind")
    args = parser.parse_args()
    if args.workers < 1 or args.cases < 1:
        parser.error("--workers and --cases must be positive")
    if args.workers > 99_999_999:
        parser.error("--workers must be below 100 000 000 (mobiles are +86139 and 8 digits)")
    return args


# --- the data ---------------------------------------------------------------------------------------


def sealed(model, field: str, plaintext: str) -> str:
    """``plaintext`` encrypted once by the field itself (its context bound in): a valid
    ciphertext, reused for every row."""
    return model._meta.get_field(field).get_prep_value(plaintext)


def staff_users():
    """A front-desk clerk who files the cases, and the center manager who reads the figures."""
    from django.contrib.auth.models import Group

    from care.models import User
    from care.roles import Role

    clerk = User.objects.create_user(username="bench-front-desk", password=None)
    clerk.groups.add(Group.objects.get(name=Role.FRONT_DESK))
    manager = User.objects.create_user(username="bench-manager", password=None)
    manager.groups.add(Group.objects.get(name=Role.CENTER_MANAGER))
    return clerk, manager


def department_case(codes: list[str], draw: str) -> tuple[str, list]:
    """SQL choosing a department by the uniform draw ``draw``, with DEPARTMENT_WEIGHTS."""
    weights = [DEPARTMENT_WEIGHTS.get(code, 1) for code in codes]
    total, bound, whens, params = sum(weights), 0, [], []
    for code, weight in zip(codes[:-1], weights[:-1], strict=True):
        bound += weight
        whens.append(f"WHEN {draw} < {bound / total!r} THEN %s")
        params.append(code)
    return f"CASE {' '.join(whens)} ELSE %s END", [*params, codes[-1]]


# A share of the draws from sqrt(random()) (density rising to the present): more recent periods
# hold a bit more (about 1.9 times as many requests a day now as three years ago).
RECENT = "(CASE WHEN random() < 0.7 THEN random() ELSE sqrt(random()) END)"

WORKERS_SQL = """
INSERT INTO care_worker (name, mobile, national_id, national_id_index, employer, membership_number, created_at)
SELECT '职工' || i, '+86139' || lpad(i::text, 8, '0'), %s, md5('bench-national-id-' || i), '青岛港务集团工会', '',
       %s - interval '5 years' + random() * interval '2 years'
FROM generate_series(1, %s) AS i
"""

# Cases, inserted in the order they were opened (as the hall writes them: ids and the table's
# pages follow opened_at). Open now: those whose closing day is still to come, and a few old ones.
CASES_SQL = """
INSERT INTO care_case (reference, worker_id, department, stage, priority, channel, description,
                       preferred_contact_time, assignee_id, filed_by_id, opened_at, due_at, closed_at)
SELECT 'BM-' || row_number() OVER (ORDER BY opened_at), worker_id, department, stage,
       CASE WHEN p < 0.9 THEN 0 WHEN p < 0.98 THEN 1 ELSE 2 END, channel, %(description)s, 'any',
       CASE WHEN stage = 'received' THEN NULL ELSE %(staff)s END, %(staff)s,
       opened_at, opened_at + interval '3 days',
       CASE WHEN stage IN ('closed', 'withdrawn') THEN opened_at + delay END
FROM (
    SELECT worker_id, department, channel, opened_at, delay, p,
           CASE WHEN opened_at + delay > %(now)s OR s < %(long_open)s
                THEN CASE WHEN e < 0.3 THEN 'received' ELSE 'in_progress' END
                WHEN s < %(long_open)s + %(withdrawn)s THEN 'withdrawn'
                ELSE 'closed' END AS stage
    FROM (
        SELECT %(first_worker)s + floor(random() * %(workers)s)::bigint AS worker_id,
               {department} AS department,
               CASE WHEN c < 0.6 THEN 'online' ELSE 'front_desk' END AS channel,
               %(now)s - %(span)s * (1 - {recent}) AS opened_at,
               interval '12 hours' + random() * interval '59.5 days' AS delay, s, e, p
        FROM (SELECT random() AS d, random() AS s, random() AS c, random() AS e, random() AS p
              FROM generate_series(1, %(cases)s)) AS draws
    ) AS drawn
) AS staged
ORDER BY staged.opened_at
"""

SURVEYS_SQL = """
INSERT INTO care_survey (case_id, department, token_hash, sent_at, rating, comment, answered_at, call_back,
                         follow_up_note)
SELECT id, department, encode(sha256(('bench-survey-' || id)::bytea), 'hex'), sent_at,
       CASE WHEN answered THEN CASE WHEN r < 0.04 THEN 1 WHEN r < 0.08 THEN 2 WHEN r < 0.2 THEN 3
                                    WHEN r < 0.5 THEN 4 ELSE 5 END END,
       %(comment)s, CASE WHEN answered THEN least(sent_at + random() * interval '3 days', %(now)s) END,
       answered AND r < 0.04, %(note)s
FROM (SELECT id, department, least(closed_at + interval '1 hour', %(now)s) AS sent_at,
             random() < %(answered)s AS answered, random() AS r
      FROM care_case WHERE stage = 'closed' AND random() < %(surveyed)s ORDER BY closed_at) AS picked
"""

SMS_SQL = """
INSERT INTO care_outboundsms ("to", worker_id, template, language, body, urgency, essential, status, send_after,
                              attempts, attempt_started_at, provider_sid, error, created_at, sent_at, status_at)
SELECT '+86139' || lpad((worker_id - %(first_worker)s + 1)::text, 8, '0'), worker_id,
       CASE WHEN t < 0.7 THEN 'request_received' ELSE 'survey_invite' END, 'zh-hans', %(body)s,
       'normal', false, status, created_at,
       CASE WHEN status IN ('queued', 'skipped') THEN 0 ELSE 1 END,
       CASE WHEN status IN ('queued', 'skipped') THEN NULL ELSE created_at END,
       CASE WHEN status IN ('sent', 'delivered', 'failed', 'undelivered') THEN 'SM' || md5('bench-sms-' || i) END,
       CASE WHEN status IN ('failed', 'undelivered') THEN 'carrier rejected' WHEN status = 'skipped'
            THEN 'opted out' ELSE '' END,
       created_at,
       CASE WHEN status IN ('sent', 'delivered', 'failed', 'undelivered') THEN created_at + interval '2 seconds' END,
       CASE WHEN status IN ('delivered', 'failed', 'undelivered') THEN created_at + interval '10 seconds' END
FROM (
    SELECT i, t, %(first_worker)s + floor(random() * %(workers)s)::bigint AS worker_id,
           CASE WHEN u < 0.80 THEN 'delivered' WHEN u < 0.90 THEN 'sent' WHEN u < 0.93 THEN 'failed'
                WHEN u < 0.95 THEN 'undelivered' WHEN u < 0.97 THEN 'skipped' ELSE 'queued' END AS status,
           %(now)s - %(span)s * (1 - {recent}) AS created_at
    FROM (SELECT i, random() AS t, random() AS u FROM generate_series(1, %(rows)s) AS i) AS draws
) AS drawn
ORDER BY drawn.created_at
"""


def generate(n_workers: int, n_cases: int, staff_pk: int, sms_rows: int = SMS_ROWS) -> dict:
    """Fill the database; the seconds of each step and the rows made."""
    from django.db import connection
    from django.utils import timezone

    from care import registry
    from care.models import Case, OutboundSms, Survey, Worker

    now = timezone.now()
    span = datetime.timedelta(days=365 * YEARS + 1)
    codes = [d.code for d in registry.departments()]
    department_sql, department_params = department_case(codes, "d")
    seconds = {}
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(WORKERS_SQL, [sealed(Worker, "national_id", "370202198001011234"), now, n_workers])
        cursor.execute("SELECT min(id), max(id) FROM care_worker")
        first_worker, last_worker = cursor.fetchone()
        if last_worker - first_worker + 1 != n_workers:
            raise RuntimeError(f"worker ids are not contiguous: {first_worker}..{last_worker}")
        seconds["workers"] = time.perf_counter() - started

        started = time.perf_counter()
        # The department's CASE takes positional parameters: bind it first, then the named ones.
        department_literal = cursor.mogrify(department_sql, department_params)
        cursor.execute(CASES_SQL.format(department=department_literal, recent=RECENT), {
            "description": sealed(Case, "description", "单位拖欠三个月工资，要求支付并补缴社保。"),
            "staff": staff_pk, "now": now, "long_open": LONG_OPEN, "withdrawn": WITHDRAWN,
            "first_worker": first_worker, "workers": n_workers, "span": span, "cases": n_cases})
        seconds["cases"] = time.perf_counter() - started

        started = time.perf_counter()
        cursor.execute(SURVEYS_SQL, {"comment": sealed(Survey, "comment", ""),
                                     "note": sealed(Survey, "follow_up_note", ""), "now": now,
                                     "answered": ANSWERED, "surveyed": SURVEYED})
        seconds["surveys"] = time.perf_counter() - started

        started = time.perf_counter()
        cursor.execute(SMS_SQL.format(recent=RECENT), {
            "first_worker": first_worker, "workers": n_workers, "now": now, "span": span, "rows": sms_rows,
            "body": sealed(OutboundSms, "body", "【职工服务中心】您的申请 BM-2026-000001 已受理。")})
        seconds["sms"] = time.perf_counter() - started

        started = time.perf_counter()
        audit_events(cursor)
        seconds["audit"] = time.perf_counter() - started

        # As autovacuum would have done by now in production: statistics, and the visibility map
        # that index-only scans need.
        started = time.perf_counter()
        cursor.execute("VACUUM (ANALYZE) care_worker, care_case, care_survey, care_outboundsms, care_auditevent")
        seconds["vacuum analyze"] = time.perf_counter() - started

        cursor.execute("""SELECT (SELECT count(*) FROM care_worker), (SELECT count(*) FROM care_case),
                                 (SELECT count(*) FROM care_case WHERE stage IN ('received', 'in_progress')),
                                 (SELECT count(*) FROM care_case WHERE stage = 'withdrawn'),
                                 (SELECT count(*) FROM care_survey),
                                 (SELECT count(*) FROM care_survey WHERE answered_at IS NOT NULL),
                                 (SELECT count(*) FROM care_outboundsms),
                                 (SELECT count(*) FROM care_auditevent),
                                 pg_size_pretty(pg_total_relation_size('care_case'))""")
        counts = dict(zip(("workers", "cases", "open", "withdrawn", "surveys", "answered", "sms", "audit events",
                           "case table"),
                          cursor.fetchone(), strict=True))
    return {"seconds": seconds, "counts": counts}


AUDIT_CASES_SQL = """
SELECT id, stage, opened_at, closed_at, assignee_id FROM care_case WHERE id > %s ORDER BY id LIMIT 20000
"""
AUDIT_COPY = """COPY care_auditevent (seq, at, actor_id, event_type, subject_type, subject_id, old, new, prev_hash,
hash) FROM STDIN"""


def audit_events(cursor) -> int:
    """The audit log the cases' lives would have written, as a valid hash chain (each event
    hashed as care.audit.record hashes it, in Python, then COPY, 20 000 cases at a time): filed;
    taken up unless still received; closed or withdrawn with its time. ``manage.py
    verify_audit_log`` holds on it."""
    from care.audit import CareEvent
    from care.models import AuditChainHead, AuditEvent

    head = AuditChainHead.objects.get(pk=1)  # the events before (the staff's) come first
    seq, prev, last_id = head.last_seq, head.last_hash, 0
    raw = cursor.cursor  # psycopg's own cursor, for COPY
    while True:
        raw.execute(AUDIT_CASES_SQL, [last_id])
        batch = raw.fetchall()
        if not batch:
            break
        with raw.copy(AUDIT_COPY) as copy:
            for case_id, stage, opened_at, closed_at, assignee_id in batch:
                lives = [(opened_at, None, CareEvent.CASE_FILED, {}, {"stage": "received"})]
                if stage != "received":
                    lives.append((opened_at, assignee_id, CareEvent.CASE_TAKEN_UP, {"stage": "received"},
                                  {"stage": "in_progress"}))
                if stage in ("closed", "withdrawn"):
                    kind = CareEvent.CASE_CLOSED if stage == "closed" else CareEvent.CASE_WITHDRAWN
                    lives.append((closed_at, assignee_id, kind, {"stage": "in_progress"}, {"stage": stage}))
                for at, actor, kind, old, new in lives:
                    seq += 1
                    event = AuditEvent(seq=seq, at=at, actor_id=actor, event_type=str(kind),
                                       subject_type="care.case", subject_id=str(case_id), old=old, new=new,
                                       prev_hash=prev)
                    prev = event.compute_hash()
                    copy.write_row((seq, at, actor, event.event_type, "care.case", event.subject_id,
                                    json.dumps(old), json.dumps(new), event.prev_hash, prev))
        last_id = batch[-1][0]
    AuditChainHead.objects.filter(pk=1).update(last_seq=seq, last_hash=prev)
    return seq


def check_sample() -> None:
    """The generated rows read back through the ORM: the ciphertexts decrypt."""
    from care.models import Case, OutboundSms, Survey, Worker

    Worker.objects.order_by("-pk").first().national_id  # noqa: B018
    Case.objects.order_by("-pk").first().description  # noqa: B018
    Survey.objects.order_by("-pk").first().comment  # noqa: B018
    OutboundSms.objects.order_by("-pk").first().body  # noqa: B018


# --- the measures -----------------------------------------------------------------------------------


def median_seconds(run) -> float:
    run()  # warm-up
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def captured(run) -> list[dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        run()
    return queries.captured_queries


def scalar(sql: str, params) -> object:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


COUNT_SQL = "SELECT count(*) FROM care_case WHERE opened_at >= %s AND opened_at < %s"
GROUP_SQL = "SELECT department, count(*) FROM care_case WHERE opened_at >= %s AND opened_at < %s GROUP BY department"
SCAN = re.compile(r"(Parallel )?(Seq Scan on \w+|Index Only Scan using \w+|Index Scan using \w+|"
                  r"Bitmap Index Scan on \w+)")


def explain(sql: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of one query, in a line: execution time, the root's buffers,
    the scans."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        lines = [row[0] for row in cursor.fetchall()]
    execution = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("Execution Time")), "?")
    buffers = next((line.strip().removeprefix("Buffers: ") for line in lines if "Buffers:" in line), "-")
    scans = sorted({m.group(0) for line in lines if (m := SCAN.search(line))})
    return f"{execution}; buffers {buffers}; {', '.join(scans) or 'no scan'}"


def label(sql: str) -> str:
    tables = re.findall(r'FROM "(\w+)"', sql)
    group = " GROUP BY" if " GROUP BY " in sql else ""
    return f"{tables[0] if tables else sql[:40]}{group}"


def measure(name: str, period, client) -> dict:
    from care.figures import hall_figures, services_table

    since, until = period.since, period.until
    url = f"/figures/?since={period.first.isoformat()}&until={period.last.isoformat()}"

    def page():
        response = client.get(url)
        if response.status_code != 200 or b"figures" not in response.content:
            raise RuntimeError(f"GET {url}: {response.status_code}")

    result = {"name": name, "period": f"{period.first}..{period.last}",
              "cases": scalar(COUNT_SQL, [since, until])[0][0]}
    result["hall s"] = median_seconds(lambda: hall_figures(period))
    hall_queries = captured(lambda: hall_figures(period))
    result["hall queries"] = len(hall_queries)
    result["slowest"] = sorted(hall_queries, key=lambda q: -float(q["time"]))[:4]
    result["page s"] = median_seconds(page)
    result["page queries"] = len(captured(page))
    result["count s"] = median_seconds(lambda: scalar(COUNT_SQL, [since, until]))
    result["group s"] = median_seconds(lambda: scalar(GROUP_SQL, [since, until]))
    result["explain"] = [(label(q["sql"]), explain(q["sql"])) for q in captured(lambda: services_table(period))]
    return result


def report(r: dict) -> str:
    lines = [
        f"{r['name']} ({r['period']}): {r['cases']} cases opened in the window",
        f"  hall_figures        {r['hall s'] * 1000:8.1f} ms  ({r['hall queries']} queries)",
        f"  page GET /figures/  {r['page s'] * 1000:8.1f} ms  ({r['page queries']} queries)",
        f"  baseline count(*)   {r['count s'] * 1000:8.1f} ms",
        f"  baseline GROUP BY   {r['group s'] * 1000:8.1f} ms",
        f"  ratio page/count {r['page s'] / r['count s']:.1f}, hall_figures/count {r['hall s'] / r['count s']:.1f}, "
        f"page/group {r['page s'] / r['group s']:.1f}, hall_figures/group {r['hall s'] / r['group s']:.1f}",
        "  slowest queries of hall_figures:",
        *[f"    {float(q['time']) * 1000:8.1f} ms  {label(q['sql'])}" for q in r["slowest"]],
        "  EXPLAIN (ANALYZE, BUFFERS) of services_table:",
        *[f"    {name}: {summary}" for name, summary in r["explain"]],
    ]
    return "\n".join(lines)


# --- the run ----------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://", "pgsql://")):
        print("bench/figures.py needs PostgreSQL: set DATABASE_URL=postgres://user@host:port/db "  # noqa: T201
              "(that database is not touched; --db-name is created and dropped)", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic here
    os.environ.pop("REDIS_URL", None)  # the figures need no Redis: local memory cache, in-memory channels
    database = ThrowawayDatabase(args.db_name, args.keep_db)
    bench_environment(database.url)
    database.create()
    try:
        setup_django()
        from django.test import Client
        from django.utils import timezone

        from care.figures import Period

        migrate_seconds = migrate()
        clerk, manager = staff_users()
        started = time.perf_counter()
        made = generate(args.workers, args.cases, clerk.pk)
        generate_seconds = time.perf_counter() - started
        check_sample()

        client = Client()
        client.force_login(manager)
        today = timezone.localdate()
        results = [measure("default period (12 weeks)", Period.default(), client),
                   measure("a year", Period(today - datetime.timedelta(days=365), today), client)]

        counts = made["counts"]
        steps = ", ".join(f"{name} {s:.1f}s" for name, s in made["seconds"].items())
        print(  # noqa: T201
            f"database   {database.label} (migrate {migrate_seconds:.1f}s)\n"
            f"generated  {generate_seconds:.1f}s ({steps})\n"
            f"           {counts['workers']} workers, {counts['cases']} cases ({counts['open']} open, "
            f"{counts['withdrawn']} withdrawn), {counts['surveys']} surveys ({counts['answered']} answered), "
            f"{counts['sms']} SMS, {counts['audit events']} audit events (a valid chain); "
            f"care_case {counts['case table']} with its indexes"
        )
        for result in results:
            print(report(result))  # noqa: T201
        print(f"peak RSS   {peak_rss_mb():.0f} MiB (this process)")  # noqa: T201
        return 0
    finally:
        database.drop()


if __name__ == "__main__":
    sys.exit(main())
