"""How fast is the import of an employer's union's list of members, compared with reading the
workbook and writing the same rows with no checks?

    .venv/bin/python bench/enrolment_import.py [--rows 5000]

Uses a throwaway database (bench/throwaway.py): a SQLite file under /tmp, or, when
DATABASE_URL points at PostgreSQL, a database of its own on that server (``bench_import``,
created and dropped here; the database named in DATABASE_URL is not touched). Migrates it
(which makes the roles' groups and permissions), makes a claims officer and two plans (ZY001,
ZY002), and builds in memory a list of N new members in the template's columns, all in ZY001.
Then, in the same run:

  A. reads the workbook alone with openpyxl (read-only, every row): what any import pays;
  B. writes the same N users (with their worker group), workers and enrolments with bare
     ``bulk_create`` calls, no checks and no audit, in a transaction rolled back: what the
     database costs;
  1. imports the list (``care.claims.spreadsheets.enrolment_import``): N new members;
  2. imports the same file again: every row overlaps now, so it is refused whole; its SQL
     queries are counted, a number that must not grow with N;
  3. imports a renewal list of the same N members (already registered) into ZY002.

Prints N, seconds and rows/second of each, the ratios import/(A+B) and renewal/(A+B), the
queries of the refused import, and the peak RSS of this process.
"""

import argparse
import datetime
import io
import sys
import time

from throwaway import ThrowawayDatabase, bench_environment, migrate, peak_rss_mb, setup_django

MAX_ROWS = 5000  # care.claims.spreadsheets.IMPORT_MAX_ROWS: a longer list is refused
EMPLOYER_UNION = "青岛港务集团工会"
HEADER = ["姓名", "身份证号", "手机号", "计划代码", "起保日期", "止保日期"]
PLAN, RENEWAL_PLAN = "ZY001", "ZY002"
COVER = (datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))
RENEWAL_COVER = (datetime.date(2027, 1, 1), datetime.date(2027, 12, 31))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000, help="members in the list (default: %(default)s)")
    parser.add_argument("--db-name", default="bench_import", help="PostgreSQL database to create and drop")
    parser.add_argument("--keep-db", action="store_true", help="leave the throwaway database behind")
    args = parser.parse_args()
    if not 1 <= args.rows <= MAX_ROWS:
        parser.error(f"--rows must be between 1 and {MAX_ROWS} (the import's limit)")
    return args


# --- the members and their list -------------------------------------------------------------------


def national_id(i: int) -> str:
    """A valid resident ID number (Qingdao Shinan), distinct for each i: one birth date each."""
    from care.validators import id_checksum

    born = datetime.date(1960, 1, 1) + datetime.timedelta(days=i)
    first17 = f"370202{born:%Y%m%d}{i % 1000:03d}"
    return first17 + id_checksum(first17)


def members(n: int) -> list[dict]:
    return [{"name": f"会员{i}", "national_id": national_id(i), "mobile": f"139{i + 1:08d}"} for i in range(n)]


def workbook(people: list[dict], plan_code: str, cover: tuple[datetime.date, datetime.date]) -> bytes:
    """The list as the template has it: header row, then one row per member, dates as dates."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "参保名单"
    sheet.append(HEADER)
    for person in people:
        sheet.append([person["name"], person["national_id"], person["mobile"], plan_code, *cover])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the setup ------------------------------------------------------------------------------------


def claims_officer():
    """A claims officer as the hall makes one: in the claims_officer group, department claims."""
    from django.contrib.auth.models import Group

    from care.models import User
    from care.roles import Role

    user = User.objects.create_user(username="bench-claims-officer", password=None, department="claims")
    user.groups.add(Group.objects.get(name=Role.CLAIMS_OFFICER))
    return user


def make_plan(code: str):
    from decimal import Decimal

    from care.claims.models import Plan, PlanVersion

    plan = Plan.objects.create(code=code, name="职工住院医疗互助保障")
    PlanVersion.objects.create(
        plan=plan, effective_from=datetime.date(2020, 1, 1), waiting_days=90, deductible=Decimal("800.00"),
        ratios={"inpatient": "0.50", "serious_illness": "0.70"}, per_claim_cap=Decimal("20000.00"),
        annual_cap=Decimal("50000.00"))
    return plan


# --- the measures ---------------------------------------------------------------------------------


def read_only(data: bytes) -> tuple[float, int]:
    """Baseline A: open the workbook as the import does and read every row's values."""
    from openpyxl import load_workbook

    started = time.perf_counter()
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sheet = book.worksheets[0]
    sheet.reset_dimensions()
    count = sum(1 for _values in sheet.iter_rows(min_row=2, values_only=True))
    book.close()
    return time.perf_counter() - started, count


def bare_bulk_create(people: list[dict], plan) -> tuple[float, float]:
    """Baseline B: the rows the import writes (user, its worker group, worker, enrolment), with
    bare bulk_create calls in batches of 1000 as the services use, rolled back. The seconds in
    all, and those of the enrolments alone (all that a renewal writes)."""
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.db import transaction

    from care.claims.models import Enrolment
    from care.models import User, Worker
    from care.roles import Role

    group = Group.objects.get(name=Role.WORKER)
    started = time.perf_counter()
    with transaction.atomic():
        users = []
        for person in people:
            user = User(username=f"w86{person['mobile']}", language=settings.LANGUAGE_CODE)
            user.set_unusable_password()
            users.append(user)
        User.objects.bulk_create(users, batch_size=1000)
        User.groups.through.objects.bulk_create(
            [User.groups.through(user_id=u.pk, group_id=group.pk) for u in users], batch_size=1000)
        workers = Worker.objects.bulk_create(
            [Worker(user_id=u.pk, name=p["name"], mobile=f"+86{p['mobile']}", national_id=p["national_id"],
                    national_id_index=Worker.index_for(p["national_id"]), employer=EMPLOYER_UNION)
             for u, p in zip(users, people, strict=True)], batch_size=1000)
        enrolments_started = time.perf_counter()
        Enrolment.objects.bulk_create(
            [Enrolment(worker=w, plan=plan, starts_on=COVER[0], ends_on=COVER[1], employer_union=EMPLOYER_UNION)
             for w in workers], batch_size=1000)
        enrolments_seconds = time.perf_counter() - enrolments_started
        transaction.set_rollback(True)
    return time.perf_counter() - started, enrolments_seconds


