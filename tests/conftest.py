import base64

import pytest

TEST_KEY_NEW = base64.urlsafe_b64encode(b"n" * 32).decode().rstrip("=")
TEST_KEY_OLD = base64.urlsafe_b64encode(b"o" * 32).decode().rstrip("=")


@pytest.fixture(autouse=True)
def _hall_settings(settings):
    settings.FIELD_ENCRYPTION_KEYS = f"k2:{TEST_KEY_NEW},k1:{TEST_KEY_OLD}"
    settings.BLIND_INDEX_KEY = "test-blind-index-key"
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
