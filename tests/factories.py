"""factory_boy factories for the hall. Build state through them, e.g. CaseFactory(stage=...)."""

import datetime
import random

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from care.models import Case, Channel, Stage, User, Worker
from care.roles import Role
from care.validators import id_checksum


def make_national_id(seq: int) -> str:
    first17 = f"370202{1980 + seq % 20:04d}{1 + seq % 12:02d}{1 + seq % 28:02d}{seq % 1000:03d}"
    return first17 + id_checksum(first17)


def make_mobile(seq: int) -> str:
    return f"+86138{seq:08d}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=str(extracted)))
        if create:
            self.save()


def staff(role: str, department: str = "", **kwargs) -> User:
    return UserFactory(role=role, department=department, **kwargs)


class WorkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Worker

    user = factory.SubFactory(UserFactory, role=Role.WORKER)
    name = factory.Sequence(lambda n: f"职工{n}")
    mobile = factory.Sequence(make_mobile)
    national_id = factory.Sequence(make_national_id)
    national_id_index = factory.LazyAttribute(lambda o: Worker.index_for(o.national_id))
    employer = "青岛港务集团"


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    reference = factory.Sequence(lambda n: f"QD-2026-{900000 + n:06d}")
    worker = factory.SubFactory(WorkerFactory)
    department = "legal"
    stage = Stage.RECEIVED
    channel = Channel.ONLINE
    description = factory.LazyFunction(lambda: f"拖欠工资 {random.randint(1, 9)} 个月")
    filed_by = factory.LazyAttribute(lambda o: o.worker.user)
    opened_at = factory.LazyFunction(timezone.now)
    due_at = factory.LazyAttribute(lambda o: o.opened_at + datetime.timedelta(days=3))
