"""One error hierarchy for services; pages show ``message``, the API answers
``{"code", "message", "detail"}`` (see care.api_errors)."""

from django.utils.translation import gettext_lazy as _


class HallError(Exception):
    code = "error"
    status = 400
    default_message = _("The request could not be completed.")

    def __init__(self, message=None, *, detail=None):
        self.message = message or self.default_message
        self.detail = detail or {}
        super().__init__(str(self.message))


class InvalidInput(HallError):
    code = "invalid"
    default_message = _("Some of the information is not valid.")


class NotAllowed(HallError):
    code = "forbidden"
    status = 403
    default_message = _("You are not allowed to do this.")


class InvalidState(HallError):
    code = "invalid_state"
    status = 409
    default_message = _("This cannot be done at the case's current stage.")
