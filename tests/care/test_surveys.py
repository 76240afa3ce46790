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
from care.errors import InvalidInput, InvalidState
from care.models import AuditEvent, OutboundSms, Survey
from care.roles import Role
from care.selectors import MIN_GROUP_SIZE
from counseling import services as counseling_services
from tests.counseling.helpers import NOW, at, book, consenting_worker, counselor, freeze
from tests.factories import CaseFactory, WorkerFactory, staff

pytestmark = pytest.mark.django_db

COMMENT = "咨询师很耐心-SURVEY-SECRET-3307"
THANKS = "your rating is recorded"
ALREADY = "This survey has already been answered. Thank you!"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def invite(case) -> Survey:
    with transaction.atomic():
        return surveys.survey_invite(case=case, actor=None)


def invitations() -> list[OutboundSms]:
    return list(OutboundSms.objects.filter(template="survey_invite").order_by("pk"))


def token_of(message: OutboundSms) -> str:
    return re.search(r"/rate/([A-Za-z0-9_-]+)/", message.body).group(1)


@pytest.fixture
def sent():
    """A legal case of an English-speaking worker, its survey and the token of its SMS link."""
    case = CaseFactory(worker=WorkerFactory(user__language="en"))
    survey = invite(case)
    [message] = invitations()
    return survey, token_of(message)


def page(token: str, data=None, client=None):
    client = client or Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = f"/rate/{token}/"
    return client.post(url, data) if data is not None else client.get(url)


def text(response) -> str:
    return unescape(response.content.decode())


def fresh(survey) -> Survey:
    return Survey.objects.get(pk=survey.pk)


def all_rows() -> str:
    """Every value of every table, as the database holds it."""
    contents = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            contents.append(repr(cursor.fetchall()))
    return "\n".join(contents)


# --- the invitation ------------------------------------------------------------------------------


def test_one_sms_with_a_personal_link_and_only_its_hash_stored(sent):
    survey, token = sent
    [message] = invitations()
    assert message.worker_id == survey.case.worker_id and survey.case.reference in message.body
    assert f"{settings.SITE_URL}/rate/{token}/" in message.body
    assert surveys.TOKEN_RE.fullmatch(token)
    assert sms.contains_sensitive_word(message.body) is None
    assert "legal" not in message.body.lower()
    assert survey.token_hash == hashlib.sha256(token.encode()).hexdigest()
    # Not in any table as the database holds it (the outbox body is sealed; the model reads it).
    assert token not in all_rows()
    assert survey.token_hash in all_rows()
    assert AuditEvent.objects.filter(event_type=surveys.SURVEY_SENT, subject_id=str(survey.pk)).count() == 1


def test_a_case_is_asked_once(sent):
    survey, _token = sent
    assert invite(survey.case).pk == survey.pk
    assert Survey.objects.count() == 1 and len(invitations()) == 1
    assert AuditEvent.objects.filter(event_type=surveys.SURVEY_SENT).count() == 1


def test_two_cases_get_two_different_links():
    invite(CaseFactory())
    invite(CaseFactory())
    first, second = invitations()
    assert token_of(first) != token_of(second)
    assert Survey.objects.values("token_hash").distinct().count() == 2


def test_the_sms_is_in_the_workers_language():
    invite(CaseFactory(worker=WorkerFactory(user__language="zh-hans")))
    [message] = invitations()
    assert message.body.startswith("【职工服务中心】") and "/rate/" in message.body
    assert sms.contains_sensitive_word(message.body) is None


def test_the_invitation_belongs_to_the_transaction_of_the_delivery():
    case = CaseFactory()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        surveys.survey_invite(case=case, actor=None)
        1 / 0  # the delivery fails: no survey, no SMS
    assert not Survey.objects.exists() and not invitations()


# --- the page ------------------------------------------------------------------------------------


def test_the_worker_rates_once_without_signing_in(sent):
    survey, token = sent
    response = page(token)
    assert response.status_code == 200
    form = text(response)
    assert "How was our service?" in form and survey.case.reference in form
    assert form.count('name="rating"') == 5 and 'name="comment"' in form
    answered = page(token, {"rating": "4", "comment": f"  {COMMENT}  "})
    assert answered.status_code == 302 and answered.url == f"/rate/{token}/"
    survey = fresh(survey)
    assert (survey.rating, survey.comment) == (4, COMMENT) and survey.answered_at is not None
    thanks = text(page(token))
    assert THANKS in thanks and 'name="rating"' not in thanks
    [event] = AuditEvent.objects.filter(event_type=surveys.SURVEY_ANSWERED)
    assert event.new == {"case": survey.case_id, "rating": 4, "comment_given": True, "call_back": False}
    assert COMMENT not in str(event.new)


