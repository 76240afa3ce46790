"""The API's one error shape: {"code", "message", "detail"}."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django_fsm import TransitionNotAllowed
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from care.errors import HallError, InvalidState, NotAllowed


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
