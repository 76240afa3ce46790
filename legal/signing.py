"""The mediation agreement signed online (ADR 0009).

The legal team sends an agreement PDF for signing: the worker and each representative of the
employer with a mobile number get an SMS with a personal link, ``/sign/<token>/``. Only the
sha256 of the token is stored; the link works for LINK_DAYS days, while the case is in
mediation, and until the agreement is sent again. On their own device each party opens the
agreement, types their full name, ticks "I have read the whole agreement" and signs. When the
last party signs, the signed PDF (the original pages and one signature page) is stored
encrypted as a new agreement document with ``signed_complete=True``: the ``settle``
transition's condition then holds.

Services (every write): ``agreement_send_for_signing``, ``agreement_open`` (the party fetches
the PDF; records ``viewed_at``), ``agreement_sign``. Reads: ``signature_for_token`` (the
link's holder, no login) and ``signing_panel`` (the legal team's view on the case page).
"""

import base64
import binascii
import datetime
import hashlib
import io
import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from care import audit, sms, uploads
from care.errors import InvalidInput, InvalidState, NotAllowed
from care.validators import normalize_mobile
from legal import documents, permissions
from legal.models import Document, DocumentKind, LegalCase, LegalState, Representative, Signature

log = logging.getLogger(__name__)

LINK_DAYS = 7
TOKEN_BYTES = 32
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
USER_AGENT_MAX = 300  # Signature.user_agent
SHANGHAI = ZoneInfo("Asia/Shanghai")


class SigningEvent:
    SENT = "legal.agreement_sent_for_signing"
    VIEWED = "legal.agreement_viewed"
    SIGNED = "legal.agreement_signed"
    COMPLETED = "legal.agreement_signed_by_all"


sms.register_template(sms.SmsTemplate(
    "agreement_sign_request",
    gettext_lazy("Worker Service Center: a document for reference %(ref)s is ready for your signature: %(link)s"),
    # The link is a credential (whoever holds it can sign): its body is hidden on the outbox
    # page and in the API like a sign-in code's. Essential messages also ignore STOP.
    essential=True,
))
sms.register_template(sms.SmsTemplate(
    "agreement_signed",
    gettext_lazy("Worker Service Center: the document for reference %(ref)s is now signed by all parties."),
))


def _changed() -> InvalidState:
    return InvalidState(_("The agreement has changed since it was sent. Ask the mediator to send it again."))


# --- tokens ------------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, _token_hash(token)


def link_expires_at(signature: Signature) -> datetime.datetime:
    return signature.sent_at + datetime.timedelta(days=LINK_DAYS)


def _link_alive(signature: Signature, legal_case: LegalCase) -> bool:
    return legal_case.state == LegalState.MEDIATION and timezone.now() < link_expires_at(signature)


def signature_for_token(token: str) -> Signature:
    """The signature a link's token stands for, without the agreement's content. Http404 for
    a token that is malformed, unknown, replaced by a new link, expired, or whose case has
    left mediation: all look the same."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        raise Http404
    signature = (
        Signature.objects.select_related("legal_case__case", "document")
        .defer("document__content")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if signature is None or not _link_alive(signature, signature.legal_case):
        raise Http404
    return signature


def _locked_for_token(token: str) -> tuple[LegalCase, Signature]:
    """The case and the signature of a live token, locked in that order (as every write of
    this module locks them), so that two last signatures cannot both miss each other."""
    found = signature_for_token(token)
    legal_case = LegalCase.objects.select_for_update().select_related("case", "case__worker").get(
        pk=found.legal_case_id)
    signature = Signature.objects.select_for_update().get(pk=found.pk)
    if signature.token_hash != _token_hash(token) or not _link_alive(signature, legal_case):
        raise Http404  # replaced or expired while we waited for the lock
    signature.legal_case = legal_case
    return legal_case, signature


# --- the stored agreement ------------------------------------------------------------------------


def _content(document: Document) -> tuple[bytes, str]:
    """The bytes of a stored document and their sha256 (not checked against the record)."""
    try:
        data = base64.b64decode(document.content, validate=True)
    except (binascii.Error, ValueError, TypeError):
        data = b""
    return data, hashlib.sha256(data).hexdigest()


def _pdf_pages(data: bytes) -> int:
    """How many pages the PDF has; InvalidInput if pypdf cannot read it (the signed copy is
    built with it) or it is password-protected."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    unreadable = InvalidInput(_("This PDF cannot be read: save it again as a plain PDF, without a password, "
                                "and upload it."))
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise unreadable
        pages = len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        raise unreadable from None
    if pages < 1:
        raise unreadable
    return pages


