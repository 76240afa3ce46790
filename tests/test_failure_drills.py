"""Failure drills: what the hall does when a part it depends on fails (docs/operations.md).

* Redis down: the pages, the API and sign-in by SMS code keep working (the cache falls back
  to each process's memory: care/cache.py); realtime pushes are lost, with a warning.
* The database restarting: a request in flight when its connection dies fails cleanly, with
  nothing half-written; the ASGI server, on the connection pool of production, answers the
  next requests without a restart (PostgreSQL only).
* Twilio down for an hour: tests/care/test_sms_twilio.py,
  ``test_twilio_down_for_an_hour_messages_wait_and_go_later``.
* A worker process killed mid-task: tests/care/test_tasks.py,
  ``test_worker_killed_mid_task_leaves_it_running_until_swept`` (its task runs again, once).
"""

import re
import socket
import urllib.request

import pytest
from channels.layers import channel_layers
from django.db import connection
from django.test import Client

from care.models import AuditEvent, Case, OutboundSms
from care.roles import Role
from tests.factories import WorkerFactory, staff

pytestmark = pytest.mark.django_db(transaction=True)

MOBILE = "+8613800000001"
REQUEST = {"department": "legal", "description": "被拖欠三个月工资", "preferred_contact_time": "morning"}


def closed_port() -> int:
    with socket.socket() as probe:  # bound, then closed again: nothing listens there
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- Redis down ----------------------------------------------------------------------------------


@pytest.fixture
def redis_down(settings):
    dead = f"redis://127.0.0.1:{closed_port()}/0"
    settings.CACHES = {"default": {"BACKEND": "care.cache.ResilientRedisCache", "LOCATION": dead,
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [dead]}}}
    settings.SMS_CODES_PER_IP_PER_HOUR = 2
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


def code_sent_to(mobile: str) -> str:
    [code] = re.findall(r"(?<!\d)\d{6}(?!\d)", OutboundSms.objects.filter(to=mobile).latest("pk").body)
    return code


def test_with_redis_down_workers_sign_in_and_file_and_staff_work_on(redis_down, caplog):
    WorkerFactory(mobile=MOBILE)
    officer = staff(Role.LEGAL_OFFICER, "legal")
    worker = Client()

    assert worker.post("/signin/", {"mobile": MOBILE}).status_code == 302
    assert worker.post("/signin/code/", {"code": code_sent_to(MOBILE)}).status_code == 302
    response = worker.post("/requests/new/", REQUEST)
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get()
    assert case.worker.mobile == MOBILE
    assert any(r.getMessage() == "realtime push to queue.legal failed" for r in caplog.records)

    staff_client = Client()
    staff_client.force_login(officer)
    assert case.reference in staff_client.get("/queue/").content.decode()
    api = staff_client.get("/api/v1/cases/")  # throttled through the cache
    assert api.status_code == 200
    assert [row["reference"] for row in api.json()["results"]] == [case.reference]
    assert any("Redis unreachable" in r.getMessage() for r in caplog.records)


def test_with_redis_down_the_code_limit_per_address_still_counts(redis_down):
    """The counters fall back to the process's memory: weaker (per process), never off."""
    client = Client()
    for n in range(2):
        client.post("/signin/", {"mobile": f"+86138000001{n:02d}"})
    assert OutboundSms.objects.count() == 2
    client.post("/signin/", {"mobile": "+8613800000199"})
    assert OutboundSms.objects.count() == 2  # the third number from the same address: no code


# --- the database restarting ---------------------------------------------------------------------


def terminate_backends(*, only: int | None = None) -> int:
    """What a restart of PostgreSQL does to the connections of the test database (all but the
    test's own), or to the one connection ``only`` (its backend's pid)."""
    import psycopg

    settings_dict = connection.settings_dict
    which = ("pid = %s", [only]) if only else (
        "datname = %s AND pid <> %s", [settings_dict["NAME"], connection.connection.info.backend_pid])
    with psycopg.connect(host=settings_dict["HOST"], port=settings_dict["PORT"] or 5432,
                         user=settings_dict["USER"], dbname="postgres", autocommit=True) as admin:
        return admin.execute(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {which[0]}",
                             which[1]).fetchone()[0]


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("a drill of PostgreSQL")


def test_a_request_whose_database_connection_dies_writes_nothing(postgres):
    """The connection dies between the service's first write and the rest: the request fails
    (a 500 page, never a half-filed request) and nothing it wrote stays."""
    worker = WorkerFactory(mobile=MOBILE)
    client = Client(raise_request_exception=False)
    client.force_login(worker.user)
    events_before = AuditEvent.objects.count()
    writes = []

    def die_after_the_first_insert(execute, sql, params, many, context):
        if writes and sql.lstrip().upper().startswith(("INSERT", "UPDATE")):
            terminate_backends(only=request_pid)
        result = execute(sql, params, many, context)
        if sql.lstrip().upper().startswith("INSERT"):
            writes.append(sql)
        return result

    connection.ensure_connection()
    request_pid = connection.connection.info.backend_pid  # the test client's request runs on it
    with connection.execute_wrapper(die_after_the_first_insert):
        response = client.post("/requests/new/", REQUEST)

    assert response.status_code == 500
    assert writes, "the request wrote before its connection died"
    connection.close()  # the dead connection goes back to the pool, which drops it
    assert not Case.objects.exists()
    assert AuditEvent.objects.count() == events_before


def test_the_server_answers_again_once_the_database_is_back(postgres, asgi_server):
    """Every connection of the ASGI server's pool dies (a restart of PostgreSQL); its next
    requests succeed: the pool checks a connection before lending it."""
    officer = staff(Role.LEGAL_OFFICER, "legal")
    cookie = signed_in_cookie(officer)

    def get(path: str) -> int:
        request = urllib.request.Request(asgi_server + path, headers={"Cookie": cookie})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - our own server
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    assert [get("/queue/") for _ in range(5)] == [200] * 5  # the pool holds several connections
    assert terminate_backends() >= 1
    assert [get("/queue/") for _ in range(10)] == [200] * 10


def signed_in_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"
