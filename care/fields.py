"""Model fields that keep their content encrypted at rest (see ``care.crypto``)."""

import json

from django.apps import apps
from django.core.exceptions import FieldError
from django.db import models

from care import crypto


class EncryptedMixin:
    """Encrypts on the way to the database, decrypts on the way back.

    Only ``isnull`` can be looked up: any other lookup would compare ciphertexts. Use a blind
    index column for exact matches.
    """

    encrypted = True

    def context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def get_internal_type(self):
        return "TextField"

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise FieldError(f"encrypted field {self.name!r} supports only 'isnull' lookups")
        return super().get_lookup(lookup_name)

    def to_plaintext(self, value) -> str:
        return value

    def from_plaintext(self, text: str):
        return text

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return None
        return crypto.encrypt(self.to_plaintext(value), context=self.context())

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return self.from_plaintext(crypto.decrypt(value, context=self.context()))


class EncryptedTextField(EncryptedMixin, models.TextField):
    def to_python(self, value):
        return value if value is None else str(value)


class EncryptedJSONField(EncryptedMixin, models.TextField):
    """JSON content sealed as one ciphertext; its keys cannot be queried."""

    def to_plaintext(self, value) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    def from_plaintext(self, text: str):
        return json.loads(text)

    def get_prep_value(self, value):
        if value is None:
            return None
        return crypto.encrypt(self.to_plaintext(value), context=self.context())

    def to_python(self, value):
        return value

    def value_to_string(self, obj):
        return self.to_plaintext(self.value_from_object(obj))


def encrypted_fields(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if getattr(f, "encrypted", False)]


def encrypted_models() -> list[tuple[type[models.Model], list[models.Field]]]:
    """Each model with its own (not inherited) encrypted columns; proxies and views left out."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [f for f in encrypted_fields(model) if f in model._meta.local_concrete_fields]
        if fields:
            found.append((model, fields))
    return found
