"""What lands in the database: encrypted fields are never stored in the clear."""

import pytest
from django.core.exceptions import FieldError
from django.db import connection

from care.models import Case, Worker
from tests.factories import CaseFactory, WorkerFactory, make_national_id

pytestmark = pytest.mark.django_db

NATIONAL_ID = make_national_id(4711)
DESCRIPTION = "公司拖欠我三个月工资共计一万二千元，老板已失联。"


def raw_rows(model) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")
        return cursor.fetchall()


@pytest.fixture
def case():
    return CaseFactory(worker=WorkerFactory(national_id=NATIONAL_ID), description=DESCRIPTION)


def test_plaintext_appears_in_no_column(case):
    rows = raw_rows(Worker) + raw_rows(Case)
    assert len(rows) == 2
    stored = " ".join(str(value) for row in rows for value in row)
    for secret in (NATIONAL_ID, NATIONAL_ID[:17], DESCRIPTION, "拖欠", "工资"):
        assert secret not in stored
    sealed = [value for row in rows for value in row if str(value).startswith("enc1:k2:")]
    assert len(sealed) == 2  # national_id and description, and nothing else looks sealed


def test_the_orm_reads_the_plaintext_back(case):
    assert Worker.objects.get(pk=case.worker_id).national_id == NATIONAL_ID
    assert Case.objects.get(pk=case.pk).description == DESCRIPTION


def test_a_worker_is_found_by_blind_index(case):
    assert Worker.objects.get(national_id_index=Worker.index_for(NATIONAL_ID)).pk == case.worker_id
    assert not Worker.objects.filter(national_id_index=Worker.index_for(make_national_id(4712))).exists()


def test_only_isnull_can_be_looked_up_on_an_encrypted_field(case):
    assert Worker.objects.filter(national_id__isnull=False).count() == 1
    with pytest.raises(FieldError):
        Worker.objects.filter(national_id=NATIONAL_ID)
    with pytest.raises(FieldError):
        Worker.objects.filter(national_id__startswith="3702")
    with pytest.raises(FieldError):
        Case.objects.filter(description__icontains="工资")
