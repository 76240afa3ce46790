"""Spreadsheet pages of the claims office: the import of an employer's union's list of members
(with its template), and the bank's transfer file of a payment batch. Thin: the work is in
care.claims.spreadsheets, the audit in care.claims.services."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from care import uploads
from care.claims import permissions, selectors, services, spreadsheets
from care.claims.spreadsheets import EMPLOYER_UNION_MAX, IMPORT_MAX_BYTES, IMPORT_MAX_ROWS
from care.errors import HallError, NotAllowed
from care.views import allowed_if, form_error


class EnrolmentImportForm(forms.Form):
    employer_union = forms.CharField(label=gettext_lazy("Employer's union"), max_length=EMPLOYER_UNION_MAX)
    file = forms.FileField(label=gettext_lazy("List of members (.xlsx)"), allow_empty_file=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ".xlsx"
        self.fields["file"].help_text = _(
            "An Excel workbook filled in from the template: at most %(rows)d members and %(size)d MB."
        ) % {"rows": IMPORT_MAX_ROWS, "size": IMPORT_MAX_BYTES // (1024 * 1024)}


def xlsx_response(data: bytes, filename: str) -> HttpResponse:
    return uploads.file_response(data, filename=filename, content_type=spreadsheets.XLSX_CONTENT_TYPE)


@require_http_methods(["GET", "POST"])
@allowed_if(permissions.can_import_enrolments)
def enrolment_import(request):
    form = EnrolmentImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = spreadsheets.enrolment_import(actor=request.user, uploaded_file=form.cleaned_data["file"],
                                                   employer_union=form.cleaned_data["employer_union"])
        except NotAllowed:
            raise PermissionDenied from None
        except HallError as error:
            form_error(form, error)
        else:
            if result.applied:
                form = EnrolmentImportForm()  # the next list starts on a blank form
    return render(request, "claims/enrolment_import.html", {"form": form, "result": result})


@require_GET
@allowed_if(permissions.can_import_enrolments)
def enrolment_template(request):
    return xlsx_response(spreadsheets.enrolment_template(), _("enrolment-list-template") + ".xlsx")


@require_GET
@allowed_if(permissions.can_make_batches)
def batch_export(request, batch_id: int):
    batch = selectors.batch_get_for_user(batch_id=batch_id, user=request.user)
    data = spreadsheets.batch_workbook(batch=batch)
    try:
        services.batch_record_export(batch=batch, actor=request.user)
    except NotAllowed:
        raise PermissionDenied from None
    return xlsx_response(data, f"{batch.reference}.xlsx")
