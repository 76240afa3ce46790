"""The API's one error shape: {"code", "message", "detail"}."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views import defaults
from django_fsm import TransitionNotAllowed
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from care.errors import HallError, InvalidState, NotAllowed


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    detail = serializers.DictField()


def exception_handler(exc, context):
    if isinstance(exc, TransitionNotAllowed):
        exc = InvalidState()
    if isinstance(exc, HallError):
        return Response(
            {"code": exc.code, "message": str(exc.message), "detail": exc.detail}, status=exc.status
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.PermissionDenied):  # one code for every refusal
        return Response(
            {"code": NotAllowed.code, "message": str(NotAllowed.default_message), "detail": {}},
            status=NotAllowed.status,
        )
    response = drf_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        body = {"code": "invalid", "message": str(HallError.default_message), "detail": data}
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = {
            "code": codes if isinstance(codes, str) else "error",
            "message": str(data.get("detail", "")) if isinstance(data, dict) else str(data),
            "detail": {},
        }
    response.data = body
    return response


def page_not_found(request, exception):
    """A URL that no view answers (the project's handler404): under /api/, a 404 in the API's
    error shape, as the schema has it; elsewhere the site's page."""
    if request.path.startswith("/api/"):
        body = {"code": "not_found", "message": str(exceptions.NotFound.default_detail), "detail": {}}
        return JsonResponse(body, status=status.HTTP_404_NOT_FOUND, json_dumps_params={"ensure_ascii": False})
    return defaults.page_not_found(request, exception)
