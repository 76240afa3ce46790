"""Satisfaction surveys: one SMS link per finished case, answered once without signing in, the
token kept only as a hash and the comment encrypted; the figures show counts and averages per
department, never a group under five answers, never a comment."""

import datetime
import hashlib
import re
from html import unescape

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone, translation

from care import sms, surveys
from care.models import AuditEvent, OutboundSms, Survey
from care.roles import Role
from counseling import services as counseling_services
from tests.counseling.helpers import at, book, consenting_worker, counselor, freeze
from tests.factories import CaseFactory, WorkerFactory, staff

pytestmark = pytest.mark.django_db

COMMENT = "咨询师很耐心-SURVEY-SECRET-3307"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def invite(case) -> Survey:
    with transaction.atomic():
        return surveys.survey_invite(case=case, actor=None)


def token_of(message: OutboundSms) -> str:
    return re.search(r"/rate/([A-Za-z0-9_-]+)/", message.body).group(1)


@pytest.fixture
def sent():
    """A legal case of an English-speaking worker, its survey and the token of its SMS link."""
    case = CaseFactory(worker=WorkerFactory(user__language="en"))
    survey = invite(case)
    [message] = OutboundSms.objects.filter(template="survey_invite")
    return survey, token_of(message)


def page(token: str, data=None):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = f"/rate/{token}/"
    return client.post(url, data) if data is not None else client.get(url)


def text(response) -> str:
    return unescape(response.content.decode())


def fresh(survey) -> Survey:
    return Survey.objects.get(pk=survey.pk)


# --- the invitation ------------------------------------------------------------------------------


def test_one_sms_with_a_personal_link_and_only_its_hash_stored(sent):
    survey, token = sent
    [message] = OutboundSms.objects.filter(template="survey_invite")
    assert message.worker_id == survey.case.worker_id and survey.case.reference in message.body
    assert sms.contains_sensitive_word(message.body) is None
    assert survey.token_hash == hashlib.sha256(token.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(Survey._meta.db_table)}")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert token not in stored
    assert AuditEvent.objects.filter(event_type=surveys.SURVEY_SENT, subject_id=str(survey.pk)).count() == 1


def test_a_case_is_asked_once(sent):
    survey, _token = sent
    assert invite(survey.case).pk == survey.pk
    assert Survey.objects.count() == 1 and OutboundSms.objects.filter(template="survey_invite").count() == 1


def test_the_sms_is_in_the_workers_language():
    invite(CaseFactory(worker=WorkerFactory(user__language="zh-hans")))
    [message] = OutboundSms.objects.filter(template="survey_invite")
    assert message.body.startswith("【职工服务中心】") and "/rate/" in message.body


# --- the page ------------------------------------------------------------------------------------


def test_the_worker_rates_once_without_signing_in(sent):
    survey, token = sent
    form = text(page(token))
    assert "How was our service?" in form and survey.case.reference in form and 'name="rating"' in form
    answered = page(token, {"rating": "4", "comment": f"  {COMMENT}  "})
    assert answered.status_code == 302
    survey = fresh(survey)
    assert (survey.rating, survey.comment) == (4, COMMENT) and survey.answered_at is not None
    thanks = text(page(token))
    assert "your rating is recorded" in thanks and 'name="rating"' not in thanks
    [event] = AuditEvent.objects.filter(event_type=surveys.SURVEY_ANSWERED)
    assert event.new == {"case": survey.case_id, "rating": 4, "comment_given": True}
    assert COMMENT not in str(event.new)


def test_a_second_answer_changes_nothing(sent):
    survey, token = sent
    page(token, {"rating": "2", "comment": "first"})
    again = page(token, {"rating": "5", "comment": "second"})
    assert again.status_code == 200 and "your rating is recorded" in text(again)
    assert (fresh(survey).rating, fresh(survey).comment) == (2, "first")
    with pytest.raises(Exception) as refused:
        surveys.survey_answer(token=token, rating=5)
    assert "already been answered" in str(refused.value)
    assert AuditEvent.objects.filter(event_type=surveys.SURVEY_ANSWERED).count() == 1


@pytest.mark.parametrize("rating", ["0", "6", "x", "", None])
def test_a_bad_rating_is_refused_and_keeps_the_comment(sent, rating):
    survey, token = sent
    data = {"comment": COMMENT} if rating is None else {"rating": rating, "comment": COMMENT}
    response = page(token, data)
    assert response.status_code == 200
    body = text(response)
    assert "Choose a rating from 1 to 5." in body and COMMENT in body
    assert fresh(survey).answered_at is None and fresh(survey).rating is None


def test_an_overlong_comment_is_refused_and_kept(sent):
    survey, token = sent
    long = "好" * (surveys.COMMENT_MAX + 1)
    body = text(page(token, {"rating": "3", "comment": long}))
    assert f"at most {surveys.COMMENT_MAX} characters" in body and long in body and 'value="3" required checked' in body
    assert fresh(survey).answered_at is None


