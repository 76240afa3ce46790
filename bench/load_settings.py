"""Settings of the server that bench/load.py starts: the project's own (config/settings.py, run
with DJANGO_ENV=production and the environment load.py gives it), with two changes that weaken
nothing:

  - STATIC_ROOT is the throwaway folder named by BENCH_STATIC_ROOT: load.py runs collectstatic
    there, not into the checkout's staticfiles/, which other work may be using;
  - the errors of ``django.request`` (the tracebacks of 5xx responses) go to the console, where
    load.py collects them: in production Django sends them to ``mail_admins`` only, and there are
    no ADMINS.
"""

import os
from pathlib import Path

from config.settings import *  # noqa: F403
from config.settings import LOGGING

STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
LOGGING["loggers"]["django.request"] = {"handlers": ["console"], "level": "ERROR"}
