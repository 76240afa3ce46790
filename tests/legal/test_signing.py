"""The mediation agreement signed online (legal.signing, ADR 0009): sent by the legal team,
opened and signed by each party on their own device through a personal link, and the signed
PDF stored encrypted when the last party signs — through the services and the pages; and
every refusal (who sends, when, what, how a party signs, which links work)."""

import datetime
import hashlib
import io
import re
import secrets
from html import unescape

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from care import sms
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import AuditEvent, OutboundSms, Stage
from care.permissions import grant_case
from care.roles import Role
from legal import documents, signing
from legal.models import Document, DocumentKind, LegalCase, LegalState, Representative, Signature
from legal.services import legal_transition
from legal.signing import SigningEvent
from tests.concurrency import race
from tests.factories import CaseFactory, WorkerFactory, staff

pytestmark = pytest.mark.django_db

AGREEMENT_TEXT = "AGREEMENT-CONTENT-5521 调解协议 甲方支付工资18000元"
WORKER_NAME = "王强"
EMPLOYER_NAME = "李 经理"
EMPLOYER_MOBILE = "+8613900000003"
TOKEN_IN_LINK = re.compile(r"/sign/([A-Za-z0-9_-]{43})/")


# --- tiny valid PDFs -----------------------------------------------------------------------------


def agreement_pdf(pages: int = 2, text: str = AGREEMENT_TEXT) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    for number in range(pages):
        page.setFont("STSong-Light", 12)
        page.drawString(72, 760, f"{text} ({number + 1}/{pages})")
        page.showPage()
    page.save()
    return buffer.getvalue()


def png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")
    )


# --- people, the case, the agreement ---------------------------------------------------------------


@pytest.fixture
def officer():
    return staff(Role.LEGAL_OFFICER, "legal")


@pytest.fixture
def worker():
    return WorkerFactory(name=WORKER_NAME)


def make_case(officer, worker=None, state=LegalState.MEDIATION, *, employer_mobile=EMPLOYER_MOBILE) -> LegalCase:
    case = CaseFactory(
        department="legal", stage=Stage.IN_PROGRESS, assignee=officer, **({"worker": worker} if worker else {})
    )
    grant_case(case=case, user=officer)
    legal_case = LegalCase.objects.create(case=case, state=state, employer_name="青岛某机械有限公司")
    if employer_mobile is not None:
        Representative.objects.create(
            legal_case=legal_case, side="employer", name=EMPLOYER_NAME, mobile=employer_mobile
        )
    return legal_case


@pytest.fixture
def legal_case(officer, worker):
    return make_case(officer, worker)


def upload(legal_case, officer, data: bytes | None = None, *, name="调解协议.pdf", kind=DocumentKind.AGREEMENT):
    data = agreement_pdf() if data is None else data
    return documents.document_upload(
        legal_case=legal_case, actor=officer, kind=kind, uploaded_file=SimpleUploadedFile(name, data)
    )


@pytest.fixture
def agreement(legal_case, officer):
    return upload(legal_case, officer)


def send(legal_case, officer, document):
    return signing.agreement_send_for_signing(legal_case=legal_case, actor=officer, document=document)


def token_sent_to(mobile: str) -> str:
    message = OutboundSms.objects.filter(to=mobile, template="agreement_sign_request").latest("pk")
    return TOKEN_IN_LINK.search(message.body).group(1)


def browser(language="en") -> Client:
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone) test-phone")
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def text(response) -> str:
    return unescape(response.content.decode())


def sign_url(token):
    return reverse("signing:sign", args=[token])


def doc_url(token):
    return reverse("signing:document", args=[token])


def sign_post(client, token, name, agree=True):
    data = {"signed_name": name}
    if agree:
        data["agree"] = "on"
    return client.post(sign_url(token), data)


def fresh(signature: Signature) -> Signature:
    return Signature.objects.get(pk=signature.pk)


def sig(document, party) -> Signature:
    return Signature.objects.get(document=document, party=party)