def test_the_form_works_with_csrf_checks_and_no_account(sent):
    survey, token = sent
    client = Client(enforce_csrf_checks=True)
    form = text(page(token, client=client))
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    assert page(token, {"rating": "5"}, client=client).status_code == 403  # no token: refused
    assert fresh(survey).answered_at is None
    response = page(token, {"rating": "5", "csrfmiddlewaretoken": csrf}, client=client)
    assert response.status_code == 302 and fresh(survey).rating == 5
    assert "_auth_user_id" not in client.session


def test_a_second_answer_is_refused_and_changes_nothing(sent):
    survey, token = sent
    page(token, {"rating": "2", "comment": "first"})
    before = fresh(survey)
    again = page(token, {"rating": "5", "comment": "second"})
    assert again.status_code == 200
    body = text(again)
    assert ALREADY in body and THANKS not in body and 'name="rating"' not in body
    after = fresh(survey)
    assert (after.rating, after.comment, after.answered_at) == (2, "first", before.answered_at)
    with pytest.raises(InvalidState) as refused:
        surveys.survey_answer(token=token, rating=5)
    assert str(refused.value.message) == ALREADY
    assert AuditEvent.objects.filter(event_type=surveys.SURVEY_ANSWERED).count() == 1


def test_an_answer_from_another_tab_is_not_offered_the_form_again(sent, monkeypatch):
    """The page was opened, the survey answered elsewhere, then this form sent: refused, no form."""
    survey, token = sent
    real = surveys.survey_for_token

    def opened_before_the_answer(value):
        found = real(value)
        if found.answered_at is None:  # the other tab's answer lands now
            Survey.objects.filter(pk=found.pk).update(rating=3, answered_at=timezone.now())
        return found

    monkeypatch.setattr(surveys, "survey_for_token", opened_before_the_answer)
    body = text(page(token, {"rating": "5", "comment": "late"}))
    assert ALREADY in body and 'name="rating"' not in body
    assert (fresh(survey).rating, fresh(survey).comment) == (3, "")


@pytest.mark.parametrize("rating", ["0", "6", "x", "", "4.5", None])
def test_a_bad_rating_is_refused_and_keeps_the_comment(sent, rating):
    survey, token = sent
    data = {"comment": COMMENT} if rating is None else {"rating": rating, "comment": COMMENT}
    response = page(token, data)
    assert response.status_code == 200
    body = text(response)
    assert "Choose a rating from 1 to 5." in body and f">{COMMENT}</textarea>" in body
    assert " checked" not in body
    survey = fresh(survey)
    assert (survey.answered_at, survey.rating, survey.comment) == (None, None, "")
    assert not AuditEvent.objects.filter(event_type=surveys.SURVEY_ANSWERED).exists()


def test_the_service_refuses_a_bad_rating():
    survey = invite(CaseFactory())
    token = token_of(invitations()[0])
    for rating in (0, 6, -1, "x", "", " ", None, "3.5", "1e0"):
        with pytest.raises(InvalidInput):
            surveys.survey_answer(token=token, rating=rating)
    assert fresh(survey).answered_at is None
    assert surveys.survey_answer(token=token, rating="1").rating == 1


def test_an_overlong_comment_is_refused_and_kept(sent):
    survey, token = sent
    long = "好" * (surveys.COMMENT_MAX + 1)
    body = text(page(token, {"rating": "3", "comment": long}))
    assert f"at most {surveys.COMMENT_MAX} characters" in body and f">{long}</textarea>" in body
    assert 'value="3" required checked' in body
    assert fresh(survey).answered_at is None


def test_a_comment_of_the_maximum_length_is_taken(sent):
    survey, token = sent
    longest = "好" * surveys.COMMENT_MAX
    assert page(token, {"rating": "3", "comment": f" {longest} "}).status_code == 302
    assert fresh(survey).comment == longest


def test_the_refusal_is_in_chinese_by_default(sent):
    _survey, token = sent
    client = Client()  # no language cookie: the hall's default
    with translation.override("zh-hans"):
        body = unescape(client.post(f"/rate/{token}/", {"rating": "9"}).content.decode())
    assert "请选择1到5分的评分。" in body


def test_an_unknown_or_a_malformed_link_is_404(sent):
    survey, token = sent
    assert page("A" * 43).status_code == 404
    assert page("A" * 43, {"rating": "5"}).status_code == 404
    assert page("not-a-token").status_code == 404
    assert page(token[:-1]).status_code == 404
    assert page(survey.token_hash).status_code == 404  # the stored hash is no key
    assert fresh(survey).answered_at is None


