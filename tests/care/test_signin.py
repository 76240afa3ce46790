"""Worker sign-in by SMS code: the code service (hash only, 5 minutes, one use, 5 tries, a few
codes an hour) and the pages /signin/ → /signin/code/ → /signin/register/."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from care import sms
from care.errors import InvalidInput
from care.models import OutboundSms, SignInCode, SmsStatus, Urgency, Worker
from care.roles import Role
from tests.factories import WorkerFactory

pytestmark = pytest.mark.django_db

MOBILE = "+8613800000001"
UNKNOWN = "+8613900000002"
ID_NUMBER = "11010519491231002X"


def code_sent_to(mobile: str) -> str:
    """The 6-digit code of the newest sign-in SMS to ``mobile``, read from its body."""
    message = OutboundSms.objects.filter(to=mobile, template="signin_code").latest("pk")
    [code] = re.findall(r"(?<!\d)\d{6}(?!\d)", message.body)
    return code


def other_than(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.fixture
def worker():
    return WorkerFactory(mobile=MOBILE)


# --- signin_code_request -----------------------------------------------------------------------


@pytest.mark.parametrize("registered", [True, False])
def test_a_code_is_stored_only_as_a_hash(registered):
    if registered:
        WorkerFactory(mobile=MOBILE)

    sms.signin_code_request(mobile="138 0000 0001")

    code = code_sent_to(MOBILE)
    row = SignInCode.objects.get()
    assert row.mobile == MOBILE
    values = {field.name: str(getattr(row, field.attname)) for field in SignInCode._meta.concrete_fields}
    assert [name for name, value in values.items() if code in value] == []
    assert len(row.code_hash) == 64


def test_a_code_expires_in_five_minutes():
    before = timezone.now()
    sms.signin_code_request(mobile=MOBILE)
    row = SignInCode.objects.get()
    assert before <= row.created_at <= timezone.now()
    assert row.expires_at - row.created_at == timedelta(minutes=5)
    assert (row.attempts, row.used_at) == (0, None)


@pytest.mark.parametrize("registered", [True, False])
def test_a_code_is_sent_urgent_and_essential(registered, settings):
    worker = WorkerFactory(mobile=MOBILE) if registered else None
    hour = timezone.localtime().hour
    settings.SMS_QUIET_HOURS = (hour, (hour + 2) % 24)  # it is quiet hours now: the code goes anyway

    sms.signin_code_request(mobile=MOBILE)

    message = OutboundSms.objects.get()
    assert (message.template, message.to, message.worker) == ("signin_code", MOBILE, worker)
    assert (message.urgency, message.essential, message.status) == (Urgency.URGENT, True, SmsStatus.QUEUED)
    assert message.send_after <= timezone.now()


def test_at_most_the_hourly_number_of_codes_per_number():
    limit = settings.SMS_CODES_PER_HOUR
    assert limit >= 1

    for _ in range(limit + 1):
        assert sms.signin_code_request(mobile=MOBILE) is None  # the extra one raises nothing

    assert SignInCode.objects.filter(mobile=MOBILE).count() == limit
    assert OutboundSms.objects.filter(to=MOBILE).count() == limit

    sms.signin_code_request(mobile=UNKNOWN)  # another number is not limited by this one
    assert OutboundSms.objects.filter(to=UNKNOWN).count() == 1


def test_the_limit_is_per_hour():
    for _ in range(settings.SMS_CODES_PER_HOUR):
        sms.signin_code_request(mobile=MOBILE)
    an_hour_ago = timezone.now() - timedelta(hours=1, minutes=1)
    SignInCode.objects.update(created_at=an_hour_ago, expires_at=an_hour_ago + timedelta(minutes=5))

    sms.signin_code_request(mobile=MOBILE)

    assert OutboundSms.objects.filter(to=MOBILE).count() == settings.SMS_CODES_PER_HOUR + 1


def test_an_invalid_number_is_refused():
    with pytest.raises(InvalidInput):
        sms.signin_code_request(mobile="12345")
    assert not SignInCode.objects.exists()
    assert not OutboundSms.objects.exists()


# --- signin_code_verify ------------------------------------------------------------------------


def test_the_right_code_works_once():
    sms.signin_code_request(mobile=MOBILE)
    code = code_sent_to(MOBILE)

    assert sms.signin_code_verify(mobile="13800000001", code=f" {code} ") == MOBILE
    assert SignInCode.objects.get().used_at is not None

    with pytest.raises(InvalidInput):
        sms.signin_code_verify(mobile=MOBILE, code=code)


def test_a_code_for_one_number_does_not_work_for_another():
    sms.signin_code_request(mobile=MOBILE)
    with pytest.raises(InvalidInput):
        sms.signin_code_verify(mobile=UNKNOWN, code=code_sent_to(MOBILE))


def test_a_wrong_code_counts_an_attempt():
    sms.signin_code_request(mobile=MOBILE)
    code = code_sent_to(MOBILE)

    for attempt in (1, 2):
        with pytest.raises(InvalidInput):
            sms.signin_code_verify(mobile=MOBILE, code=other_than(code))
        assert SignInCode.objects.get().attempts == attempt

    assert sms.signin_code_verify(mobile=MOBILE, code=code) == MOBILE


def test_after_four_wrong_tries_the_right_code_still_works():
    sms.signin_code_request(mobile=MOBILE)
    code = code_sent_to(MOBILE)
    for _ in range(sms.CODE_MAX_ATTEMPTS - 1):
        with pytest.raises(InvalidInput):
            sms.signin_code_verify(mobile=MOBILE, code=other_than(code))

    assert sms.signin_code_verify(mobile=MOBILE, code=code) == MOBILE


def test_after_five_wrong_tries_even_the_right_code_fails():
    assert sms.CODE_MAX_ATTEMPTS == 5
    sms.signin_code_request(mobile=MOBILE)
    code = code_sent_to(MOBILE)
    for _ in range(5):
        with pytest.raises(InvalidInput):
            sms.signin_code_verify(mobile=MOBILE, code=other_than(code))

    with pytest.raises(InvalidInput):
        sms.signin_code_verify(mobile=MOBILE, code=code)

    row = SignInCode.objects.get()
    assert (row.attempts, row.used_at) == (5, None)


def test_an_expired_code_fails():
    sms.signin_code_request(mobile=MOBILE)
    code = code_sent_to(MOBILE)
    SignInCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(InvalidInput):
        sms.signin_code_verify(mobile=MOBILE, code=code)
    assert SignInCode.objects.get().used_at is None


# --- the pages ---------------------------------------------------------------------------------


def browser() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def text(response) -> str:
    return unescape(response.content.decode())


def signed_in_user_id(client: Client):
    return client.session.get("_auth_user_id")


def ask_code(client: Client, mobile: str):
    return client.post("/signin/", {"mobile": mobile})


def test_registered_and_unregistered_numbers_get_the_same_answer(worker):
    registered = ask_code(browser(), "13800000001")
    unregistered = ask_code(browser(), "13900000002")

    assert registered.status_code == unregistered.status_code == 302
    assert registered["Location"] == unregistered["Location"] == "/signin/code/"
    assert registered.content == unregistered.content
    assert OutboundSms.objects.filter(template="signin_code").count() == 2  # both get a code


def test_an_invalid_mobile_shows_an_error_and_keeps_the_value():
    client = browser()

    response = ask_code(client, "12345abc")

    assert response.status_code == 200
    html = text(response)
    assert "Enter a valid mainland China mobile number" in html
    assert 'value="12345abc"' in html
    assert not OutboundSms.objects.exists()
    assert client.get("/signin/code/")["Location"] == "/signin/"


def test_the_code_page_signs_a_registered_worker_in(worker):
    client = browser()
    assert client.get("/requests/").status_code == 302  # not signed in yet

    ask_code(client, "13800000001")
    response = client.post("/signin/code/", {"code": code_sent_to(MOBILE)})

    assert response.status_code == 302
    assert str(signed_in_user_id(client)) == str(worker.user.pk)
    assert client.get("/requests/").status_code == 200
    assert Worker.objects.count() == 1


def test_a_wrong_code_shows_an_error_and_keeps_the_user_on_the_page(worker):
    client = browser()
    ask_code(client, "13800000001")

    response = client.post("/signin/code/", {"code": other_than(code_sent_to(MOBILE))})

    assert response.status_code == 200
    assert "The code is wrong or has expired" in text(response)
    assert signed_in_user_id(client) is None
    assert SignInCode.objects.get().attempts == 1
    assert client.get("/requests/").status_code == 302


def test_a_malformed_code_is_refused_by_the_form(worker):
    client = browser()
    ask_code(client, "13800000001")

    response = client.post("/signin/code/", {"code": "12ab"})

    assert response.status_code == 200
    assert "Enter the 6 digits of the code." in text(response)
    assert SignInCode.objects.get().attempts == 0


def test_an_unknown_number_registers_and_is_signed_in_as_a_new_worker():
    client = browser()
    ask_code(client, "13900000002")

    response = client.post("/signin/code/", {"code": code_sent_to(UNKNOWN)})

    assert response.status_code == 302
    assert response["Location"] == "/signin/register/"
    assert signed_in_user_id(client) is None
    assert client.get("/signin/register/").status_code == 200

    response = client.post("/signin/register/", {"name": "王芳", "national_id": ID_NUMBER})

    assert response.status_code == 302
    worker = Worker.objects.get(mobile=UNKNOWN)
    assert worker.name == "王芳"
    assert worker.user.has_role(Role.WORKER)
    assert str(signed_in_user_id(client)) == str(worker.user.pk)
    assert client.get("/requests/").status_code == 200


def test_registering_with_an_invalid_id_keeps_the_user_on_the_form():
    client = browser()
    ask_code(client, "13900000002")
    client.post("/signin/code/", {"code": code_sent_to(UNKNOWN)})

    response = client.post("/signin/register/", {"name": "王芳", "national_id": "110105194912310021"})

    assert response.status_code == 200
    assert not Worker.objects.filter(mobile=UNKNOWN).exists()
    assert signed_in_user_id(client) is None


def test_register_without_a_verified_number_goes_back_to_signin():
    client = browser()
    ask_code(client, "13900000002")  # asked for a code, but never entered it

    assert client.get("/signin/register/")["Location"] == "/signin/"
    response = client.post("/signin/register/", {"name": "王芳", "national_id": ID_NUMBER})
    assert response.status_code == 302
    assert response["Location"] == "/signin/"
    assert not Worker.objects.exists()


def test_the_code_page_without_a_number_goes_back_to_signin():
    assert browser().get("/signin/code/")["Location"] == "/signin/"


@pytest.mark.django_db
def test_one_address_cannot_send_codes_to_many_numbers(settings):
    settings.SMS_CODES_PER_IP_PER_HOUR = 3
    for i in range(5):
        sms.signin_code_request(mobile=f"+86137{i:08d}", client_ip="203.0.113.9")
    assert SignInCode.objects.count() == 3
    sms.signin_code_request(mobile="+8613700000009", client_ip="203.0.113.10")
    assert SignInCode.objects.count() == 4
