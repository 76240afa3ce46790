"""Documents of a legal case: what is accepted (by content, never by name), how it is
stored (encrypted), who may upload, list and download it (404 for everyone else), and the
audit trail of every upload and download — through the services, the pages and the API."""

import base64
import hashlib
import io
import struct
import zipfile
import zlib

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse

from care import uploads
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import AuditEvent, Stage
from care.permissions import grant_case
from care.roles import Role
from legal import documents
from legal.document_views import DocumentForm
from legal.models import Document, DocumentKind, LegalCase, LegalState
from tests.factories import CaseFactory, WorkerFactory, staff

pytestmark = pytest.mark.django_db

MARKER = b"SECRET-EVIDENCE-4711 \xe5\xb7\xa5\xe8\xb5\x84\xe6\x9d\xa1"  # "...工资条"

# --- tiny valid files ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English."""
    from django.utils import translation

    with translation.override("en"):
        yield


def pdf(extra: bytes = b"") -> bytes:
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% " + MARKER + b"\n" + extra
            + b"trailer << /Root 1 0 R >>\n%%EOF\n")


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(
        b"IEND", b"")


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def webp() -> bytes:
    body = b"VP8L" + struct.pack("<I", 5) + b"\x2f\x00\x00\x00\x00" + b"\x00"
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
EXCEL_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def ooxml(main_type: str = WORD_MAIN, part: str = "/word/document.xml", extra: dict | None = None,
          manifest: str | None = None) -> bytes:
    manifest = manifest or (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="{part}" ContentType="{main_type}"/>'
        "</Types>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", manifest)
        package.writestr(part.lstrip("/"), "<w:document>劳动合同</w:document>")
        for name, content in (extra or {}).items():
            package.writestr(name, content)
    return buffer.getvalue()


