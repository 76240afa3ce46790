"""The identifiers of mainland China: mobile numbers and resident ID numbers."""

import pytest
from django.utils import translation

from care.errors import InvalidInput
from care.validators import normalize_mobile, normalize_national_id


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    "text", ["13812345678", "+86 138-1234-5678", " 138 1234 5678 ", "+8613812345678", "008613812345678"]
)
def test_a_mainland_mobile_number_is_returned_in_e164(text):
    assert normalize_mobile(text) == "+8613812345678"


@pytest.mark.parametrize(
    "text",
    [
        "05328888888",  # a Qingdao landline, too short to be valid
        "053288888888",  # a valid Qingdao landline: still not a mobile
        "1381234",  # too short
        "138123456789",  # too long
        "+85291234567",  # Hong Kong mobile
        "+16502530000",  # United States
        "abc",
        "138abcd5678",  # phonenumbers would read the letters as keypad digits
        "",
    ],
)
def test_anything_but_a_mainland_mobile_number_is_refused(text):
    with pytest.raises(InvalidInput, match="mobile number"):
        normalize_mobile(text)


@pytest.mark.parametrize("text", ["370202199003071233", "11010519491231002X", " 11010519491231002X "])
def test_a_valid_national_id_is_accepted(text):
    assert normalize_national_id(text) == text.strip()


def test_a_lower_case_x_is_upper_cased():
    assert normalize_national_id("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize("text", ["370202199003071234", "110105194912310021", "37020219900307123X"])
def test_a_wrong_check_digit_is_refused(text):
    with pytest.raises(InvalidInput, match="check digit"):
        normalize_national_id(text)


@pytest.mark.parametrize(
    "text",
    [
        "110105199902300015",  # 30 February 1999, with the check digit right for it
        "110105189912310015",  # before 1900
        "110105299912310012",  # in the future
    ],
)
def test_an_impossible_birth_date_is_refused(text):
    with pytest.raises(InvalidInput, match="birth date"):
        normalize_national_id(text)


@pytest.mark.parametrize(
    "text",
    ["37020219900307123", "3702021990030712333", "", "37020219900307123Y", "3702021990O307123X", "X70202199003071233"],
)
def test_a_malformed_national_id_is_refused(text):
    with pytest.raises(InvalidInput, match="18 characters"):
        normalize_national_id(text)
