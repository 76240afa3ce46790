"""Risk levels and the crisis alert: only the case's counselor flags; high alerts the on-call
counselor and the crisis contact at once (quiet hours or not) and puts the case at the top of
the queue until someone acknowledges it (any database)."""

import logging

import pytest
from django.urls import reverse
from django.utils import translation

from care import audit, sms
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import AuditEvent, Case, OutboundSms, Priority, Urgency
from care.roles import Role
from counseling import selectors, services
from counseling.models import RiskFlag, RiskLevel
from tests.counseling.helpers import at, book, consenting_worker, counselor, freeze
from tests.factories import CaseFactory, staff

pytestmark = pytest.mark.django_db

ON_CALL = "+8613900000001"
CONTACT = "+8613900000002"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _numbers(settings):
    settings.COUNSELING_ON_CALL_MOBILE = ON_CALL
    settings.COUNSELING_CRISIS_CONTACT_MOBILE = CONTACT


@pytest.fixture
def clock(monkeypatch):
    return freeze(monkeypatch)


@pytest.fixture
def case(clock):
    appointment = book(worker=consenting_worker(), counselor=counselor(), starts_at=at(1, 14))
    return Case.objects.get(pk=appointment.case_id)


def alerts() -> list[OutboundSms]:
    return list(OutboundSms.objects.filter(template="crisis_alert").order_by("to"))


def snapshot(case):
    return (RiskFlag.objects.count(), Case.objects.get(pk=case.pk).priority, OutboundSms.objects.count(),
            AuditEvent.objects.count())


def test_high_risk_alerts_both_numbers_at_once_even_in_quiet_hours(case, clock):
    clock.set(at(0, 23))  # 23:00: quiet hours (21:00–08:00) hold back normal SMS
    flag = services.risk_flag(case=case, actor=case.assignee, level=RiskLevel.HIGH)
    sent = alerts()
    assert [m.to for m in sent] == [ON_CALL, CONTACT]
    for message in sent:
        assert message.urgency == Urgency.URGENT
        assert message.send_after == at(0, 23)
        assert message.essential
        assert case.reference in message.body
        assert sms.link(reverse("care:case_detail", args=[case.pk])) in message.body
        assert case.worker.name not in message.body
        assert sms.contains_sensitive_word(message.body) is None
    assert flag.awaiting_acknowledgement
    assert Case.objects.get(pk=case.pk).priority == Priority.URGENT


def test_a_high_risk_case_goes_to_the_top_of_the_counselor_queue(case, clock):
    later = book(worker=consenting_worker(), counselor=case.assignee, starts_at=at(1, 16))
    queue = lambda: list(selectors.counselor_queue(user=case.assignee).values_list("pk", flat=True))  # noqa: E731
    assert queue() == [later.case_id, case.pk]  # newest first
    services.risk_flag(case=case, actor=case.assignee, level=RiskLevel.HIGH)
    assert queue() == [case.pk, later.case_id]
    services.risk_acknowledge(case=case, actor=case.assignee)
    assert queue() == [later.case_id, case.pk]
    assert list(selectors.counselor_queue(user=staff(Role.CENTER_MANAGER))) == []


def test_the_alert_template_never_names_the_service_in_any_language():
    text = sms.templates()["crisis_alert"].text
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert sms.contains_sensitive_word(str(text)) is None


def test_no_numbers_configured_no_sms_but_a_warning(case, settings, caplog):
    settings.COUNSELING_ON_CALL_MOBILE = ""
    del settings.COUNSELING_CRISIS_CONTACT_MOBILE
    with caplog.at_level(logging.WARNING, logger="counseling.services"):
        services.risk_flag(case=case, actor=case.assignee, level=RiskLevel.HIGH)
    assert alerts() == []
    assert "COUNSELING_ON_CALL_MOBILE" in caplog.text and "COUNSELING_CRISIS_CONTACT_MOBILE" in caplog.text
    assert Case.objects.get(pk=case.pk).priority == Priority.URGENT


def test_lower_levels_do_not_alert_or_raise_priority(case):
    for level in (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.NONE):
        services.risk_flag(case=case, actor=case.assignee, level=level)
        assert Case.objects.get(pk=case.pk).priority == Priority.NORMAL
    assert alerts() == []