def ole(*streams: str) -> bytes:
    """A compound file (legacy Office) with a root entry and these streams in its directory."""

    def entry(name: str, kind: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\x00\x00"
        return raw.ljust(64, b"\x00") + struct.pack("<H", len(raw)) + bytes([kind]) + bytes(61)

    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    directory = entry("Root Entry", 5) + b"".join(entry(s, 2) for s in streams)
    return header + directory.ljust(512, b"\x00") + bytes(512)


def upload(data: bytes, name: str = "证据.pdf", content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


# --- people and the case -----------------------------------------------------------------------


@pytest.fixture
def officer():
    return staff(Role.LEGAL_OFFICER, "legal")


@pytest.fixture
def worker():
    return WorkerFactory()


@pytest.fixture
def legal_case(officer, worker):
    case = CaseFactory(worker=worker, department="legal", assignee=officer, stage=Stage.IN_PROGRESS)
    grant_case(case=case, user=officer)
    return LegalCase.objects.create(case=case)


@pytest.fixture
def document(legal_case, officer):
    return documents.document_upload(legal_case=legal_case, actor=officer, uploaded_file=upload(pdf()),
                                     kind=DocumentKind.EVIDENCE)


OUTSIDERS = {
    "counselor": lambda: staff(Role.COUNSELOR, "counseling"),
    "front desk": lambda: staff(Role.FRONT_DESK),
    "another worker": lambda: WorkerFactory().user,
    "unassigned legal officer": lambda: staff(Role.LEGAL_OFFICER, "legal"),
    "ungranted arbitrator": lambda: staff(Role.ARBITRATOR),
    "center manager": lambda: staff(Role.CENTER_MANAGER),
}


def client_for(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


def upload_url(legal_case) -> str:
    return reverse("legal:document_upload", args=[legal_case.pk])


def api_list_url(legal_case) -> str:
    return reverse("legal_api:documents", args=[legal_case.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def downloads() -> int:
    return AuditEvent.objects.filter(event_type=documents.DocumentEvent.DOWNLOADED).count()


# --- what is accepted ------------------------------------------------------------------------


ACCEPTED = [
    pytest.param(pdf(), "申请书.pdf", "application/pdf", id="pdf"),
    pytest.param(png(), "工资条.png", "image/png", id="png"),
    pytest.param(jpeg(), "照片.jpg", "image/jpeg", id="jpeg"),
    pytest.param(webp(), "截图.webp", "image/webp", id="webp"),
    pytest.param(ooxml(), "劳动合同.docx", uploads.DOCX.content_type, id="docx"),
    pytest.param(ooxml(EXCEL_MAIN, "/xl/workbook.xml"), "考勤.xlsx", uploads.XLSX.content_type, id="xlsx"),
    pytest.param(ole("WordDocument", "1Table"), "旧合同.doc", "application/msword", id="doc"),
    pytest.param(ole("Workbook"), "旧考勤.xls", "application/vnd.ms-excel", id="xls"),
]


@pytest.mark.parametrize(("data", "name", "content_type"), ACCEPTED)
def test_the_legal_team_uploads_each_allowed_type_through_the_page(legal_case, officer, data, name, content_type):
    response = client_for(officer).post(upload_url(legal_case), {"kind": "evidence", "file": upload(
        data, name, "application/octet-stream")})

    assert response.status_code == 302
    assert response["Location"] == reverse("legal:case", args=[legal_case.pk])
    document = Document.objects.get()
    assert (document.legal_case, document.kind, document.uploaded_by) == (legal_case, "evidence", officer)
    assert (document.filename, document.content_type) == (name, content_type)
    assert (document.size, document.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert messages_of(response) == [f"{name} is uploaded."]


REFUSED = [
    pytest.param(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50 + b"This program cannot be run in DOS mode",
                 "合同.pdf", "application/pdf", id="exe renamed .pdf"),
    pytest.param(b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>",
                 "证据.pdf", "application/pdf", id="html"),
    pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
                 "图.png", "image/svg+xml", id="svg"),
    pytest.param(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "图.svg", "image/png",
                 id="svg with xml declaration"),
    pytest.param(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "动图.gif", "image/gif", id="gif"),
    pytest.param(b"%!PS-Adobe-3.0\n", "x.pdf", "application/pdf", id="postscript"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "broken.png", "image/png", id="png signature without IHDR"),
    pytest.param(ooxml(manifest='<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'),
                 "a.docx", "application/zip", id="zip that names no document"),
    pytest.param(ooxml(extra={"evil.exe": "MZ"}, main_type="application/java-archive"), "a.docx",
                 "application/zip", id="zip of something else"),
    pytest.param(b"PK\x03\x04" + b"\x00" * 40, "a.xlsx", "application/zip", id="broken zip"),
    pytest.param(ole("\x05SummaryInformation", "MsiDigitalSignatureEx"), "setup.doc", "application/msword",
                 id="compound file that is an installer"),
    pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "short.doc", "application/msword",
                 id="compound file header only"),
    pytest.param(b"\xef\xbb\xbf\xe5\xb7\xa5\xe8\xb5\x84", "说明.txt", "text/plain", id="plain text"),
]


@pytest.mark.parametrize(("data", "name", "content_type"), REFUSED)
def test_anything_else_is_refused_whatever_its_name(legal_case, officer, data, name, content_type):
    with pytest.raises(InvalidInput) as refused:
        documents.document_upload(legal_case=legal_case, actor=officer, uploaded_file=upload(data, name, content_type),
                                  kind=DocumentKind.EVIDENCE)

    assert "not accepted" in str(refused.value.message)
    assert not Document.objects.exists()


@pytest.mark.parametrize("data", [
    pytest.param(ooxml("application/vnd.ms-word.document.macroEnabled.main+xml"), id="docm"),
    pytest.param(ooxml(extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0"}), id="docx carrying a VBA project"),
    pytest.param(ole("WordDocument", "Macros", "VBA"), id="doc with macros"),
    pytest.param(ole("Workbook", "_VBA_PROJECT_CUR"), id="xls with macros"),
])
def test_office_documents_with_macros_are_refused(legal_case, officer, data):
    with pytest.raises(InvalidInput):
        documents.document_upload(legal_case=legal_case, actor=officer, uploaded_file=upload(data, "a.docx"),
                                  kind=DocumentKind.EVIDENCE)
    assert not Document.objects.exists()


def test_a_manifest_with_a_dtd_is_refused_before_it_is_parsed(legal_case, officer):
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            f'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Override PartName="/word/document.xml" ContentType="{WORD_MAIN}"/>&lol2;</Types>')
    with pytest.raises(InvalidInput):
        documents.document_upload(legal_case=legal_case, actor=officer, uploaded_file=upload(ooxml(manifest=bomb)),
                                  kind=DocumentKind.EVIDENCE)


def test_an_exe_renamed_pdf_is_refused_on_the_page_with_a_message(legal_case, officer):
    exe = b"MZ\x90\x00" + b"\x00" * 60
    response = client_for(officer).post(upload_url(legal_case), {"kind": "evidence", "file": upload(exe, "合同.pdf")})

    assert response.status_code == 302
    assert messages_of(response) == [
        "This kind of file is not accepted. Upload a PDF, a picture (PNG, JPEG, WEBP) or a Word or Excel document."]
    assert not Document.objects.exists()


def test_an_empty_file_is_refused(legal_case, officer):
    with pytest.raises(InvalidInput, match="empty"):
        documents.document_upload(legal_case=legal_case, actor=officer, uploaded_file=upload(b""),
                                  kind=DocumentKind.EVIDENCE)
    response = client_for(officer).post(upload_url(legal_case), {"kind": "evidence", "file": upload(b"")})
    assert messages_of(response) == ["The file is empty."]
    assert not Document.objects.exists()


def test_a_file_over_the_limit_is_refused(legal_case, officer, settings):
    settings.LEGAL_DOCUMENT_MAX_BYTES = 300
    at_limit = pdf(b"%" + b"x" * (300 - len(pdf()) - 2) + b"\n")
    assert len(at_limit) == 300

    with pytest.raises(InvalidInput, match="too large: at most 300"):
        documents.document_upload(legal_case=legal_case, actor=officer, uploaded_file=upload(at_limit + b" "),
                                  kind=DocumentKind.EVIDENCE)
    assert not Document.objects.exists()
    kept = documents.document_upload(legal_case=legal_case, actor=officer, uploaded_file=upload(at_limit),
                                     kind=DocumentKind.EVIDENCE)
    assert kept.size == 300


def test_the_size_limit_defaults_to_10_mb(settings):
    del settings.LEGAL_DOCUMENT_MAX_BYTES
    assert documents.max_bytes() == 10 * 1024 * 1024


def test_an_unknown_kind_is_refused(legal_case, officer):
    with pytest.raises(InvalidInput):
        documents.document_upload(legal_case=legal_case, actor=officer, uploaded_file=upload(pdf()), kind="selfie")
    assert not Document.objects.exists()


@pytest.mark.parametrize(("name", "file_type", "expected"), [
    ("../../etc/passwd.pdf", uploads.PDF, "passwd.pdf"),
    ("C:\\Users\\张三\\Desktop\\劳动合同（签字版）.PDF", uploads.PDF, "劳动合同（签字版）.pdf"),
    ("invoice\u202efdp.exe", uploads.PDF, "invoicefdp.exe.pdf"),
    ("工资\x00条\n\r\t.png", uploads.PNG, "工资条.png"),
    ("scan.pdf", uploads.PNG, "scan.pdf.png"),
    ("照片.JPEG", uploads.JPEG, "照片.jpeg"),
    ('a<b>:"c|d?*.docx', uploads.DOCX, "a_b___c_d__.docx"),
    ("", uploads.PDF, "document.pdf"),
    ("...", uploads.XLSX, "document.xlsx"),
    (".bashrc", uploads.PDF, "bashrc.pdf"),
    ("长" * 300 + ".pdf", uploads.PDF, "长" * 196 + ".pdf"),
])
def test_file_names_are_made_safe_and_keep_chinese(name, file_type, expected):
    assert uploads.safe_filename(name, file_type) == expected


# --- how it is stored ----------------------------------------------------------------------------


def test_the_database_holds_neither_the_bytes_nor_their_base64(document):
    data = pdf()
    with connection.cursor() as cursor:
        cursor.execute("SELECT content, filename, sha256, size, content_type FROM legal_document")
        ((content, filename, sha256, size, content_type),) = cursor.fetchall()

    assert content.startswith("enc1:k2:")
    for secret in (data.decode("latin-1"), MARKER.decode(), "SECRET-EVIDENCE", base64.b64encode(data).decode(),
                   base64.b64encode(MARKER).decode(), base64.urlsafe_b64encode(data).decode()):
        assert secret not in content
    assert (filename, sha256, size, content_type) == ("证据.pdf", hashlib.sha256(data).hexdigest(), len(data),
                                                      "application/pdf")


def test_a_download_returns_the_exact_bytes_as_an_attachment(document, officer):
    response = client_for(officer).get(reverse("legal:document_download", args=[document.pk]))

    assert response.status_code == 200
    assert response.content == pdf()
    assert hashlib.sha256(response.content).hexdigest() == document.sha256
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E8%AF%81%E6%8D%AE.pdf" in response["Content-Disposition"]  # 证据.pdf
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    assert "sandbox" in response["Content-Security-Policy"]


def test_every_download_is_an_audit_event(document, officer, worker):
    url = reverse("legal:document_download", args=[document.pk])
    client_for(officer).get(url)
    client_for(officer).get(url)
    client_for(worker.user).get(url)

    events = list(AuditEvent.objects.filter(event_type="legal.document_downloaded").order_by("seq"))
    assert [e.actor for e in events] == [officer, officer, worker.user]
    assert {(e.subject_type, e.subject_id) for e in events} == {("legal.legalcase", str(document.legal_case_id))}
    assert events[0].new == {"document": document.pk, "sha256": document.sha256}


def test_an_upload_is_an_audit_event_without_the_content(document, officer):
    event = AuditEvent.objects.get(event_type="legal.document_uploaded")

    assert event.actor == officer
    assert event.new == {"document": document.pk, "kind": "evidence", "content_type": "application/pdf",
                         "size": len(pdf()), "sha256": hashlib.sha256(pdf()).hexdigest()}
    stored = str(event.old) + str(event.new)
    assert "SECRET" not in stored and "证据" not in stored


# --- who may upload ----------------------------------------------------------------------------


def test_the_worker_uploads_evidence(legal_case, worker):
    response = client_for(worker.user).post(upload_url(legal_case), {"kind": "evidence", "file": upload(jpeg(),
                                                                                                         "欠条.jpg")})

    assert response.status_code == 302
    assert Document.objects.get().uploaded_by == worker.user


@pytest.mark.parametrize("kind", ["award", "agreement", "application", "other"])
def test_the_worker_uploads_nothing_but_evidence(legal_case, worker, kind):
    with pytest.raises(NotAllowed):
        documents.document_upload(legal_case=legal_case, actor=worker.user, uploaded_file=upload(pdf()), kind=kind)
    response = client_for(worker.user).post(upload_url(legal_case), {"kind": kind, "file": upload(pdf())})

    assert response.status_code == 403
    assert not Document.objects.exists()


@pytest.mark.parametrize("kind", DocumentKind.values)
def test_the_legal_team_uploads_every_kind(legal_case, officer, kind):
    documents.document_upload(legal_case=legal_case, actor=officer, uploaded_file=upload(pdf()), kind=kind)
    assert Document.objects.get().kind == kind


def test_a_mediator_granted_the_case_is_part_of_the_legal_team(legal_case):
    mediator = staff(Role.MEDIATOR, "legal")
    grant_case(case=legal_case.case, user=mediator)

    documents.document_upload(legal_case=legal_case, actor=mediator, uploaded_file=upload(pdf()),
                              kind=DocumentKind.AGREEMENT)
    assert Document.objects.get().uploaded_by == mediator


def test_an_arbitrator_granted_the_case_reads_but_does_not_upload(legal_case, document):
    arbitrator = staff(Role.ARBITRATOR)
    grant_case(case=legal_case.case, user=arbitrator)
    client = client_for(arbitrator)

    assert client.get(reverse("legal:document_download", args=[document.pk])).content == pdf()
    assert [d["id"] for d in client.get(api_list_url(legal_case)).json()] == [document.pk]
    assert client.post(upload_url(legal_case), {"kind": "evidence", "file": upload(pdf())}).status_code == 403
    response = client.post(api_list_url(legal_case), {"kind": "evidence", "file": upload(pdf())})
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert Document.objects.count() == 1


@pytest.mark.parametrize("state", [LegalState.DECLINED, LegalState.CLOSED, LegalState.WITHDRAWN])
def test_a_case_that_has_ended_takes_no_more_documents(legal_case, officer, worker, state):
    LegalCase.objects.filter(pk=legal_case.pk).update(state=state)
    legal_case.refresh_from_db()

    for actor in (officer, worker.user):
        with pytest.raises(InvalidState):
            documents.document_upload(legal_case=legal_case, actor=actor, uploaded_file=upload(pdf()),
                                      kind=DocumentKind.EVIDENCE)
    response = client_for(officer).post(upload_url(legal_case), {"kind": "evidence", "file": upload(pdf())})
    assert messages_of(response) == ["This case has ended: no more documents can be added."]
    response = client_for(officer).post(api_list_url(legal_case), {"kind": "evidence", "file": upload(pdf())})
    assert (response.status_code, response.json()["code"]) == (409, "invalid_state")
    assert not Document.objects.exists()
    assert documents.upload_kinds(officer, legal_case) == []


# --- nobody else: 404, and nothing stored or recorded ------------------------------------------


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_get_404_everywhere_and_change_nothing(legal_case, document, who):
    outsider = OUTSIDERS[who]()
    client = client_for(outsider)
    events = AuditEvent.objects.count()

    assert client.get(reverse("legal:document_download", args=[document.pk])).status_code == 404
    assert client.get(reverse("legal_api:document_download", args=[document.pk])).status_code == 404
    assert client.get(api_list_url(legal_case)).status_code == 404
    assert client.post(upload_url(legal_case), {"kind": "evidence", "file": upload(pdf())}).status_code == 404
    response = client.post(api_list_url(legal_case), {"kind": "evidence", "file": upload(pdf())})
    assert (response.status_code, response.json()["code"]) == (404, "not_found")

    assert Document.objects.count() == 1
    assert AuditEvent.objects.count() == events
    assert documents.documents_for_user(legal_case=legal_case, user=outsider).count() == 0
    assert documents.upload_kinds(outsider, legal_case) == []
    with pytest.raises(NotAllowed):
        documents.document_upload(legal_case=legal_case, actor=outsider, uploaded_file=upload(pdf()),
                                  kind=DocumentKind.EVIDENCE)
    with pytest.raises(NotAllowed):
        documents.document_download(document=document, actor=outsider)


def test_a_missing_document_is_404_like_a_forbidden_one(officer):
    assert client_for(officer).get(reverse("legal:document_download", args=[999999])).status_code == 404
    assert client_for(officer).get(reverse("legal_api:document_download", args=[999999])).status_code == 404


def test_anonymous_is_sent_to_sign_in_or_refused(legal_case, document):
    client = client_for()

    assert client.get(reverse("legal:document_download", args=[document.pk])).status_code == 302
    assert client.post(upload_url(legal_case), {"kind": "evidence", "file": upload(pdf())}).status_code == 302
    assert client.get(reverse("legal_api:document_download", args=[document.pk])).status_code == 403
    assert client.post(api_list_url(legal_case), {"kind": "evidence", "file": upload(pdf())}).status_code == 403
    assert Document.objects.count() == 1
    assert downloads() == 0


def test_the_documents_of_another_case_are_not_listed(legal_case, document, officer):
    other = LegalCase.objects.create(case=CaseFactory(department="legal", assignee=officer, stage=Stage.IN_PROGRESS))

    assert list(documents.documents_for_user(legal_case=other, user=officer)) == []
    assert list(documents.documents_for_user(legal_case=legal_case, user=officer)) == [document]


# --- the API -----------------------------------------------------------------------------------


def test_the_api_uploads_lists_and_downloads(legal_case, officer, worker):
    data = ooxml()
    client = client_for(officer)

    response = client.post(api_list_url(legal_case), {"kind": "application", "file": upload(data, "仲裁申请书.docx",
                                                                                           "text/html")})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["filename"], body["content_type"]) == ("application", "仲裁申请书.docx",
                                                                      uploads.DOCX.content_type)
    assert (body["size"], body["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert "content" not in body

    listed = client_for(worker.user).get(api_list_url(legal_case))
    assert [d["id"] for d in listed.json()] == [body["id"]]

    download = client_for(worker.user).get(body["download_url"], HTTP_ACCEPT="application/pdf")
    assert download.status_code == 200
    assert download.content == data
    assert download["Content-Type"] == uploads.DOCX.content_type
    assert download["Content-Disposition"].startswith("attachment;")
    assert (download["X-Content-Type-Options"], download["Cache-Control"]) == ("nosniff", "no-store")
    assert downloads() == 1


def test_the_api_applies_the_same_rules(legal_case, worker):
    client = client_for(worker.user)

    refused = client.post(api_list_url(legal_case), {"kind": "evidence", "file": upload(b"MZ\x90\x00", "a.pdf")})
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid"
    assert "not accepted" in refused.json()["message"]

    award = client.post(api_list_url(legal_case), {"kind": "award", "file": upload(pdf())})
    assert (award.status_code, award.json()["code"]) == (403, "forbidden")
    assert award.json()["message"] == "You can upload evidence only."

    missing = client.post(api_list_url(legal_case), {"kind": "evidence"})
    assert (missing.status_code, missing.json()["code"]) == (400, "invalid")
    assert "file" in missing.json()["detail"]

    assert client.post(api_list_url(legal_case), {"kind": "evidence", "file": upload(pdf())}).status_code == 201
    assert Document.objects.get().kind == "evidence"


def test_the_openapi_schema_describes_the_document_endpoints():
    schema = client_for().get("/api/schema/", {"format": "json"}).json()

    assert {"get", "post"} <= set(schema["paths"]["/api/v1/legal/cases/{legal_case_id}/documents/"])
    assert "get" in schema["paths"]["/api/v1/legal/documents/{document_id}/"]


# --- the fragment of the case page ---------------------------------------------------------------


def test_the_fragment_lists_documents_and_offers_the_form_to_those_who_may_upload(legal_case, document, worker):
    request = RequestFactory().get("/")
    request.user = worker.user
    kinds = documents.upload_kinds(worker.user, legal_case)
    context = {"legal_case": legal_case, "documents": documents.documents_for_user(legal_case=legal_case,
                                                                                    user=worker.user),
               "can_upload": documents.can_upload(worker.user, legal_case), "document_form": DocumentForm(kinds=kinds)}

    html = render_to_string("legal/_documents.html", context, request=request)

    assert reverse("legal:document_download", args=[document.pk]) in html
    assert "证据.pdf" in html
    assert reverse("legal:document_upload", args=[legal_case.pk]) in html
    assert 'enctype="multipart/form-data"' in html
    assert kinds == ["evidence"]
    assert 'value="award"' not in html

    html = render_to_string("legal/_documents.html", {**context, "can_upload": False}, request=request)
    assert reverse("legal:document_upload", args=[legal_case.pk]) not in html


def test_the_case_page_shows_the_documents(legal_case, document, officer):
    response = client_for(officer).get(reverse("legal:case", args=[legal_case.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("legal:document_download", args=[document.pk]) in html
    assert reverse("legal:document_upload", args=[legal_case.pk]) in html


def test_a_file_larger_than_the_in_memory_upload_limit_round_trips(legal_case, officer):
    data = pdf(b"%" + b"\x00\xff" * (3 * 1024 * 1024 // 2) + b"\n")  # above FILE_UPLOAD_MAX_MEMORY_SIZE
    client = client_for(officer)

    response = client.post(api_list_url(legal_case), {"kind": "evidence", "file": upload(data)})
    assert response.status_code == 201, response.content
    download = client.get(response.json()["download_url"])
    assert download.content == data
    assert Document.objects.get().size == len(data)