def run_import(officer_pk: int, data: bytes):
    """One import as the page runs it, by a freshly loaded user (no permission cache): the
    seconds, the EnrolmentImport and the number of SQL queries (CaptureQueriesContext: on
    PostgreSQL it lists BEGIN and COMMIT too, on SQLite its BEGIN IMMEDIATE and COMMIT run as
    queries)."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from care.claims.spreadsheets import XLSX_CONTENT_TYPE, enrolment_import
    from care.models import User

    actor = User.objects.get(pk=officer_pk)
    upload = SimpleUploadedFile("参保名单.xlsx", data, content_type=XLSX_CONTENT_TYPE)
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        record = enrolment_import(actor=actor, uploaded_file=upload, employer_union=EMPLOYER_UNION)
    return time.perf_counter() - started, record, len(queries.captured_queries)


# --- the run --------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    n = args.rows
    database = ThrowawayDatabase(args.db_name, args.keep_db)
    bench_environment(database.url)
    database.create()
    try:
        setup_django()
        from care.claims import spreadsheets
        from care.claims.models import Enrolment
        from care.models import Worker

        assert spreadsheets.IMPORT_MAX_ROWS == MAX_ROWS, "the import's limit changed: update MAX_ROWS"
        migrate_seconds = migrate()
        officer = claims_officer()
        plan = make_plan(PLAN)
        renewal_plan = make_plan(RENEWAL_PLAN)
        people = members(n)
        data = workbook(people, PLAN, COVER)
        renewal_data = workbook(people, RENEWAL_PLAN, RENEWAL_COVER)

        read_seconds, read_rows = read_only(data)
        bare_seconds, bare_enrolments_seconds = bare_bulk_create(people, plan)
        baseline = read_seconds + bare_seconds
        left_behind = Worker.objects.count() + Enrolment.objects.count()

        import_seconds, imported, import_queries = run_import(officer.pk, data)
        enrolled = Enrolment.objects.filter(source=imported, plan=plan).count()
        workers = Worker.objects.count()

        refused_seconds, refused, refused_queries = run_import(officer.pk, data)
        refused_rows = len(refused.report)

        renewal_seconds, renewal, renewal_queries = run_import(officer.pk, renewal_data)
        renewed = Enrolment.objects.filter(source=renewal, plan=renewal_plan).count()
        workers_after = Worker.objects.count()

        def rate(seconds: float) -> str:
            return f"{seconds:6.2f}s  {n / seconds:6.0f} rows/s"

        print(  # noqa: T201
            f"database               {database.label} (migrate {migrate_seconds:.1f}s)\n"
            f"N                      {n} rows ({len(data) / 1024:.0f} KiB workbook)\n"
            f"A read workbook        {rate(read_seconds)}  ({read_rows} rows read)\n"
            f"B bare bulk_create     {rate(bare_seconds)}  (users, groups, workers, enrolments; rolled back)\n"
            f"  of which enrolments  {rate(bare_enrolments_seconds)}  (all that a renewal writes)\n"
            f"A+B                    {rate(baseline)}\n"
            f"import, new members    {rate(import_seconds)}  (applied={imported.applied}, {enrolled} enrolments, "
            f"{workers} workers, {import_queries} queries)\n"
            f"refused re-import      {rate(refused_seconds)}  (applied={refused.applied}, {refused_rows} rows "
            f"refused, {refused_queries} queries)\n"
            f"renewal, known members {rate(renewal_seconds)}  (applied={renewal.applied}, {renewed} enrolments, "
            f"{workers_after} workers, {renewal_queries} queries)\n"
            f"ratio import/(A+B)     {import_seconds / baseline:.2f}\n"
            f"ratio renewal/(A+B)    {renewal_seconds / baseline:.2f}  "
            f"(renewal/(A+B's enrolments) {renewal_seconds / (read_seconds + bare_enrolments_seconds):.2f})\n"
            f"queries, refused       {refused_queries}\n"
            f"peak RSS               {peak_rss_mb():.0f} MiB (this process)"
        )
        problems = []
        if read_rows != n:
            problems.append(f"read {read_rows} rows")
        if left_behind:
            problems.append(f"baseline B left {left_behind} rows behind")
        if not imported.applied or imported.imported != n or enrolled != n or workers != n:
            problems.append(f"import applied={imported.applied}, {enrolled} enrolments, {workers} workers")
        if refused.applied or refused.imported or refused_rows != n:
            problems.append(f"re-import applied={refused.applied}, {refused_rows} rows refused")
        if not renewal.applied or renewed != n or workers_after != n:
            problems.append(f"renewal applied={renewal.applied}, {renewed} enrolments, {workers_after} workers")
        if problems:
            print("MISMATCH: " + "; ".join(problems))  # noqa: T201
            return 1
        return 0
    finally:
        database.drop()


if __name__ == "__main__":
    sys.exit(main())
