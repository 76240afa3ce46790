"""The unified social credit code (统一社会信用代码, GB 32100-2015) of an employer."""

from django.utils.translation import gettext_lazy as _

from care.errors import InvalidInput

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def normalize_credit_code(text: str) -> str:
    code = str(text).strip().upper()
    if len(code) != 18 or any(c not in CHARSET for c in code):
        raise InvalidInput(_("A unified social credit code has 18 characters (digits and capital letters)."))
    if credit_code_check_char(code[:17]) != code[17]:
        raise InvalidInput(_("This unified social credit code's check character is wrong; please check it."))
    return code
