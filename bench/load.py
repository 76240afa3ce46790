"""How does the hall hold up under many people at once, on the real server, compared with the
same load on what costs the server least?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/load.py [--users 40] [--seconds 60] [--rooms 10] [--servers 1]

A load test with locust (bench/load_locust.py holds its users) against daphne serving
config.asgi with production settings, on PostgreSQL and Redis:

  1. a database of its own, ``bench_load``, on the server of DATABASE_URL (created after a DROP
     ... WITH (FORCE) of a leftover, dropped at the end; the database named in DATABASE_URL is
     not touched), and a Redis database of its own (``--redis-url``, default
     redis://127.0.0.1:6379/9: flushed at the start and at the end);
  2. migrations, then bench/figures.py's generation (workers, cases over three years, surveys,
     SMS in the same proportion to the cases as there, in SQL), then, through the ORM and the
     services: staff of every role, accounts for WORKER_ACCOUNTS workers, two caseworkers per
     department each assigned and granted CASEWORKER_CASES cases, ``--rooms`` arbitrators each
     with HEARINGS_PER_ARBITRATOR hearings and one video hearing going on now, its room open and
     in session (the arbitrator in it), and ``--participants`` personal links to it (the
     worker's and representatives'); sessions made server-side for everyone who signs in;
  3. collectstatic into a throwaway folder (bench/load_settings.py), at the same time;
  4. daphne (``daphne config.asgi:application``) in a process of its own (``--servers`` N: N of
     them accepting from one listening socket), with DJANGO_ENV=production, DEBUG off, the Redis
     channel layer and cache, Django's connection pool; every request comes as from the TLS proxy
     in front of it (X-Forwarded-Proto: https);
  5. locust, headless, in a process of its own (gevent must not touch the hall), twice:
     - the baseline: ``--users`` users with the same think time requesting a static file
       (whitenoise) and the sign-in page, for half of ``--seconds`` (at least 15 s);
     - the load: ``--users`` users in the mix of roles (workers 6, caseworkers 3, arbitrators 1,
       the center manager 1, by weight) and the waiting rooms on websockets (one arbitrator and
       ``--participants`` parties per room), for ``--seconds``;
  6. after the load: the audit log's hash chain is verified (every page that shows a case
     appends to it, under one lock), and the server's log is searched for errors.

Prints, per endpoint: requests, failures, requests/s, the 50th, 95th and 99th percentiles in ms,
and the 50th and 95th percentiles divided by the static file's in the baseline; the websocket
measures in the same table (type WS); the CPU time of the server, of PostgreSQL's processes and
of locust, and the machine's load average (it is shared); every failure. Exit status
1 when more than ``--max-failure-rate`` of the requests failed (a 5xx, a refused connection, a
websocket closed or silent), when the server logged an error, or when the audit chain broke.
"""

import argparse
import csv
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

from figures import SMS_ROWS, check_sample, generate, staff_users
from pages import GRANT_SQL, PLACE
from throwaway import PROJECT_ROOT, ThrowawayDatabase, bench_environment, migrate, setup_django

DB_NAME = "bench_load"
WORKER_ACCOUNTS = 300
CASEWORKER_CASES = 300
HEARINGS_PER_ARBITRATOR = 20
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
BENCH = Path(__file__).resolve().parent

# A caseworker's role in each department (two of each are made).
CASEWORKER_ROLES = {"legal": "legal_officer", "counseling": "counselor", "claims": "claims_officer",
                    "childcare": "childcare_staff", "matchmaking": "matchmaker"}
# The other staff roles and their department, one of each (the front desk and the manager come
# with figures.staff_users; the arbitrators with the rooms).
OTHER_STAFF = {"mediator": "legal", "claims_reviewer": "claims", "administrator": ""}