def snapshot():
    """What a refused call must leave as it was."""
    return (
        list(Signature.objects.order_by("pk").values()),
        list(Document.objects.order_by("pk").values_list("pk", "signed_complete")),
        AuditEvent.objects.exclude(event_type__in=["case.viewed", "legal.notes_viewed"]).count(),
        OutboundSms.objects.count(),
    )


# --- the whole flow ----------------------------------------------------------------------------------


def test_the_full_flow_from_sending_to_settling(legal_case, officer, worker, agreement):
    staff_page = Client()
    staff_page.force_login(officer)
    staff_page.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = text(staff_page.get(reverse("legal:case", args=[legal_case.pk])))
    assert "Send for signing" in page
    assert reverse("signing:send", args=[agreement.pk]) in page

    response = staff_page.post(reverse("signing:send", args=[agreement.pk]))
    assert response.status_code == 302
    assert response.url == reverse("legal:case", args=[legal_case.pk])
    assert {(s.party, s.name, s.mobile) for s in Signature.objects.all()} == {
        ("worker", WORKER_NAME, worker.mobile),
        ("employer", EMPLOYER_NAME, EMPLOYER_MOBILE),
    }
    assert AuditEvent.objects.filter(event_type=SigningEvent.SENT, actor=officer).count() == 1
    worker_token, employer_token = token_sent_to(worker.mobile), token_sent_to(EMPLOYER_MOBILE)
    assert worker_token != employer_token
    message = OutboundSms.objects.get(to=worker.mobile, template="agreement_sign_request")
    assert message.worker == worker and message.essential
    assert f"{settings.SITE_URL}/sign/{worker_token}/" in message.body

    phones = {}
    for party, token, typed in [("worker", worker_token, " 王 强 "), ("employer", employer_token, "李经理")]:
        phone = phones[party] = browser()
        page = phone.get(sign_url(token))
        assert page.status_code == 200
        assert re.search(r'<button type="submit" id="sign-button" disabled>', text(page))
        assert "no-store" in page["Cache-Control"] and page["Referrer-Policy"] == "same-origin"

        pdf = phone.get(doc_url(token))
        assert pdf.status_code == 200
        assert pdf["Content-Type"] == "application/pdf"
        assert pdf["Content-Disposition"].startswith("inline")
        assert pdf["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in pdf["Cache-Control"]
        assert "sandbox" in pdf["Content-Security-Policy"]
        assert pdf.content == documents.document_download(document=agreement, actor=officer)
        assert sig(agreement, party).viewed_at is not None

        page = phone.get(sign_url(token))
        assert 'id="sign-button" disabled' not in text(page)
        response = sign_post(phone, token, typed)
        assert response.status_code == 302
        signed = sig(agreement, party)
        assert signed.signed_at is not None and signed.signed_name == typed.strip()
        assert signed.ip == "127.0.0.1" and signed.user_agent == "Mozilla/5.0 (iPhone) test-phone"
        assert signed.document_sha256 == agreement.sha256
        assert "You signed this agreement" in text(phone.get(sign_url(token)))

    [copy] = Document.objects.filter(legal_case=legal_case, signed_complete=True)
    assert copy.kind == DocumentKind.AGREEMENT and copy.content_type == "application/pdf"
    assert copy.uploaded_by == officer and copy.filename.endswith(".pdf")
    data = documents.document_download(document=copy, actor=officer)  # decrypts, and checks the sha256
    assert hashlib.sha256(data).hexdigest() == copy.sha256 and copy.size == len(data)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == len(PdfReader(io.BytesIO(agreement_pdf())).pages) + 1
    assert AGREEMENT_TEXT in reader.pages[0].extract_text()
    last = reader.pages[-1].extract_text()
    assert "调解协议签署页" in last  # in the hall's language, whatever the signatories' browsers spoke
    for expected in [WORKER_NAME, "王 强", EMPLOYER_NAME, "李经理", agreement.sha256, legal_case.case.reference]:
        assert expected in last
    signed_at = timezone.localtime(sig(agreement, "worker").signed_at, signing.SHANGHAI)
    assert signed_at.strftime("%Y-%m-%d %H:%M") in last
    assert AuditEvent.objects.filter(event_type=SigningEvent.SIGNED).count() == 2
    assert AuditEvent.objects.filter(event_type=SigningEvent.COMPLETED).count() == 1
    assert set(OutboundSms.objects.filter(template="agreement_signed").values_list("to", flat=True)) == {
        worker.mobile,
        EMPLOYER_MOBILE,
    }

    legal_case.refresh_from_db()
    assert legal_case.has_signed_agreement()
    assert "Settled by agreement" in text(staff_page.get(reverse("legal:case", args=[legal_case.pk])))
    legal_transition(legal_case=legal_case, actor=officer, transition="settle")
    assert LegalCase.objects.get(pk=legal_case.pk).state == LegalState.SETTLED
    # The case has left mediation: the links are dead.
    assert phones["worker"].get(sign_url(worker_token)).status_code == 404
    assert phones["employer"].get(doc_url(employer_token)).status_code == 404


def test_settle_is_refused_until_every_party_has_signed(legal_case, officer, worker, agreement):
    send(legal_case, officer, agreement)
    token = token_sent_to(worker.mobile)
    signing.agreement_open(token=token)
    signing.agreement_sign(token=token, signed_name=WORKER_NAME, agreed=True)

    with pytest.raises(InvalidState):
        legal_transition(legal_case=legal_case, actor=officer, transition="settle")
    assert not Document.objects.filter(signed_complete=True).exists()
    assert not OutboundSms.objects.filter(template="agreement_signed").exists()


def test_a_second_submit_changes_nothing(legal_case, officer, worker, agreement):
    send(legal_case, officer, agreement)
    token = token_sent_to(worker.mobile)
    phone = browser()
    phone.get(doc_url(token))
    assert sign_post(phone, token, WORKER_NAME).status_code == 302
    before = snapshot()

    assert sign_post(phone, token, WORKER_NAME).status_code == 302
    assert sign_post(phone, token, "someone else", agree=False).status_code in (302, 400)
    signing.agreement_sign(token=token, signed_name=WORKER_NAME, agreed=True, ip="10.0.0.9", user_agent="other")

    assert snapshot() == before
    assert fresh(sig(agreement, "worker")).ip == "127.0.0.1"


def test_the_page_is_chinese_by_default(legal_case, officer, worker, agreement):
    send(legal_case, officer, agreement)
    page = text(browser(language=None).get(sign_url(token_sent_to(worker.mobile))))
    assert 'lang="zh-hans"' in page
    assert "<h1>签署调解协议</h1>" in page and "我已阅读协议全文并同意其内容" in page


# --- who sends, and what ---------------------------------------------------------------------------------


def test_only_the_legal_team_of_the_case_sends(legal_case, officer, worker, agreement):
    other_officer = staff(Role.LEGAL_OFFICER, "legal")
    before = snapshot()
    for actor in [other_officer, worker.user, staff(Role.FRONT_DESK), staff(Role.MEDIATOR, "legal")]:
        with pytest.raises(NotAllowed):
            send(legal_case, actor, agreement)
    assert snapshot() == before

    # Through the page: the worker can see the case (403), a stranger cannot (404).
    client = Client()
    client.force_login(worker.user)
    assert client.post(reverse("signing:send", args=[agreement.pk])).status_code == 403
    client.force_login(WorkerFactory().user)
    assert client.post(reverse("signing:send", args=[agreement.pk])).status_code == 404
    client.force_login(other_officer)
    assert client.post(reverse("signing:send", args=[agreement.pk])).status_code in (403, 404)
    assert client.get(reverse("signing:send", args=[agreement.pk])).status_code == 405
    assert snapshot() == before


@pytest.mark.parametrize(
    "state", [LegalState.CONSULTATION, LegalState.AID_ACCEPTED, LegalState.MEDIATION_FAILED, LegalState.SETTLED]
)
def test_sending_is_refused_outside_mediation(officer, worker, state):
    legal_case = make_case(officer, worker)
    document = upload(legal_case, officer)
    LegalCase.objects.filter(pk=legal_case.pk).update(state=state)
    before = snapshot()

    with pytest.raises(InvalidState):
        send(legal_case, officer, document)
    assert snapshot() == before


def test_only_an_agreement_pdf_of_this_case_is_sent(legal_case, officer, worker):
    picture = upload(legal_case, officer, png(), name="协议.png")
    evidence = upload(legal_case, officer, kind=DocumentKind.EVIDENCE)
    elsewhere = upload(make_case(officer), officer)
    broken = upload(legal_case, officer, b"%PDF-1.4\nnot really a pdf\n%%EOF\n")
    before = snapshot()

    for document in [picture, evidence, elsewhere, broken]:
        with pytest.raises(InvalidInput):
            send(legal_case, officer, document)
    assert snapshot() == before


@pytest.mark.parametrize("mobile", [None, "", "not a number"])
def test_sending_needs_a_mobile_number_of_the_employer(officer, worker, mobile):
    legal_case = make_case(officer, worker, employer_mobile=mobile)
    Representative.objects.create(legal_case=legal_case, side="worker", name="张律师", mobile="+8613900000008")
    document = upload(legal_case, officer)
    before = snapshot()

    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        send(legal_case, officer, document)
    assert "representative of the employer" in str(refused.value.message)
    assert snapshot() == before


def test_every_employer_representative_with_a_mobile_signs(legal_case, officer, worker, agreement):
    Representative.objects.create(legal_case=legal_case, side="employer", name="赵总", mobile="139 0000 0004")
    Representative.objects.create(legal_case=legal_case, side="employer", name="人事", mobile="")
    Representative.objects.create(legal_case=legal_case, side="employer", name="同号", mobile="13900000003")

    send(legal_case, officer, agreement)

    assert sorted(Signature.objects.values_list("party", "mobile")) == [
        ("employer", EMPLOYER_MOBILE),
        ("employer", "+8613900000004"),
        ("worker", worker.mobile),
    ]


# --- how a party signs -----------------------------------------------------------------------------


@pytest.fixture
def sent(legal_case, officer, worker, agreement):
    send(legal_case, officer, agreement)
    return {"worker": token_sent_to(worker.mobile), "employer": token_sent_to(EMPLOYER_MOBILE)}


def test_signing_before_opening_the_agreement_is_refused(sent, agreement):
    before = snapshot()
    with pytest.raises(InvalidState):
        signing.agreement_sign(token=sent["worker"], signed_name=WORKER_NAME, agreed=True)

    response = sign_post(browser(), sent["worker"], WORKER_NAME)
    assert response.status_code == 409
    assert "Open and read the agreement" in text(response)
    assert snapshot() == before


@pytest.mark.parametrize("typed", ["王刚", "", "   ", "王强强", EMPLOYER_NAME])
def test_a_wrong_name_is_refused(sent, agreement, typed):
    phone = browser()
    phone.get(doc_url(sent["worker"]))
    before = snapshot()

    with pytest.raises(InvalidInput):
        signing.agreement_sign(token=sent["worker"], signed_name=typed, agreed=True)
    response = sign_post(phone, sent["worker"], typed)
    assert response.status_code == 400
    assert snapshot() == before


def test_the_box_must_be_ticked(sent, agreement):
    phone = browser()
    phone.get(doc_url(sent["worker"]))
    before = snapshot()

    with pytest.raises(InvalidInput):
        signing.agreement_sign(token=sent["worker"], signed_name=WORKER_NAME, agreed=False)
    response = sign_post(phone, sent["worker"], WORKER_NAME, agree=False)
    assert response.status_code == 400
    assert "Tick the box" in text(response)
    assert WORKER_NAME in text(response)  # the input is kept
    assert snapshot() == before


def test_a_changed_agreement_cannot_be_signed(sent, agreement):
    phone = browser()
    phone.get(doc_url(sent["worker"]))
    other = agreement_pdf(text="AGREEMENT-CHANGED-0001")
    import base64

    Document.objects.filter(pk=agreement.pk).update(
        content=base64.b64encode(other).decode(), sha256=hashlib.sha256(other).hexdigest()
    )
    before = snapshot()

    with pytest.raises(InvalidState):
        signing.agreement_sign(token=sent["worker"], signed_name=WORKER_NAME, agreed=True)
    response = sign_post(phone, sent["worker"], WORKER_NAME)
    assert response.status_code == 409 and "has changed" in text(response)
    shown = phone.get(doc_url(sent["employer"]))
    assert shown.status_code == 409 and shown["Content-Type"].startswith("text/html")
    assert snapshot()[:2] == before[:2]


def test_the_worker_token_cannot_sign_for_the_employer(sent, agreement):
    phone = browser()
    phone.get(doc_url(sent["worker"]))

    assert sign_post(phone, sent["worker"], EMPLOYER_NAME).status_code == 400
    assert sign_post(phone, sent["worker"], WORKER_NAME).status_code == 302

    assert sig(agreement, "worker").signed_at is not None
    employer = sig(agreement, "employer")
    assert employer.signed_at is None and employer.viewed_at is None  # the worker's opening is not theirs
    assert not Document.objects.filter(signed_complete=True).exists()


# --- which links work --------------------------------------------------------------------------------


def test_an_expired_link_is_a_404(sent, agreement):
    Signature.objects.update(sent_at=timezone.now() - datetime.timedelta(days=signing.LINK_DAYS, seconds=1))
    phone = browser()
    before = snapshot()
    for token in sent.values():
        assert phone.get(sign_url(token)).status_code == 404
        assert phone.get(doc_url(token)).status_code == 404
        assert sign_post(phone, token, WORKER_NAME).status_code == 404
        with pytest.raises(Http404):
            signing.agreement_sign(token=token, signed_name=WORKER_NAME, agreed=True)
    assert snapshot() == before


def test_a_link_still_works_just_before_it_expires(sent):
    Signature.objects.update(sent_at=timezone.now() - datetime.timedelta(days=signing.LINK_DAYS, seconds=-60))
    assert browser().get(sign_url(sent["worker"])).status_code == 200


def test_a_link_dies_when_the_case_leaves_mediation(legal_case, officer, sent):
    legal_transition(legal_case=legal_case, actor=officer, transition="fail_mediation")
    phone = browser()
    before = snapshot()
    for token in sent.values():
        assert phone.get(sign_url(token)).status_code == 404
        assert phone.get(doc_url(token)).status_code == 404
        assert sign_post(phone, token, WORKER_NAME).status_code == 404
    assert snapshot() == before


def test_a_guessed_or_malformed_token_is_a_404(sent):
    phone = browser()
    for token in [
        secrets.token_urlsafe(32),
        "abc",
        sent["worker"][:-1] + ("A" if sent["worker"][-1] != "A" else "B"),
        hashlib.sha256(sent["worker"].encode()).hexdigest()[:43],
        "send",
    ]:
        assert phone.get(f"/sign/{token}/").status_code == 404
        assert phone.get(f"/sign/{token}/document/").status_code == 404
        assert phone.post(f"/sign/{token}/", {"signed_name": WORKER_NAME, "agree": "on"}).status_code == 404
    # The hash of a token (what the database holds) is no token either.
    stored = Signature.objects.get(party="worker").token_hash
    assert phone.get(f"/sign/{stored}/").status_code == 404


def test_a_token_of_another_case_signs_only_there(officer, sent, agreement):
    other_worker = WorkerFactory(name="陈明")
    other_case = make_case(officer, other_worker, employer_mobile="+8613900000005")
    other = upload(other_case, officer)
    send(other_case, officer, other)
    token = token_sent_to(other_worker.mobile)
    signing.agreement_open(token=token)
    signing.agreement_sign(token=token, signed_name="陈明", agreed=True)

    assert not Signature.objects.filter(document=agreement, signed_at__isnull=False).exists()
    signing.agreement_open(token=sent["worker"])
    with pytest.raises(InvalidInput):  # this link is 王强's, not 陈明's
        signing.agreement_sign(token=sent["worker"], signed_name="陈明", agreed=True)


def test_sending_again_replaces_the_links_of_who_has_not_signed(legal_case, officer, worker, agreement, sent):
    signing.agreement_open(token=sent["employer"])
    signing.agreement_sign(token=sent["employer"], signed_name=EMPLOYER_NAME, agreed=True)
    signing.agreement_open(token=sent["worker"])
    signed_before = sig(agreement, "employer").signed_at

    again = send(legal_case, officer, agreement)

    assert [s.party for s in again] == ["worker"]
    new_token = token_sent_to(worker.mobile)
    assert new_token != sent["worker"]
    assert browser().get(sign_url(sent["worker"])).status_code == 404  # the old link stopped working
    assert browser().get(sign_url(new_token)).status_code == 200
    assert sig(agreement, "worker").viewed_at is None  # opened anew through the new link
    assert sig(agreement, "employer").signed_at == signed_before  # who signed stays signed ...
    assert OutboundSms.objects.filter(to=EMPLOYER_MOBILE, template="agreement_sign_request").count() == 1  # ... unasked
    assert browser().get(sign_url(sent["employer"])).status_code == 200

    signing.agreement_open(token=new_token)
    signing.agreement_sign(token=new_token, signed_name=WORKER_NAME, agreed=True)
    assert Document.objects.filter(legal_case=legal_case, signed_complete=True).count() == 1
    with pytest.raises(InvalidState):  # nothing left to sign
        send(legal_case, officer, agreement)


def test_a_representative_removed_before_sending_again_loses_the_link(legal_case, officer, agreement, sent):
    Representative.objects.filter(legal_case=legal_case, side="employer").update(mobile="+8613900000006")
    send(legal_case, officer, agreement)

    assert browser().get(sign_url(sent["employer"])).status_code == 404
    assert sorted(Signature.objects.values_list("party", "mobile")) == [
        ("employer", "+8613900000006"),
        ("worker", legal_case.case.worker.mobile),
    ]


# --- what is stored and what is sent ---------------------------------------------------------------


def all_rows() -> dict[str, str]:
    """Every table's rows, as text, straight from the database."""
    tables = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            tables[table] = repr(cursor.fetchall())
    return tables


def test_the_database_holds_hashes_of_tokens_and_encrypted_pdfs(legal_case, officer, worker, agreement, sent):
    for token in sent.values():
        signing.agreement_open(token=token)
    signing.agreement_sign(token=sent["worker"], signed_name=WORKER_NAME, agreed=True)
    signing.agreement_sign(token=sent["employer"], signed_name=EMPLOYER_NAME, agreed=True)

    rows = all_rows()
    for token in sent.values():
        # Not even the outbox: its bodies are sealed (and the link is in it, readable through the model only).
        assert [table for table, content in rows.items() if token in content] == []
        assert any(token in m.body for m in OutboundSms.objects.all())
        assert Signature.objects.filter(token_hash=hashlib.sha256(token.encode()).hexdigest()).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT content, sha256 FROM legal_document WHERE signed_complete = %s OR id = %s", [True, agreement.pk]
        )
        stored = cursor.fetchall()
    assert len(stored) == 2
    for content, _sha in stored:
        assert content.startswith("enc1:")
        assert "JVBERi0" not in content  # base64 of "%PDF-"
    assert "AGREEMENT-CONTENT-5521" not in rows["legal_document"]
    assert "JVBERi0" not in rows["legal_document"]


