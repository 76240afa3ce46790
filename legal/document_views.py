"""Documents of a legal case: the upload form and download on the case page, and the API
(``/api/v1/legal/cases/<id>/documents/``, ``/api/v1/legal/documents/<id>/``). Thin: reads through
``legal.documents``' selectors, writes through its services."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from care import uploads
from care.api import ErrorSerializer
from care.api_schema import file_responses
from care.errors import HallError, NotAllowed
from legal import documents, selectors
from legal.models import Document, DocumentKind


class DocumentForm(forms.Form):
    """The upload form. ``kinds`` narrows the choice to what the user may upload
    (``documents.upload_kinds``); the service decides in any case."""

    kind = forms.ChoiceField(label=gettext_lazy("Kind of document"), choices=DocumentKind.choices,
                             initial=DocumentKind.EVIDENCE)
    file = forms.FileField(label=gettext_lazy("File"), allow_empty_file=True)

    def __init__(self, *args, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        if kinds is not None:
            self.fields["kind"].choices = [(k, label) for k, label in DocumentKind.choices if k in kinds]
        self.fields["file"].widget.attrs["accept"] = uploads.ACCEPT_ATTRIBUTE
        self.fields["file"].help_text = _(
            "PDF, PNG, JPEG, WEBP, Word or Excel, at most %(size)s. Files are stored encrypted."
        ) % {"size": filesizeformat(documents.max_bytes())}


def document_file_response(document: Document, data: bytes) -> HttpResponse:
    return uploads.file_response(data, filename=document.filename, content_type=document.content_type)


# --- pages -------------------------------------------------------------------------------------


@require_POST
@login_required
def document_upload(request, legal_case_id: int):
    legal_case = selectors.legal_case_get_for_user(legal_case_id=legal_case_id, user=request.user)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("legal:case", legal_case_id=legal_case.pk)
    try:
        document = documents.document_upload(legal_case=legal_case, actor=request.user,
                                             uploaded_file=form.cleaned_data["file"], kind=form.cleaned_data["kind"])
    except NotAllowed:
        raise PermissionDenied from None
    except HallError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("%(name)s is uploaded.") % {"name": document.filename})
    return redirect("legal:case", legal_case_id=legal_case.pk)


@require_GET
@login_required
def document_download(request, document_id: int):
    document = documents.document_get_for_user(document_id=document_id, user=request.user)
    try:
        data = documents.document_download(document=document, actor=request.user)
    except NotAllowed:
        raise PermissionDenied from None
    return document_file_response(document, data)


# --- API ---------------------------------------------------------------------------------------


class DocumentSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = ["id", "kind", "kind_label", "filename", "content_type", "size", "sha256", "uploaded_by",
                  "uploaded_at", "signed_complete", "download_url"]

    def get_download_url(self, document) -> str:
        return reverse("legal_api:document_download", args=[document.pk])


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    file = serializers.FileField(allow_empty_file=True)


@extend_schema(tags=["legal documents"])
class DocumentListView(APIView):
    """The documents of a legal case: list them, or upload one (multipart: ``kind``, ``file``)."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses={200: DocumentSerializer(many=True), 404: ErrorSerializer})
    def get(self, request, legal_case_id: int):
        legal_case = selectors.legal_case_get_for_user(legal_case_id=legal_case_id, user=request.user)
        rows = documents.documents_for_user(legal_case=legal_case, user=request.user)
        return Response(DocumentSerializer(rows, many=True).data)

    @extend_schema(
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer,
                   409: ErrorSerializer},
    )
    def post(self, request, legal_case_id: int):
        legal_case = selectors.legal_case_get_for_user(legal_case_id=legal_case_id, user=request.user)
        data = DocumentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = documents.document_upload(legal_case=legal_case, actor=request.user,
                                             uploaded_file=data.validated_data["file"],
                                             kind=data.validated_data["kind"])
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["legal documents"])
class DocumentDownloadView(APIView):
    """The file itself, as an attachment; every download is recorded in the audit log."""

    def perform_content_negotiation(self, request, force=False):
        # The answer is the file whatever the client accepts; errors are JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(responses=file_responses({404: ErrorSerializer}))
    def get(self, request, document_id: int):
        document = documents.document_get_for_user(document_id=document_id, user=request.user)
        return document_file_response(document, documents.document_download(document=document, actor=request.user))