MIX = ["WorkerUser", "CaseworkerUser", "ArbitratorUser", "ManagerUser", "ChairUser", "ParticipantUser"]
BASELINE = ["BaselineUser"]
BASELINE_ROW = "GET /static/ (baseline)"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=40, help="HTTP users (default: %(default)s)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started a second (default: %(default)s)")
    parser.add_argument("--seconds", type=int, default=60, help="the load's duration (default: %(default)s); "
                        "the baseline runs half as long, at least 15 s")
    parser.add_argument("--rooms", type=int, default=10, help="live video hearings (default: %(default)s)")
    parser.add_argument("--participants", type=int, default=4,
                        help="parties joining each room by link (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=5_000, help="workers (default: %(default)s)")
    parser.add_argument("--cases", type=int, default=50_000, help="cases (default: %(default)s)")
    parser.add_argument("--servers", type=int, default=1,
                        help="daphne processes sharing the port (default: %(default)s, as docs say to run it)")
    parser.add_argument("--max-failure-rate", type=float, default=0.01,
                        help="exit status 1 above this share of failed requests (default: %(default)s)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9",
                        help="a Redis database for this run alone: it is flushed (default: %(default)s)")
    parser.add_argument("--keep-db", action="store_true", help="leave the throwaway database behind")
    args = parser.parse_args()
    if args.users < 4 or args.seconds < 10 or args.rooms < 1 or args.participants < 1 or args.spawn_rate <= 0:
        parser.error("--users at least 4, --seconds at least 10, --rooms, --participants and --spawn-rate positive")
    if args.workers < WORKER_ACCOUNTS or args.cases < 20 * WORKER_ACCOUNTS:
        parser.error(f"--workers at least {WORKER_ACCOUNTS}, --cases at least {20 * WORKER_ACCOUNTS}")
    if args.rooms * (HEARINGS_PER_ARBITRATOR + 1) > 2 * CASEWORKER_CASES or not 1 <= args.servers <= 8:
        # each arbitrator's hearings are on the two legal officers' cases
        parser.error(f"--rooms at most {2 * CASEWORKER_CASES // (HEARINGS_PER_ARBITRATOR + 1)}, "
                     "--servers from 1 to 8")
    return args


# --- the people -------------------------------------------------------------------------------------


def session_for(user) -> str:
    """A signed-in session for ``user``, made as django.contrib.auth.login makes it; its key."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def staff_member(username: str, role: str, department: str = "", **fields):
    from django.contrib.auth.models import Group

    from care.models import User

    user = User.objects.create_user(username=username, password=None, department=department, **fields)
    user.groups.add(Group.objects.get(name=role))
    return user


def worker_accounts(n: int) -> list[dict]:
    """Accounts (group ``worker``) for the first n workers; each with the ids of their cases."""
    from django.contrib.auth.models import Group

    from care.models import Case, User, Worker
    from care.roles import Role

    workers = list(Worker.objects.order_by("pk").values_list("pk", flat=True)[:n])
    users = [User(username=f"bench-worker-{pk}") for pk in workers]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users)
    group = Group.objects.get(name=Role.WORKER)
    User.groups.through.objects.bulk_create([User.groups.through(user_id=u.pk, group_id=group.pk) for u in users])
    for worker, user in zip(workers, users, strict=True):
        Worker.objects.filter(pk=worker).update(user=user)
    cases: dict[int, list[int]] = {}
    for worker, case in Case.objects.filter(worker_id__in=workers).values_list("worker_id", "pk"):
        cases.setdefault(worker, []).append(case)
    return [{"session": session_for(user), "cases": cases[worker]}
            for worker, user in zip(workers, users, strict=True) if worker in cases]


ASSIGN_SQL = """
UPDATE care_case SET assignee_id = %(user)s,
                     stage = CASE WHEN stage = 'received' THEN 'in_progress' ELSE stage END
WHERE id IN (SELECT id FROM care_case WHERE department = %(department)s
             AND (assignee_id IS NULL OR assignee_id = %(clerk)s) ORDER BY random() LIMIT %(n)s)
RETURNING id
"""


def caseworkers(clerk_pk: int) -> tuple[list[dict], dict]:
    """Two caseworkers per department, each assigned (and granted, as pages.py does) CASEWORKER_CASES
    cases of it drawn at random; their sessions and cases, and the legal officers with theirs."""
    from django.contrib.auth.models import Permission
    from django.db import connection

    perm = Permission.objects.get(content_type__app_label="care", codename="view_case").pk
    made, legal = [], {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.27)")
        for department, role in CASEWORKER_ROLES.items():
            for n in range(2):
                user = staff_member(f"bench-{role}-{n}", role, department, first_name=f"{role}{n}")
                cursor.execute(ASSIGN_SQL, {"user": user.pk, "department": department, "clerk": clerk_pk,
                                            "n": CASEWORKER_CASES})
                cases = [row[0] for row in cursor.fetchall()]
                cursor.execute(GRANT_SQL, {"perm": perm, "user": user.pk})
                made.append({"session": session_for(user), "cases": cases})
                if department == "legal":
                    legal[user] = cases
    return made, legal


def hearings_and_rooms(legal: dict, n_rooms: int, n_links: int) -> tuple[list[dict], list[dict]]:
    """n_rooms arbitrators, each with HEARINGS_PER_ARBITRATOR hearings (one a day from 11 days on)
    and a video hearing going on now (begun ten minutes ago, three hours long), scheduled by the
    legal officers through legal.hearings.hearing_schedule on their cases; each room opened and
    started by its arbitrator through legal.video's services, with n_links personal links: the
    worker's (issued again, to know it) and representatives' of both sides."""
    from django.db import transaction
    from django.utils import timezone

    from care import tokens
    from care.models import Case
    from legal import video
    from legal.hearings import hearing_schedule
    from legal.models import Hearing, LegalCase, LegalState, Participant, ParticipantRole

    officers = list(legal)
    free = {officer: list(cases) for officer, cases in legal.items()}
    today = timezone.localdate()
    arbitrators, rooms = [], []

    def schedule(officer, arbitrator, day: int, is_video: bool) -> Hearing:
        case = Case.objects.get(pk=free[officer].pop())
        legal_case = LegalCase.objects.create(case=case, state=LegalState.COMMITTEE_ACCEPTED,
                                              employer_name="青岛某制造有限公司")
        starts = timezone.make_aware(datetime.datetime.combine(today + datetime.timedelta(days=day),
                                                               datetime.time(9)))
        with transaction.atomic():
            return hearing_schedule(legal_case=legal_case, actor=officer, arbitrator=arbitrator, starts_at=starts,
                                    ends_at=starts + datetime.timedelta(hours=2), place="" if is_video else PLACE,
                                    is_video=is_video)

    for i in range(n_rooms):
        arbitrator = staff_member(f"bench-arbitrator-{i}", "arbitrator", first_name=f"仲裁员{i}")
        officer = officers[i % len(officers)]
        for day in range(HEARINGS_PER_ARBITRATOR):
            schedule(officer, arbitrator, 11 + day, is_video=False)
        hearing = schedule(officer, arbitrator, 10, is_video=True)
        now = timezone.now()
        Hearing.objects.filter(pk=hearing.pk).update(starts_at=now - datetime.timedelta(minutes=10),
                                                     ends_at=now + datetime.timedelta(hours=3))
        room = hearing.room
        links = []
        worker = Participant.objects.get(room=room, role=ParticipantRole.WORKER)
        token, token_hash = tokens.new_token()
        Participant.objects.filter(pk=worker.pk).update(token_hash=token_hash)
        links.append({"token": token, "id": worker.pk})
        for n in range(n_links - 1):
            token, token_hash = tokens.new_token()
            role = ParticipantRole.EMPLOYER_REP if n % 2 == 0 else ParticipantRole.WORKER_REP
            rep = Participant.objects.create(room=room, role=role, name=f"代理人{i}-{n}",
                                             mobile=f"+86138{i:03d}{n:05d}", token_hash=token_hash)
            links.append({"token": token, "id": rep.pk})
        chair = Participant.objects.get(room=room, role=ParticipantRole.ARBITRATOR)
        video.join(participant=chair)
        chair = video.devices_checked(participant=chair, consent=True)
        video.room_step(room=room, actor=chair, step="open")
        video.room_step(room=room, actor=chair, step="start")
        arbitrators.append({"session": session_for(arbitrator)})
        rooms.append({"room": room.pk, "hearing": hearing.pk, "chair": chair.pk,
                      "chair_session": session_for(arbitrator), "links": links})
    return arbitrators, rooms


def seed(args) -> tuple[dict, dict]:
    """The database's content; the plan for bench/load_locust.py (without the server's address)
    and what was made."""
    from django.db import connection

    clerk, manager = staff_users()
    # figures.py's share of SMS (300 000 for a million cases), not its absolute number
    made = generate(args.workers, args.cases, clerk.pk, sms_rows=SMS_ROWS * args.cases // 1_000_000)
    seconds = dict(made["seconds"])
    started = time.perf_counter()
    for role, department in OTHER_STAFF.items():
        staff_member(f"bench-{role}", role, department)
    workers = worker_accounts(WORKER_ACCOUNTS)
    cases_staff, legal = caseworkers(clerk.pk)
    arbitrators, rooms = hearings_and_rooms(legal, args.rooms, args.participants)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) care_case, care_caseuserobjectpermission, care_worker, care_user")
    seconds["people, hearings, rooms"] = time.perf_counter() - started
    check_sample()
    plan = {"workers": workers, "caseworkers": cases_staff, "arbitrators": arbitrators,
            "managers": [{"session": session_for(manager)}], "rooms": rooms}
    return plan, {"seconds": seconds, "counts": made["counts"]}


# --- the server ---------------------------------------------------------------------------------------


def server_environment(static_root: Path) -> dict:
    """The production settings' environment (config/settings.py); the keys are those the seeding
    used (bench/throwaway.bench_environment), so the sessions and ciphertexts it made are valid."""
    env = dict(os.environ)
    env.update({
        "DJANGO_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "load_settings",
        "PYTHONPATH": os.pathsep.join([str(BENCH), str(PROJECT_ROOT)]),
        "BENCH_STATIC_ROOT": str(static_root),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "https://hall.example.org",
        "TWILIO_ACCOUNT_SID": "ACbench0000000000000000000000000000",  # nothing is sent: no worker runs
        "TWILIO_AUTH_TOKEN": "bench-only-token",
        "TWILIO_FROM_NUMBER": "+8653200000000",
        "LOG_LEVEL": "WARNING",
        "PYTHONFAULTHANDLER": "1",  # a stack dump of every thread on SIGABRT (see stop)
    })
    env.pop("DEBUG", None)
    return env


# Whitenoise compresses with brotli when it is installed (locust's geventhttpclient brings it in):
# at quality 11, pico's 20 MB of CSS variants take about three minutes on this machine, against
# about 12 s with gzip alone. The static files are the baseline, served as gzip either way.
COLLECTSTATIC = ("import sys; sys.modules['brotli'] = None; "
                 "from django.core.management import execute_from_command_line; "
                 "execute_from_command_line(['manage.py', 'collectstatic', '--noinput', '--verbosity', '0'])")


def collectstatic(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([str(VENV_BIN / "python"), "-c", COLLECTSTATIC], cwd=PROJECT_ROOT, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def start_servers(env: dict, n: int, workdir: Path) -> tuple[list[subprocess.Popen], int]:
    """daphne, as production runs it; with n > 1, n of them accepting from one listening socket
    (made here and inherited: ``--fd``), the websockets' groups shared through Redis. The
    processes and the port, once every one of them listens and the sign-in page answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    access, errors = (workdir / "access.log").open("ab"), (workdir / "server.log").open("ab")
    if n == 1:
        listener.close()  # daphne binds the port itself
        commands, fds = [["-b", "127.0.0.1", "-p", str(port)]], ()
    else:
        listener.listen(1024)
        commands, fds = [["--fd", str(listener.fileno())]] * n, (listener.fileno(),)
    servers = [subprocess.Popen([str(VENV_BIN / "daphne"), *bind, "config.asgi:application"], cwd=PROJECT_ROOT,
                                env=env, stdout=access, stderr=errors, pass_fds=fds) for bind in commands]
    listener.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for server in servers:
            if server.poll() is not None:
                raise RuntimeError(f"daphne exited ({server.returncode}): "
                                   f"{(workdir / 'server.log').read_text()[-2000:]}")
        if (workdir / "server.log").read_text(errors="replace").count("Configuring endpoint") >= n:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/login/",
                                                 headers={"X-Forwarded-Proto": "https"})
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - our own server
                    if response.status == 200:
                        return servers, port
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
        time.sleep(0.5)
    raise RuntimeError("daphne did not answer within 60 s")


