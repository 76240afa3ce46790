"""The time limits of the Labour Dispute Mediation and Arbitration Law, as pure date rules."""

import calendar
import datetime

from legal.models import DeadlineRule

LIMITATION_WARN_DAYS = 60
AWARD_EXTENSION_DAYS = 15
HEARING_NOTICE_DAYS = 5


def add_years(day: datetime.date, years: int) -> datetime.date:
    """The same date ``years`` later; 29 February becomes the last day of February."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def due_date(rule: str, start: datetime.date) -> datetime.date:
    match rule:
        case DeadlineRule.LIMITATION:
            return add_years(start, 1)  # art. 27: one year from when the right was infringed
        case DeadlineRule.MEDIATION:
            return start + datetime.timedelta(days=15)  # art. 14
        case DeadlineRule.ACCEPTANCE:
            return start + datetime.timedelta(days=5)  # art. 29
        case DeadlineRule.AWARD:
            return start + datetime.timedelta(days=45)  # art. 43, extendable once by 15 days
        case DeadlineRule.COURT:
            return start + datetime.timedelta(days=15)  # art. 48
    raise ValueError(rule)


def warn_from(rule: str, due: datetime.date) -> datetime.date:
    """From when a deadline is 'near' and the caseworker is told."""
    days = LIMITATION_WARN_DAYS if rule == DeadlineRule.LIMITATION else 3
    return due - datetime.timedelta(days=days)


def enough_notice(hearing_day: datetime.date, today: datetime.date) -> bool:
    """Art. 35: the parties are told of a hearing at least 5 days before it."""
    return (hearing_day - today).days >= HEARING_NOTICE_DAYS
