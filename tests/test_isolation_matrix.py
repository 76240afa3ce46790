"""Runs the role-isolation matrix of tests/isolation.py: every role × every endpoint."""

import json

import pytest
from django.test import Client

from tests.isolation import (
    ACTORS,
    CLAIM_READERS,
    CLAIM_SECRET,
    ENDPOINTS,
    NOTE_READERS,
    NOTE_SECRET,
    READERS,
    SECRET,
    World,
)

CELLS = [pytest.param(e, a, id=f"{e.name}|{a}") for e in ENDPOINTS for a in ACTORS]


@pytest.mark.django_db
@pytest.mark.parametrize(("endpoint", "actor"), CELLS)
def test_isolation(endpoint, actor):
    world = World()
    client = Client()
    if actor != "anonymous":
        client.force_login(world.users[actor])
    before = world.snapshot()
    url = endpoint.url(world)
    if endpoint.method == "get":
        response = client.get(url)
    elif url.startswith("/api/"):
        response = client.post(url, data=json.dumps(endpoint.data), content_type="application/json")
    else:
        response = client.post(url, data=endpoint.data)

    assert response.status_code == endpoint.status_for(actor), response.content[:300]
    if actor not in READERS:
        assert SECRET not in response.content.decode(), f"{actor} read private content at {endpoint.name}"
    if actor not in NOTE_READERS:
        assert NOTE_SECRET not in response.content.decode(), f"{actor} read a caseworker's note at {endpoint.name}"
    if actor not in CLAIM_READERS:
        assert CLAIM_SECRET not in response.content.decode(), f"{actor} read a claim's content at {endpoint.name}"
    if endpoint.method == "post" and actor not in endpoint.writers:
        assert world.snapshot() == before, f"{actor}'s refused {endpoint.name} changed something"
    if endpoint.method == "post" and actor in endpoint.writers:
        assert world.snapshot() != before