def test_the_link_works_for_valid_days_then_is_404(monkeypatch):
    clock = freeze(monkeypatch)
    first, second = invite(CaseFactory()), invite(CaseFactory())
    early, late = (token_of(m) for m in invitations())
    assert first.sent_at == NOW
    clock.set(NOW + datetime.timedelta(days=surveys.VALID_DAYS) - datetime.timedelta(minutes=1))
    assert page(early).status_code == 200
    assert page(early, {"rating": "5"}).status_code == 302
    clock.set(NOW + datetime.timedelta(days=surveys.VALID_DAYS, minutes=1))
    assert page(late).status_code == 404
    assert page(late, {"rating": "5"}).status_code == 404
    with pytest.raises(Exception) as refused:
        surveys.survey_answer(token=late, rating=5)
    assert refused.type.__name__ == "Http404"
    assert fresh(second).answered_at is None
    expired = Client().get(f"/rate/{late}/")  # no language chosen: Chinese, and what to do next
    assert expired.status_code == 404 and "短信中的链接仅在限定时间内有效" in unescape(expired.content.decode())
    assert "If yours has expired" not in text(page(late)) and "if yours has expired" in text(page(late))
    # An answered survey still thanks its worker after the link expired.
    assert THANKS in text(page(early))


def test_the_comment_is_encrypted_at_rest(sent):
    survey, token = sent
    page(token, {"rating": "5", "comment": COMMENT})
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT comment FROM {connection.ops.quote_name(Survey._meta.db_table)}")
        [(stored,)] = cursor.fetchall()
    assert stored.startswith("enc1:") and COMMENT not in stored and "SURVEY-SECRET" not in stored
    assert "SURVEY-SECRET" not in all_rows()
    assert fresh(survey).comment == COMMENT  # the model reads it back


# --- the figures ---------------------------------------------------------------------------------


def answered(department: str, ratings: list[int], when=None) -> None:
    for rating in ratings:
        survey = invite(CaseFactory(department=department))
        Survey.objects.filter(pk=survey.pk).update(rating=rating, comment=COMMENT,
                                                   answered_at=when or timezone.now())


def rows(**window) -> dict:
    return {row["label"]: row for row in surveys.satisfaction_by_department(**window)}


def test_a_department_under_five_answers_is_hidden_and_the_hall_adds_up():
    assert MIN_GROUP_SIZE == 5
    answered("legal", [5, 4, 4, 3, 5])
    answered("claims", [1, 2, 2, 1])
    invite(CaseFactory(department="claims"))  # sent, not answered
    figures = rows()
    legal, claims, hall = figures["Legal aid"], figures["Mutual-insurance claims"], figures["Whole hall"]
    assert (legal["sent"], legal["answers"], legal["average"], legal["distribution"]) == (5, 5, 4.2, [0, 0, 1, 2, 2])
    assert (claims["sent"], claims["answers"], claims["average"], claims["distribution"]) == (5, None, None, None)
    # the hall less legal aid would give claims back: the hall's answers are hidden too
    assert (hall["sent"], hall["answers"], hall["average"], hall["distribution"]) == (10, None, None, None)
    assert list(figures)[-1] == "Whole hall"
    counseling = figures["Psychological counseling"]  # no surveys: zeros, nothing to hide
    assert (counseling["sent"], counseling["answers"], counseling["average"], counseling["distribution"]) == (
        0, 0, None, [0, 0, 0, 0, 0])


def test_the_hall_adds_up_when_what_is_hidden_is_a_group_large_enough():
    answered("legal", [5, 4, 4, 3, 5])
    answered("claims", [1, 2, 2])
    answered("counseling", [4, 4])
    figures = rows()
    assert figures["Mutual-insurance claims"]["answers"] is None
    assert figures["Psychological counseling"]["answers"] is None
    hall = figures["Whole hall"]  # five hidden answers, in two departments: nobody's back
    assert (hall["answers"], hall["average"], hall["distribution"]) == (10, 3.4, [1, 2, 1, 4, 2])


def test_the_fifth_answer_shows_the_department():
    answered("claims", [2, 2, 2, 2])
    assert rows()["Mutual-insurance claims"]["answers"] is None
    answered("claims", [4])
    claims = rows()["Mutual-insurance claims"]
    assert (claims["answers"], claims["average"], claims["distribution"]) == (5, 2.4, [0, 4, 0, 1, 0])


def test_the_window_counts_answers_in_it_only():
    answered("legal", [5] * 5, when=timezone.now() - datetime.timedelta(days=10))
    answered("legal", [1] * 5)
    now = timezone.now()
    assert rows()["Legal aid"]["answers"] == 10
    recent = rows(since=now - datetime.timedelta(days=1))["Legal aid"]
    assert (recent["answers"], recent["average"]) == (5, 1)
    older = rows(until=now - datetime.timedelta(days=1))["Legal aid"]
    assert (older["answers"], older["average"]) == (5, 5)
    assert surveys.satisfaction_by_department(since=now + datetime.timedelta(days=1))[-1]["answers"] == 0


