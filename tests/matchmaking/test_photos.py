"""Photos: checked by content, encrypted, and seen by another member only once the photo's
member has said yes to an introduction with them (never by a suggestion, never after a no)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import translation

from care.errors import InvalidInput
from care.roles import Role
from matchmaking import services
from matchmaking.models import Photo, ProfileState
from tests.factories import staff
from tests.matchmaking.helpers import matchmaker, member

pytestmark = pytest.mark.django_db

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND"
       b"\xaeB`\x82")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def with_photo(**kwargs):
    profile = member(**kwargs)
    photo = services.photo_add(actor=profile.worker.user, profile=profile,
                               uploaded_file=SimpleUploadedFile("me.png", PNG))
    services.profile_review(actor=matchmaker(), profile=profile, step="verify")  # a new photo is reviewed again
    return profile, photo


def test_a_photo_must_be_a_picture_and_is_encrypted_at_rest():
    her = member(gender="female", seeking="male")
    with pytest.raises(InvalidInput):
        services.photo_add(actor=her.worker.user, profile=her,
                           uploaded_file=SimpleUploadedFile("x.png", b"%PDF-1.4 not a picture"))
    photo = services.photo_add(actor=her.worker.user, profile=her, uploaded_file=SimpleUploadedFile("me.png", PNG))
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM matchmaking_photo WHERE id = %s", [photo.pk])
        assert "iVBORw0KGgo" not in cursor.fetchone()[0]  # the base64 of a PNG's first bytes
    assert type(her).objects.get(pk=her.pk).state == ProfileState.SUBMITTED  # reviewed again


def test_another_member_sees_the_photo_only_after_its_member_said_yes():
    her, photo = with_photo(gender="female", seeking="male")
    him = member(gender="male", seeking="female")
    url = f"/matchmaking/photos/{photo.pk}/"
    assert client_of(him.worker.user).get(url).status_code == 404  # a suggestion: no photo
    intro = services.introduction_request(actor=him.worker.user, profile=him, other=her)
    assert client_of(him.worker.user).get(url).status_code == 404  # he asked; she has not said yes
    services.introduction_answer(actor=her.worker.user, introduction=intro, accept=True)
    response = client_of(him.worker.user).get(url)
    assert response.status_code == 200 and response.content == PNG
    assert response["Cache-Control"] == "private, no-store"
    assert client_of(her.worker.user).get(url).status_code == 200
    assert client_of(matchmaker()).get(url).status_code == 200


def test_a_no_keeps_the_photo_hidden_and_other_roles_never_see_it():
    her, photo = with_photo(gender="female", seeking="male")
    him = member(gender="male", seeking="female")
    intro = services.introduction_request(actor=him.worker.user, profile=him, other=her)
    services.introduction_answer(actor=her.worker.user, introduction=intro, accept=False)
    url = f"/matchmaking/photos/{photo.pk}/"
    assert client_of(him.worker.user).get(url).status_code == 404
    for role, department in ((Role.CENTER_MANAGER, ""), (Role.COUNSELOR, "counseling"),
                             (Role.LEGAL_OFFICER, "legal"), (Role.FRONT_DESK, "")):
        assert client_of(staff(role, department)).get(url).status_code == 404


def test_erasure_removes_the_photos(settings):
    import datetime

    from django.utils import timezone

    settings.MATCHMAKING_ERASE_AFTER_DAYS = 1
    her, _photo = with_photo(gender="female", seeking="male")
    services.profile_withdraw(actor=her.worker.user, profile=her)
    services.profiles_erase_due(now=timezone.now() + datetime.timedelta(days=2))
    assert not Photo.objects.filter(profile=her).exists()
