"""The center manager's figures (中心主任看板): for a period, per service and for the whole hall,
how many workers were served, how fast, and how satisfied they were. Everything is aggregated
in the database (a handful of queries, whatever the number of cases); nothing about a person is
read. Any figure about fewer than MIN_GROUP_SIZE people is suppressed (None), and so is a whole
hall's total that would give a suppressed one back by subtraction.

Reads: ``hall_figures(period)`` (the page, the API, the Excel workbook and the monthly report
all show this one dict), ``reports``, ``report_get``. Writes: ``report_make`` (the monthly report,
by a daily task), ``exported`` (the audit of an export). ``Period`` is a span of local days."""

import datetime
import io
import math
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Aggregate, Count, DurationField, F, Q
from django.db.models.functions import TruncMonth, TruncWeek
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from care import audit, registry, surveys
from care.errors import InvalidInput
from care.models import OPEN_STAGES, Case, FiguresReport, OutboundSms, SmsStatus, Stage
from care.selectors import MIN_GROUP_SIZE, guard_total, shown

FIGURES_EXPORTED = "figures.exported"
REPORT_MADE = "figures.report_made"

DEFAULT_WEEKS = 12
MAX_DAYS = 5 * 366
WEEKLY_UP_TO_DAYS = 27 * 7  # longer periods are drawn by month

# The columns of the services table, in order: the page, the workbook and the API use these keys.
SERVICE_COLUMNS = (
    ("received", gettext_lazy("Requests received")),
    ("closed", gettext_lazy("Closed")),
    ("withdrawn", gettext_lazy("Withdrawn")),
    ("open", gettext_lazy("Open now")),
    ("overdue", gettext_lazy("Open past the response time")),
    ("median_days", gettext_lazy("Median days to close")),
    ("p90_days", gettext_lazy("9 in 10 closed within (days)")),
)
COUNT_KEYS = ("received", "closed", "withdrawn", "open", "overdue")

SMS_COLUMNS = (
    ("sent", gettext_lazy("Sent"), (SmsStatus.SENT, SmsStatus.DELIVERED)),
    ("failed", gettext_lazy("Failed"), (SmsStatus.FAILED, SmsStatus.UNDELIVERED)),
    ("waiting", gettext_lazy("Waiting to be sent"), (SmsStatus.QUEUED, SmsStatus.SENDING)),
    ("skipped", gettext_lazy("Not sent (opted out)"), (SmsStatus.SKIPPED,)),
)


class Percentile(Aggregate):
    """The continuous percentile (interpolated, as PostgreSQL's ``percentile_cont``) of an
    expression; on SQLite the same function is registered on each connection
    (``register_sqlite_functions``)."""

    function = "PERCENTILE_CONT"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError(fraction)
        super().__init__(expression, **extra)
        self.fraction = float(fraction)

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, fraction=repr(self.fraction), **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="HALL_PERCENTILE",
                              template="%(function)s(%(expressions)s, " + repr(self.fraction) + ")%(filter)s",
                              **extra_context)

    def deconstruct(self):  # pragma: no cover - not used in migrations
        path, args, kwargs = super().deconstruct()
        return path, args, {**kwargs, "fraction": self.fraction}


class _SqlitePercentile:
    """percentile_cont for SQLite: HALL_PERCENTILE(value, fraction)."""

    def __init__(self):
        self.values, self.fraction = [], 0.5

    def step(self, value, fraction):
        if value is not None:
            self.values.append(value)
            self.fraction = fraction

    def finalize(self):
        if not self.values:
            return None
        ordered = sorted(self.values)
        k = (len(ordered) - 1) * self.fraction
        low = math.floor(k)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """connection_created receiver (care.apps): HALL_PERCENTILE on every SQLite connection."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("HALL_PERCENTILE", 2, _SqlitePercentile)


# --- the period --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Local days ``first`` to ``last``, both included."""

    first: datetime.date
    last: datetime.date

    @classmethod
    def default(cls, today: datetime.date | None = None) -> "Period":
        """The last DEFAULT_WEEKS weeks, this one included (weeks start on Monday)."""
        today = today or timezone.localdate()
        monday = today - datetime.timedelta(days=today.weekday())
        return cls(monday - datetime.timedelta(weeks=DEFAULT_WEEKS - 1), today)

    @classmethod
    def month(cls, first_day: datetime.date) -> "Period":
        first = first_day.replace(day=1)
        following = (first + datetime.timedelta(days=32)).replace(day=1)
        return cls(first, following - datetime.timedelta(days=1))

    @classmethod
    def parse(cls, first, last) -> "Period":
        """From the page's or the API's ``since`` and ``until`` (ISO dates, both included).
        InvalidInput with a message for a bad date, a reversed or an over-long period."""
        days = []
        for name, value in (("since", first), ("until", last)):
            try:
                days.append(datetime.date.fromisoformat(str(value).strip()))
            except ValueError:
                raise InvalidInput(_("Enter dates as YYYY-MM-DD."), detail={name: "invalid"}) from None
        if days[0] > days[1]:
            raise InvalidInput(_("The period must end on or after the day it starts."),
                               detail={"until": "before_since"})
        if (days[1] - days[0]).days >= MAX_DAYS:
            raise InvalidInput(_("Choose a period of at most five years."), detail={"until": "too_long"})
        return cls(*days)

    @property
    def since(self) -> datetime.datetime:
        return _local_midnight(self.first)

    @property
    def until(self) -> datetime.datetime:
        return _local_midnight(self.last + datetime.timedelta(days=1))

    @property
    def by_week(self) -> bool:
        return (self.last - self.first).days < WEEKLY_UP_TO_DAYS


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def _days(value: datetime.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 86400, 1)