# --- sending -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signatory:
    party: str
    name: str
    mobile: str


def signatories(legal_case: LegalCase) -> list[Signatory]:
    """The worker and every representative of the employer with a valid mobile number (one
    signature per number)."""
    worker = legal_case.case.worker
    people = [Signatory(Signature.Party.WORKER, worker.name, worker.mobile)]
    seen = set()
    reps = legal_case.representatives.filter(side=Representative.Side.EMPLOYER).exclude(mobile="").order_by("pk")
    for rep in reps:
        try:
            mobile = normalize_mobile(rep.mobile)
        except InvalidInput:
            log.warning("legal case %s: representative %s has no valid mobile number; not asked to sign",
                        legal_case.pk, rep.pk)
            continue
        if mobile not in seen:
            seen.add(mobile)
            people.append(Signatory(Signature.Party.EMPLOYER, rep.name, mobile))
    return people


def _notify(signature: Signature, legal_case: LegalCase, template: str, context: dict) -> None:
    """The worker in their own language; a representative (a number only) in the hall's."""
    context = {"ref": legal_case.case.reference, **context}
    if signature.party == Signature.Party.WORKER and signature.mobile == legal_case.case.worker.mobile:
        sms.notify(recipient=legal_case.case.worker, template=template, context=context)
    else:
        with translation.override(settings.LANGUAGE_CODE):
            sms.notify(recipient=signature.mobile, template=template, context=context)


@transaction.atomic
def agreement_send_for_signing(*, legal_case: LegalCase, actor, document: Document) -> list[Signature]:
    """Send ``document`` (a mediation agreement PDF of ``legal_case``, in mediation) to the
    worker and the employer's representatives for signing, each by SMS with a personal link.
    Sending again gives everyone who has not signed yet a new link (the old one stops
    working); who has signed stays signed. Returns the signatures that were sent."""
    legal_case = LegalCase.objects.select_for_update().select_related("case", "case__worker").get(pk=legal_case.pk)
    if not permissions.is_legal_team(actor, legal_case):
        raise NotAllowed()
    if legal_case.state != LegalState.MEDIATION:
        raise InvalidState(_("An agreement can be sent for signing only while the case is in mediation."))
    document = Document.objects.filter(pk=document.pk, legal_case=legal_case).first()
    if document is None:
        raise InvalidInput(_("This document does not belong to this case."))
    if document.kind != DocumentKind.AGREEMENT or document.signed_complete:
        raise InvalidInput(_("Only a mediation agreement that is not signed yet can be sent for signing."))
    if document.content_type != uploads.PDF.content_type:
        raise InvalidInput(_("Only a PDF can be sent for signing: upload the agreement as a PDF."))
    data, digest = _content(document)
    if digest != document.sha256:
        log.error("legal document %s does not match its sha256", document.pk)
        raise InvalidState(_("The stored file is damaged: upload the agreement again."))
    _pdf_pages(data)
    people = signatories(legal_case)
    if not any(p.party == Signature.Party.EMPLOYER for p in people):
        raise InvalidInput(_("Enter the mobile number of at least one representative of the employer: "
                             "the agreement is sent to them by SMS."))
    existing = {(s.party, s.mobile): s for s in Signature.objects.select_for_update().filter(document=document)}
    if existing and all(s.signed_at for s in existing.values()):
        raise InvalidState(_("This agreement is already signed by all parties."))

    wanted = {(p.party, p.mobile) for p in people}
    for key, signature in existing.items():
        if key not in wanted and signature.signed_at is None:
            signature.delete()  # no longer a signatory: the link stops working
    now = timezone.now()
    sent = []
    for person in people:
        signature = existing.get((person.party, person.mobile))
        if signature is not None and signature.signed_at is not None:
            continue
        if signature is None:
            signature = Signature(legal_case=legal_case, document=document, party=person.party, mobile=person.mobile,
                                  created_at=now)
        token, signature.token_hash = _new_token()
        signature.name = person.name
        signature.sent_by = actor
        signature.sent_at = now
        signature.viewed_at = None  # the new link is opened anew
        signature.document_sha256 = document.sha256
        signature.save()
        sent.append((signature, token))
    audit.record(actor=actor, event_type=SigningEvent.SENT, subject=legal_case,
                 new={"document": document.pk, "sha256": document.sha256,
                      "signatures": [{"signature": s.pk, "party": s.party} for s, _token in sent]})
    for signature, token in sent:
        _notify(signature, legal_case, "agreement_sign_request",
                {"link": sms.link(reverse("signing:sign", args=[token]))})
    return [signature for signature, _token in sent]


# --- the party: opening and signing ----------------------------------------------------------------


