"""Every write of the hall. Each follows one recipe: lock, check, change, audit, then side
effects after commit (shared/design/style.md)."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from care import audit, permissions, registry, sms, surveys
from care.audit import CareEvent
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import Case, Channel, ContactTime, ReferenceCounter, Stage, User, Worker
from care.realtime import push_after_commit, queue_group
from care.roles import Role
from care.validators import normalize_mobile, normalize_national_id

REFERENCE_PREFIX = "QD"
DESCRIPTION_MAX = 2000


def next_reference(*, prefix: str = REFERENCE_PREFIX) -> str:
    """The next reference for this year, e.g. QD-2026-000123.

    The counter row is locked by the UPDATE until the caller's transaction ends, so two
    requests can never get the same number; a rolled-back request gives its number back.
    """
    year = timezone.localdate().year
    with transaction.atomic():
        if not ReferenceCounter.objects.filter(prefix=prefix, year=year).update(last=F("last") + 1):
            try:
                with transaction.atomic():
                    ReferenceCounter.objects.create(prefix=prefix, year=year, last=1)
            except IntegrityError:  # another request made the row first
                ReferenceCounter.objects.filter(prefix=prefix, year=year).update(last=F("last") + 1)
        number = ReferenceCounter.objects.get(prefix=prefix, year=year).last
    return f"{prefix}-{year}-{number:06d}"


# --- people ------------------------------------------------------------------------------------


@transaction.atomic
def worker_register(
    *,
    actor,
    name: str,
    mobile: str,
    national_id: str,
    employer: str = "",
    membership_number: str = "",
    language: str = "",
) -> Worker:
    """Register a worker (online for themselves, or by the front desk for a walk-in).

    The worker gets an account without a password: workers sign in with an SMS code.
    """
    name = name.strip()
    if not name or len(name) > 50:
        raise InvalidInput(_("Enter the worker's name (at most 50 characters)."))
    mobile = normalize_mobile(mobile)
    national_id = normalize_national_id(national_id)
    index = Worker.index_for(national_id)
    if Worker.objects.filter(mobile=mobile).exists():
        raise InvalidInput(_("A worker with this mobile number is already registered."))
    if Worker.objects.filter(national_id_index=index).exists():
        raise InvalidInput(_("A worker with this ID number is already registered."))
    try:
        with transaction.atomic():  # a registration racing this one makes it fail cleanly
            user = User(username=f"w{mobile.lstrip('+')}", language=language or settings.LANGUAGE_CODE)
            user.set_unusable_password()
            user.save()
            user.groups.add(Group.objects.get(name=Role.WORKER))
            worker = Worker.objects.create(
                user=user,
                name=name,
                mobile=mobile,
                national_id=national_id,
                national_id_index=index,
                employer=employer.strip()[:120],
                membership_number=membership_number.strip()[:30],
            )
    except IntegrityError:
        raise InvalidInput(_("This worker is already registered.")) from None
    audit.record(actor=actor, event_type=CareEvent.WORKER_REGISTERED, subject=worker, new={"by": _role_of(actor)})
    return worker


@transaction.atomic
def workers_register_many(*, actor, people: list[dict], employer: str = "") -> list[Worker]:
    """Register many workers at once (an employer's union list): each ``{"name", "mobile",
    "national_id"}``, already checked by the caller. Written in bulk, with one audit event
    naming every new worker; InvalidInput if any of them got registered meanwhile."""
    if not people:
        return []
    group = Group.objects.get(name=Role.WORKER)
    users, workers = [], []
    for person in people:
        mobile, national_id = normalize_mobile(person["mobile"]), normalize_national_id(person["national_id"])
        user = User(username=f"w{mobile.lstrip('+')}", language=settings.LANGUAGE_CODE)
        user.set_unusable_password()
        users.append(user)
        workers.append(Worker(name=person["name"].strip()[:50], mobile=mobile, national_id=national_id,
                              national_id_index=Worker.index_for(national_id), employer=employer.strip()[:120]))
    try:
        with transaction.atomic():
            User.objects.bulk_create(users, batch_size=1000)
            User.groups.through.objects.bulk_create(
                [User.groups.through(user_id=u.pk, group_id=group.pk) for u in users], batch_size=1000)
            for user, worker in zip(users, workers, strict=True):
                worker.user_id = user.pk
            Worker.objects.bulk_create(workers, batch_size=1000)
    except IntegrityError:
        raise InvalidInput(_("Some of these workers were registered meanwhile: check the list again.")) from None
    audit.record(actor=actor, event_type=CareEvent.WORKER_REGISTERED, subject=workers[0],
                 new={"by": _role_of(actor), "workers": [w.pk for w in workers]})
    return workers


@transaction.atomic
def user_set_language(*, user, language: str) -> None:
    """The user's language: of their pages, and of the SMS they receive."""
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(_("Choose one of the offered languages."))
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language


def _role_of(actor) -> str:
    return ",".join(sorted(actor.roles)) if getattr(actor, "is_authenticated", False) else "self"


# --- intake ------------------------------------------------------------------------------------