# --- the figures --------------------------------------------------------------------------------


def _times_to_close(**extra) -> dict:
    """The median and 90th percentile of the time to close (``extra``: a filter)."""
    to_close = F("closed_at") - F("opened_at")
    return {"median": Percentile(to_close, 0.5, output_field=DurationField(), **extra),
            "p90": Percentile(to_close, 0.9, output_field=DurationField(), **extra)}


def _period_counts(period: Period) -> dict:
    """Per department: received, closed and withdrawn in the period, and the times to close of
    the cases closed in it. One query, on the two period indexes (opened, ended)."""
    opened = Q(opened_at__gte=period.since, opened_at__lt=period.until)
    ended = Q(closed_at__gte=period.since, closed_at__lt=period.until)
    closed = ended & Q(stage=Stage.CLOSED)
    rows = (Case.objects.filter(opened | ended).values("department")
            .annotate(received=Count("department", filter=opened), closed=Count("department", filter=closed),
                      withdrawn=Count("department", filter=ended & Q(stage=Stage.WITHDRAWN)),
                      **_times_to_close(filter=closed)))
    return {row["department"]: row for row in rows}


def _open_counts() -> dict:
    """Per department: open now, and open past the response time (on the open cases' index)."""
    rows = (Case.objects.filter(stage__in=OPEN_STAGES).values("department")
            .annotate(open=Count("department"), overdue=Count("department", filter=Q(due_at__lt=timezone.now()))))
    return {row["department"]: row for row in rows}


def _service_row(label, raw: dict, code: str = "") -> dict:
    row = {"code": code, "label": str(label), **{key: shown(raw.get(key) or 0) for key in COUNT_KEYS}}
    enough = (raw.get("closed") or 0) >= MIN_GROUP_SIZE
    row["median_days"] = _days(raw.get("median")) if enough else None
    row["p90_days"] = _days(raw.get("p90")) if enough else None
    return row


def services_table(period: Period) -> list[dict]:
    """One row per department, then the whole hall's: its counts are the departments' sums
    (each case has one department), its times to close a query of their own."""
    counts, now_open = _period_counts(period), _open_counts()
    per = {code: {**counts.get(code, {}), **now_open.get(code, {})} for code in {*counts, *now_open}}
    total = {key: sum(row.get(key) or 0 for row in per.values()) for key in COUNT_KEYS}
    total.update(Case.objects.filter(stage=Stage.CLOSED, closed_at__gte=period.since, closed_at__lt=period.until)
                 .aggregate(**_times_to_close()))
    departments = registry.departments()
    rows = [_service_row(d.label, per.get(d.code, {}), d.code) for d in departments]
    hall = _service_row(_("Whole hall"), total)
    for key in COUNT_KEYS:
        parts = [(per.get(d.code, {}).get(key) or 0, r[key]) for d, r in zip(departments, rows, strict=True)]
        hall[key] = guard_total(parts, total.get(key) or 0)
    return [*rows, hall]


def trend(period: Period) -> dict:
    """Requests received per week (per month for long periods) and department."""
    bucket = (TruncWeek if period.by_week else TruncMonth)("opened_at")
    counts = {(_local_day(r["bucket"]), r["department"]): r["n"] for r in (
        Case.objects.filter(opened_at__gte=period.since, opened_at__lt=period.until)
        .annotate(bucket=bucket).values("bucket", "department").annotate(n=Count("*")))}
    buckets = _buckets(period)
    return {
        "by_week": period.by_week,
        "labels": [b.isoformat() for b in buckets],
        "series": [{"label": str(d.label), "code": d.code,
                    "data": [shown(counts.get((b, d.code), 0)) for b in buckets]}
                   for d in registry.departments()],
    }


def _buckets(period: Period) -> list[datetime.date]:
    if period.by_week:
        day = period.first - datetime.timedelta(days=period.first.weekday())
        step = lambda d: d + datetime.timedelta(weeks=1)  # noqa: E731
    else:
        day = period.first.replace(day=1)
        step = lambda d: (d + datetime.timedelta(days=32)).replace(day=1)  # noqa: E731
    buckets = []
    while day <= period.last:
        buckets.append(day)
        day = step(day)
    return buckets


