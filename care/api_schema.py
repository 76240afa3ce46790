"""How the API's OpenAPI schema (/api/schema/) is made: drf-spectacular's, with what it cannot
know of this API. The schema is fuzzed against the API by tests/test_api_fuzz.py."""

from drf_spectacular import openapi
from drf_spectacular.serializers import PolymorphicProxySerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from care import uploads
from care.api_errors import ErrorSerializer

# A time of day is local (Asia/Shanghai) and has no offset ("08:30:00"): RFC 3339's partial-time,
# not the full-time of OpenAPI's "time" format.
PARTIAL_TIME = r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$"


class AutoSchema(openapi.AutoSchema):
    """The schema of every operation also names the error answers any operation can give, in the
    one error shape: 403 (not signed in, or not allowed), 404 where the path names an object or
    the list is paged (a page that does not exist), 400 where the operation reads a request body."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = ["403"]
        if "{" in self.path or (self._is_list_view() and self._get_paginator()):
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            codes.append("400")
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
        return responses

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.TimeField) and schema.get("format") == "time":
            schema = {**schema, "pattern": PARTIAL_TIME}
            del schema["format"]
        return schema


class ViewsOfOneThing(PolymorphicProxySerializerExtension):
    """A PolymorphicProxySerializer without a discriminator names the views of one thing that
    different readers get (the worker's view of an appointment, its counselor's). One view holds all
    of another's fields and more, so an answer matches any of them (anyOf), not exactly one (oneOf)."""

    priority = 0

    def map_serializer(self, auto_schema, direction):
        schema = super().map_serializer(auto_schema, direction)
        if not self._has_discriminator():
            schema["anyOf"] = schema.pop("oneOf")
        return schema


def file_responses(others: dict) -> dict:
    """The responses of a download: the stored file (200), in any of the types an upload may have
    (care.uploads.ALLOWED_TYPES), and the ``others``."""
    files = {(200, kind.content_type): OpenApiResponse(OpenApiTypes.BINARY) for kind in uploads.ALLOWED_TYPES}
    return {**files, **others}
