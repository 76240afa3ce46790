"""Pages of agreement signing (legal.signing, ADR 0009), under /sign/ (namespace "signing").

- ``send/<document id>/`` (POST, the legal team): send an agreement for signing; back to the
  case page with a message.
- ``<token>/`` (no login: the token is the proof): the signing page of one party.
- ``<token>/document/``: the agreement itself, inline; opening it records ``viewed_at``.

A wrong, replaced or expired token, or one whose case has left mediation, is a 404. The
party's pages are never cached and send no referrer (the token is in their address)."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from care.errors import HallError, InvalidState, NotAllowed
from legal import documents, signing


class SignForm(forms.Form):
    signed_name = forms.CharField(
        label=gettext_lazy("Type your full name"), max_length=50,
        help_text=gettext_lazy("As on your ID card; spaces do not matter."),
        widget=forms.TextInput(attrs={"autocomplete": "name", "autocapitalize": "words"}),
    )
    agree = forms.BooleanField(
        label=gettext_lazy("I have read the whole agreement and agree to it"),
        error_messages={"required": gettext_lazy(
            "Tick the box to confirm that you have read the whole agreement and agree to it.")},
    )


def personal_link_page(view):
    """A page reached by a personal link (an agreement to sign, a video hearing): the token is in
    the address, so no cache, no referrer outside the hall, no index."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        # Only our own pages see the address (a form posted from it needs its Origin: "no-referrer"
        # makes browsers send "Origin: null", which the CSRF check refuses).
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


# --- the legal team ------------------------------------------------------------------------------


@require_POST
@login_required
def send_for_signing(request, document_id: int):
    document = documents.document_get_for_user(document_id=document_id, user=request.user)
    try:
        sent = signing.agreement_send_for_signing(legal_case=document.legal_case, actor=request.user,
                                                  document=document)
    except NotAllowed:
        raise PermissionDenied from None
    except HallError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, ngettext(
            "The agreement is sent for signing to %(count)d person by SMS.",
            "The agreement is sent for signing to %(count)d people by SMS.", len(sent)) % {"count": len(sent)})
    return redirect("legal:case", legal_case_id=document.legal_case_id)


# --- the party -----------------------------------------------------------------------------------


def _sign_page(request, token: str, form: SignForm, *, status: int = 200, error: str = ""):
    signature = signing.signature_for_token(token)
    return render(request, "legal/sign.html", {
        "signature": signature,
        "reference": signature.legal_case.case.reference,
        "party_label": signature.get_party_display(),
        "expires_at": signing.link_expires_at(signature),
        "form": form,
        "error": error,
        "token": token,
    }, status=status)


@personal_link_page
@require_http_methods(["GET", "POST"])
def sign(request, token: str):
    if request.method != "POST":
        return _sign_page(request, token, SignForm())
    signing.signature_for_token(token)  # 404 before reading anything
    form = SignForm(request.POST)
    if not form.is_valid():
        return _sign_page(request, token, form, status=400)
    try:
        signing.agreement_sign(token=token, signed_name=form.cleaned_data["signed_name"],
                               agreed=form.cleaned_data["agree"], ip=request.META.get("REMOTE_ADDR") or None,
                               user_agent=request.headers.get("user-agent", ""))
    except HallError as error:
        return _sign_page(request, token, form, status=error.status, error=str(error.message))
    return redirect("signing:sign", token=token)


@personal_link_page
@require_GET
def sign_document(request, token: str):
    """The agreement as a PDF, shown by the browser (``?download=1``: saved instead, for a
    browser that will not show it). Never rendered as anything else in the site's origin."""
    try:
        signature, data = signing.agreement_open(token=token)
    except InvalidState as error:
        return _sign_page(request, token, SignForm(), status=error.status, error=str(error.message))
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=request.GET.get("download") == "1", filename=signature.document.filename)
    response["Content-Length"] = str(len(data))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
