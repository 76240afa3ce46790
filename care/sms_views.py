"""Pages and endpoints of SMS: Twilio's callbacks, the staff outbox, worker sign-in by code."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from care import selectors, services, sms
from care.errors import HallError
from care.forms import CodeForm, MobileForm, OutboxFilterForm, SelfRegisterForm
from care.models import OutboundSms
from care.views import form_error, paginated, permission_needed

SESSION_MOBILE = "signin_mobile"
SESSION_VERIFIED = "signin_verified_mobile"


def twilio_signature_valid(request) -> bool:
    """Whether Twilio signed this POST with our auth token (for our public address, SITE_URL)."""
    signature = request.headers.get("X-Twilio-Signature", "")
    url = f"{settings.SITE_URL}{request.get_full_path()}"
    token = settings.TWILIO_AUTH_TOKEN
    return bool(token and signature and RequestValidator(token).validate(url, request.POST.dict(), signature))


def twilio_signed(view):
    """Only requests signed by Twilio with our auth token get through (403 otherwise)."""

    @wraps(view)
    @csrf_exempt
    @require_POST
    def wrapped(request, *args, **kwargs):
        if not twilio_signature_valid(request):
            return HttpResponseForbidden("invalid signature")
        return view(request, *args, **kwargs)

    return wrapped


@twilio_signed
def sms_status(request, message_id: int):
    sms.status_report(message_id=message_id, payload=request.POST.dict())
    return HttpResponse(status=204)


@twilio_signed
def sms_inbound(request):
    sms.inbound(payload=request.POST.dict())
    return HttpResponse('<?xml version="1.0" encoding="UTF-8"?><Response/>', content_type="text/xml")


# --- staff outbox --------------------------------------------------------------------------------


@permission_needed("care.view_outboundsms")
def outbox(request):
    filters = OutboxFilterForm(request.GET or None)
    rows = selectors.outbox(**(filters.cleaned_data if filters.is_valid() else {}))
    return render(
        request, "care/outbox.html", {"filters": filters, "show_codes": sms.uses_console(), **paginated(request, rows)}
    )


@require_POST
@permission_needed("care.view_outboundsms")
def outbox_retry(request, message_id: int):
    message = get_object_or_404(OutboundSms, pk=message_id)
    try:
        sms.sms_retry(message=message, actor=request.user)
    except HallError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The message will be sent again."))
    return redirect("care:outbox")


# --- worker sign-in ----------------------------------------------------------------------------


def signin(request):
    form = MobileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sms.signin_code_request(mobile=form.cleaned_data["mobile"], client_ip=request.META.get("REMOTE_ADDR", ""))
        except HallError as error:
            form_error(form, error)
        else:
            request.session[SESSION_MOBILE] = form.cleaned_data["mobile"]
            return redirect("care:signin_code")
    return render(request, "care/signin.html", {"form": form})


def signin_code(request):
    mobile = request.session.get(SESSION_MOBILE)
    if not mobile:
        return redirect("care:signin")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mobile = sms.signin_code_verify(mobile=mobile, code=form.cleaned_data["code"])
        except HallError as error:
            form_error(form, error)
        else:
            request.session.pop(SESSION_MOBILE, None)
            worker = selectors.worker_by_mobile(mobile=mobile)
            if worker is None:
                request.session[SESSION_VERIFIED] = mobile
                return redirect("care:signin_register")
            login(request, worker.user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("care:home")
    return render(request, "care/signin_code.html", {"form": form, "mobile": mobile})


def signin_register(request):
    """First sign-in of a number the hall does not know: the worker registers."""
    mobile = request.session.get(SESSION_VERIFIED)
    if not mobile:
        return redirect("care:signin")
    form = SelfRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            worker = services.worker_register(
                actor=None, mobile=mobile, language=request.LANGUAGE_CODE, **form.cleaned_data
            )
        except HallError as error:
            form_error(form, error)
        else:
            request.session.pop(SESSION_VERIFIED, None)
            login(request, worker.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome, %(name)s.") % {"name": worker.name})
            return redirect("care:home")
    return render(request, "care/worker_form.html", {"form": form, "self_register": True})
