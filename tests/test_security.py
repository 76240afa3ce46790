"""The web's usual defences, as a browser meets them: every form that changes something carries a
CSRF token and a request without one is refused; production answers over HTTPS only, with HSTS,
a Content-Security-Policy without 'unsafe-inline', and the other security headers.
(`check --deploy` is tests/test_settings.py; uploads checked by content, tests/legal/test_documents.py
and care/uploads.py; login and sign-in code throttling, tests/care/test_signin.py and
tests/care/test_pages.py.)"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from care.models import Case
from tests.factories import WorkerFactory
from tests.test_settings import production_env  # noqa: F401

ROOT = Path(settings.BASE_DIR)
FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.S | re.I)


def templates() -> list[Path]:
    return sorted(p for app in ("care", "legal", "counseling", "childcare", "matchmaking")
                  for p in (ROOT / app / "templates").rglob("*.html"))


def test_every_form_that_posts_carries_a_csrf_token():
    posting = 0
    for path in templates():
        for form in FORM.finditer(path.read_text()):
            if re.search(r"""method\s*=\s*["']?post""", form["attrs"], re.I):
                posting += 1
                assert "{% csrf_token %}" in form["body"], f"{path.relative_to(ROOT)}: a POST form without a token"
    assert posting > 50  # the scan found the forms (a broken pattern would find none)


@pytest.mark.django_db
def test_a_post_without_the_csrf_token_is_refused():
    worker = WorkerFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(worker.user)
    assert client.post("/requests/new/", {"department": "legal", "description": "x"}).status_code == 403
    api = client.post("/api/v1/cases/", {"department": "legal", "description": "x"}, content_type="application/json")
    assert api.status_code == 403
    assert not Case.objects.exists()
    assert Client(enforce_csrf_checks=True).post("/signin/", {"mobile": worker.mobile}).status_code == 403


HEADERS_SCRIPT = """
import json, django
import config.settings as production
# Pages without collectstatic's manifest (production serves collected files; nothing else changes).
production.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
django.setup()
from django.test import Client
client = Client(HTTP_HOST="hall.example.org")
plain = client.get("/signin/")
secure = client.get("/signin/", secure=True)
print(json.dumps({"plain": [plain.status_code, plain.get("Location", "")],
                  "status": secure.status_code, "headers": dict(secure.headers),
                  "cookies": {k: dict(v) for k, v in secure.cookies.items()}}))
"""


def test_production_answers_over_https_with_the_security_headers(production_env):  # noqa: F811
    env = {**production_env, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run([sys.executable, "-c", HEADERS_SCRIPT], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    headers = {k.lower(): v for k, v in seen["headers"].items()}

    assert seen["plain"] == [301, "https://hall.example.org/signin/"]
    assert seen["status"] == 200
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    csp = headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert re.search(r"script-src 'self'( 'nonce-[^']+')?;", csp)  # a nonce when the page has a script
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    csrf = seen["cookies"]["csrftoken"]
    assert csrf["secure"] is True and csrf["samesite"] == "Lax"
