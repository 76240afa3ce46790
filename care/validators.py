"""Checks for the identifiers of mainland China that the hall handles."""

import datetime
import re

import phonenumbers
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from care.errors import InvalidInput

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def normalize_mobile(text: str) -> str:
    """A mainland China mobile number in E.164 (+8613812345678), or InvalidInput."""
    message = _("Enter a valid mainland China mobile number, e.g. 13812345678.")
    text = str(text).strip()
    if not re.fullmatch(r"\+?[\d\s()-]{7,20}", text):  # no letters: phonenumbers reads them as keypad digits
        raise InvalidInput(message)
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidInput(message) from None
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in (phonenumbers.PhoneNumberType.MOBILE,)
    ):
        raise InvalidInput(message)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_mobile(value: str) -> str:
    """138****5678: how the hall shows a mobile number to someone who need not call it."""
    national = (value or "").removeprefix("+86")
    return f"{national[:3]}****{national[-4:]}" if len(national) > 7 else ""


def id_checksum(first17: str) -> str:
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def normalize_national_id(text: str) -> str:
    """An 18-character resident ID number with a valid birth date and checksum, upper-cased."""
    value = str(text).strip().upper()
    if len(value) != 18 or not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise InvalidInput(_("An ID number has 18 characters: 17 digits, then a digit or X."))
    try:
        born = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidInput(_("The birth date in this ID number does not exist.")) from None
    if born.year < 1900 or born > timezone.localdate():
        raise InvalidInput(_("The birth date in this ID number does not exist."))
    if id_checksum(value[:17]) != value[17]:
        raise InvalidInput(_("This ID number's check digit is wrong; please check it."))
    return value


def birth_date_from_id(national_id: str) -> datetime.date:
    return datetime.date(int(national_id[6:10]), int(national_id[10:12]), int(national_id[12:14]))
