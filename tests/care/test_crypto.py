"""The key ring and AES-GCM sealing of care.crypto, without a database."""

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured

from care import crypto
from tests.conftest import TEST_KEY_NEW, TEST_KEY_OLD

CONTEXT = "care.worker.national_id"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("k1", "kid:base64key"),
        (f":{TEST_KEY_NEW}", "kid:base64key"),
        (f"k1:{b64(b'x' * 16)}", "32 bytes"),
        (f"k1:{b64(b'x' * 33)}", "32 bytes"),
        (f"k1:{TEST_KEY_NEW},k1:{TEST_KEY_OLD}", "appears twice"),
        ("", "no key"),
        (" , ", "no key"),
    ],
)
def test_a_bad_key_spec_is_refused(spec, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.KeyRing.parse(spec)


def test_the_first_key_is_current_and_all_are_kept():
    ring = crypto.KeyRing.parse(f" k2:{TEST_KEY_NEW} , k1:{TEST_KEY_OLD} ")
    assert ring.current_id == "k2"
    assert ring.keys == {"k2": b"n" * 32, "k1": b"o" * 32}


@pytest.mark.parametrize("text", ["", "370202198001010011", "公司拖欠三个月工资，老板已失联。"])
def test_round_trip(text):
    sealed = crypto.encrypt(text, context=CONTEXT)
    assert crypto.decrypt(sealed, context=CONTEXT) == text


def test_every_ciphertext_names_its_key_and_uses_a_fresh_nonce():
    first, second = (crypto.encrypt("same text", context=CONTEXT) for _ in range(2))
    assert first.startswith("enc1:k2:") and crypto.key_id_of(first) == "k2"
    assert first != second
    assert "same text" not in first


def test_a_tampered_ciphertext_does_not_decrypt():
    sealed = crypto.encrypt("工资 5000 元", context=CONTEXT)
    middle = len(sealed) - 20
    tampered = sealed[:middle] + ("A" if sealed[middle] != "A" else "B") + sealed[middle + 1 :]
    for bad in (tampered, sealed[:-4], "not a ciphertext", "enc1:k2:"):
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(bad, context=CONTEXT)


def test_a_ciphertext_moved_to_another_column_does_not_decrypt():
    sealed = crypto.encrypt("370202198001010011", context="care.worker.national_id")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(sealed, context="care.case.description")


def test_an_old_key_still_decrypts_after_a_new_key_is_put_first(settings):
    settings.FIELD_ENCRYPTION_KEYS = f"k1:{TEST_KEY_OLD}"
    old = crypto.encrypt("旧数据", context=CONTEXT)
    settings.FIELD_ENCRYPTION_KEYS = f"k2:{TEST_KEY_NEW},k1:{TEST_KEY_OLD}"
    assert crypto.decrypt(old, context=CONTEXT) == "旧数据"
    assert crypto.key_id_of(crypto.encrypt("新数据", context=CONTEXT)) == "k2"


def test_a_key_no_longer_in_the_ring_or_a_forged_key_id_fails(settings):
    settings.FIELD_ENCRYPTION_KEYS = f"k1:{TEST_KEY_OLD}"
    old = crypto.encrypt("旧数据", context=CONTEXT)
    settings.FIELD_ENCRYPTION_KEYS = f"k2:{TEST_KEY_NEW}"
    with pytest.raises(crypto.DecryptionError, match="no key 'k1'"):
        crypto.decrypt(old, context=CONTEXT)
    with pytest.raises(crypto.DecryptionError, match="does not authenticate"):
        crypto.decrypt(old.replace("enc1:k1:", "enc1:k2:"), context=CONTEXT)


def test_blind_index_is_stable_and_depends_on_key_value_and_purpose(settings):
    index = crypto.blind_index("370202198001010011", purpose="national_id")
    assert index == crypto.blind_index("370202198001010011", purpose="national_id")
    assert len(index) == 64 and "370202198001010011" not in index
    assert index != crypto.blind_index("370202198001010029", purpose="national_id")
    assert index != crypto.blind_index("370202198001010011", purpose="mobile")
    settings.BLIND_INDEX_KEY = "another-key"
    assert index != crypto.blind_index("370202198001010011", purpose="national_id")
