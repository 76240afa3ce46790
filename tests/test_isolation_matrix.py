"""Runs the role-isolation matrix of tests/isolation.py: every role × every endpoint."""

import json

import pytest
from django.test import Client

from tests.isolation import (
    ACTORS,
    CHILD_READERS,
    CHILD_SECRET,
    CLAIM_READERS,
    CLAIM_SECRET,
    CONTACT_READERS,
    COUNSEL_REASON_SECRET,
    COUNSELING_READERS,
    ENDPOINTS,
    MATCH_CONTACT,
    MATCH_READERS,
    MATCH_SECRET,
    NOTE_READERS,
    NOTE_SECRET,
    READERS,
    SECRET,
    SESSION_READERS,
    SESSION_SECRET,
    SURVEY_READERS,
    SURVEY_SECRET,
    World,
    readable,
)

CELLS = [pytest.param(e, a, id=f"{e.name}|{a}") for e in ENDPOINTS for a in ACTORS]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One World for every cell: made once and committed; each cell runs inside a transaction
    that is rolled back, so each starts from the World as it was made. (Made per cell, it cost
    most of the suite's time.) The database is emptied after the last cell."""
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command
    from django.test import override_settings

    from care.models import AuditChainHead
    from care.roles import sync_role_groups
    from tests.conftest import hall_test_settings

    with django_db_blocker.unblock(), override_settings(**hall_test_settings(settings)):
        sync_role_groups(apps)
        AuditChainHead.objects.get_or_create(pk=1)
        made = World()
    yield made
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.mark.django_db
@pytest.mark.parametrize(("endpoint", "actor"), CELLS)
def test_isolation(endpoint, actor, world):
    client = Client()
    if actor != "anonymous":
        client.force_login(world.users[actor])
    before = world.snapshot()
    url, data = endpoint.url(world), endpoint.payload(world)
    if endpoint.method == "get":
        response = client.get(url)
    elif url.startswith("/api/"):
        response = client.post(url, data=json.dumps(data), content_type="application/json")
    else:
        response = client.post(url, data=data)

    assert response.status_code == endpoint.status_for(actor), response.content[:300]
    body = readable(response.content)
    if actor not in READERS:
        assert SECRET not in body, f"{actor} read private content at {endpoint.name}"
    if actor not in NOTE_READERS:
        assert NOTE_SECRET not in body, f"{actor} read a caseworker's note at {endpoint.name}"
    if actor not in CLAIM_READERS:
        assert CLAIM_SECRET not in body, f"{actor} read a claim's content at {endpoint.name}"
    if actor not in SESSION_READERS:
        assert SESSION_SECRET not in body, f"{actor} read a counseling session note at {endpoint.name}"
    if actor not in COUNSELING_READERS:
        assert COUNSEL_REASON_SECRET not in body, f"{actor} read a counseling appointment's reason at {endpoint.name}"
    if actor not in CHILD_READERS:
        assert CHILD_SECRET not in body, f"{actor} read a child's medical notes or incidents at {endpoint.name}"
    if actor not in MATCH_READERS:
        assert MATCH_SECRET not in body, f"{actor} read a matchmaking profile or report at {endpoint.name}"
    if actor not in CONTACT_READERS:
        assert MATCH_CONTACT not in body, f"{actor} read a member's contact at {endpoint.name}"
    if actor not in SURVEY_READERS:
        assert SURVEY_SECRET not in body, f"{actor} read a low rating's comment at {endpoint.name}"
    if endpoint.method == "post" and actor not in endpoint.writers:
        assert world.snapshot() == before, f"{actor}'s refused {endpoint.name} changed something"
    if endpoint.method == "post" and actor in endpoint.writers:
        assert world.snapshot() != before