def test_acknowledge_records_who_and_when_and_lowers_the_priority(case, clock):
    services.risk_flag(case=case, actor=case.assignee, level=RiskLevel.HIGH)
    on_call = counselor()
    assert list(selectors.risks_awaiting_acknowledgement(user=on_call).values_list("case_id", flat=True)) == [case.pk]
    clock.set(at(0, 9))
    flag = services.risk_acknowledge(case=case, actor=on_call)
    assert (flag.acknowledged_by, flag.acknowledged_at) == (on_call, at(0, 9))
    assert not flag.awaiting_acknowledgement and flag.level == RiskLevel.HIGH
    assert Case.objects.get(pk=case.pk).priority == Priority.NORMAL
    assert not selectors.risks_awaiting_acknowledgement(user=on_call).exists()
    before = AuditEvent.objects.count()
    assert services.risk_acknowledge(case=case, actor=case.assignee) == flag  # idempotent
    assert AuditEvent.objects.count() == before
    assert len(alerts()) == 2  # flagging again at the same level sends nothing new
    services.risk_flag(case=case, actor=case.assignee, level=RiskLevel.HIGH)
    assert len(alerts()) == 2


def test_priority_set_before_the_flag_comes_back(case):
    Case.objects.filter(pk=case.pk).update(priority=Priority.HIGH)
    services.risk_flag(case=case, actor=case.assignee, level=RiskLevel.HIGH)
    assert Case.objects.get(pk=case.pk).priority == Priority.URGENT
    services.risk_flag(case=case, actor=case.assignee, level=RiskLevel.MEDIUM)  # lowered, never acknowledged
    assert Case.objects.get(pk=case.pk).priority == Priority.HIGH
    services.risk_flag(case=case, actor=case.assignee, level=RiskLevel.HIGH)
    services.risk_acknowledge(case=case, actor=case.assignee)
    assert Case.objects.get(pk=case.pk).priority == Priority.HIGH
    assert len(alerts()) == 4  # each rise to high alerts


def test_nothing_to_acknowledge(case):
    with pytest.raises(InvalidState):
        services.risk_acknowledge(case=case, actor=case.assignee)
    services.risk_flag(case=case, actor=case.assignee, level=RiskLevel.LOW)
    with pytest.raises(InvalidState):
        services.risk_acknowledge(case=case, actor=case.assignee)


@pytest.mark.parametrize("who", ["other_counselor", "worker", "front_desk", "center_manager", "administrator",
                                 "legal_officer"])
def test_only_the_case_counselor_flags(case, who):
    actor = {
        "other_counselor": lambda: counselor(),
        "worker": lambda: case.worker.user,
        "front_desk": lambda: staff(Role.FRONT_DESK),
        "center_manager": lambda: staff(Role.CENTER_MANAGER),
        "administrator": lambda: staff(Role.ADMINISTRATOR),
        "legal_officer": lambda: staff(Role.LEGAL_OFFICER, "legal"),
    }[who]()
    before = snapshot(case)
    with pytest.raises(NotAllowed):
        services.risk_flag(case=case, actor=actor, level=RiskLevel.HIGH)
    assert snapshot(case) == before


@pytest.mark.parametrize("who", ["worker", "center_manager", "administrator", "legal_officer"])
def test_only_counselors_acknowledge(case, who):
    services.risk_flag(case=case, actor=case.assignee, level=RiskLevel.HIGH)
    actor = {"worker": lambda: case.worker.user, "center_manager": lambda: staff(Role.CENTER_MANAGER),
             "administrator": lambda: staff(Role.ADMINISTRATOR),
             "legal_officer": lambda: staff(Role.LEGAL_OFFICER, "legal")}[who]()
    before = snapshot(case)
    with pytest.raises(NotAllowed):
        services.risk_acknowledge(case=case, actor=actor)
    assert snapshot(case) == before
    assert selectors.risk_level(case=case, user=actor) is None


def test_a_case_of_another_department_cannot_be_flagged(clock):
    c = counselor()
    other = CaseFactory(department="legal", assignee=c)
    with pytest.raises(NotAllowed):
        services.risk_flag(case=other, actor=c, level=RiskLevel.HIGH)


def test_an_unknown_level_is_refused(case):
    with pytest.raises(InvalidInput):
        services.risk_flag(case=case, actor=case.assignee, level="extreme")


def test_every_change_is_audited_with_its_history(case):
    services.risk_flag(case=case, actor=case.assignee, level=RiskLevel.MEDIUM)
    services.risk_flag(case=case, actor=case.assignee, level=RiskLevel.HIGH)
    on_call = counselor()
    services.risk_acknowledge(case=case, actor=on_call)
    flag = RiskFlag.objects.get(case=case)
    events = list(audit.events_for(flag).order_by("seq"))
    assert [e.event_type for e in events] == ["counseling.risk_flagged", "counseling.risk_flagged",
                                              "counseling.risk_acknowledged"]
    assert [(e.old.get("level"), e.new.get("level")) for e in events[:2]] == [("none", "medium"), ("medium", "high")]
    assert events[1].new["priority"] == Priority.URGENT and events[2].actor == on_call
    assert events[2].new["priority"] == Priority.NORMAL