def test_the_refusal_is_in_chinese_by_default(sent):
    _survey, token = sent
    client = Client()  # no language cookie: the hall's default
    with translation.override("zh-hans"):
        body = unescape(client.post(f"/rate/{token}/", {"rating": "9"}).content.decode())
    assert "请选择1到5分的评分。" in body


def test_an_unknown_a_malformed_or_an_expired_link_is_404(sent):
    survey, token = sent
    assert page("A" * 43).status_code == 404
    assert page("not-a-token").status_code == 404
    Survey.objects.filter(pk=survey.pk).update(sent_at=timezone.now() - datetime.timedelta(days=surveys.VALID_DAYS,
                                                                                          minutes=1))
    assert page(token).status_code == 404
    assert page(token, {"rating": "5"}).status_code == 404
    assert fresh(survey).answered_at is None


def test_an_answered_survey_still_thanks_after_the_link_expired(sent):
    survey, token = sent
    page(token, {"rating": "5"})
    Survey.objects.filter(pk=survey.pk).update(sent_at=timezone.now() - datetime.timedelta(days=60))
    assert "your rating is recorded" in text(page(token))


def test_the_comment_is_encrypted_at_rest(sent):
    _survey, token = sent
    page(token, {"rating": "5", "comment": COMMENT})
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT comment FROM {connection.ops.quote_name(Survey._meta.db_table)}")
        [(stored,)] = cursor.fetchall()
    assert COMMENT not in stored and "SURVEY-SECRET" not in stored and stored.startswith("enc1:")


# --- the figures ---------------------------------------------------------------------------------


def answered(department: str, ratings: list[int]) -> None:
    for rating in ratings:
        survey = invite(CaseFactory(department=department))
        Survey.objects.filter(pk=survey.pk).update(rating=rating, comment=COMMENT, answered_at=timezone.now())


def rows() -> dict:
    return {row["label"]: row for row in surveys.satisfaction_by_department()}


def test_a_department_under_five_answers_is_hidden_and_the_hall_adds_up():
    answered("legal", [5, 4, 4, 3, 5])
    answered("claims", [1, 2])
    invite(CaseFactory(department="claims"))  # sent, not answered
    figures = rows()
    legal, claims, hall = figures["Legal aid"], figures["Mutual-insurance claims"], figures["Whole hall"]
    assert (legal["sent"], legal["answers"], legal["average"], legal["distribution"]) == (5, 5, 4.2, [0, 0, 1, 2, 2])
    assert (claims["sent"], claims["answers"], claims["average"], claims["distribution"]) == (3, None, None, None)
    assert (hall["sent"], hall["answers"], hall["average"]) == (8, 7, round(24 / 7, 2))
    assert list(figures)[-1] == "Whole hall"


def test_the_window_counts_answers_in_it_only():
    answered("legal", [5] * 5)
    later = timezone.now() + datetime.timedelta(days=1)
    assert rows()["Legal aid"]["answers"] == 5
    assert surveys.satisfaction_by_department(since=later)[-1]["answers"] == 0


def test_the_manager_sees_the_figures_never_a_comment():
    answered("legal", [5, 5, 4, 4, 2])
    manager = Client()
    manager.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    manager.force_login(staff(Role.CENTER_MANAGER))
    body = text(manager.get("/figures/"))
    assert "Satisfaction" in body and "4.0" in body and "Whole hall" in body
    assert COMMENT not in body and "SURVEY-SECRET" not in body
    for user in (WorkerFactory().user, staff(Role.COUNSELOR, "counseling"), staff(Role.FRONT_DESK)):
        other = Client()
        other.force_login(user)
        assert other.get("/figures/").status_code in (403, 404)


# --- sent when a service is delivered --------------------------------------------------------------


def test_a_completed_counseling_appointment_asks_for_a_rating(monkeypatch):
    clock = freeze(monkeypatch)
    worker, who = consenting_worker(user__language="en"), counselor()
    appointment = book(worker=worker, counselor=who, starts_at=at(0, 10))
    for transition, when in (("confirm", at(0, 9)), ("check_in", at(0, 9, 55)), ("complete", at(0, 10, 50))):
        clock.set(when)
        assert not Survey.objects.exists()  # not before the session was held
        counseling_services.appointment_transition(appointment=appointment, actor=who, transition=transition)
    [survey] = Survey.objects.all()
    assert survey.case_id == appointment.case_id and survey.department == "counseling"
    [message] = OutboundSms.objects.filter(template="survey_invite", worker=worker)
    assert "/counseling/" not in message.body and sms.contains_sensitive_word(message.body) is None
    assert page(token_of(message)).status_code == 200