def test_sms_bodies_name_no_service_and_carry_nothing_of_the_agreement(legal_case, officer, worker, agreement, sent):
    for token in sent.values():
        signing.agreement_open(token=token)
    signing.agreement_sign(token=sent["worker"], signed_name=WORKER_NAME, agreed=True)
    signing.agreement_sign(token=sent["employer"], signed_name=EMPLOYER_NAME, agreed=True)

    bodies = list(OutboundSms.objects.filter(template__startswith="agreement_").values_list("body", flat=True))
    assert len(bodies) == 4
    for body in bodies:
        assert sms.contains_sensitive_word(body) is None
        assert "/legal/" not in body
        for secret in [
            "AGREEMENT-CONTENT-5521",
            "18000",
            "调解",
            "协议",
            "mediation",
            "agreement",
            agreement.filename,
            agreement.sha256,
            WORKER_NAME,
            "李经理",
        ]:
            assert secret not in body
        assert legal_case.case.reference in body
    # The employer's representative has no account: the hall's language, Chinese.
    employer = OutboundSms.objects.filter(to=EMPLOYER_MOBILE, template="agreement_sign_request").get()
    assert employer.language == settings.LANGUAGE_CODE


@pytest.mark.parametrize("template", ["agreement_sign_request", "agreement_signed"])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_templates_name_no_service(template, language):
    spec = sms.templates()[template]
    with translation.override(language):
        body = str(spec.text) % {"ref": "QD-2026-000123", "link": "https://hall.example.org/sign/x/", **spec.sample}
    assert sms.contains_sensitive_word(body) is None
    assert "QD-2026-000123" in body


