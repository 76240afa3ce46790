"""Spreadsheets of claims: the list of members an employer's union sends to enrol them (the
template, and its import, applied whole or not at all), and the transfer file for the bank of a
payment batch.

An import checks every row before it changes anything; its report says, row by row, what was
refused and why, and never holds a row's personal data (name, ID number, mobile)."""

import datetime
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from xml.etree.ElementTree import ParseError

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException

from care import audit, uploads
from care import services as hall
from care.claims import permissions, services
from care.claims.models import Enrolment, EnrolmentImport, PaymentBatch, Plan
from care.errors import InvalidInput, NotAllowed
from care.models import Worker
from care.validators import id_checksum, normalize_mobile, normalize_national_id

IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_MAX_ROWS = 5000
# A 2 MB workbook is a ZIP: refuse one that unpacks to far more than a list of 5,000 members
# needs (about 1 MB of XML), and stop reading a sheet of mostly blank rows.
UNPACKED_MAX_BYTES = 50 * 1024 * 1024
SCANNED_MAX_ROWS = 10 * IMPORT_MAX_ROWS
NAME_MAX = 50
EMPLOYER_UNION_MAX = 120


class ImportEvent:
    IMPORTED = "claims.enrolments_imported"


# The columns of the list: (key, the template's header, other headers accepted). The English key
# is accepted as a header too.
COLUMNS = (
    ("name", "姓名", ()),
    ("national_id", "身份证号", ("身份证号码",)),
    ("mobile", "手机号", ("手机号码",)),
    ("plan_code", "计划代码", ()),
    ("starts_on", "起保日期", ()),
    ("ends_on", "止保日期", ()),
)
HEADER_KEYS = {
    alias.casefold(): key
    for key, header, others in COLUMNS
    for alias in (key, header, *others)
}

# The template's example row. Its ID number is valid, so the importer refuses it by name: a list
# sent with the example still in it must not enrol a made-up person.
_EXAMPLE_FIRST17 = "11010119900307001"
EXAMPLE_NATIONAL_ID = _EXAMPLE_FIRST17 + id_checksum(_EXAMPLE_FIRST17)


def example_row(plan_code: str = "ZY001") -> list:
    """The example under the template's header: cover for this calendar year."""
    year = timezone.localdate().year
    return ["张三", EXAMPLE_NATIONAL_ID, "13900000000", plan_code, datetime.date(year, 1, 1),
            datetime.date(year, 12, 31)]


XLSX_CONTENT_TYPE = uploads.XLSX.content_type
DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"
MONEY_FORMAT = "0.00"
BOLD = Font(bold=True)


# --- writing workbooks -------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def safe_text(value) -> str:
    """Text for a cell that a spreadsheet program never reads as a formula (CSV/formula
    injection): a value starting with = + - @ (or a tab or carriage return) gets a leading
    apostrophe. Characters that a workbook cannot hold are dropped."""
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value if value is not None else ""))
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    return text


def _put_text(sheet, row: int, column: int, value) -> None:
    cell = sheet.cell(row=row, column=column)
    cell.value = safe_text(value)
    cell.data_type = "s"  # never a formula, an error code or a number, whatever the text
    cell.number_format = TEXT_FORMAT