def _local_day(bucket) -> datetime.date:
    """TruncWeek / TruncMonth of a datetime give the local midnight that starts the bucket."""
    return timezone.localtime(bucket).date() if isinstance(bucket, datetime.datetime) else bucket


def sms_table(period: Period) -> dict:
    rows = OutboundSms.objects.filter(created_at__gte=period.since, created_at__lt=period.until).aggregate(
        **{key: Count("id", filter=Q(status__in=statuses)) for key, _label, statuses in SMS_COLUMNS})
    return {key: shown(rows[key]) for key, _label, _statuses in SMS_COLUMNS}


def department_table(period: Period) -> list[dict]:
    """Each department's own figures (deadlines past, waiting, attendance, turnout)."""
    table = []
    for d in registry.departments():
        for figure in registry.department_figures(d.code, since=period.since, until=period.until):
            group = figure.group or 0
            visible = group == 0 or group >= MIN_GROUP_SIZE
            table.append({"department": str(d.label), "label": str(figure.label), "unit": figure.unit,
                          "value": figure.value if visible else None})
    return table


def hall_figures(period: Period) -> dict:
    """Everything the manager's page shows, for ``period``."""
    return {
        "since": period.first.isoformat(),
        "until": period.last.isoformat(),
        "min_group_size": MIN_GROUP_SIZE,
        "services": services_table(period),
        "trend": trend(period),
        "satisfaction": surveys.satisfaction_by_department(since=period.since, until=period.until),
        "sms": sms_table(period),
        "departments": department_table(period),
    }



# --- the workbook and the monthly report --------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(figures: dict) -> bytes:
    """The figures as an Excel workbook: one sheet per table of the page, suppressed cells as
    "<5" (the minimum group size), nothing a page does not show."""
    from openpyxl import Workbook

    hidden = f"<{figures['min_group_size']}"

    def cell(value):
        return hidden if value is None else value

    book = Workbook()
    sheet = book.active
    sheet.title = _("Services")
    sheet.append([_("Period"), figures["since"], figures["until"]])
    sheet.append([_("Service"), *[str(label) for _key, label in SERVICE_COLUMNS]])
    for row in figures["services"]:
        sheet.append([row["label"], *[cell(row[key]) for key, _label in SERVICE_COLUMNS]])

    trend_sheet = book.create_sheet(_("By week") if figures["trend"]["by_week"] else _("By month"))
    trend_sheet.append([_("Service"), *figures["trend"]["labels"]])
    for series in figures["trend"]["series"]:
        trend_sheet.append([series["label"], *[cell(n) for n in series["data"]]])

    satisfaction = book.create_sheet(_("Satisfaction"))
    satisfaction.append([_("Service"), _("Surveys sent"), _("Answers"), _("Average"),
                         *[_("Rated %(n)s") % {"n": n} for n in surveys.RATINGS]])
    for row in figures["satisfaction"]:
        distribution = row["distribution"] or [None] * len(surveys.RATINGS)
        satisfaction.append([row["label"], row["sent"], cell(row["answers"]), cell(row["average"]),
                             *[cell(n) for n in distribution]])

    departments = book.create_sheet(_("Department figures"))
    departments.append([_("Service"), _("Figure"), _("Value"), _("Unit")])
    for row in figures["departments"]:
        departments.append([row["department"], row["label"], cell(row["value"]), row["unit"]])

    sms_sheet = book.create_sheet(_("SMS"))
    for key, label, _statuses in SMS_COLUMNS:
        sms_sheet.append([str(label), cell(figures["sms"][key])])

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_make(*, month: datetime.date) -> FiguresReport:
    """The monthly report of ``month`` (made once: asked again, the first stands)."""
    first = month.replace(day=1)
    existing = FiguresReport.objects.filter(month=first).first()
    if existing is not None:
        return existing
    with translation.override(settings.LANGUAGE_CODE):
        data = workbook(hall_figures(Period.month(first)))
    with transaction.atomic():
        report, created = FiguresReport.objects.get_or_create(month=first, defaults={"workbook": data})
        if created:
            audit.record(actor=None, event_type=REPORT_MADE, subject=report, new={"month": first.isoformat()})
    return report


def report_last_month(today: datetime.date | None = None) -> FiguresReport:
    """The daily task's work: last month's report, if it is not made yet."""
    today = today or timezone.localdate()
    return report_make(month=(today.replace(day=1) - datetime.timedelta(days=1)))


def reports():
    return FiguresReport.objects.defer("workbook")


def report_get(*, month: str) -> FiguresReport:
    try:
        first = datetime.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise Http404 from None
    return get_object_or_404(FiguresReport, month=first)


def exported(*, actor, period: Period) -> None:
    """Record that ``actor`` took the figures away as a workbook."""
    with transaction.atomic():
        audit.record(actor=actor, event_type=FIGURES_EXPORTED, subject=actor,
                     new={"since": period.first.isoformat(), "until": period.last.isoformat()})
