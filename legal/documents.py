"""Documents of a legal case: upload, list, download (ADR 0007).

A file is accepted for what its bytes are (care.uploads), never for its name or the browser's
content type. It is stored base64-encoded in an encrypted column, with the sha256 of the plaintext, its
size and the sniffed content type. Every upload and every download is an audit event.
"""

import base64
import binascii
import hashlib
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from care import audit
from care import permissions as hall
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.uploads import read_upload, safe_filename, sniff
from legal import permissions
from legal.models import FINAL_STATES, Document, DocumentKind, LegalCase

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class DocumentEvent:
    UPLOADED = "legal.document_uploaded"
    DOWNLOADED = "legal.document_downloaded"


def max_bytes() -> int:
    """The largest file accepted (setting ``LEGAL_DOCUMENT_MAX_BYTES``, 10 MB by default)."""
    return int(getattr(settings, "LEGAL_DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


# --- reads -------------------------------------------------------------------------------------


def _visible(user) -> QuerySet[Document]:
    return Document.objects.filter(legal_case__case__in=hall.visible_case_ids(user))


def documents_for_user(*, legal_case: LegalCase, user) -> QuerySet[Document]:
    """The documents of ``legal_case`` if ``user`` may read the case (none otherwise), newest
    first, without their content."""
    return (
        _visible(user).filter(legal_case=legal_case)
        .defer("content")
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-id")
    )


def document_get_for_user(*, document_id: int, user) -> Document:
    """The document, with its content, if ``user`` may read its case; Http404 otherwise
    (absent or forbidden alike)."""
    try:
        return _visible(user).select_related("legal_case__case").get(pk=document_id)
    except (Document.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def upload_kinds(user, legal_case: LegalCase) -> list[str]:
    """The kinds of document ``user`` may upload to ``legal_case`` (empty: none)."""
    if not legal_case.is_open:
        return []
    if permissions.is_legal_team(user, legal_case):
        return list(DocumentKind.values)
    if permissions.is_the_worker(user, legal_case):
        return [DocumentKind.EVIDENCE]
    if permissions.is_hearing_arbitrator(user, legal_case):
        return [DocumentKind.AWARD]
    return []


def can_upload(user, legal_case: LegalCase) -> bool:
    return bool(upload_kinds(user, legal_case))


# --- writes ------------------------------------------------------------------------------------




@transaction.atomic
def document_upload(*, legal_case: LegalCase, actor, uploaded_file, kind: str) -> Document:
    """Store a file on a legal case. The legal team of the case may upload any kind; the
    worker whose case it is, evidence only. Refused once the case has ended."""
    legal_case = LegalCase.objects.select_for_update().select_related("case", "case__worker").get(pk=legal_case.pk)
    team = permissions.is_legal_team(actor, legal_case)
    if not team and not permissions.is_the_worker(actor, legal_case):
        raise NotAllowed()
    if kind not in DocumentKind.values:
        raise InvalidInput(_("Choose a kind of document from the list."), detail={"kind": "choice"})
    if not team and kind != DocumentKind.EVIDENCE:
        raise NotAllowed(_("You can upload evidence only."))
    if legal_case.state in FINAL_STATES:
        raise InvalidState(_("This case has ended: no more documents can be added."))
    data = read_upload(uploaded_file, limit=max_bytes())
    file_type = sniff(data)
    digest = hashlib.sha256(data).hexdigest()
    document = Document.objects.create(
        legal_case=legal_case,
        kind=kind,
        filename=safe_filename(getattr(uploaded_file, "name", ""), file_type),
        content_type=file_type.content_type,
        size=len(data),
        sha256=digest,
        content=base64.b64encode(data).decode("ascii"),
        uploaded_by=actor,
    )
    audit.record(actor=actor, event_type=DocumentEvent.UPLOADED, subject=legal_case,
                 new={"document": document.pk, "kind": kind, "content_type": file_type.content_type,
                      "size": len(data), "sha256": digest})
    return document


class DocumentCorrupt(Exception):
    """A stored document whose bytes do not match its recorded sha256."""


@transaction.atomic
def document_download(*, document: Document, actor) -> bytes:
    """The bytes of ``document`` for ``actor``, who must be able to read its case. Every
    download is recorded in the audit log."""
    legal_case = document.legal_case
    if not hall.can_read_case(actor, legal_case.case_id):
        raise NotAllowed()
    try:
        data = base64.b64decode(document.content, validate=True)
    except (binascii.Error, ValueError, TypeError):
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != document.sha256:
        log.error("legal document %s does not match its sha256", document.pk)
        raise DocumentCorrupt(document.pk)
    audit.record(actor=actor, event_type=DocumentEvent.DOWNLOADED, subject=legal_case,
                 new={"document": document.pk, "sha256": document.sha256})
    return data
