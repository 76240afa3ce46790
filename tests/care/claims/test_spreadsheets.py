"""Spreadsheets of claims: the import of an employer's union's list of members (applied whole or
not at all, with a report that holds no personal data), its template, and the bank's transfer
file of a payment batch — through the functions and the pages."""

import datetime
import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.utils.datetime import WINDOWS_EPOCH

from care import audit
from care.claims import services, spreadsheets
from care.claims.models import Claim, Enrolment, EnrolmentImport
from care.errors import InvalidInput, NotAllowed
from care.models import AuditEvent, User, Worker
from care.roles import Role
from care.validators import id_checksum
from tests.care.claims.helpers import BANK, enrol, file_claim, make_plan, officer, reviewer
from tests.factories import WorkerFactory, staff

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "身份证号", "手机号", "计划代码", "起保日期", "止保日期"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
START, END = datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English."""
    from django.utils import translation

    with translation.override("en"):
        yield


def person_id(n: int) -> str:
    """A valid ID number, never one that tests.factories makes (another district code)."""
    first17 = f"3702031985{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first17 + id_checksum(first17)


def person_mobile(n: int) -> str:
    return f"1390000{n:04d}"


def person(n: int, plan_code: str, starts_on=START, ends_on=END, *, name=None) -> list:
    return [name or f"会员{n}", person_id(n), person_mobile(n), plan_code, starts_on, ends_on]


def xlsx(rows, header=HEADER, *, name="名单.xlsx", id_as_text=True) -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    if header is not None:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    if id_as_text:
        for cell in sheet["B"]:
            cell.data_type = "s"
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type=XLSX)


@pytest.fixture
def clerk():
    return officer()


@pytest.fixture
def plan():
    return make_plan(code="ZY001")


@pytest.fixture
def other_plan():
    return make_plan(code="MB002")


def run_import(clerk, upload, union="青岛港务集团工会"):
    return spreadsheets.enrolment_import(actor=clerk, uploaded_file=upload, employer_union=union)


# --- a good list ---------------------------------------------------------------------------------


def test_a_good_list_registers_new_members_reuses_known_ones_and_enrols_every_row(clerk, plan, other_plan):
    known = WorkerFactory(name="王芳", national_id=person_id(50), mobile="+8613900000050")
    enrol(known, plan, starts_on=datetime.date(2025, 1, 1), ends_on=datetime.date(2025, 12, 31))
    workers_before, users_before = Worker.objects.count(), User.objects.count()

    record = run_import(clerk, xlsx([
        person(1, "ZY001"),
        person(1, "MB002", "2026/1/1", "2026-12-31"),  # the same new member in a second plan
        person(50, "ZY001", name="王芳"),  # a registered member, renewed without a gap
        [" 李  四 ", person_id(2), 13900000002, "zy001", "2026年3月1日", datetime.datetime(2026, 12, 31)],
    ]))

    assert (record.applied, record.rows, record.imported, record.report) == (True, 4, 4, [])
    assert record.employer_union == "青岛港务集团工会" and record.uploaded_by == clerk
    assert Worker.objects.count() == workers_before + 2 and User.objects.count() == users_before + 2
    new = Worker.objects.get(national_id_index=Worker.index_for(person_id(1)))
    assert (new.name, new.mobile, new.employer) == ("会员1", "+8613900000001", "青岛港务集团工会")
    assert new.user.has_role(Role.WORKER)
    assert Worker.objects.get(national_id_index=Worker.index_for(person_id(2))).name == "李 四"
    assert sorted(new.enrolments.values_list("plan__code", flat=True)) == ["MB002", "ZY001"]
    assert known.enrolments.count() == 2
    imported = Enrolment.objects.filter(source=record)
    assert imported.count() == 4
    assert set(imported.values_list("starts_on", "ends_on", "employer_union")) == {
        (START, END, "青岛港务集团工会"), (datetime.date(2026, 3, 1), END, "青岛港务集团工会")}
    event = AuditEvent.objects.get(event_type="claims.enrolments_imported")
    assert event.subject_id == str(record.pk)
    assert event.new == {"rows": 4, "imported": 4, "applied": True, "refused_rows": 0}
    # written in bulk: one event names the new members, the import's event counts the rows
    [registered] = AuditEvent.objects.filter(event_type="worker.registered")
    assert sorted(registered.new["workers"]) == sorted(
        Worker.objects.filter(national_id_index__in=[Worker.index_for(person_id(n)) for n in (1, 2)])
        .values_list("pk", flat=True))
    assert not AuditEvent.objects.filter(event_type=services.ClaimEvent.ENROLLED).exists()
    assert list(audit.verify()) == []


def test_english_headers_in_any_order_and_blank_rows_are_skipped(clerk, plan):
    header = ["plan_code", "Name", "national_id", "mobile", "starts_on", "ends_on", "备注"]
    rows = [
        ["ZY001", "会员1", person_id(1), person_mobile(1), START, END, "x"],
        [None, None, None, None, None, None, "only a note"],  # blank in the list's columns
        ["  ", None, "", None, None, None, None],
        ["ZY001", "会员2", person_id(2), person_mobile(2), START, END, None],
    ]
    record = run_import(clerk, xlsx(rows, header, id_as_text=False))
    assert (record.applied, record.rows, record.imported) == (True, 2, 2)


def test_row_numbers_hold_across_gaps_and_a_wrong_stated_size_hides_no_row(clerk, plan):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(person(1, "ZY001"))
    for column, value in enumerate(person(2, "NOPE"), start=1):
        sheet.cell(row=10, column=column, value=value)
    out = io.BytesIO()
    workbook.save(out)
    source, patched = zipfile.ZipFile(io.BytesIO(out.getvalue())), io.BytesIO()
    with zipfile.ZipFile(patched, "w") as package:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert b'<dimension ref="A1:F10" />' in content
                content = content.replace(b'<dimension ref="A1:F10" />', b'<dimension ref="A1:F2" />')
            package.writestr(info, content)
    record = run_import(clerk, SimpleUploadedFile("名单.xlsx", patched.getvalue()))
    assert record.rows == 2
    assert record.report == [{"row": 10, "errors": ["There is no plan with this plan code."]}]


def test_dates_as_excel_serial_numbers_and_compact_text_are_read():
    assert spreadsheets._date(46023, WINDOWS_EPOCH) == START
    assert spreadsheets._date("20260101", WINDOWS_EPOCH) == START
    assert spreadsheets._date("2026.1.1", WINDOWS_EPOCH) == START
    assert spreadsheets._date("2026-01-01 00:00:00", WINDOWS_EPOCH) == START
    for bad in ("2026-02-30", "1/1/2026", "明年", 12.5, 5, True, datetime.time(8, 0)):
        assert spreadsheets._date(bad, WINDOWS_EPOCH) is None


# --- a list with errors: nothing is imported -----------------------------------------------------

BAD_CHECKSUM = person_id(3)[:17] + ("0" if person_id(3)[17] != "0" else "1")


@pytest.fixture
def list_with_errors(plan):
    known = WorkerFactory(name="王芳", national_id=person_id(50), mobile="+8613900000050")
    enrol(known, plan, starts_on=datetime.date(2026, 6, 1), ends_on=datetime.date(2027, 5, 31))
    taken = WorkerFactory(name="赵六", national_id=person_id(60), mobile="+8613900000060")
    rows = [
        person(1, "ZY001"),  # row 2: good
        ["会员3", BAD_CHECKSUM, person_mobile(3), "ZY001", START, END],  # row 3
        person(4, "NOPE"),  # row 4: unknown plan
        person(5, "ZY001", END, START),  # row 5: ends before it starts
        person(6, "ZY001", START, datetime.date(2026, 6, 30)),  # row 6: good on its own
        person(6, "ZY001", datetime.date(2026, 6, 1), END),  # row 7: overlaps row 6
        person(50, "ZY001", name="王芳"),  # row 8: overlaps the enrolment made above
        ["会员7", person_id(7), "13900000060", "ZY001", START, END],  # row 9: mobile of 赵六
        person(8, "ZY001", "someday", None),  # row 10: two errors
    ]
    return rows, known, taken


def test_one_bad_row_among_good_ones_imports_nothing_and_the_report_names_each_row_and_reason(
        clerk, list_with_errors):
    rows, known, taken = list_with_errors
    workers_before, enrolments_before = Worker.objects.count(), Enrolment.objects.count()

    record = run_import(clerk, xlsx(rows))

    assert (record.applied, record.rows, record.imported) == (False, 9, 0)
    assert record.pk and EnrolmentImport.objects.get().pk == record.pk
    assert Worker.objects.count() == workers_before and Enrolment.objects.count() == enrolments_before
    assert not Enrolment.objects.filter(source=record).exists()
    report = {line["row"]: line["errors"] for line in record.report}
    assert sorted(report) == [3, 4, 5, 7, 8, 9, 10]
    assert report[3] == ["This ID number's check digit is wrong; please check it."]
    assert report[4] == ["There is no plan with this plan code."]
    assert report[5] == ["The cover ends before it starts."]
    assert report[7] == ["Same member and plan as row 6, and the periods overlap."]
    assert report[8] == ["The member is already covered by this plan from 2026-06-01 to 2027-05-31, "
                         "which overlaps this period."]
    assert report[9] == ["This mobile number belongs to another registered member."]
    assert report[10] == ["Enter the date the cover starts, e.g. 2026-01-01.",
                          "Enter the date the cover ends, e.g. 2026-12-31."]
    event = AuditEvent.objects.get(event_type="claims.enrolments_imported")
    assert event.new == {"rows": 9, "imported": 0, "applied": False, "refused_rows": 7}
    assert not AuditEvent.objects.filter(event_type=services.ClaimEvent.ENROLLED).exists()


def test_the_report_and_the_audit_hold_no_personal_data(clerk, list_with_errors):
    rows, known, taken = list_with_errors
    record = run_import(clerk, xlsx(rows))
    stored = json.dumps(record.report, ensure_ascii=False)
    stored += json.dumps(AuditEvent.objects.get(event_type="claims.enrolments_imported").new, ensure_ascii=False)
    for row in rows:
        for value in row[:3]:
            assert str(value) not in stored
            assert str(value)[-8:] not in stored
    for worker in (known, taken):
        for value in (worker.name, worker.national_id, worker.mobile, worker.mobile.removeprefix("+86")):
            assert value not in stored


def test_rows_for_the_same_new_person_must_agree_and_two_people_cannot_share_a_mobile(clerk, plan, other_plan):
    record = run_import(clerk, xlsx([
        person(1, "ZY001"),
        person(1, "MB002", name="别的名字"),  # row 3: same ID, another name
        ["会员2", person_id(2), person_mobile(1), "ZY001", START, END],  # row 4: row 2's mobile
    ]))
    assert not record.applied
    assert record.report == [
        {"row": 3, "errors": ["Row 2 has the same ID number with another name or mobile number."]},
        {"row": 4, "errors": ["Row 2 gives the same mobile number for another person."]},
    ]


def test_the_template_s_example_row_is_refused(clerk, plan):
    record = run_import(clerk, xlsx([person(1, "ZY001"), spreadsheets.example_row("ZY001")]))
    assert record.report == [{"row": 3, "errors": ["This is the template's example row: delete it."]}]


def test_an_id_number_excel_has_rounded_is_refused_with_the_reason(clerk, plan):
    rounded = float(person_id(1)[:15] + "000")
    record = run_import(clerk, xlsx([["会员1", rounded, person_mobile(1), "ZY001", START, END]], id_as_text=False))
    assert record.report[0]["row"] == 2
    assert "format the column as text" in record.report[0]["errors"][0]


def test_a_member_registered_meanwhile_refuses_the_whole_list_and_rolls_back(clerk, plan, monkeypatch):
    """Between the checks and the writes another request registers one of the new members:
    the bulk write is refused by the database, nothing of the list stays, the report says so."""
    from care.claims import spreadsheets

    real_check = spreadsheets._check_across

    def check_then_someone_registers(rows):
        existing = real_check(rows)
        WorkerFactory(national_id=person_id(3), national_id_index=Worker.index_for(person_id(3)))
        return existing

    monkeypatch.setattr(spreadsheets, "_check_across", check_then_someone_registers)
    workers_before = Worker.objects.count() + 1
    record = run_import(clerk, xlsx([person(n, "ZY001") for n in (1, 2, 3, 4)]))
    assert (record.applied, record.imported) == (False, 0)
    assert record.report == [{"row": 0, "errors": ["Some of these workers were registered meanwhile: check the "
                                                   "list again."]}]
    assert Worker.objects.count() == workers_before and not Enrolment.objects.exists()
    assert list(audit.verify()) == []


# --- files that are not such a list: refused, nothing saved ----------------------------------------


def refused(clerk, upload, match, union="某工会"):
    before = EnrolmentImport.objects.count(), Enrolment.objects.count(), Worker.objects.count()
    with pytest.raises(InvalidInput, match=match):
        run_import(clerk, upload, union)
    assert (EnrolmentImport.objects.count(), Enrolment.objects.count(), Worker.objects.count()) == before


@pytest.mark.parametrize("name, data", [
    ("名单.xlsx", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"),
    ("名单.csv", "姓名,身份证号,手机号,计划代码,起保日期,止保日期\n".encode()),
    ("名单.xlsx", b"PK\x03\x04 not really a zip"),
])
def test_a_file_that_is_not_an_xlsx_workbook_is_refused(clerk, plan, name, data):
    refused(clerk, SimpleUploadedFile(name, data), r"Excel workbook \(\.xlsx\)")


def test_a_word_document_is_refused(clerk, plan):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("[Content_Types].xml", (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.wordprocessingml.document.main+xml"/></Types>'))
    refused(clerk, SimpleUploadedFile("名单.xlsx", out.getvalue()), r"Excel workbook")


def test_a_wrong_header_is_refused_naming_the_missing_columns(clerk, plan):
    upload = xlsx([person(1, "ZY001")], header=["姓名", "身份证", "手机号", "计划代码", "开始", "止保日期"])
    with pytest.raises(InvalidInput) as refusal:
        run_import(clerk, upload)
    message = str(refusal.value.message)
    assert "身份证号 (national_id)" in message and "起保日期 (starts_on)" in message
    assert "姓名" not in message and "止保日期" not in message
    assert refusal.value.detail["columns"] == ["national_id", "starts_on"]
    refused(clerk, xlsx([person(1, "ZY001")], header=None), "Missing columns")


def test_an_empty_list_too_many_rows_and_too_large_a_file_are_refused(clerk, plan, monkeypatch):
    refused(clerk, xlsx([]), "no members")
    refused(clerk, xlsx([[None] * 6, ["", "", "", "", "", ""]]), "no members")
    monkeypatch.setattr(spreadsheets, "IMPORT_MAX_ROWS", 3)
    refused(clerk, xlsx([person(n, "ZY001") for n in range(4)]), "more than 3 rows")
    assert run_import(clerk, xlsx([person(n, "ZY001") for n in range(3)])).applied
    monkeypatch.setattr(spreadsheets, "IMPORT_MAX_BYTES", 1000)
    refused(clerk, xlsx([person(n, "ZY001") for n in range(3, 6)]), "too large")


def test_the_employer_s_union_is_required(clerk, plan):
    refused(clerk, xlsx([person(1, "ZY001")]), "employer's union", union="  ")


# --- permissions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("make_user", [
    reviewer,  # claims staff without add_enrolmentimport
    lambda: staff(Role.COUNSELOR, "counseling"),
    lambda: staff(Role.CLAIMS_OFFICER, ""),  # the permission, but not working the claims office
    lambda: WorkerFactory().user,
], ids=["claims reviewer", "counselor", "officer outside the department", "worker"])
def test_only_claims_officers_may_import(plan, make_user):
    with pytest.raises(NotAllowed):
        run_import(make_user(), xlsx([person(1, "ZY001")]))
    assert not EnrolmentImport.objects.exists() and not Enrolment.objects.exists()
    assert not Worker.objects.filter(national_id_index=Worker.index_for(person_id(1))).exists()


# --- the template --------------------------------------------------------------------------------


def test_the_template_has_the_header_an_example_and_the_plan_codes(clerk, plan, other_plan):
    workbook = load_workbook(io.BytesIO(spreadsheets.enrolment_template()))
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert rows[1][:4] == ("张三", spreadsheets.EXAMPLE_NATIONAL_ID, "13900000000", "MB002")
    year = timezone.localdate().year
    assert rows[1][4:] == (datetime.datetime(year, 1, 1), datetime.datetime(year, 12, 31))
    assert sheet["B2"].data_type == "s" and sheet["B2"].number_format == "@"
    codes = list(workbook["计划代码"].iter_rows(values_only=True))
    assert codes[1:] == [("MB002", other_plan.name), ("ZY001", plan.name)]


def test_a_filled_in_template_imports(clerk, plan):
    workbook = load_workbook(io.BytesIO(spreadsheets.enrolment_template()))
    sheet = workbook.worksheets[0]
    sheet.delete_rows(2)
    sheet.append(person(1, "ZY001"))
    out = io.BytesIO()
    workbook.save(out)
    record = run_import(clerk, SimpleUploadedFile("名单.xlsx", out.getvalue()))
    assert (record.applied, record.imported) == (True, 1)


# --- the bank's transfer file ------------------------------------------------------------------


def approved_claim(plan, reviewer_user, *, bank=BANK):
    """A claim of a new member, filed with one 10,000 yuan invoice (4,600 yuan payable) and approved."""
    worker = WorkerFactory()
    claim = file_claim(worker=worker, enrolment=enrol(worker, plan))
    if bank is not BANK:
        Claim.objects.filter(pk=claim.pk).update(bank_account=bank)  # as if the member had typed it
        claim.refresh_from_db()
    services.claim_transition(claim=claim, actor=reviewer_user, transition="start_review")
    return services.claim_transition(claim=claim, actor=reviewer_user, transition="approve")


@pytest.fixture
def batch(clerk, plan):
    first = approved_claim(plan, clerk)
    second = approved_claim(plan, clerk, bank={
        "bank": "@SUM(1+1)*cmd|' /C calc'!A0", "holder": "=HYPERLINK(\"http://evil.example\",\"点我\")",
        "number": "6228480000000000017"})
    batch = services.batch_create(actor=clerk)
    assert {first.pk, second.pk} == set(batch.claims.values_list("pk", flat=True))
    return batch


def test_the_batch_workbook_has_one_row_per_claim_the_full_account_number_as_text_and_the_total(batch):
    workbook = load_workbook(io.BytesIO(spreadsheets.batch_workbook(batch=batch)))
    assert workbook.sheetnames == [batch.reference]
    sheet = workbook[batch.reference]
    assert [c.value for c in sheet[1]] == ["序号", "报销单号", "户名", "开户行", "账号", "金额(元)", "备注"]
    claims = list(batch.claims.select_related("case").order_by("decided_at", "pk"))
    assert sheet.max_row == len(claims) + 2
    for row, claim in enumerate(claims, start=2):
        cells = sheet[row]
        assert cells[0].value == row - 1
        assert cells[1].value == claim.case.reference
        account = cells[4]
        assert account.data_type == "s" and account.number_format == "@"
        assert account.value == claim.bank_account["number"] and len(account.value) == 19
        amount = cells[5]
        assert amount.data_type == "n" and amount.number_format == "0.00"
        assert Decimal(str(amount.value)) == claim.approved_amount
    assert sheet.cell(row=2, column=3).value == BANK["holder"]
    assert sheet.cell(row=2, column=4).value == BANK["bank"]
    total = sheet[len(claims) + 2]
    assert total[0].value == "合计"
    assert Decimal(str(total[5].value)).quantize(Decimal("0.01")) == batch.total == Decimal("9200.00")


def test_the_batch_workbook_never_holds_a_formula(batch):
    data = spreadsheets.batch_workbook(batch=batch)
    sheet = load_workbook(io.BytesIO(data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert all(cell.data_type != "f" for cell in cells)
    injected = sheet.cell(row=3, column=3)
    assert injected.value == "'=HYPERLINK(\"http://evil.example\",\"点我\")" and injected.data_type == "s"
    assert sheet.cell(row=3, column=4).value.startswith("'@SUM")
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert b"<f>" not in package.read("xl/worksheets/sheet1.xml")


@pytest.mark.parametrize("text, safe", [
    ("=1+1", "'=1+1"), ("+86138", "'+86138"), ("-2", "'-2"), ("@A1", "'@A1"), ("\t=1", "'\t=1"),
    ("＝1", "'＝1"), ("张三", "张三"), ("a=b", "a=b"), ("", ""), ("x\x07y", "xy"),
])
def test_safe_text(text, safe):
    assert spreadsheets.safe_text(text) == safe


# --- the pages -----------------------------------------------------------------------------------


def browser(user=None) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


def test_the_import_page_shows_the_form_and_the_template_link(clerk):
    response = browser(clerk).get("/claims/enrolments/import/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="employer_union"' in page
    assert "/claims/enrolments/template.xlsx" in page


@pytest.mark.parametrize("make_user", [reviewer, lambda: staff(Role.COUNSELOR, "counseling")])
def test_the_spreadsheet_pages_are_refused_to_others(make_user, clerk, plan):
    client = browser(make_user())
    assert client.get("/claims/enrolments/import/").status_code == 403
    assert client.post("/claims/enrolments/import/", {"employer_union": "某工会",
                                                      "file": xlsx([person(1, "ZY001")])}).status_code == 403
    assert client.get("/claims/enrolments/template.xlsx").status_code == 403
    assert not Enrolment.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in():
    for path in ("/claims/enrolments/import/", "/claims/enrolments/template.xlsx", "/claims/batches/1/export.xlsx"):
        response = Client().get(path)
        assert response.status_code == 302 and "login" in response["Location"], path


def test_posting_a_good_list_shows_the_count(clerk, plan):
    response = browser(clerk).post("/claims/enrolments/import/", {
        "employer_union": "青岛港务集团工会", "file": xlsx([person(1, "ZY001"), person(2, "ZY001")])})
    assert response.status_code == 200
    assert "Enrolments imported for 青岛港务集团工会: 2." in response.content.decode()
    assert Enrolment.objects.count() == 2


def test_posting_a_list_with_errors_shows_the_rows_and_that_nothing_was_imported(clerk, plan):
    response = browser(clerk).post("/claims/enrolments/import/", {
        "employer_union": "某工会", "file": xlsx([person(1, "ZY001"), person(2, "NOPE")])})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was imported: 1 of 2 rows have errors." in page
    assert "<td>3</td>" in page and "There is no plan with this plan code." in page
    assert "会员2" not in page and person_id(2) not in page
    assert not Enrolment.objects.exists()


def test_posting_a_pdf_shows_the_refusal_on_the_form(clerk, plan):
    response = browser(clerk).post("/claims/enrolments/import/", {
        "employer_union": "某工会", "file": SimpleUploadedFile("名单.pdf", b"%PDF-1.4\n%%EOF\n")})
    assert response.status_code == 200
    assert "Upload the list as an Excel workbook (.xlsx)" in response.content.decode()
    assert not EnrolmentImport.objects.exists()


def test_the_template_downloads_as_an_attachment(clerk, plan):
    response = browser(clerk).get("/claims/enrolments/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert list(next(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))) == HEADER
    assert browser(clerk).post("/claims/enrolments/template.xlsx").status_code == 405


def test_the_batch_exports_as_an_attachment_named_after_it_and_is_audited(clerk, batch):
    response = browser(clerk).get(f"/claims/batches/{batch.pk}/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == f'attachment; filename="{batch.reference}.xlsx"'
    assert load_workbook(io.BytesIO(response.content)).sheetnames == [batch.reference]
    event = AuditEvent.objects.get(event_type=services.ClaimEvent.BATCH_EXPORTED)
    assert (event.actor, event.subject_id) == (clerk, str(batch.pk))


def test_the_batch_export_is_refused_without_the_permission_and_unknown_batches_are_404(clerk, batch):
    assert browser(reviewer()).get(f"/claims/batches/{batch.pk}/export.xlsx").status_code == 403
    assert browser(staff(Role.COUNSELOR, "counseling")).get(f"/claims/batches/{batch.pk}/export.xlsx"
                                                           ).status_code == 403
    assert browser(clerk).get(f"/claims/batches/{batch.pk + 1000}/export.xlsx").status_code == 404
    assert not AuditEvent.objects.filter(event_type=services.ClaimEvent.BATCH_EXPORTED).exists()
    assert Claim.objects.filter(batch=batch).count() == 2


# --- PostgreSQL ----------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the exclusion constraint is PostgreSQL's")
def test_the_database_itself_refuses_an_overlapping_enrolment(plan, other_plan):
    worker = WorkerFactory()
    Enrolment.objects.create(worker=worker, plan=plan, starts_on=START, ends_on=END)
    with pytest.raises(IntegrityError, match="claims_enrolment_no_overlap"), transaction.atomic():
        Enrolment.objects.create(worker=worker, plan=plan, starts_on=END, ends_on=datetime.date(2027, 6, 30))
    Enrolment.objects.create(worker=worker, plan=plan, starts_on=datetime.date(2027, 1, 1),
                             ends_on=datetime.date(2027, 12, 31))
    Enrolment.objects.create(worker=worker, plan=other_plan, starts_on=START, ends_on=END)
    assert worker.enrolments.count() == 3