# --- the case page's fragment --------------------------------------------------------------------------


def test_the_fragment_shows_each_signatory_to_the_legal_team_only(legal_case, officer, worker, agreement, sent):
    signing.agreement_open(token=sent["worker"])
    signing.agreement_sign(token=sent["worker"], signed_name=WORKER_NAME, agreed=True)
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(officer)

    page = text(client.get(reverse("legal:case", args=[legal_case.pk])))
    section = page.split('id="signing-h"', 1)[1].split("</section>", 1)[0]
    assert f"Worker: {WORKER_NAME}" in section and f"Employer: {EMPLOYER_NAME}" in section
    assert timezone.localtime(sig(agreement, "worker").signed_at).strftime("%Y-%m-%d %H:%M") in section
    assert "Send for signing again" in section
    for token in sent.values():
        assert token not in page

    client.force_login(worker.user)
    assert 'id="signing-h"' not in text(client.get(reverse("legal:case", args=[legal_case.pk])))


# --- the last two signatures at once (PostgreSQL: real connections, real row locks) --------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_last_signatures_at_once_make_one_signed_copy(officer, worker):
    from care import audit

    legal_case = make_case(officer, worker)
    agreement = upload(legal_case, officer)
    send(legal_case, officer, agreement)
    tokens = {"worker": token_sent_to(worker.mobile), "employer": token_sent_to(EMPLOYER_MOBILE)}
    for token in tokens.values():
        signing.agreement_open(token=token)

    outcomes = race(
        lambda: signing.agreement_sign(token=tokens["worker"], signed_name=WORKER_NAME, agreed=True),
        lambda: signing.agreement_sign(token=tokens["employer"], signed_name=EMPLOYER_NAME, agreed=True),
    )

    assert all(isinstance(o, Signature) for o in outcomes), outcomes
    assert not Signature.objects.filter(signed_at__isnull=True).exists()
    assert Document.objects.filter(legal_case=legal_case, signed_complete=True).count() == 1
    assert AuditEvent.objects.filter(event_type=SigningEvent.COMPLETED).count() == 1
    assert OutboundSms.objects.filter(template="agreement_signed").count() == 2
    assert list(audit.verify()) == []