def satisfaction_rows(body: str) -> dict[str, list[str]]:
    table = body.split('id="satisfaction-table"', 1)[1].split("</table>", 1)[0]
    cells = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S):
        values = [v.strip() for v in re.findall(r"<td>(.*?)</td>", row, flags=re.S)]
        if values:
            cells[values[0]] = values[1:]
    return cells


def test_the_manager_sees_the_figures_never_a_comment():
    answered("legal", [5, 5, 4, 4, 2])
    answered("claims", [5, 5])
    manager = Client()
    manager.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    manager.force_login(staff(Role.CENTER_MANAGER))
    response = manager.get("/figures/")
    assert response.status_code == 200
    body = text(response)
    table = satisfaction_rows(body)
    assert table["Legal aid"] == ["5", "5", "4.0", "0", "1", "0", "2", "2"]
    assert table["Mutual-insurance claims"] == ["2", "<5", "–", "–", "–", "–", "–", "–"]
    assert table["Whole hall"] == ["7", "–", "–", "–", "–", "–", "–", "–"]  # 7 less legal aid's 5: claims
    assert COMMENT not in body and "SURVEY-SECRET" not in body and "咨询师" not in body


@pytest.mark.parametrize("role", [Role.WORKER, Role.FRONT_DESK, Role.LEGAL_OFFICER, Role.COUNSELOR,
                                  Role.CLAIMS_OFFICER, Role.MATCHMAKER])
def test_other_roles_cannot_see_the_figures(role):
    answered("legal", [5] * 5)
    other = Client()
    other.force_login(WorkerFactory().user if role == Role.WORKER else staff(role, "legal"))
    response = other.get("/figures/")
    assert response.status_code == 403
    assert "Whole hall" not in text(response)


def test_anonymous_is_sent_to_sign_in_for_the_figures():
    response = Client().get("/figures/")
    assert response.status_code == 302 and "/figures/" in response.url and "login" in response.url


# --- sent when a service is delivered --------------------------------------------------------------


def held(monkeypatch, last: str):
    clock = freeze(monkeypatch)
    worker, who = consenting_worker(user__language="en"), counselor()
    appointment = book(worker=worker, counselor=who, starts_at=at(0, 10))
    for transition, when in (("confirm", at(0, 9)), ("check_in", at(0, 9, 55)), (last, at(0, 10, 50))):
        clock.set(when)
        assert not Survey.objects.exists()  # not before the session was held
        counseling_services.appointment_transition(appointment=appointment, actor=who, transition=transition)
    return worker, who, appointment


@pytest.mark.parametrize("last", ["complete", "refer"])
def test_a_held_counseling_appointment_asks_for_a_rating(monkeypatch, last):
    worker, who, appointment = held(monkeypatch, last)
    [survey] = Survey.objects.all()
    assert survey.case_id == appointment.case_id and survey.department == "counseling"
    [message] = OutboundSms.objects.filter(template="survey_invite", worker=worker)
    assert "/counseling/" not in message.body and sms.contains_sensitive_word(message.body) is None
    assert AuditEvent.objects.get(event_type=surveys.SURVEY_SENT).actor_id == who.pk
    form = page(token_of(message))
    assert form.status_code == 200
    assert sms.contains_sensitive_word(text(form)) is None  # the page names no service either
    assert page(token_of(message), {"rating": "5"}).status_code == 302
    assert rows()["Whole hall"]["sent"] == 1


def test_a_missed_appointment_asks_nothing(monkeypatch):
    clock = freeze(monkeypatch)
    worker, who = consenting_worker(), counselor()
    appointment = book(worker=worker, counselor=who, starts_at=at(0, 10))
    counseling_services.appointment_transition(appointment=appointment, actor=who, transition="confirm")
    clock.set(at(0, 10, 30))
    counseling_services.appointment_transition(appointment=appointment, actor=who, transition="no_show")
    assert not Survey.objects.exists() and not invitations()


def test_a_case_that_ends_with_the_service_given_asks_for_a_rating_once():
    from care.claims import services as claims
    from tests.care.claims.helpers import file_claim, invoice

    officer = staff(Role.CLAIMS_OFFICER, "claims")
    claim = claims.claim_transition(claim=file_claim(invoices=[invoice("ISO0000031", "2800.00")]), actor=officer,
                                    transition="start_review")
    claims.claim_transition(claim=claim, actor=officer, transition="approve")
    assert not Survey.objects.exists()  # approved is not yet delivered
    claims.batch_mark_paid(batch=claims.batch_create(actor=officer), actor=officer)
    [survey] = Survey.objects.all()
    assert survey.case_id == claim.case_id and survey.department == "claims"
    assert [m.template for m in invitations()] == ["survey_invite"]
