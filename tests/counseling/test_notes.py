"""Session notes: encrypted, read by their author and by a supervisor the case's counselor
names for that one case while the grant lasts; never by anyone else. Every read, grant and
revocation is audited (any database)."""

import pytest
from django.contrib import admin
from django.db import connection
from django.utils import translation

from care import audit
from care.errors import InvalidInput, NotAllowed
from care.models import AuditEvent
from care.roles import Role
from counseling import selectors, services
from counseling.models import Note, SupervisionGrant
from tests.counseling.helpers import at, book, consenting_worker, counselor, freeze
from tests.factories import staff

pytestmark = pytest.mark.django_db

BODY = "来访者谈到工作压力和失眠，约定下周继续。"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def clock(monkeypatch):
    return freeze(monkeypatch)


@pytest.fixture
def appointment(clock):
    return book(worker=consenting_worker(), counselor=counselor(), starts_at=at(1, 14))


@pytest.fixture
def note(appointment):
    return services.note_add(appointment=appointment, actor=appointment.counselor, body=BODY)


def read(note_or_case, user) -> list[str]:
    case = note_or_case.case if isinstance(note_or_case, Note) else note_or_case
    return [n.body for n in selectors.notes_for(case=case, user=user)]


def views_of(case) -> list[AuditEvent]:
    return list(audit.events_for(case).filter(event_type="counseling.notes_viewed").order_by("seq"))


def test_the_author_reads_their_note(note, appointment):
    assert read(note, appointment.counselor) == [BODY]
    assert note.case_id == appointment.case_id and note.appointment == appointment


def test_the_body_is_encrypted_in_the_database(note):
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM counseling_note WHERE id = %s", [note.pk])
        (raw,) = cursor.fetchone()
    assert BODY not in raw and "失眠" not in raw
    assert Note.objects.get(pk=note.pk).body == BODY


@pytest.mark.parametrize("who", ["other_counselor", "center_manager", "administrator", "claims_officer", "worker",
                                 "front_desk"])
def test_nobody_else_reads_notes(note, appointment, who):
    user = {
        "other_counselor": lambda: counselor(),
        "center_manager": lambda: staff(Role.CENTER_MANAGER),
        "administrator": lambda: staff(Role.ADMINISTRATOR, is_staff=True, is_superuser=True),
        "claims_officer": lambda: staff(Role.CLAIMS_OFFICER, "claims"),
        "worker": lambda: appointment.case.worker.user,
        "front_desk": lambda: staff(Role.FRONT_DESK),
    }[who]()
    assert read(note, user) == []
    [event] = views_of(note.case)  # the attempt is on record too
    assert event.actor == user and event.new == {"notes": []}


def test_only_the_appointments_counselor_writes_a_note(appointment):
    for user in (counselor(), appointment.case.worker.user, staff(Role.CENTER_MANAGER)):
        with pytest.raises(NotAllowed):
            services.note_add(appointment=appointment, actor=user, body="x")
    with pytest.raises(InvalidInput):
        services.note_add(appointment=appointment, actor=appointment.counselor, body="   ")
    assert not Note.objects.exists()


def test_adding_a_note_is_audited_without_its_content(note):
    [event] = audit.events_for(note)
    assert event.event_type == "counseling.note_added" and BODY not in str(event.new)


def test_a_supervisor_reads_only_the_granted_case_and_only_while_granted(note, appointment, clock):
    supervisor = counselor()
    other = book(worker=consenting_worker(), counselor=appointment.counselor, starts_at=at(1, 16))
    services.note_add(appointment=other, actor=other.counselor, body="另一个案例")
    assert read(note, supervisor) == []

    grant = services.supervision_grant(case=note.case, supervisor=supervisor, actor=appointment.counselor)
    assert read(note, supervisor) == [BODY]
    assert read(other.case, supervisor) == []  # not granted

    assert services.supervision_revoke(case=note.case, supervisor=supervisor, actor=appointment.counselor) == grant
    assert read(note, supervisor) == []
    assert services.supervision_revoke(case=note.case, supervisor=supervisor, actor=appointment.counselor) is None


def test_the_supervisor_reads_notes_of_later_sessions_of_the_case_too(note, appointment):
    supervisor = counselor()
    services.supervision_grant(case=note.case, supervisor=supervisor, actor=appointment.counselor)
    services.note_add(appointment=appointment, actor=appointment.counselor, body="第二次")
    assert read(note, supervisor) == [BODY, "第二次"]


def test_granting_twice_keeps_one_grant(appointment):
    supervisor = counselor()
    first = services.supervision_grant(case=appointment.case, supervisor=supervisor, actor=appointment.counselor)
    again = services.supervision_grant(case=appointment.case, supervisor=supervisor, actor=appointment.counselor)
    assert first == again and SupervisionGrant.objects.count() == 1


def test_only_the_case_counselor_grants_and_only_to_a_counselor(appointment):
    supervisor = counselor()
    for actor in (supervisor, appointment.case.worker.user, staff(Role.CENTER_MANAGER),
                  staff(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)):
        with pytest.raises(NotAllowed):
            services.supervision_grant(case=appointment.case, supervisor=supervisor, actor=actor)
        with pytest.raises(NotAllowed):
            services.supervision_revoke(case=appointment.case, supervisor=supervisor, actor=actor)
    for not_a_counselor in (staff(Role.CENTER_MANAGER), staff(Role.LEGAL_OFFICER, "legal"), appointment.counselor):
        with pytest.raises(InvalidInput):
            services.supervision_grant(case=appointment.case, supervisor=not_a_counselor, actor=appointment.counselor)
    assert not SupervisionGrant.objects.exists()


def test_grants_revocations_and_every_read_are_audited(note, appointment):
    supervisor = counselor()
    services.supervision_grant(case=note.case, supervisor=supervisor, actor=appointment.counselor)
    read(note, appointment.counselor)
    read(note, supervisor)
    read(note, supervisor)
    services.supervision_revoke(case=note.case, supervisor=supervisor, actor=appointment.counselor)
    grant = SupervisionGrant.objects.get()
    assert [e.event_type for e in audit.events_for(grant).order_by("seq")] == [
        "counseling.supervision_granted", "counseling.supervision_revoked"]
    assert [(e.actor, e.new["notes"]) for e in views_of(note.case)] == [
        (appointment.counselor, [note.pk]), (supervisor, [note.pk]), (supervisor, [note.pk])]


def test_notes_and_grants_are_not_in_the_admin():
    assert not admin.site.is_registered(Note)
    assert not admin.site.is_registered(SupervisionGrant)