@transaction.atomic
def request_file(
    *,
    actor,
    worker: Worker,
    department: str,
    description: str,
    preferred_contact_time: str = ContactTime.ANY,
    tell_worker: bool = True,
) -> Case:
    """File a request: a worker for themselves online, or the front desk for a walk-in.
    A department whose own SMS already gives the reference (an appointment) passes
    ``tell_worker=False``.

    It becomes a case in the department's queue with a fresh reference.
    """
    if actor.has_role(Role.WORKER) and worker.user_id == actor.pk:
        channel = Channel.ONLINE
    elif permissions.can_file_for_walk_in(actor):
        channel = Channel.FRONT_DESK
    else:
        raise NotAllowed()
    if department not in {d.code for d in registry.departments()}:
        raise InvalidInput(_("Choose one of the hall's services."))
    description = description.strip()
    if not description:
        raise InvalidInput(_("Describe briefly what you need help with."))
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(_("The description is too long (at most %(max)d characters).") % {"max": DESCRIPTION_MAX})
    if preferred_contact_time not in ContactTime.values:
        raise InvalidInput(_("Choose a preferred contact time from the list."))
    now = timezone.now()
    case = Case.objects.create(
        reference=next_reference(),
        worker=worker,
        department=department,
        channel=channel,
        description=description,
        preferred_contact_time=preferred_contact_time,
        filed_by=actor,
        opened_at=now,
        due_at=now + registry.department(department).response_time,
    )
    audit.record(
        actor=actor,
        event_type=CareEvent.CASE_FILED,
        subject=case,
        new={"stage": case.stage, "department": department, "channel": channel},
    )
    if tell_worker:
        _tell_worker(case, "request_received")
    push_after_commit(queue_group(department), {"event": "filed", "reference": case.reference})
    return case


def _tell_worker(case: Case, template: str) -> None:
    sms.notify(
        recipient=case.worker,
        template=template,
        context={"ref": case.reference, "link": sms.link(reverse("care:case_detail", args=[case.pk]))},
    )


# --- the case lifecycle ------------------------------------------------------------------------


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().select_related("worker").get(pk=case.pk)


def _refuse_if_department_file(case: Case) -> None:
    if registry.has_department_file(case):
        raise InvalidState(_("This request is handled in the service's file: close or withdraw it there."))


@transaction.atomic
def case_take_up(*, case: Case, actor) -> Case:
    """'Assign to me': the caseworker takes a case from the queue."""
    case = _locked(case)
    if case.assignee_id == actor.pk and case.stage == Stage.IN_PROGRESS:
        return case
    if not permissions.can_take_up(actor, case):
        raise NotAllowed(_("Someone else has already taken up this case, or it is not in your department."))
    if not case.is_open:
        raise InvalidState()
    old = {"stage": case.stage, "assignee": case.assignee_id}
    case.take_up(actor)
    case.save(update_fields=["stage", "assignee"])
    permissions.grant_case(case=case, user=actor)
    audit.record(
        actor=actor,
        event_type=CareEvent.CASE_TAKEN_UP,
        subject=case,
        old=old,
        new={"stage": case.stage, "assignee": actor.pk},
    )
    _tell_worker(case, "request_taken_up")
    push_after_commit(queue_group(case.department), {"event": "taken_up", "reference": case.reference})
    return case


@transaction.atomic
def case_close(*, case: Case, actor) -> Case:
    case = _locked(case)
    if not permissions.can_close(actor, case):
        raise NotAllowed()
    if case.stage == Stage.CLOSED:
        return case
    _refuse_if_department_file(case)
    if case.stage != Stage.IN_PROGRESS:
        raise InvalidState()
    old = {"stage": case.stage}
    case.close(timezone.now())
    case.save(update_fields=["stage", "closed_at"])
    audit.record(actor=actor, event_type=CareEvent.CASE_CLOSED, subject=case, old=old, new={"stage": case.stage})
    _tell_worker(case, "request_closed")
    surveys.survey_invite(case=case, actor=actor)  # how was the service? (the manager's figures)
    push_after_commit(queue_group(case.department), {"event": "closed", "reference": case.reference})
    return case


@transaction.atomic
def case_withdraw(*, case: Case, actor) -> Case:
    """The worker withdraws their own request while it is open."""
    case = _locked(case)
    if not permissions.can_withdraw(actor, case):
        raise NotAllowed()
    if case.stage == Stage.WITHDRAWN:
        return case
    if not case.is_open:
        raise InvalidState(_("Only an open request can be withdrawn."))
    _refuse_if_department_file(case)
    old = {"stage": case.stage}
    case.withdraw(timezone.now())
    case.save(update_fields=["stage", "closed_at"])
    audit.record(actor=actor, event_type=CareEvent.CASE_WITHDRAWN, subject=case, old=old, new={"stage": case.stage})
    push_after_commit(queue_group(case.department), {"event": "withdrawn", "reference": case.reference})
    return case


@transaction.atomic
def case_record_view(*, case: Case, actor) -> None:
    """Reading a case's content is an audit event."""
    audit.record(actor=actor, event_type=CareEvent.CASE_VIEWED, subject=case)
