"""Documents of a legal case: upload, list, download (ADR 0007).

A file is accepted for what its bytes are, never for its name or the browser's content type:
PDF, PNG, JPEG, WEBP, Word/Excel (Office Open XML, or the legacy compound-file format).
It is stored base64-encoded in an encrypted column, with the sha256 of the plaintext, its
size and the sniffed content type. Every upload and every download is an audit event.
"""

import base64
import binascii
import hashlib
import io
import logging
import posixpath
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from care import audit
from care import permissions as hall
from care.errors import InvalidInput, InvalidState, NotAllowed
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


# --- what a file is, from its bytes ------------------------------------------------------------


@dataclass(frozen=True)
class FileType:
    content_type: str
    extensions: tuple[str, ...]  # the first is the one given to a file named otherwise


PDF = FileType("application/pdf", (".pdf",))
PNG = FileType("image/png", (".png",))
JPEG = FileType("image/jpeg", (".jpg", ".jpeg"))
WEBP = FileType("image/webp", (".webp",))
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",))
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",))
DOC = FileType("application/msword", (".doc",))
XLS = FileType("application/vnd.ms-excel", (".xls",))
ALLOWED_TYPES = (PDF, PNG, JPEG, WEBP, DOCX, XLSX, DOC, XLS)
ACCEPT_ATTRIBUTE = ",".join(ext for t in ALLOWED_TYPES for ext in t.extensions)  # a hint for the browser only

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The main part of a document, by its content type in [Content_Types].xml. Macro-enabled
# variants (...macroEnabled.main+xml) are other content types and so are not accepted.
OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}
OOXML_CONTENT_TYPES_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
CONTENT_TYPES_MAX_BYTES = 512 * 1024
# Streams and storages that carry VBA macros in the legacy formats.
OLE_MACRO_NAMES = {"_VBA_PROJECT_CUR", "_VBA_PROJECT", "VBA", "Macros"}


def _not_accepted() -> InvalidInput:
    return InvalidInput(
        _("This kind of file is not accepted. Upload a PDF, a picture (PNG, JPEG, WEBP) "
          "or a Word or Excel document."),
        detail={"file": "type"},
    )


def _macros_refused() -> InvalidInput:
    return InvalidInput(
        _("Documents with macros are not accepted. Save the document without macros and upload it again."),
        detail={"file": "macros"},
    )


def sniff(data: bytes) -> FileType:
    """The type of ``data`` from its magic bytes (and, for Office files, its structure).
    Raises InvalidInput for anything not on the list."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"PK\x03\x04"):
        return _sniff_ooxml(data)
    if data.startswith(OLE_MAGIC):
        return _sniff_ole(data)
    raise _not_accepted()


def _sniff_ooxml(data: bytes) -> FileType:
    """A ZIP is accepted only as a Word or Excel document: its [Content_Types].xml names the
    main part of one. Other ZIPs (archives, JARs, APKs, ODF) are refused."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = set(package.namelist())
            info = package.getinfo("[Content_Types].xml")
            if info.file_size > CONTENT_TYPES_MAX_BYTES:
                raise _not_accepted()
            manifest = package.read(info)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, NotImplementedError,
            RuntimeError, zipfile.LargeZipFile):
        raise _not_accepted() from None
    if b"<!DOCTYPE" in manifest.upper() or b"<!ENTITY" in manifest.upper():
        raise _not_accepted()  # no DTD in a real manifest; refusing it rules out entity expansion
    try:
        # Bounded in size and without a DTD, so the parser cannot be made to expand entities.
        root = ElementTree.fromstring(manifest)  # noqa: S314
    except ElementTree.ParseError:
        raise _not_accepted() from None
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise _macros_refused()
    found = {
        OOXML_MAIN_PARTS.get((element.get("ContentType") or "").strip())
        for element in root.iter(f"{OOXML_CONTENT_TYPES_NS}Override")
    } - {None}
    if len(found) != 1:
        raise _not_accepted()
    return found.pop()


def _ole_entry_names(data: bytes) -> set[str]:
    """Names of the directory entries of a compound file (MS-CFB), found by their layout.

    Directory entries are 128-byte records aligned to 128 bytes: a UTF-16LE name (64 bytes),
    its length in bytes including the terminator, and the object type (1 storage, 2 stream,
    5 root). Looking for that layout, rather than walking the FAT, is enough to tell a Word
    or Excel file from other compound files (installers, PowerPoint, ...)."""
    names = set()
    for offset in range(512, len(data) - 127, 128):
        entry = data[offset:offset + 128]
        (length,) = struct.unpack_from("<H", entry, 64)
        if not (2 <= length <= 64 and length % 2 == 0) or entry[66] not in (1, 2, 5):
            continue
        raw = entry[:length - 2]
        if entry[length - 2:length] != b"\x00\x00" or any(entry[length:64]):
            continue
        try:
            names.add(raw.decode("utf-16-le"))
        except UnicodeDecodeError:
            continue
    return names


def _sniff_ole(data: bytes) -> FileType:
    names = _ole_entry_names(data)
    if names & OLE_MACRO_NAMES:
        raise _macros_refused()
    if "WordDocument" in names:
        return DOC
    if names & {"Workbook", "Book"}:
        return XLS
    raise _not_accepted()


# --- names -------------------------------------------------------------------------------------

UNSAFE_IN_NAMES = set('<>:"/\\|?*')
FILENAME_MAX = 200  # Document.filename


def safe_filename(name: str, file_type: FileType) -> str:
    """The last path component of ``name`` without control or format characters (the
    right-to-left override of ``invoice\u202efdp.exe`` included) or characters that are unsafe
    in file names, with an extension that matches what the file is. Chinese is kept."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = posixpath.basename(name.replace("\\", "/"))
    name = "".join(
        "_" if c in UNSAFE_IN_NAMES else c
        for c in name
        if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
    )
    name = " ".join(name.split()).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if f".{ext.lower()}" in file_type.extensions:
        ext = f".{ext.lower()}"
    else:  # no extension, or one that does not match the content: give it the right one
        stem, ext = name, file_type.extensions[0]
    stem = stem.strip(" .") or _("document")
    return stem[:FILENAME_MAX - len(ext)] + ext


# --- reads -------------------------------------------------------------------------------------


def _visible(user) -> QuerySet[Document]:
    return Document.objects.filter(legal_case__case__in=hall.visible_cases_q_subquery(user))


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


def _read_upload(uploaded_file) -> bytes:
    limit = max_bytes()
    too_big = InvalidInput(
        _("The file is too large: at most %(size)s.") % {"size": filesizeformat(limit)},
        detail={"file": "size", "max_bytes": limit},
    )
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > limit:
        raise too_big
    if hasattr(uploaded_file, "seek"):
        uploaded_file.seek(0)
    data = uploaded_file.read(limit + 1)
    if len(data) > limit:
        raise too_big
    if not data:
        raise InvalidInput(_("The file is empty."), detail={"file": "empty"})
    return data


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
    data = _read_upload(uploaded_file)
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
    if not hall.visible_cases_q_subquery(actor).filter(pk=legal_case.case_id).exists():
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