def _save(workbook: Workbook) -> bytes:
    workbook.properties.creator = "Worker Service Center"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def enrolment_template() -> bytes:
    """The list to fill in: the header row and one example row, the ID and mobile columns
    formatted as text (so Excel does not round an 18-digit ID number), and a second sheet with
    the plan codes."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "参保名单"
    plans = list(Plan.objects.order_by("code").values_list("code", "name"))
    example = example_row(plans[0][0]) if plans else example_row()
    for column, (_key, header, _others) in enumerate(COLUMNS, start=1):
        _put_text(sheet, 1, column, header)
        sheet.cell(row=1, column=column).font = BOLD
    for column in (1, 2, 3, 4):
        _put_text(sheet, 2, column, example[column - 1])
    for column in (5, 6):
        cell = sheet.cell(row=2, column=column, value=example[column - 1])
        cell.number_format = DATE_FORMAT
    for letter, width, number_format in (("A", 14, TEXT_FORMAT), ("B", 22, TEXT_FORMAT), ("C", 16, TEXT_FORMAT),
                                         ("D", 12, TEXT_FORMAT), ("E", 14, DATE_FORMAT), ("F", 14, DATE_FORMAT)):
        sheet.column_dimensions[letter].width = width
        sheet.column_dimensions[letter].number_format = number_format
    sheet.freeze_panes = "A2"
    codes = workbook.create_sheet("计划代码")
    for column, header in enumerate(("计划代码", "计划名称"), start=1):
        _put_text(codes, 1, column, header)
        codes.cell(row=1, column=column).font = BOLD
    for row, (code, name) in enumerate(plans, start=2):
        _put_text(codes, row, 1, code)
        _put_text(codes, row, 2, name)
    codes.column_dimensions["A"].width = 12
    codes.column_dimensions["B"].width = 40
    return _save(workbook)


BATCH_HEADERS = ("序号", "报销单号", "户名", "开户行", "账号", "金额(元)", "备注")
SHEET_TITLE_UNSAFE = re.compile(r"[\[\]:*?/\\]")


def batch_workbook(*, batch: PaymentBatch) -> bytes:
    """The bank's transfer file of a payment batch: one row per claim (account number as text,
    amount as a number in yuan with two decimals), then the total. The caller has checked that
    the user may export the batch (selectors.batch_get_for_user, services.batch_record_export)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE_UNSAFE.sub("-", batch.reference)[:31] or "batch"
    for column, header in enumerate(BATCH_HEADERS, start=1):
        _put_text(sheet, 1, column, header)
        sheet.cell(row=1, column=column).font = BOLD
    claims = batch.claims.select_related("case", "enrolment__plan").order_by("decided_at", "pk")
    total = Decimal("0.00")
    row = 1
    for row, claim in enumerate(claims, start=2):
        account = claim.bank_account or {}
        amount = claim.approved_amount or Decimal("0.00")
        total += amount
        sheet.cell(row=row, column=1, value=row - 1)
        _put_text(sheet, row, 2, claim.case.reference)
        _put_text(sheet, row, 3, account.get("holder", ""))
        _put_text(sheet, row, 4, account.get("bank", ""))
        _put_text(sheet, row, 5, account.get("number", ""))
        sheet.cell(row=row, column=6, value=amount).number_format = MONEY_FORMAT
        _put_text(sheet, row, 7, f"{claim.enrolment.plan.name} {claim.case.reference}")
    total_row = row + 1
    _put_text(sheet, total_row, 1, "合计")
    _put_text(sheet, total_row, 2, f"{total_row - 2}笔")
    sheet.cell(row=total_row, column=6, value=total).number_format = MONEY_FORMAT
    for column in (1, 2, 6):
        sheet.cell(row=total_row, column=column).font = BOLD
    for letter, width in zip("ABCDEFG", (6, 18, 14, 30, 26, 14, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    return _save(workbook)


# --- reading the list ----------------------------------------------------------------------------


@dataclass
class _Row:
    number: int  # the spreadsheet's row number
    errors: list[str] = field(default_factory=list)
    name: str = ""
    national_id: str = ""
    index: str = ""
    mobile: str = ""
    plan: Plan | None = None
    starts_on: datetime.date | None = None
    ends_on: datetime.date | None = None


class _RowRefused(Exception):
    def __init__(self, number: int, message: str):
        super().__init__(message)
        self.number, self.message = number, message


def _not_xlsx() -> InvalidInput:
    return InvalidInput(_("Upload the list as an Excel workbook (.xlsx), e.g. filled in from the template."),
                        detail={"file": "type"})


def _unreadable() -> InvalidInput:
    return InvalidInput(_("The workbook could not be read. Save it again in Excel as .xlsx and upload it again."),
                        detail={"file": "unreadable"})


def _too_many_rows() -> InvalidInput:
    return InvalidInput(_("The list has more than %(max)d rows: split it into several files.")
                        % {"max": IMPORT_MAX_ROWS}, detail={"file": "rows", "max_rows": IMPORT_MAX_ROWS})


def _check_xlsx(data: bytes) -> None:
    try:
        file_type = uploads.sniff(data)
    except InvalidInput as error:
        if error.detail.get("file") == "macros":
            raise
        raise _not_xlsx() from None
    if file_type is not uploads.XLSX:
        raise _not_xlsx()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _unreadable() from None
    if unpacked > UNPACKED_MAX_BYTES:
        raise _unreadable()


def _header_columns(header: tuple) -> dict[str, int]:
    """The position of each column in the header row, by key; InvalidInput naming the missing ones."""
    found: dict[str, int] = {}
    for position, value in enumerate(header):
        key = HEADER_KEYS.get(str(value).strip().casefold()) if value is not None else None
        if key is None:
            continue
        if key in found:
            raise InvalidInput(_("The column %(column)s appears twice in the header row.")
                               % {"column": _column_label(key)}, detail={"header": "duplicate", "column": key})
        found[key] = position
    missing = [key for key, _header, _others in COLUMNS if key not in found]
    if missing:
        raise InvalidInput(
            _("The first row must be the template's header row. Missing columns: %(columns)s.")
            % {"columns": ", ".join(_column_label(key) for key in missing)},
            detail={"header": "missing", "columns": missing})
    return found


def _column_label(key: str) -> str:
    header = next(header for k, header, _others in COLUMNS if k == key)
    return f"{header} ({key})"


READ_ERRORS = (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, AttributeError, IndexError,
               OSError, EOFError, ParseError)


def _read_rows(data: bytes) -> tuple[datetime.datetime, list[tuple[int, dict]]]:
    """The date system of the workbook, and the non-blank data rows of its first sheet:
    (row number, {key: value})."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except READ_ERRORS:
        raise _unreadable() from None
    found = []
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None or not hasattr(sheet, "reset_dimensions"):  # no sheet, or a chart sheet
            raise _unreadable()
        sheet.reset_dimensions()  # the size a file states can be wrong: read every row there is
        header = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), None) or ()
        columns = _header_columns(tuple(header))
        width = max(columns.values()) + 1
        for number, values in enumerate(sheet.iter_rows(min_row=2, max_col=width, values_only=True), start=2):
            if number > SCANNED_MAX_ROWS:
                raise _too_many_rows()
            cells = {key: values[position] if position < len(values) else None for key, position in columns.items()}
            if all(_blank(value) for value in cells.values()):
                continue
            found.append((number, cells))
            if len(found) > IMPORT_MAX_ROWS:
                raise _too_many_rows()
    except InvalidInput:
        raise
    except READ_ERRORS:
        raise _unreadable() from None
    finally:
        workbook.close()
    return workbook.epoch, found


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


DATE_TEXT = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s*[T ]?\s*0{1,2}:00(?::00(?:\.0+)?)?)?")
DATE_DIGITS = re.compile(r"(\d{4})(\d{2})(\d{2})")
# Excel serial numbers of 2000-01-01 and 2099-12-31: a date cell that lost its date format.
SERIAL_RANGE = (36526, 73050)


def _date(value, epoch) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            return None
        if SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1]:
            return from_excel(int(value), epoch=epoch).date()
        value = str(int(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = DATE_TEXT.fullmatch(text) or DATE_DIGITS.fullmatch(text)
    if not match:
        return None
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _parse(number: int, cells: dict, plans: dict[str, Plan], epoch) -> _Row:
    """One row's own checks; the checks across rows and against the database come after."""
    row = _Row(number=number)
    row.name = " ".join(_text(cells["name"]).split())
    if not row.name or len(row.name) > NAME_MAX:
        row.errors.append(_("Enter the member's name (at most %(max)d characters).") % {"max": NAME_MAX})
    raw_id = cells["national_id"]
    if isinstance(raw_id, float):  # Excel keeps 15 digits of a number: the ID number is lost
        row.errors.append(_("The ID number was saved as a number, which Excel rounds: format the column as "
                            "text and enter the ID number again."))
    else:
        try:
            row.national_id = normalize_national_id(_text(raw_id))
        except InvalidInput as error:
            row.errors.append(str(error.message))
        else:
            row.index = Worker.index_for(row.national_id)
            if row.national_id == EXAMPLE_NATIONAL_ID:
                row.errors.append(_("This is the template's example row: delete it."))
    try:
        row.mobile = normalize_mobile(_text(cells["mobile"]))
    except InvalidInput as error:
        row.errors.append(str(error.message))
    code = _text(cells["plan_code"])
    row.plan = plans.get(code) or plans.get(code.upper())
    if row.plan is None:
        row.errors.append(_("There is no plan with this plan code.") if code else _("Enter the plan code."))
    row.starts_on = _date(cells["starts_on"], epoch)
    if row.starts_on is None:
        row.errors.append(_("Enter the date the cover starts, e.g. 2026-01-01."))
    row.ends_on = _date(cells["ends_on"], epoch)
    if row.ends_on is None:
        row.errors.append(_("Enter the date the cover ends, e.g. 2026-12-31."))
    if row.starts_on and row.ends_on and row.ends_on < row.starts_on:
        row.errors.append(_("The cover ends before it starts."))
    return row


def _plans() -> dict[str, Plan]:
    plans = list(Plan.objects.all())
    by_code = {plan.code.upper(): plan for plan in plans}
    if len(by_code) < len(plans):  # codes that differ only in case: match them exactly only
        by_code = {}
    return {**by_code, **{plan.code: plan for plan in plans}}


def _check_across(rows: list[_Row]) -> dict[str, Worker]:
    """Checks across rows and against the database, in a few queries whatever the number of
    rows. Returns the registered workers found, by ID index."""
    indexes = {row.index for row in rows if row.index}
    existing = {w.national_id_index: w for w in
                Worker.objects.filter(national_id_index__in=indexes).only("pk", "national_id_index", "mobile")}
    mobiles = {row.mobile for row in rows if row.mobile and row.index and row.index not in existing}
    mobile_owner = dict(Worker.objects.filter(mobile__in=mobiles).values_list("mobile", "national_id_index"))
    covered: dict[tuple[int, int], list[tuple[datetime.date, datetime.date]]] = {}
    if existing:
        plan_ids = {row.plan.pk for row in rows if row.plan is not None}
        for worker_id, plan_id, starts_on, ends_on in Enrolment.objects.filter(
                worker_id__in=[w.pk for w in existing.values()], plan_id__in=plan_ids,
        ).values_list("worker_id", "plan_id", "starts_on", "ends_on"):
            covered.setdefault((worker_id, plan_id), []).append((starts_on, ends_on))

    first_seen: dict[str, _Row] = {}  # new people: the first row of each, by ID index
    mobile_first: dict[str, _Row] = {}  # new people's mobiles: the first row giving each
    periods: dict[tuple[str, int], list[_Row]] = {}
    for row in rows:
        if row.index and row.index not in existing:
            if row.mobile and row.mobile in mobile_owner and mobile_owner[row.mobile] != row.index:
                row.errors.append(_("This mobile number belongs to another registered member."))
            first = first_seen.setdefault(row.index, row)
            if first is not row and (first.name != row.name or (row.mobile and first.mobile != row.mobile)):
                row.errors.append(_("Row %(row)d has the same ID number with another name or mobile number.")
                                  % {"row": first.number})
            if row.mobile:
                other = mobile_first.setdefault(row.mobile, row)
                if other.index != row.index:
                    row.errors.append(_("Row %(row)d gives the same mobile number for another person.")
                                      % {"row": other.number})
        if not (row.index and row.plan and row.starts_on and row.ends_on and row.starts_on <= row.ends_on):
            continue
        same = periods.setdefault((row.index, row.plan.pk), [])
        for earlier in same:
            if earlier.starts_on <= row.ends_on and row.starts_on <= earlier.ends_on:
                row.errors.append(_("Same member and plan as row %(row)d, and the periods overlap.")
                                  % {"row": earlier.number})
                break
        same.append(row)
        worker = existing.get(row.index)
        if worker is not None:
            for starts_on, ends_on in covered.get((worker.pk, row.plan.pk), ()):
                if starts_on <= row.ends_on and row.starts_on <= ends_on:
                    row.errors.append(_("The member is already covered by this plan from %(start)s to %(end)s, "
                                        "which overlaps this period.") % {"start": starts_on, "end": ends_on})
                    break
    return existing


def _apply(*, actor, rows: list[_Row], existing: dict[str, Worker], employer_union: str,
           record: EnrolmentImport) -> int:
    """Register the new members and enrol every row, in bulk through the services; _RowRefused
    (row 0: the whole list) if anything changed since the checks, e.g. another import of the
    same members at once."""
    new_people = {}
    for row in rows:
        if row.index not in existing:
            new_people.setdefault(row.index, {"name": row.name, "mobile": row.mobile, "national_id": row.national_id})
    try:
        workers = dict(existing)
        registered = hall.workers_register_many(actor=actor, people=list(new_people.values()), employer=employer_union)
        workers.update({w.national_id_index: w for w in registered})
        services.enrol_many(actor=actor, employer_union=employer_union, source=record, rows=[
            {"worker": workers[row.index], "plan": row.plan, "starts_on": row.starts_on, "ends_on": row.ends_on}
            for row in rows])
    except InvalidInput as error:
        raise _RowRefused(0, str(error.message)) from None
    return len(rows)


@transaction.atomic
def enrolment_import(*, actor, uploaded_file, employer_union: str) -> EnrolmentImport:
    """Enrol the members of an employer's union from their list (.xlsx, as the template).

    Every row is checked first. If any is refused, nothing is imported and the import is saved
    with its report; otherwise the new members are registered and every row enrolled, in this
    one transaction. A file that cannot be read as such a list raises InvalidInput (and nothing
    is saved)."""
    if not permissions.can_import_enrolments(actor):
        raise NotAllowed()
    employer_union = " ".join(str(employer_union or "").split())
    if not employer_union or len(employer_union) > EMPLOYER_UNION_MAX:
        raise InvalidInput(_("Enter the employer's union that sends the list (at most %(max)d characters).")
                           % {"max": EMPLOYER_UNION_MAX}, detail={"employer_union": "invalid"})
    data = uploads.read_upload(uploaded_file, limit=IMPORT_MAX_BYTES)
    _check_xlsx(data)
    epoch, found = _read_rows(data)
    if not found:
        raise InvalidInput(_("The list has no members: fill in one row for each member under the header row."),
                           detail={"file": "empty"})
    plans = _plans()
    rows = [_parse(number, cells, plans, epoch) for number, cells in found]
    existing = _check_across(rows)
    record = EnrolmentImport.objects.create(
        uploaded_by=actor, filename=uploads.safe_filename(getattr(uploaded_file, "name", ""), uploads.XLSX),
        employer_union=employer_union, rows=len(rows))
    report = [{"row": row.number, "errors": row.errors} for row in rows if row.errors]
    imported = 0
    if not report:
        try:
            with transaction.atomic():
                imported = _apply(actor=actor, rows=rows, existing=existing, employer_union=employer_union,
                                  record=record)
        except _RowRefused as refused:
            report = [{"row": refused.number, "errors": [refused.message]}]
    record.applied, record.imported, record.report = not report, imported, report
    record.save(update_fields=["applied", "imported", "report"])
    audit.record(actor=actor, event_type=ImportEvent.IMPORTED, subject=record,
                 new={"rows": record.rows, "imported": imported, "applied": record.applied,
                      "refused_rows": len(report)})
    return record
