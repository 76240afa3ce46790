"""What an uploaded file is, from its bytes, and a safe name for it (ADR 0007).

A file is accepted for what its bytes are, never for its name or the browser's content type:
PDF, PNG, JPEG, WEBP, Word/Excel (Office Open XML, or the legacy compound-file format).
Used by every upload of the hall and its departments.
"""

import io
import posixpath
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

from django.http import HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from care.errors import InvalidInput

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


# --- reading an upload ----------------------------------------------------------------------


def read_upload(uploaded_file, *, limit: int) -> bytes:
    """The bytes of an uploaded file, refused when empty or larger than ``limit``."""
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


def file_response(data: bytes, *, filename: str, content_type: str) -> HttpResponse:
    """A stored file as an attachment, never rendered by the browser in the site's origin."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response["Content-Length"] = str(len(data))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