@transaction.atomic
def agreement_open(*, token: str) -> tuple[Signature, bytes]:
    """The agreement's bytes for the holder of a live link; the first opening is recorded
    as ``viewed_at``, and every opening in the audit log. InvalidState if the agreement is no
    longer what was sent."""
    signature = signature_for_token(token)
    document = Document.objects.get(pk=signature.document_id)
    data, digest = _content(document)
    if digest != signature.document_sha256 or document.sha256 != signature.document_sha256:
        raise _changed()
    if signature.viewed_at is None:
        now = timezone.now()
        Signature.objects.filter(pk=signature.pk, viewed_at__isnull=True).update(viewed_at=now)
        signature.viewed_at = now
    audit.record(actor=None, event_type=SigningEvent.VIEWED, subject=signature.legal_case,
                 new={"signature": signature.pk, "party": signature.party, "document": document.pk})
    return signature, data


def _plain_name(name: str) -> str:
    """A name for comparison: without any space (ASCII, full-width, ...), case-folded."""
    return "".join(unicodedata.normalize("NFKC", str(name or "")).split()).casefold()


@transaction.atomic
def agreement_sign(*, token: str, signed_name: str, agreed: bool, ip: str | None = None,
                   user_agent: str = "") -> Signature:
    """The holder of a live link signs: they must have opened the agreement, typed the
    signatory's name (spaces ignored) and confirmed they read and agree to it, and the
    agreement must be what was sent. Signing twice changes nothing. The last signature makes
    the signed PDF."""
    legal_case, signature = _locked_for_token(token)
    if signature.signed_at is not None:
        return signature
    if signature.viewed_at is None:
        raise InvalidState(_("Open and read the agreement before you sign it."))
    if not _plain_name(signed_name) or _plain_name(signed_name) != _plain_name(signature.name):
        raise InvalidInput(_("Type your full name as the mediator entered it: %(name)s.") % {"name": signature.name},
                           detail={"signed_name": "mismatch"})
    if not agreed:
        raise InvalidInput(_("Tick the box to confirm that you have read the whole agreement and agree to it."),
                           detail={"agree": "required"})
    document = Document.objects.get(pk=signature.document_id)
    data, digest = _content(document)
    if digest != signature.document_sha256 or document.sha256 != signature.document_sha256:
        raise _changed()
    signature.signed_at = timezone.now()
    signature.signed_name = " ".join(str(signed_name).split())[:50]
    signature.ip = ip or None
    signature.user_agent = str(user_agent or "")[:USER_AGENT_MAX]
    signature.save(update_fields=["signed_at", "signed_name", "ip", "user_agent"])
    audit.record(actor=None, event_type=SigningEvent.SIGNED, subject=legal_case,
                 new={"signature": signature.pk, "party": signature.party, "document": document.pk,
                      "sha256": signature.document_sha256})
    if not Signature.objects.filter(document=document, signed_at__isnull=True).exists():
        _complete(legal_case=legal_case, document=document, original=data, last=signature)
    return signature


# --- the signed PDF --------------------------------------------------------------------------------


def _complete(*, legal_case: LegalCase, document: Document, original: bytes, last: Signature) -> Document:
    """Every party has signed: store the signed PDF and tell the parties."""
    signatures = sorted(Signature.objects.filter(document=document),
                        key=lambda s: (s.party != Signature.Party.WORKER, s.signed_at, s.pk))
    with translation.override(settings.LANGUAGE_CODE):
        data = signed_pdf(original=original, legal_case=legal_case, document=document, signatures=signatures)
        stem = document.filename.rsplit(".", 1)[0]
        filename = _("%(name)s (signed)") % {"name": stem}
    signed = _store_signed_copy(legal_case=legal_case, data=data, filename=filename,
                                uploaded_by=legal_case.case.assignee or last.sent_by)
    audit.record(actor=None, event_type=documents.DocumentEvent.UPLOADED, subject=legal_case,
                 new={"document": signed.pk, "kind": signed.kind, "content_type": signed.content_type,
                      "size": signed.size, "sha256": signed.sha256, "signed_from": document.pk})
    audit.record(actor=None, event_type=SigningEvent.COMPLETED, subject=legal_case,
                 new={"document": document.pk, "sha256": document.sha256, "signed_document": signed.pk,
                      "signed_sha256": signed.sha256, "signatures": [s.pk for s in signatures]})
    for signature in signatures:
        _notify(signature, legal_case, "agreement_signed", {})
    return signed