def stop(process: subprocess.Popen | None, *, dump: bool = False) -> float | None:
    """SIGTERM, and SIGKILL after 30 s; the seconds it took to exit, None if it was killed.
    With ``dump``, SIGABRT first, so that faulthandler writes every thread's stack to its log."""
    if process is None or process.poll() is not None:
        return 0.0
    started = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
        return time.perf_counter() - started
    except subprocess.TimeoutExpired:
        if dump:
            process.send_signal(signal.SIGABRT)
            try:
                process.wait(timeout=10)
                return None
            except subprocess.TimeoutExpired:
                pass
        process.kill()
        process.wait()
        return None


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process (/proc/<pid>/stat); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    """CPU time of every PostgreSQL process on this machine (others' databases included)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(proc.name))
            except OSError:
                continue
    return total


# --- locust ---------------------------------------------------------------------------------------------


def run_locust(*, classes: list[str], users: int, spawn_rate: float, seconds: int, plan: Path, prefix: Path,
               servers: list[subprocess.Popen]) -> dict:
    """One headless locust run in its own process; its statistics and the CPU it and the server used."""
    env = dict(os.environ, LOAD_PLAN=str(plan))
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)  # locust's process has no business with the hall's settings
    command = [str(VENV_BIN / "locust"), "-f", str(BENCH / "load_locust.py"), "--headless", "-u", str(users),
               "-r", str(spawn_rate), "-t", f"{seconds}s", "--csv", str(prefix), "--only-summary",
               "--loglevel", "WARNING", "--exit-code-on-error", "0", "--stop-timeout", "5", *classes]
    server_cpu, database_cpu = sum(cpu_seconds(server.pid) for server in servers), postgres_cpu()
    load_before = os.getloadavg()[0]
    children = os.times()
    started = time.perf_counter()
    with (prefix.parent / f"{prefix.name}.log").open("wb") as log:
        code = subprocess.run(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                              timeout=seconds + 120, check=False).returncode
    wall = time.perf_counter() - started
    after = os.times()
    return {"code": code, "wall": wall, "server cpu": sum(cpu_seconds(server.pid) for server in servers) - server_cpu,
            "postgres cpu": postgres_cpu() - database_cpu,
            "load average": (load_before, os.getloadavg()[0]),
            "locust cpu": (after.children_user - children.children_user)
            + (after.children_system - children.children_system),
            "rows": read_csv(Path(f"{prefix}_stats.csv")), "failures": read_csv(Path(f"{prefix}_failures.csv")),
            "log": (prefix.parent / f"{prefix.name}.log").read_text(errors="replace")}


def read_csv(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def number(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# --- the report ------------------------------------------------------------------------------------------


def table(phases: list[tuple[str, dict]], base: dict) -> str:
    b50, b95 = number(base.get("50%")), number(base.get("95%"))
    head = (f"{'phase':<9} {'type':<4} {'endpoint':<42} {'requests':>8} {'fails':>5} {'req/s':>6} "
            f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'p50/base':>8} {'p95/base':>8}")
    lines = [head, "-" * len(head)]
    for phase, run in phases:
        for row in sorted(run["rows"], key=lambda r: (r["Name"] == "Aggregated", r["Type"] == "WS", r["Name"])):
            p50, p95, p99 = (number(row.get(k)) for k in ("50%", "95%", "99%"))
            ratio50 = f"{p50 / b50:8.1f}" if p50 is not None and b50 else f"{'-':>8}"
            ratio95 = f"{p95 / b95:8.1f}" if p95 is not None and b95 else f"{'-':>8}"
            name = "all" if row["Name"] == "Aggregated" else row["Name"]
            lines.append(f"{phase:<9} {row['Type'] or '':<4} {name[:42]:<42} {int(row['Request Count']):>8} "
                         f"{int(row['Failure Count']):>5} {float(row['Requests/s']):>6.1f} "
                         f"{fmt(p50):>7} {fmt(p95):>7} {fmt(p99):>7} {ratio50} {ratio95}")
        lines.append("")
    return "\n".join(lines)


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def aggregated(run: dict) -> dict:
    return next((r for r in run["rows"] if r["Name"] == "Aggregated"), {"Request Count": "0", "Failure Count": "0"})


STATUS = re.compile(r'" (\d{3}) ')
RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (\w+)\s+(.*)$")
# Daphne refusing a consumer's send to a client that has just gone: the client's doing (a bot
# closing its socket at the end of the run), not the hall's.
CLIENT_GONE = "Exception inside application: Attempt to send on a closed protocol"


def server_log(workdir: Path) -> tuple[dict, list[str], int]:
    """Responses by status class (daphne's access log); the errors of its log, each as its
    message and the last line of its traceback; how many of them were a client gone."""
    statuses: dict[str, int] = {}
    for line in (workdir / "access.log").read_text(errors="replace").splitlines():
        if m := STATUS.search(line):
            statuses[m.group(1)[0] + "xx"] = statuses.get(m.group(1)[0] + "xx", 0) + 1
    errors, gone, current = [], 0, None
    for line in (workdir / "server.log").read_text(errors="replace").splitlines():
        if m := RECORD.match(line):
            current = None
            if m.group(1) in ("ERROR", "CRITICAL"):
                if m.group(2).startswith(CLIENT_GONE):
                    gone += 1
                else:
                    current = [m.group(2), ""]
                    errors.append(current)
        elif current is not None and line.strip() and not line.startswith((" ", "Traceback", "The above", "During")):
            current[1] = line.strip()  # the exception, at the end of the traceback
    return statuses, [f"{message} [{last}]" if last else message for message, last in errors], gone


def audit_chain_breaks() -> int:
    from care import audit
    from care.models import AuditEvent

    breaks = list(audit.verify())
    for b in breaks[:5]:
        print(f"  audit chain break at {b.seq}: {b.reason}")  # noqa: T201
    print(f"audit log  {AuditEvent.objects.count()} events, chain "  # noqa: T201
          f"{'intact' if not breaks else f'BROKEN ({len(breaks)} breaks)'}")
    return len(breaks)


# --- the run ----------------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://", "pgsql://")):
        print("bench/load.py needs PostgreSQL: set DATABASE_URL=postgres://user@host:port/db "  # noqa: T201
              f"(that database is not touched; {DB_NAME} is created and dropped)", file=sys.stderr)
        return 2
    import redis

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic in this process
    layer = redis.Redis.from_url(args.redis_url)
    layer.flushdb()
    database = ThrowawayDatabase(DB_NAME, args.keep_db)
    bench_environment(database.url)
    os.environ["REDIS_URL"] = args.redis_url
    database.create()
    workdir = Path(tempfile.mkdtemp(prefix="bench_load_"))
    servers, collecting = [], None
    try:
        env = server_environment(workdir / "static")
        collecting = collectstatic(env, workdir / "collectstatic.log")
        started = time.perf_counter()
        setup_django()
        migrate_seconds = migrate()
        plan, made = seed(args)
        if collecting.wait(timeout=600) != 0:
            raise RuntimeError(f"collectstatic failed: {(workdir / 'collectstatic.log').read_text()[-2000:]}")
        setup_seconds = time.perf_counter() - started

        from django.db import connections

        for conn in connections.all():  # idle while the load runs
            conn.close()
        servers, port = start_servers(env, args.servers, workdir)
        manifest = json.loads((workdir / "static" / "staticfiles.json").read_text())["paths"]
        plan.update(host=f"http://127.0.0.1:{port}", static=f"/static/{manifest['care/hall.css']}")
        plan_file = workdir / "plan.json"
        plan_file.write_text(json.dumps(plan))

        counts = made["counts"]
        steps = ", ".join(f"{name} {s:.1f}s" for name, s in made["seconds"].items())
        sockets = args.rooms * (1 + args.participants)
        print(  # noqa: T201
            f"database   {database.label} (migrate {migrate_seconds:.1f}s); Redis {args.redis_url}\n"
            f"setup      {setup_seconds:.1f}s ({steps}; collectstatic alongside)\n"
            f"           {counts['workers']} workers ({len(plan['workers'])} with an account), {counts['cases']} cases "
            f"({counts['open']} open), {counts['sms']} SMS; {len(plan['caseworkers'])} caseworkers, "
            f"{len(plan['arbitrators'])} arbitrators ({HEARINGS_PER_ARBITRATOR} hearings each), "
            f"{args.rooms} rooms in session, {args.participants} links each\n"
            f"server     daphne config.asgi:application on 127.0.0.1:{port}, DJANGO_ENV=production "
            f"({len(servers)} process{'es' if len(servers) > 1 else ''}: {', '.join(str(s.pid) for s in servers)})\n"
            f"load       baseline {max(15, args.seconds // 2)}s x {args.users} users; then {args.seconds}s x "
            f"{args.users} users + {sockets} on websockets; spawn rate {args.spawn_rate}/s",
            flush=True,
        )

        baseline = run_locust(classes=BASELINE, users=args.users, spawn_rate=args.spawn_rate,
                              seconds=max(15, args.seconds // 2), plan=plan_file, prefix=workdir / "baseline",
                              servers=servers)
        load = run_locust(classes=MIX, users=args.users + sockets, spawn_rate=args.spawn_rate, seconds=args.seconds,
                          plan=plan_file, prefix=workdir / "load", servers=servers)
        time.sleep(2)  # the last sockets' goodbyes
        stops = [stop(server, dump=True) for server in servers]
        stopped = None if None in stops else max(stops)

        base = next((r for r in baseline["rows"] if r["Name"] == BASELINE_ROW), {})
        print(table([("baseline", baseline), ("load", load)], base))  # noqa: T201
        for phase, run in (("baseline", baseline), ("load", load)):
            http = sum(int(r["Request Count"]) for r in run["rows"] if r["Type"] not in ("WS", ""))
            print(f"{phase:<9}  {run['wall']:.0f}s; CPU: server {run['server cpu']:.1f}s "  # noqa: T201
                  f"({100 * run['server cpu'] / run['wall']:.0f}% of a core; "
                  f"{1000 * run['server cpu'] / max(http, 1):.1f} ms per HTTP request, the websockets' share "
                  f"included), PostgreSQL {run['postgres cpu']:.1f}s ({100 * run['postgres cpu'] / run['wall']:.0f}%), "
                  f"locust {run['locust cpu']:.1f}s ({100 * run['locust cpu'] / run['wall']:.0f}%); "
                  f"locust exit {run['code']}; load average {run['load average'][0]:.1f} -> "
                  f"{run['load average'][1]:.1f} (the machine's, others' work included)")
            if "CPU usage" in run["log"]:
                print("           locust warned about its own CPU: the figures may be the client's limit")  # noqa: T201
        total = sum(int(aggregated(r)["Request Count"]) for r in (baseline, load))
        failed = sum(int(aggregated(r)["Failure Count"]) for r in (baseline, load))
        rate = failed / total if total else 1.0
        print(f"failures   {failed} of {total} ({100 * rate:.2f}%; at most {100 * args.max_failure_rate:.2f}%)")  # noqa: T201
        for phase, run in (("baseline", baseline), ("load", load)):
            for row in run["failures"]:
                print(f"  {phase}: {row['Method']} {row['Name']}: {row['Error'][:150]} "  # noqa: T201
                      f"x{row['Occurrences']}")
        statuses, errors, gone = server_log(workdir)
        print(f"server     responses {dict(sorted(statuses.items()))}; {len(errors)} errors in its log"  # noqa: T201
              f" (and {gone} sends to a client already gone); "
              + (f"stopped {stopped:.1f}s after SIGTERM" if stopped is not None
                 else "still running 30 s after SIGTERM: killed (its threads' stacks are in its log)"))
        for line in errors[:15]:
            print(f"  {line[:240]}")  # noqa: T201
        if stopped is None:  # faulthandler's dump: where each thread was
            log = (workdir / "server.log").read_text(errors="replace")
            for line in log[log.find("Fatal Python error"):].splitlines()[:60]:
                print(f"  {line[:160]}")  # noqa: T201
        breaks = audit_chain_breaks()
        ok = total > 0 and rate <= args.max_failure_rate and not errors and not breaks and statuses.get("5xx", 0) == 0
        return 0 if ok else 1
    finally:
        for server in servers:
            stop(server)
        if collecting is not None and collecting.poll() is None:
            collecting.kill()
        database.drop()
        layer.flushdb()
        layer.close()
        if args.keep_db:
            print(f"kept: {workdir} (plan, logs, locust's CSV)")  # noqa: T201
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
