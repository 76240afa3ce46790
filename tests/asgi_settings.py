"""Settings of the ASGI server that browser tests start in a process of its own
(tests/browser/conftest.py: ``asgi_server``): the project's settings with the test suite's
(tests/conftest.py: the same encryption keys, password hasher, task queue), on the test
database that pytest made (its name in TEST_DATABASE_NAME)."""

import os
from types import SimpleNamespace

from config import settings as _project
from config.settings import *  # noqa: F403
from tests.conftest import hall_test_settings

globals().update(hall_test_settings(SimpleNamespace(STORAGES=_project.STORAGES)))
DATABASES["default"]["NAME"] = os.environ["TEST_DATABASE_NAME"]  # noqa: F405