def _store_signed_copy(*, legal_case: LegalCase, data: bytes, filename: str, uploaded_by) -> Document:
    """Store the signed PDF as legal.documents stores an upload (its type sniffed, its name made
    safe, base64 in the encrypted column, with its sha256). Not through document_upload: nobody
    uploads it (the system does, when the last party signs), so its permission check and its
    audit actor do not apply; the caller audits."""
    file_type = uploads.sniff(data)
    return Document.objects.create(
        legal_case=legal_case,
        kind=DocumentKind.AGREEMENT,
        filename=uploads.safe_filename(f"{filename}{file_type.extensions[0]}", file_type),
        content_type=file_type.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=base64.b64encode(data).decode("ascii"),
        uploaded_by=uploaded_by,
        signed_complete=True,
    )


FONT = "STSong-Light"  # reportlab's built-in CID font: Chinese without font files
MONO = "Courier"


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment, SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _signature_page(*, legal_case: LegalCase, document: Document, signatures: list[Signature]) -> bytes:
    """One A4 page: the reference, the agreement's name and sha256, and for each party the
    signatory, the typed name and the time of signing (Asia/Shanghai). In the active language."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen import canvas

    font = _font()
    width, height = A4
    margin = 20 * mm
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    page.setTitle(_("Signature page"))
    y = height - margin

    def line(text: str, size: float = 10.5, face: str = font, gap: float = 1.5) -> None:
        nonlocal y
        for part in simpleSplit(text, face, size, width - 2 * margin) or [""]:
            if y < margin:
                page.showPage()
                y = height - margin
            page.setFont(face, size)
            page.drawString(margin, y, part)
            y -= size * gap

    line(_("Signature page of the mediation agreement"), size=16, gap=2)
    line(_("Reference: %(ref)s") % {"ref": legal_case.case.reference})
    line(_("Agreement: %(name)s") % {"name": document.filename})
    line(_("SHA-256 of the agreement as signed (the pages before this one):"))
    line(document.sha256, size=9, face=MONO, gap=2.2)
    for signature in signatures:
        party = str(Signature.Party(signature.party).label)
        line(f"{party}: {signature.name}", size=12, gap=1.8)
        line(_("Typed name: %(name)s") % {"name": signature.signed_name})
        line(_("Signed at: %(time)s (Asia/Shanghai)") % {"time": _local(signature.signed_at)})
        line(_("Personal link sent by SMS to %(mobile)s") % {"mobile": _masked(signature.mobile)}, gap=2.2)
    line(_("Each party signed online, on their own device, after opening the agreement. The Worker Service "
           "Center added this page when the last party signed."), size=9)
    page.showPage()
    page.save()
    return buffer.getvalue()


def _masked(mobile: str) -> str:
    national = mobile.removeprefix("+86")
    return f"{national[:3]}****{national[-4:]}"


def signed_pdf(*, original: bytes, legal_case: LegalCase, document: Document, signatures: list[Signature]) -> bytes:
    """The original pages followed by the signature page."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(original)))
    writer.append(PdfReader(io.BytesIO(_signature_page(legal_case=legal_case, document=document,
                                                       signatures=signatures))))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- the case page's fragment ----------------------------------------------------------------------


@dataclass
class AgreementRow:
    document: Document
    signatures: list[Signature] = field(default_factory=list)
    can_send: bool = False
    why_not: str = ""

    @property
    def all_signed(self) -> bool:
        return bool(self.signatures) and all(s.signed_at for s in self.signatures)


@dataclass
class SigningPanel:
    in_mediation: bool
    agreements: list[AgreementRow]


def signing_panel(*, legal_case: LegalCase, user) -> SigningPanel | None:
    """What the legal team of the case sees of signing (legal/_signing.html); None for
    anyone else. Signatories' links are never shown."""
    if not permissions.is_legal_team(user, legal_case):
        return None
    in_mediation = legal_case.state == LegalState.MEDIATION
    agreements = documents.documents_for_user(legal_case=legal_case, user=user).filter(kind=DocumentKind.AGREEMENT)
    by_document: dict[int, list[Signature]] = {}
    for signature in Signature.objects.filter(document__in=agreements).order_by("party", "pk"):
        by_document.setdefault(signature.document_id, []).append(signature)
    rows = []
    for document in agreements:
        row = AgreementRow(document=document, signatures=by_document.get(document.pk, []))
        if document.signed_complete or row.all_signed:
            pass
        elif document.content_type != uploads.PDF.content_type:
            row.why_not = _("Only a PDF can be sent for signing.")
        elif not in_mediation:
            row.why_not = _("Agreements are sent for signing while the case is in mediation.")
        else:
            row.can_send = True
        rows.append(row)
    return SigningPanel(in_mediation=in_mediation, agreements=rows)
