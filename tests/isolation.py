"""The role-isolation matrix: every role × every endpoint × own / someone else's object.

Apps extend it by adding ``Endpoint`` rows to ``ENDPOINTS`` (and objects to ``World``),
not by copying the test. For each cell the test checks the status, that a refusal changed
nothing, that the case's private content never reaches anyone outside READERS, and that a
caseworker's note never reaches anyone outside NOTE_READERS (and likewise a claim's content, a
counseling session note and a counseling appointment's reason: CLAIM_READERS, SESSION_READERS,
COUNSELING_READERS). A row's ``data`` may be a callable(world) for values known once the World exists.
"""

import datetime
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from care.models import Stage
from care.roles import Role
from legal.documents import document_upload
from legal.models import (
    ClaimKind,
    ClaimLine,
    Deadline,
    DeadlineRule,
    Document,
    DocumentKind,
    Hearing,
    LegalCase,
    LegalState,
    Note,
    Participant,
    VideoRoom,
)
from tests.factories import CaseFactory, WorkerFactory, staff

try:  # hearings are built by another module of legal aid; the matrix covers them once they exist
    from legal.hearings import hearing_record_outcome, hearing_schedule
except ImportError:  # pragma: no cover
    hearing_schedule = hearing_record_outcome = None
HAS_HEARINGS = hearing_schedule is not None

ACTORS = [
    "anonymous", "worker_owner", "worker_stranger", "front_desk", "legal_assignee", "legal_other", "mediator",
    "arbitrator", "counselor", "counselor_other", "counselor_supervisor", "claims_officer", "claims_reviewer",
    "childcare_staff", "childcare_other", "matchmaker", "center_manager", "administrator", "other_arbitrator",
]

SECRET = "欠薪纠纷细节-SECRET-7731"
# A caseworker's note on the legal case: only the legal team of the case reads it.
NOTE_SECRET = "内部备注-NOTE-SECRET-4409"
PDF_HEAD, PDF_TAIL = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ", b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# A claim's private content (its diagnosis, a receipt): only the member and the claim's handler.
CLAIM_SECRET = "住院诊断-CLAIM-SECRET-5120"
CLAIM_PDF = PDF_HEAD + CLAIM_SECRET.encode() + PDF_TAIL
# A counselor's session note: only the counselors of the case (its counselor and the supervisor
# they named) ever read it.
SESSION_SECRET = "咨询记录-COUNSEL-SECRET-6612"
# Why the worker moved their counseling appointment: only the worker and their counselor.
COUNSEL_REASON_SECRET = "改约原因-COUNSEL-REASON-3391"
# A child's allergies and an incident at the care station: only the guardian and the station's
# staff on duty.
CHILD_SECRET = "花生过敏-CHILD-SECRET-8820"
# What the owner wrote on their matchmaking profile (and their report's reason): only the owner and
# the matchmakers. The contact they share: only the owner (it goes out by SMS, never on a page).
MATCH_SECRET = "自我介绍-MATCH-SECRET-5531"
MATCH_CONTACT = "wxMatchContact7719"
# A low rating's comment: only the center manager reads it (on the follow-up list).
SURVEY_SECRET = "服务太差-SURVEY-SECRET-2217"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND"
       b"\xaeB`\x82")
# A tiny PDF whose content is the case's private content.
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% " + SECRET.encode() + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def readable(content: bytes) -> str:
    """The response as text; a workbook (a ZIP) as the text of all its parts."""
    if content.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            return "".join(package.read(name).decode("utf-8", "replace") for name in package.namelist())
    return content.decode("utf-8", "replace")


class World:
    """The people and objects every cell starts from."""

    def __init__(self):
        self.owner = WorkerFactory(name="案主")
        self.stranger = WorkerFactory(name="路人")
        self.users = {
            "worker_owner": self.owner.user,
            "worker_stranger": self.stranger.user,
            "front_desk": staff(Role.FRONT_DESK),
            "legal_assignee": staff(Role.LEGAL_OFFICER, "legal"),
            "legal_other": staff(Role.LEGAL_OFFICER, "legal"),
            "mediator": staff(Role.MEDIATOR, "legal"),
            "arbitrator": staff(Role.ARBITRATOR),
            "counselor": staff(Role.COUNSELOR, "counseling"),
            "counselor_other": staff(Role.COUNSELOR, "counseling"),
            "counselor_supervisor": staff(Role.COUNSELOR, "counseling"),
            "claims_officer": staff(Role.CLAIMS_OFFICER, "claims"),
            "claims_reviewer": staff(Role.CLAIMS_REVIEWER, "claims"),
            "childcare_staff": staff(Role.CHILDCARE_STAFF, "childcare", mobile="+8613700000777"),
            "childcare_other": staff(Role.CHILDCARE_STAFF, "childcare", mobile="+8613700000778"),
            "matchmaker": staff(Role.MATCHMAKER, "matchmaking"),
            "center_manager": staff(Role.CENTER_MANAGER),
            "administrator": staff(Role.ADMINISTRATOR, is_staff=True, is_superuser=True),
            "other_arbitrator": staff(Role.ARBITRATOR),
        }
        # A legal case, taken up by one legal officer.
        self.case = CaseFactory(worker=self.owner, department="legal", stage=Stage.IN_PROGRESS,
                                assignee=self.users["legal_assignee"], description=SECRET)
        from care.permissions import grant_case

        grant_case(case=self.case, user=self.users["legal_assignee"])
        # A failed SMS in the outbox.
        from care.models import OutboundSms, SmsStatus

        self.sms = OutboundSms.objects.create(to=self.owner.mobile, worker=self.owner, template="request_received",
                                              language="zh-hans", body="QD", status=SmsStatus.FAILED, error="x")
        self._legal_aid()
        self._claims()
        self._counseling()
        self._childcare()
        self._matchmaking()
        self._figures()

    def _figures(self):
        """The owner rated the case 1 with a comment (SURVEY_SECRET) and allowed a call back;
        last month's report of the figures is made."""
        import hashlib

        from care import figures, surveys
        from care.models import Survey

        token = "t" * 43
        Survey.objects.create(case=self.case, department="legal", sent_at=timezone.now(),
                              token_hash=hashlib.sha256(token.encode()).hexdigest())
        self.survey = surveys.survey_answer(token=token, rating=1, comment=SURVEY_SECRET, call_back=True)
        self.report = figures.report_last_month()

    def _counseling(self):
        """The owner's counseling appointment with ``counselor``: booked in two days at 10:00, then
        moved by the worker to 11:00 with a reason (COUNSEL_REASON_SECRET, kept on the ``moved``
        one); its session note (SESSION_SECRET), which ``counselor_supervisor`` may read as the
        supervisor the counselor named; 15:00 that day is still free (``move_to``). And a group
        session the counselor leads in three days, in which the owner has a seat."""
        from counseling import services as counseling
        from tests.counseling.helpers import SH, book, consent, counselor, group_session

        who = counselor(user=self.users["counselor"])
        consent(self.owner)
        day = timezone.localdate() + datetime.timedelta(days=2)

        def at(hour: int) -> datetime.datetime:
            return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SH)

        self.moved = book(worker=self.owner, counselor=who, starts_at=at(10))
        self.appointment = counseling.appointment_reschedule(appointment=self.moved, actor=self.owner.user,
                                                             starts_at=at(11), reason=COUNSEL_REASON_SECRET)
        self.move_to = at(15).isoformat()
        counseling.note_add(appointment=self.appointment, actor=who, body=SESSION_SECRET)
        counseling.supervision_grant(case=self.appointment.case, supervisor=self.users["counselor_supervisor"],
                                     actor=who)
        session = group_session(facilitator=who, starts_at=datetime.datetime.combine(
            day + datetime.timedelta(days=1), datetime.time(14), tzinfo=SH))
        self.group_session = session
        self.group_place = counseling.group_signup(actor=self.owner.user, session=session, worker=self.owner)

    def _childcare(self):
        """The owner's child at the care station that ``childcare_staff`` coordinates and is on
        duty at today: allergies (CHILD_SECRET), a grandmother authorised with a photo, enrolled,
        checked in, and an incident (CHILD_SECRET). ``childcare_other`` runs another station."""
        from childcare import services as care
        from childcare.models import ProgrammeKind, Station, today

        keeper = self.users["childcare_staff"]
        Station.objects.create(name="别的驿站", coordinator=self.users["childcare_other"])
        station = Station.objects.create(name="文化宫驿站", coordinator=keeper)
        self.care_programme = care.programme_create(
            actor=keeper, station=station, name="托管班", kind=ProgrammeKind.AFTER_SCHOOL, starts_on=today(),
            ends_on=today() + datetime.timedelta(days=30), weekdays="1234567", opens_at=datetime.time(0),
            closes_at=datetime.time(23, 59, 59), min_age=3, max_age=14, capacity=10, ratio=8)
        self.child = care.child_register(
            actor=self.owner.user, guardian=self.owner, name="小宝", allergies=CHILD_SECRET,
            date_of_birth=today().replace(year=today().year - 8, day=1),
            emergency_contacts=[{"name": "外婆", "relation": "外婆", "mobile": "13900000002"}])
        self.grandma = care.pickup_person_add(actor=self.owner.user, child=self.child, name="外婆", relation="外婆",
                                              mobile="13900000002", id_number="11010519491231002X",
                                              photo=SimpleUploadedFile("外婆.png", PNG))
        self.enrolment = care.enrol(actor=self.owner.user, child=self.child, programme=self.care_programme)
        care.duty_set(actor=keeper, programme=self.care_programme, day=today(), staff=[keeper])
        self.attendance = care.check_in(actor=keeper, enrolment=self.enrolment, brought_by="妈妈")
        care.incident_record(actor=keeper, enrolment=self.enrolment, occurred_at=timezone.now(), kind="injury",
                             description=CHILD_SECRET, action_taken="消毒")

    def _matchmaking(self):
        """The owner's verified matchmaking profile (MATCH_SECRET, contact MATCH_CONTACT, a photo);
        a suitor (not an actor) asked to be introduced; the owner reported him; a social event in
        three days with the owner's seat."""
        from matchmaking import services as match
        from tests.matchmaking.helpers import member

        keeper = self.users["matchmaker"]
        profile = match.profile_opt_in(actor=self.owner.user, worker=self.owner, gender="female", seeking="male")
        profile = match.profile_update(actor=self.owner.user, profile=profile, display_name="小雨",
                                       contact=MATCH_CONTACT, introduction=MATCH_SECRET)
        self.match_photo = match.photo_add(actor=self.owner.user, profile=profile,
                                           uploaded_file=SimpleUploadedFile("me.png", PNG))
        match.profile_submit(actor=self.owner.user, profile=profile)
        self.match_profile = match.profile_review(actor=keeper, profile=profile, step="verify")
        self.suitor = member(gender="male", seeking="female", reviewer=keeper)
        self.introduction = match.introduction_request(actor=self.suitor.worker.user, profile=self.suitor,
                                                       other=self.match_profile)
        self.match_report = match.report_file(actor=self.owner.user, profile=self.match_profile,
                                              reported=self.suitor, reason=MATCH_SECRET)
        start = timezone.now() + datetime.timedelta(days=3)
        self.match_event = match.event_create(actor=keeper, title="冬日联谊", place="文化宫", starts_at=start,
                                              ends_at=start + datetime.timedelta(hours=2), capacity=10)
        match.event_signup(actor=self.owner.user, profile=self.match_profile, event=self.match_event)

    def _claims(self):
        """A mutual-aid claim of the owner, taken up by ``claims_officer`` for review: payable,
        so ``approve`` is the handler's next step. Its diagnosis, its answer and a receipt carry
        CLAIM_SECRET."""
        from care.claims import services as claims
        from tests.care.claims.helpers import enrol, file_claim, invoice, make_plan

        officer = self.users["claims_officer"]
        self.claim = file_claim(enrolment=enrol(self.owner, make_plan()), diagnosis=CLAIM_SECRET,
                                invoices=[invoice("ISO0000001", "4800.00")])
        self.claim = claims.claim_transition(claim=self.claim, actor=officer, transition="start_review")
        self.receipt = claims.receipt_upload(claim=self.claim, actor=officer,
                                             uploaded_file=SimpleUploadedFile("发票.pdf", CLAIM_PDF))
        # A paid batch of another member's claim (the World's own claim stays under review).
        other = file_claim(invoices=[invoice("ISO0000009", "2800.00")])
        claims.claim_transition(claim=claims.claim_transition(claim=other, actor=officer, transition="start_review"),
                                actor=officer, transition="approve")
        self.batch = claims.batch_mark_paid(batch=claims.batch_create(actor=officer), actor=officer)

    def _legal_aid(self):
        """The legal file of the case: a claim, a note, a document, an award deadline and, once
        hearings exist, a hearing before ``arbitrator`` that was held and adjourned. The case
        ends up ``heard``, waiting for the award (the step ``issue_award``)."""
        officer = self.users["legal_assignee"]
        today = timezone.localdate()
        self.legal_case = LegalCase.objects.create(case=self.case, state=LegalState.COMMITTEE_ACCEPTED,
                                                   employer_name="青岛某机械有限公司",
                                                   dispute_date=today - datetime.timedelta(days=90))
        ClaimLine.objects.create(legal_case=self.legal_case, kind=ClaimKind.WAGES, amount=Decimal("18000.00"),
                                 note=SECRET)
        Note.objects.create(legal_case=self.legal_case, author=officer, body=f"{NOTE_SECRET} {SECRET}")
        Deadline.objects.create(legal_case=self.legal_case, rule=DeadlineRule.AWARD, starts_on=today,
                                due_on=today + datetime.timedelta(days=45))
        self.document = document_upload(legal_case=self.legal_case, actor=officer, kind=DocumentKind.EVIDENCE,
                                         uploaded_file=SimpleUploadedFile("工资条.pdf", PDF))
        self.hearing = None
        if HAS_HEARINGS:
            start = timezone.now() + datetime.timedelta(days=10)
            hearing = hearing_schedule(legal_case=self.legal_case, actor=officer, arbitrator=self.users["arbitrator"],
                                       starts_at=start, ends_at=start + datetime.timedelta(hours=2),
                                       place="市南区香港中路100号 3楼301室")
            now = timezone.now()  # time passes: the hearing began an hour ago
            Hearing.objects.filter(pk=hearing.pk).update(starts_at=now - datetime.timedelta(hours=1),
                                                         ends_at=now + datetime.timedelta(hours=1))
            self.hearing = hearing_record_outcome(hearing=Hearing.objects.get(pk=hearing.pk),
                                                  actor=self.users["arbitrator"], outcome="adjourned")
            # It was held by video (cloud arbitration): its room, with the worker, the legal aid
            # officer and the arbitrator invited.
            from django.db import transaction

            from legal import video

            with transaction.atomic():
                self.video_room = video.room_prepare(hearing=self.hearing, actor=officer)
        else:  # pragma: no cover
            LegalCase.objects.filter(pk=self.legal_case.pk).update(state=LegalState.HEARD)

    def snapshot(self):
        from care.claims.models import Claim, Invoice, PaymentBatch, Receipt
        from care.models import (
            AuditEvent,
            Case,
            CaseUserObjectPermission,
            FiguresReport,
            OutboundSms,
            SmsOptOut,
            Survey,
        )

        case = Case.objects.get(pk=self.case.pk)
        legal = LegalCase.objects.get(pk=self.legal_case.pk)
        return (case.stage, case.assignee_id, case.closed_at, Case.objects.count(),
                AuditEvent.objects.exclude(event_type__endswith=".viewed").count(),
                OutboundSms.objects.get(pk=self.sms.pk).status, SmsOptOut.objects.count(),
                # legal aid
                legal.state, legal.updated_at, legal.employer_name, legal.decline_reason, LegalCase.objects.count(),
                Note.objects.count(), ClaimLine.objects.count(), Document.objects.count(),
                list(Deadline.objects.order_by("pk").values_list("rule", "due_on", "extended", "met_at",
                                                                 "suspended_on")),
                list(Hearing.objects.order_by("pk").values_list("state", "starts_at", "ends_at", "outcome")),
                list(VideoRoom.objects.order_by("pk").values_list("state", "private_side")),
                list(Participant.objects.order_by("pk").values_list("state", "admitted", "muted")),
                CaseUserObjectPermission.objects.count(),
                # claims
                list(Claim.objects.order_by("pk").values_list("state", "approved_amount", "first_approver",
                                                                "updated_at")),
                Invoice.objects.count(), Receipt.objects.count(), PaymentBatch.objects.count(),
                # counseling
                *self._counseling_snapshot(), *self._childcare_snapshot(), *self._matchmaking_snapshot(),
                # figures
                list(Survey.objects.order_by("pk").values_list("followed_up_at", "follow_up_note")),
                FiguresReport.objects.count())

    def _matchmaking_snapshot(self) -> tuple:
        from matchmaking.models import Block, EventSignup, HiddenFrom, Introduction, Photo, Profile, Report

        return (list(Profile.objects.order_by("pk").values_list("state", "updated_at")),
                list(Introduction.objects.order_by("pk").values_list("state", "first_answer", "second_answer")),
                Block.objects.count(), HiddenFrom.objects.count(), Photo.objects.count(),
                list(Report.objects.order_by("pk").values_list("state", "outcome")),
                list(EventSignup.objects.order_by("pk").values_list("state", "profile_id")))

    def _childcare_snapshot(self) -> tuple:
        from childcare.models import Attendance, Child, Duty, Enrolment, Incident, PickupPerson, PickupRefusal

        child = Child.objects.get(pk=self.child.pk)
        return (child.allergies, child.school, Child.objects.count(),
                list(Enrolment.objects.order_by("pk").values_list("state", "child_id")),
                list(Attendance.objects.order_by("pk").values_list("state", "collected_by_id")),
                list(PickupPerson.objects.order_by("pk").values_list("active", "name")),
                PickupRefusal.objects.count(), Incident.objects.count(),
                list(Duty.objects.order_by("pk").values_list("staff_id", "day")))

    def _counseling_snapshot(self) -> tuple:
        from counseling.models import Appointment, GroupSession, GroupSignup, RiskFlag, SupervisionGrant
        from counseling.models import Note as SessionNote

        return (list(Appointment.objects.order_by("pk").values_list("state", "starts_at", "counselor_id")),
                SessionNote.objects.count(), RiskFlag.objects.count(),
                list(SupervisionGrant.objects.order_by("pk").values_list("supervisor_id", "revoked_at")),
                list(GroupSession.objects.order_by("pk").values_list("cancelled_at", "capacity")),
                list(GroupSignup.objects.order_by("pk").values_list("state", "worker_id")))


@dataclass
class Endpoint:
    name: str
    method: str
    url: object  # callable(world) -> str
    expect: dict[str, int]
    default: int
    data: object = field(default_factory=dict)  # a dict, or callable(world) -> dict
    # For a write: the actors whose request succeeds (anything else must change nothing).
    writers: set[str] = field(default_factory=set)

    def status_for(self, actor: str) -> int:
        return self.expect.get(actor, self.default)

    def payload(self, world) -> dict:
        return self.data(world) if callable(self.data) else self.data


def _anon(page: bool) -> dict[str, int]:
    return {"anonymous": 302 if page else 403}


# The only actors who may ever read the case's private content, in any response: the worker, the
# caseworker, and the arbitrator of a hearing of the case (granted the case to read its file).
READERS = {"worker_owner", "legal_assignee"} | ({"arbitrator"} if HAS_HEARINGS else set())
# The only actors who may ever read a caseworker's note on the legal case.
NOTE_READERS = {"legal_assignee"}
LEGAL_STAFF = {"legal_assignee", "legal_other", "mediator"}
ARBITRATORS = {"arbitrator", "other_arbitrator"}
# The only actors who may ever read a claim's private content: its member and its handler.
CLAIM_READERS = {"worker_owner", "claims_officer"}
CLAIMS_STAFF = {"claims_officer", "claims_reviewer"}
WORKERS = {"worker_owner", "worker_stranger"}
# The only actors who may ever read a counseling session note: the counselors of the case (its
# counselor, and the supervisor they named, who reads the notes and nothing else of the case).
SESSION_READERS = {"counselor", "counselor_supervisor"}
# Who may read the counseling appointment (its reason for moving included) and its hall case:
# the worker and their counselor.
COUNSELING_READERS = {"worker_owner", "counselor"}
COUNSELORS = {"counselor", "counselor_other", "counselor_supervisor"}
# Who may read a child's allergies and incidents: the guardian and the staff on duty.
CHILD_READERS = {"worker_owner", "childcare_staff"}
CARE_STAFF = {"childcare_staff", "childcare_other"}
# Who may read the owner's matchmaking profile and report: the owner and the matchmaker; its
# contact: the owner only.
MATCH_READERS = {"worker_owner", "matchmaker"}
SURVEY_READERS = {"center_manager"}
FIGURES = {"center_manager": 200, "administrator": 200}
CONTACT_READERS = {"worker_owner"}
# Who may see the SMS outbox and send a failed message again.
OUTBOX = {"front_desk", "administrator"}

ENDPOINTS: list[Endpoint] = [
    # Pages
    Endpoint("case page", "get", lambda w: f"/cases/{w.case.pk}/", {**_anon(True), **dict.fromkeys(READERS, 200)},
             404),
    # The case has a legal file: it ends through legal aid, never directly in the hall.
    Endpoint("case close (page)", "post", lambda w: f"/cases/{w.case.pk}/close/",
             {**_anon(True), **dict.fromkeys(READERS, 302)}, 404, writers=set()),
    Endpoint("case withdraw (page)", "post", lambda w: f"/cases/{w.case.pk}/withdraw/",
             {**_anon(True), **dict.fromkeys(READERS, 302)}, 404, writers=set()),
    Endpoint("case take-up (page)", "post", lambda w: f"/cases/{w.case.pk}/take-up/",
             {**_anon(True), **dict.fromkeys(READERS, 302)}, 404, writers=set()),
    Endpoint("my requests", "get", lambda w: "/requests/",
             {**_anon(True), "worker_owner": 200, "worker_stranger": 200}, 403),
    Endpoint("front desk", "get", lambda w: "/front-desk/", {**_anon(True), "front_desk": 200}, 403),
    Endpoint("walk-in request form", "get", lambda w: f"/front-desk/workers/{w.owner.pk}/request/",
             {**_anon(True), "front_desk": 200}, 403),
    Endpoint("queue", "get", lambda w: "/queue/",
             {**_anon(True), **dict.fromkeys(["legal_assignee", "legal_other", "mediator", "arbitrator", *COUNSELORS,
                                              "claims_officer", "claims_reviewer", "childcare_staff",
                                              "childcare_other", "matchmaker", "other_arbitrator"], 200)}, 403),
    Endpoint("figures", "get", lambda w: "/figures/", {**_anon(True), **FIGURES}, 403),
    Endpoint("figures workbook", "get", lambda w: "/figures/export.xlsx", {**_anon(True), **FIGURES}, 403),
    Endpoint("monthly report", "get", lambda w: f"/figures/reports/{w.report.month:%Y-%m}.xlsx",
             {**_anon(True), **FIGURES}, 403),
    Endpoint("low ratings to follow up", "get", lambda w: "/figures/follow-up/",
             {**_anon(True), "center_manager": 200}, 403),
    Endpoint("follow a low rating up", "post", lambda w: f"/figures/follow-up/{w.survey.pk}/",
             {**_anon(True), "center_manager": 302}, 403, data={"note": "已致电"}, writers={"center_manager"}),
    Endpoint("admin case list", "get", lambda w: "/admin/care/case/",
             {"administrator": 200}, 302),
    Endpoint("admin case page", "get", lambda w: f"/admin/care/case/{w.case.pk}/change/",
             {"administrator": 200}, 302),
    # API
    Endpoint("API figures", "get", lambda w: "/api/v1/figures/", {**_anon(False), **FIGURES}, 403),
    Endpoint("api case detail", "get", lambda w: f"/api/v1/cases/{w.case.pk}/",
             {**_anon(False), **dict.fromkeys(READERS, 200)}, 404),
    Endpoint("api case list", "get", lambda w: "/api/v1/cases/", _anon(False), 200),
    Endpoint("api case close", "post", lambda w: f"/api/v1/cases/{w.case.pk}/close/",
             {**_anon(False), **dict.fromkeys(READERS, 403), "legal_assignee": 409}, 404, writers=set()),
    Endpoint("api case withdraw", "post", lambda w: f"/api/v1/cases/{w.case.pk}/withdraw/",
             {**_anon(False), **dict.fromkeys(READERS, 403), "worker_owner": 409}, 404, writers=set()),
    Endpoint("api case take-up", "post", lambda w: f"/api/v1/cases/{w.case.pk}/take-up/",
             {**_anon(False), **dict.fromkeys(READERS, 403), "legal_assignee": 200}, 404, writers=set()),
    Endpoint("api case summaries", "get", lambda w: "/api/v1/case-summaries/",
             {**_anon(False), "front_desk": 200}, 403),
    Endpoint("api worker lookup", "get", lambda w: f"/api/v1/workers/lookup/?q={w.owner.mobile}",
             {**_anon(False), "front_desk": 200}, 403),
    Endpoint("api file request", "post", lambda w: "/api/v1/cases/",
             {**_anon(False), "worker_owner": 201, "worker_stranger": 201}, 403,
             data={"department": "legal", "description": "拖欠工资"}, writers={"worker_owner", "worker_stranger"}),
    # SMS
    Endpoint("sms outbox", "get", lambda w: "/sms/outbox/",
             {**_anon(True), **dict.fromkeys(OUTBOX, 200)}, 403),
    Endpoint("sms retry (page)", "post", lambda w: f"/sms/outbox/{w.sms.pk}/retry/",
             {**_anon(True), **dict.fromkeys(OUTBOX, 302)}, 403, writers=OUTBOX),
    Endpoint("api sms outbox", "get", lambda w: "/api/v1/sms/outbox/",
             {**_anon(False), **dict.fromkeys(OUTBOX, 200)}, 403),
    Endpoint("api sms retry", "post", lambda w: f"/api/v1/sms/outbox/{w.sms.pk}/retry/",
             {**_anon(False), **dict.fromkeys(OUTBOX, 200)}, 403, writers=OUTBOX),
    Endpoint("unsigned sms status callback", "post", lambda w: f"/sms/status/{w.sms.pk}/", {}, 403,
             data={"MessageStatus": "delivered"}),
    Endpoint("unsigned inbound sms", "post", lambda w: "/sms/inbound/", {}, 403, data={"Body": "STOP"}),
]


def _legal(path: str):
    return lambda w: f"/legal/cases/{w.legal_case.pk}/{path}"


def _api_legal(path: str):
    return lambda w: f"/api/v1/legal/cases/{w.legal_case.pk}/{path}"


# Legal aid. The World's legal case is ``heard``: ``issue_award`` is the legal team's next step,
# ``accept_aid`` is wrong for its stage, and ``withdraw`` is open to the worker and the team.
ENDPOINTS += [
    # Pages
    Endpoint("legal queue", "get", lambda w: "/legal/", {**_anon(True), **dict.fromkeys(LEGAL_STAFF, 200)}, 403),
    Endpoint("legal case page", "get", _legal(""), {**_anon(True), **dict.fromkeys(READERS, 200)}, 404),
    Endpoint("legal file (page)", "get", lambda w: f"/legal/file/{w.case.pk}/",
             {**_anon(True), **dict.fromkeys(READERS, 302)}, 404),
    Endpoint("legal file open (page)", "post", lambda w: f"/legal/file/{w.case.pk}/",
             {**_anon(True), **dict.fromkeys(READERS, 302)}, 404, writers=set()),
    Endpoint("legal step (page)", "post", _legal("step/issue_award/"),
             {**_anon(True), **dict.fromkeys(READERS, 302)}, 404, writers={"legal_assignee"}),
    Endpoint("legal wrong step (page)", "post", _legal("step/accept_aid/"),
             {**_anon(True), **dict.fromkeys(READERS, 302)}, 404, writers=set()),
    Endpoint("legal withdraw (page)", "post", _legal("step/withdraw/"),
             {**_anon(True), **dict.fromkeys(READERS, 302)}, 404, writers={"worker_owner", "legal_assignee"}),
    Endpoint("legal details (page)", "post", _legal("details/"),
             {**_anon(True), **dict.fromkeys(READERS, 302)}, 404,
             data={"dispute_type": "dismissal", "employer_name": "另一家公司"}, writers={"legal_assignee"}),
    Endpoint("legal claim (page)", "post", _legal("claims/"),
             {**_anon(True), **dict.fromkeys(READERS, 302)}, 404, data={"kind": "overtime", "amount": "800.00"},
             writers={"legal_assignee"}),
    Endpoint("legal note (page)", "post", _legal("notes/"),
             {**_anon(True), **dict.fromkeys(READERS, 302)}, 404, data={"body": "补充备注"},
             writers={"legal_assignee"}),
    Endpoint("legal extend award (page)", "post", _legal("deadlines/extend-award/"),
             {**_anon(True), **dict.fromkeys(READERS, 302)}, 404, writers={"legal_assignee"}),
    Endpoint("legal document download (page)", "get", lambda w: f"/legal/documents/{w.document.pk}/",
             {**_anon(True), **dict.fromkeys(READERS, 200)}, 404),
    Endpoint("admin legal case list", "get", lambda w: "/admin/legal/legalcase/", {"administrator": 200}, 302),
    Endpoint("admin legal case page", "get", lambda w: f"/admin/legal/legalcase/{w.legal_case.pk}/change/",
             {"administrator": 200}, 302),
    # API
    Endpoint("api legal case list", "get", lambda w: "/api/v1/legal/cases/", _anon(False), 200),
    Endpoint("api legal case detail", "get", _api_legal(""), {**_anon(False), **dict.fromkeys(READERS, 200)}, 404),
    Endpoint("api legal step", "post", _api_legal("step/"),
             {**_anon(False), **dict.fromkeys(READERS, 403), "legal_assignee": 200}, 404,
             data={"transition": "issue_award"}, writers={"legal_assignee"}),
    Endpoint("api legal wrong step", "post", _api_legal("step/"),
             {**_anon(False), **dict.fromkeys(READERS, 403), "legal_assignee": 409}, 404,
             data={"transition": "accept_aid"}, writers=set()),
    Endpoint("api legal withdraw", "post", _api_legal("step/"),
             {**_anon(False), **dict.fromkeys(READERS, 403), "worker_owner": 200, "legal_assignee": 200}, 404,
             data={"transition": "withdraw"}, writers={"worker_owner", "legal_assignee"}),
    Endpoint("api legal details", "post", _api_legal("details/"),
             {**_anon(False), **dict.fromkeys(READERS, 403), "legal_assignee": 200}, 404,
             data={"employer_name": "另一家公司"}, writers={"legal_assignee"}),
    Endpoint("api legal claims", "post", _api_legal("claims/"),
             {**_anon(False), **dict.fromkeys(READERS, 403), "legal_assignee": 201}, 404,
             data={"kind": "overtime", "amount": "800.00"}, writers={"legal_assignee"}),
    Endpoint("api legal notes", "post", _api_legal("notes/"),
             {**_anon(False), "legal_assignee": 201}, 404, data={"body": "补充备注"}, writers={"legal_assignee"}),
    Endpoint("api legal documents", "get", lambda w: f"/api/v1/legal/cases/{w.legal_case.pk}/documents/",
             {**_anon(False), **dict.fromkeys(READERS, 200)}, 404),
    Endpoint("api legal document download", "get", lambda w: f"/api/v1/legal/documents/{w.document.pk}/",
             {**_anon(False), **dict.fromkeys(READERS, 200)}, 404),
]

if HAS_HEARINGS:
    ENDPOINTS += [
        Endpoint("my hearings", "get", lambda w: "/legal/hearings/",
                 {**_anon(True), **dict.fromkeys(ARBITRATORS, 200)}, 403),
        Endpoint("hearing page", "get", lambda w: f"/legal/hearings/{w.hearing.pk}/",
                 {**_anon(True), **dict.fromkeys(READERS, 200)}, 404),
        Endpoint("hearing outcome (page)", "post", lambda w: f"/legal/hearings/{w.hearing.pk}/outcome/",
                 {**_anon(True), **dict.fromkeys(READERS, 302)}, 404, data={"outcome": "award"}, writers=set()),
        Endpoint("api my hearings", "get", lambda w: "/api/v1/legal/hearings/",
                 {**_anon(False), **dict.fromkeys(ARBITRATORS, 200)}, 403),
        Endpoint("api hearing cancel", "post", lambda w: f"/api/v1/legal/hearings/{w.hearing.pk}/cancel/",
                 {**_anon(False), **dict.fromkeys(READERS, 403), "legal_assignee": 409}, 404,
                 data={"reason": "改期"}, writers=set()),
        # cloud arbitration: the room of the video hearing, its attendance, the provider's callback
        Endpoint("video hearing room", "get", lambda w: f"/legal/hearings/{w.hearing.pk}/room/",
                 {**_anon(True), **dict.fromkeys(READERS, 200)}, 404),
        Endpoint("video hearing attendance", "get", lambda w: f"/legal/hearings/{w.hearing.pk}/attendance/",
                 {**_anon(True), **dict.fromkeys(READERS, 200)}, 404),
        Endpoint("api video hearing room", "get", lambda w: f"/api/v1/legal/hearings/{w.hearing.pk}/room/",
                 {**_anon(False), **dict.fromkeys(READERS, 200)}, 404),
        Endpoint("video provider callback (unsigned)", "post", lambda w: f"/meet/callback/{w.video_room.pk}/",
                 {}, 403, data=lambda w: {"StatusCallbackEvent": "room-ended", "RoomName": "x"}, writers=set()),
    ]


def _claim(path: str):
    return lambda w: f"/claims/{w.claim.pk}/{path}"


def _api_claim(path: str):
    return lambda w: f"/api/v1/claims/{w.claim.pk}/{path}"


YESTERDAY = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
NEW_INVOICE = {"number": "ISO0000002", "issued_on": YESTERDAY, "amount": "300.00", "self_paid": "300.00"}

# Mutual-insurance claims. The World's claim is under review by ``claims_officer``: ``approve`` is
# the handler's next step; the member may withdraw it; invoices are the handler's to change now.
ENDPOINTS += [
    # Pages
    Endpoint("claims cover", "get", lambda w: "/claims/cover/", {**_anon(True), **dict.fromkeys(WORKERS, 200)}, 403),
    Endpoint("claim form (walk-in)", "get", lambda w: f"/claims/new/for/{w.owner.pk}/",
             {**_anon(True), "front_desk": 200}, 403),
    Endpoint("claim page", "get", _claim(""), {**_anon(True), **dict.fromkeys(CLAIM_READERS, 200)}, 404),
    Endpoint("claim of the hall case", "get", lambda w: f"/claims/file/{w.claim.case_id}/",
             {**_anon(True), **dict.fromkeys(CLAIM_READERS, 302)}, 404),
    Endpoint("claim approve (page)", "post", _claim("step/approve/"),
             {**_anon(True), **dict.fromkeys(CLAIM_READERS, 302)}, 404, writers={"claims_officer"}),
    Endpoint("claim withdraw (page)", "post", _claim("step/withdraw/"),
             {**_anon(True), **dict.fromkeys(CLAIM_READERS, 302)}, 404, writers={"worker_owner"}),
    Endpoint("claim invoice (page)", "post", _claim("invoices/"),
             {**_anon(True), **dict.fromkeys(CLAIM_READERS, 302)}, 404,
             data={f"new-{k}": v for k, v in NEW_INVOICE.items()}, writers={"claims_officer"}),
    Endpoint("claim receipt download (page)", "get", lambda w: f"/claims/receipts/{w.receipt.pk}/",
             {**_anon(True), **dict.fromkeys(CLAIM_READERS, 200)}, 404),
    Endpoint("claims queue", "get", lambda w: "/claims/", {**_anon(True), **dict.fromkeys(CLAIMS_STAFF, 200)}, 403),
    Endpoint("payment batches", "get", lambda w: "/claims/batches/",
             {**_anon(True), **dict.fromkeys(CLAIMS_STAFF, 200)}, 403),
    Endpoint("payment batch create (nothing approved)", "post", lambda w: "/claims/batches/",
             {**_anon(True), **dict.fromkeys(CLAIMS_STAFF, 302)}, 403, writers=set()),
    Endpoint("enrolment import", "get", lambda w: "/claims/enrolments/import/",
             {**_anon(True), "claims_officer": 200}, 403),
    Endpoint("enrolment list template", "get", lambda w: "/claims/enrolments/template.xlsx",
             {**_anon(True), "claims_officer": 200}, 403),
    Endpoint("payment batch export", "get", lambda w: f"/claims/batches/{w.batch.pk}/export.xlsx",
             {**_anon(True), "claims_officer": 200}, 403),
    Endpoint("claims figures", "get", lambda w: "/claims/figures/",
             {**_anon(True), "center_manager": 200, "administrator": 200}, 403),
    Endpoint("admin claim list", "get", lambda w: "/admin/care/claim/", {"administrator": 200}, 302),
    Endpoint("admin claim page", "get", lambda w: f"/admin/care/claim/{w.claim.pk}/change/",
             {"administrator": 200}, 302),
    # API
    Endpoint("api claim list", "get", lambda w: "/api/v1/claims/", _anon(False), 200),
    Endpoint("api claim detail", "get", _api_claim(""), {**_anon(False), **dict.fromkeys(CLAIM_READERS, 200)}, 404),
    Endpoint("api claim approve", "post", _api_claim("step/"),
             {**_anon(False), "worker_owner": 403, "claims_officer": 200}, 404, data={"transition": "approve"},
             writers={"claims_officer"}),
    Endpoint("api claim withdraw", "post", _api_claim("step/"),
             {**_anon(False), "worker_owner": 200, "claims_officer": 403}, 404, data={"transition": "withdraw"},
             writers={"worker_owner"}),
    Endpoint("api claim invoice", "post", _api_claim("invoices/"),
             {**_anon(False), "worker_owner": 403, "claims_officer": 201}, 404, data=NEW_INVOICE,
             writers={"claims_officer"}),
    Endpoint("api claim receipt download", "get", lambda w: f"/api/v1/claims/receipts/{w.receipt.pk}/",
             {**_anon(False), **dict.fromkeys(CLAIM_READERS, 200)}, 404),
    Endpoint("api claims cover", "get", lambda w: "/api/v1/claims/cover/",
             {**_anon(False), **dict.fromkeys(WORKERS, 200)}, 403),
]


def _appointment(path: str):
    return lambda w: f"/counseling/appointments/{w.appointment.pk}/{path}"


def _api_appointment(path: str):
    return lambda w: f"/api/v1/counseling/appointments/{w.appointment.pk}/{path}"


def _counseling_case(path: str):
    return lambda w: f"/counseling/cases/{w.appointment.case_id}/{path}"


# Psychological counseling. The owner's appointment (requested, moved there from 10:00 with a
# reason) is with ``counselor``, who wrote a session note on its case, named
# ``counselor_supervisor`` supervisor of the case, and leads a group session in which the owner
# has a seat. Nobody but the two reads the appointment; nobody but the counselors of the case
# reads the note; a supervisor reads the notes and nothing else; ``counselor_other`` nothing.
ENDPOINTS += [
    # Pages
    Endpoint("counseling hall case page", "get", lambda w: f"/cases/{w.appointment.case_id}/",
             {**_anon(True), **dict.fromkeys(COUNSELING_READERS, 200)}, 404),
    Endpoint("my appointments", "get", lambda w: "/counseling/appointments/",
             {**_anon(True), **dict.fromkeys(WORKERS, 200)}, 403),
    Endpoint("counselor's day", "get", lambda w: "/counseling/", {**_anon(True), **dict.fromkeys(COUNSELORS, 200)},
             403),
    Endpoint("appointment page", "get", _appointment(""),
             {**_anon(True), **dict.fromkeys(COUNSELING_READERS, 200)}, 404),
    Endpoint("moved appointment page", "get", lambda w: f"/counseling/appointments/{w.moved.pk}/",
             {**_anon(True), **dict.fromkeys(COUNSELING_READERS, 200)}, 404),
    Endpoint("appointment calendar file", "get", _appointment("calendar.ics"),
             {**_anon(True), **dict.fromkeys(COUNSELING_READERS, 200)}, 404),
    Endpoint("appointment reschedule form", "get", _appointment("reschedule/"),
             {**_anon(True), **dict.fromkeys(COUNSELING_READERS, 200)}, 404),
    Endpoint("appointment reschedule (page)", "post", _appointment("reschedule/"),
             {**_anon(True), **dict.fromkeys(COUNSELING_READERS, 302)}, 404,
             data=lambda w: {"starts_at": w.move_to}, writers=COUNSELING_READERS),
    Endpoint("appointment cancel (page)", "post", _appointment("step/cancel/"),
             {**_anon(True), **dict.fromkeys(COUNSELING_READERS, 302)}, 404, data={"reason": "临时加班"},
             writers=COUNSELING_READERS),
    Endpoint("appointment confirm (page)", "post", _appointment("step/confirm/"),
             {**_anon(True), **dict.fromkeys(COUNSELING_READERS, 302)}, 404, writers={"counselor"}),
    Endpoint("appointment complete before the start (page)", "post", _appointment("step/complete/"),
             {**_anon(True), **dict.fromkeys(COUNSELING_READERS, 302)}, 404, writers=set()),
    Endpoint("session note add (page)", "post", _appointment("notes/"),
             # the worker is refused on their own appointment's page, with the message
             {**_anon(True), "counselor": 302, "worker_owner": 200}, 404, data={"body": "第二次会谈"},
             writers={"counselor"}),
    Endpoint("counseling case page", "get", _counseling_case(""),
             {**_anon(True), **dict.fromkeys(SESSION_READERS, 200)}, 404),
    Endpoint("counseling cases", "get", lambda w: "/counseling/cases/",
             {**_anon(True), **dict.fromkeys(COUNSELORS, 200)}, 403),
    # The supervisor finds the case (to read its notes) but may change nothing of it.
    Endpoint("risk flag (page)", "post", _counseling_case("risk/"),
             {**_anon(True), **dict.fromkeys(SESSION_READERS, 302)}, 404, data={"level": "medium"},
             writers={"counselor"}),
    Endpoint("supervision grant to oneself (page)", "post", _counseling_case("supervisors/"),
             {**_anon(True), **dict.fromkeys(SESSION_READERS, 302)}, 404, data={"supervisor": "0"}, writers=set()),
    Endpoint("supervision grant (page)", "post", _counseling_case("supervisors/"),
             {**_anon(True), **dict.fromkeys(SESSION_READERS, 302)}, 404,
             data=lambda w: {"supervisor": str(w.users["counselor_other"].pk)}, writers={"counselor"}),
    Endpoint("supervision revoke (page)", "post",
             lambda w: f"/counseling/cases/{w.appointment.case_id}/supervisors/"
                       f"{w.users['counselor_supervisor'].pk}/revoke/",
             {**_anon(True), **dict.fromkeys(SESSION_READERS, 302)}, 404, writers={"counselor"}),
    Endpoint("group sessions (worker)", "get", lambda w: "/counseling/groups/",
             {**_anon(True), **dict.fromkeys(WORKERS, 200)}, 403),
    Endpoint("groups I lead", "get", lambda w: "/counseling/groups/lead/",
             {**_anon(True), **dict.fromkeys(COUNSELORS, 200)}, 403),
    Endpoint("group roster", "get", lambda w: f"/counseling/groups/lead/{w.group_session.pk}/",
             {**_anon(True), "counselor": 200}, 404),
    Endpoint("group session cancel (page)", "post", lambda w: f"/counseling/groups/lead/{w.group_session.pk}/cancel/",
             {**_anon(True), "counselor": 302}, 404, data={"confirm": "yes"}, writers={"counselor"}),
    Endpoint("group place give back (page)", "post", lambda w: f"/counseling/groups/places/{w.group_place.pk}/cancel/",
             {**_anon(True), **dict.fromkeys(COUNSELING_READERS, 302)}, 404, writers=COUNSELING_READERS),
    Endpoint("group attendance before the start (page)", "post",
             lambda w: f"/counseling/groups/lead/places/{w.group_place.pk}/attendance/",
             {**_anon(True), "counselor": 302}, 404, data={"attended": "yes"}, writers=set()),
    # API
    Endpoint("api appointments", "get", lambda w: "/api/v1/counseling/appointments/", _anon(False), 200),
    Endpoint("api appointment detail", "get", _api_appointment(""),
             {**_anon(False), **dict.fromkeys(COUNSELING_READERS, 200)}, 404),
    # The counselor reads the reason for moving here (cancel_reason), the worker does not.
    Endpoint("api moved appointment detail", "get", lambda w: f"/api/v1/counseling/appointments/{w.moved.pk}/",
             {**_anon(False), **dict.fromkeys(COUNSELING_READERS, 200)}, 404),
    Endpoint("api counseling hall case detail", "get", lambda w: f"/api/v1/cases/{w.appointment.case_id}/",
             {**_anon(False), **dict.fromkeys(COUNSELING_READERS, 200)}, 404),
    Endpoint("api appointment cancel", "post", _api_appointment("transitions/cancel/"),
             {**_anon(False), **dict.fromkeys(COUNSELING_READERS, 200)}, 404, data={"reason": "临时加班"},
             writers=COUNSELING_READERS),
    Endpoint("api appointment confirm", "post", _api_appointment("transitions/confirm/"),
             {**_anon(False), "worker_owner": 403, "counselor": 200}, 404, writers={"counselor"}),
    Endpoint("api appointment complete before the start", "post", _api_appointment("transitions/complete/"),
             {**_anon(False), "worker_owner": 403, "counselor": 409}, 404, writers=set()),
    Endpoint("api appointment reschedule", "post", _api_appointment("reschedule/"),
             {**_anon(False), **dict.fromkeys(COUNSELING_READERS, 201)}, 404,
             data=lambda w: {"starts_at": w.move_to, "reason": "换班"}, writers=COUNSELING_READERS),
    Endpoint("api group sessions", "get", lambda w: "/api/v1/counseling/group-sessions/",
             {**_anon(False), **dict.fromkeys(WORKERS | COUNSELORS | {"front_desk"}, 200)}, 403),
    Endpoint("api group roster", "get", lambda w: f"/api/v1/counseling/group-sessions/{w.group_session.pk}/roster/",
             {**_anon(False), "counselor": 200}, 404),
    Endpoint("api group session cancel", "post",
             lambda w: f"/api/v1/counseling/group-sessions/{w.group_session.pk}/cancel/",
             {**_anon(False), "counselor": 200}, 404, writers={"counselor"}),
    Endpoint("api group places", "get", lambda w: "/api/v1/counseling/group-places/", _anon(False), 200),
    Endpoint("api group place give back", "post",
             lambda w: f"/api/v1/counseling/group-places/{w.group_place.pk}/cancel/",
             {**_anon(False), **dict.fromkeys(COUNSELING_READERS, 200)}, 404, writers=COUNSELING_READERS),
    Endpoint("api group attendance before the start", "post",
             lambda w: f"/api/v1/counseling/group-places/{w.group_place.pk}/attendance/",
             {**_anon(False), "worker_owner": 403, "counselor": 409}, 404, data={"attended": True}, writers=set()),
]

# More of counseling: the hall case of the owner's group place, signing up again for the session
# (the owner already has a place: nothing changes; the stranger has not consented: refused), the
# session cancel without its confirmation, an acknowledgement with no crisis to take, and the
# admin's page of the counseling hall case (never the notes, nor the reason for moving).
ENDPOINTS += [
    # Pages
    Endpoint("group place hall case page", "get", lambda w: f"/cases/{w.group_place.case_id}/",
             {**_anon(True), **dict.fromkeys(COUNSELING_READERS, 200)}, 404),
    Endpoint("group sign-up again (page)", "post", lambda w: f"/counseling/groups/{w.group_session.pk}/sign-up/",
             {**_anon(True), **dict.fromkeys(WORKERS, 302)}, 403, writers=set()),
    Endpoint("group session cancel unconfirmed (page)", "post",
             lambda w: f"/counseling/groups/lead/{w.group_session.pk}/cancel/",
             {**_anon(True), "counselor": 302}, 404, writers=set()),
    Endpoint("risk acknowledge without a crisis (page)", "post", _counseling_case("acknowledge/"), _anon(True), 404,
             writers=set()),
    Endpoint("admin counseling case page", "get", lambda w: f"/admin/care/case/{w.appointment.case_id}/change/",
             {"administrator": 200}, 302),
    # API
    Endpoint("api group sign-up again", "post",
             lambda w: f"/api/v1/counseling/group-sessions/{w.group_session.pk}/sign-up/",
             {**_anon(False), "worker_owner": 200, "worker_stranger": 409}, 403, writers=set()),
]


def _care(path: str):
    return lambda w: f"/childcare/{path}".format(w=w)


# The care station. The owner's child (allergies and an incident: CHILD_SECRET) is enrolled at
# the station ``childcare_staff`` coordinates and is on duty at; ``childcare_other`` runs another
# station and must find nothing of it. Worker pages answer 403 to staff, staff pages 403 to
# anyone but the care station's staff, and someone else's record 404.
ENDPOINTS += [
    Endpoint("my children", "get", _care(""), {**_anon(True), **dict.fromkeys(WORKERS, 200)}, 403),
    Endpoint("child page", "get", _care("children/{w.child.pk}/"),
             {**_anon(True), "worker_owner": 200, "worker_stranger": 404}, 403),
    Endpoint("child medical update (page)", "post", _care("children/{w.child.pk}/"),
             {**_anon(True), "worker_owner": 302, "worker_stranger": 404}, 403,
             data={"school": "二小", "allergies": "无", "medical_notes": ""}, writers={"worker_owner"}),
    Endpoint("enrolment hall case page", "get", lambda w: f"/cases/{w.enrolment.case_id}/",
             {**_anon(True), **dict.fromkeys(CHILD_READERS, 200)}, 404),
    Endpoint("enrol again (page)", "post", _care("children/{w.child.pk}/enrol/"),
             {**_anon(True), "worker_owner": 302, "worker_stranger": 404}, 403,
             data=lambda w: {"programme": w.care_programme.pk}, writers=set()),
    Endpoint("pick-up photo", "get", _care("pickup/{w.grandma.pk}/photo/"),
             {**_anon(True), **dict.fromkeys(CHILD_READERS, 200)}, 404),
    Endpoint("pick-up person remove (page)", "post", _care("pickup/{w.grandma.pk}/remove/"),
             {**_anon(True), "worker_owner": 302, "worker_stranger": 404}, 403, writers={"worker_owner"}),
    Endpoint("enrolment withdraw (page)", "post", _care("enrolments/{w.enrolment.pk}/withdraw/"),
             {**_anon(True), **dict.fromkeys(CHILD_READERS, 302)}, 404, writers=CHILD_READERS),
    Endpoint("roster", "get", _care("roster/"), {**_anon(True), **dict.fromkeys(CARE_STAFF, 200)}, 403),
    Endpoint("check-in again (page)", "post", _care("roster/{w.enrolment.pk}/check-in/"),
             {**_anon(True), "childcare_staff": 302, "childcare_other": 404}, 403, data={"brought_by": "爸爸"},
             writers=set()),
    Endpoint("check-out page", "get", _care("attendance/{w.attendance.pk}/check-out/"),
             {**_anon(True), "childcare_staff": 200, "childcare_other": 404}, 403),
    # Refused, recorded, the guardian told: a change, but only the station's staff can cause it.
    Endpoint("check-out by someone else (page)", "post", _care("attendance/{w.attendance.pk}/check-out/"),
             {**_anon(True), "childcare_staff": 200, "childcare_other": 404}, 403,
             data={"collector": "", "presented_name": "陌生人", "code": "123456"}, writers={"childcare_staff"}),
    Endpoint("incident form", "get", _care("enrolments/{w.enrolment.pk}/incident/"),
             {**_anon(True), "childcare_staff": 200, "childcare_other": 404}, 403),
    Endpoint("incident record (page)", "post", _care("enrolments/{w.enrolment.pk}/incident/"),
             {**_anon(True), "childcare_staff": 302, "childcare_other": 404}, 403,
             data=lambda w: {"occurred_at": timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M"),
                             "kind": "illness", "description": "发烧", "action_taken": "通知家长"},
             writers={"childcare_staff"}),
    Endpoint("incidents", "get", _care("incidents/"), {**_anon(True), **dict.fromkeys(CARE_STAFF, 200)}, 403),
    Endpoint("care programmes", "get", _care("programmes/"), {**_anon(True), **dict.fromkeys(CARE_STAFF, 200)},
             403),
    Endpoint("care programme page", "get", _care("programmes/{w.care_programme.pk}/"),
             {**_anon(True), "childcare_staff": 200, "childcare_other": 404}, 403),
    Endpoint("duty set (page)", "post", _care("programmes/{w.care_programme.pk}/"),
             {**_anon(True), "childcare_staff": 302, "childcare_other": 404}, 403,
             data={"staff": []}, writers={"childcare_staff"}),
    Endpoint("attendance export", "get",
             lambda w: f"/childcare/programmes/{w.care_programme.pk}/attendance.xlsx?since=2020-01-01&until=2030-12-31",
             {**_anon(True), "childcare_staff": 200, "childcare_other": 404}, 403),
    Endpoint("front desk: a walk-in's children", "get", _care("for/{w.owner.pk}/"),
             {**_anon(True), "front_desk": 200}, 403),
    Endpoint("front desk: enrol again", "post", _care("for/{w.owner.pk}/enrol/"),
             {**_anon(True), "front_desk": 302}, 403,
             data=lambda w: {"child": w.child.pk, "programme": w.care_programme.pk}, writers=set()),
]


def _api_care(path: str):
    return lambda w: f"/api/v1/childcare/{path}".format(w=w)


# The care station's API: the same people reach the same things as on its pages.
ENDPOINTS += [
    Endpoint("api children", "get", _api_care("children/"), _anon(False), 200),
    Endpoint("api child detail", "get", _api_care("children/{w.child.pk}/"),
             {**_anon(False), "worker_owner": 200}, 404),
    Endpoint("api pick-up person add", "post", _api_care("children/{w.child.pk}/pickup-persons/"),
             {**_anon(False), "worker_owner": 201}, 404,
             data={"name": "舅舅", "relation": "舅舅", "mobile": "13900000005", "id_number": "11010519491231002X"},
             writers={"worker_owner"}),
    Endpoint("api pick-up person remove", "post", _api_care("pickup-persons/{w.grandma.pk}/remove/"),
             {**_anon(False), "worker_owner": 200}, 404, writers={"worker_owner"}),
    Endpoint("api care programmes", "get", _api_care("programmes/"),
             {**_anon(False), **dict.fromkeys(WORKERS | CARE_STAFF, 200)}, 403),
    Endpoint("api enrolments", "get", _api_care("enrolments/"), _anon(False), 200),
    Endpoint("api enrol again", "post", _api_care("enrolments/"),
             {**_anon(False), "worker_owner": 200, "worker_stranger": 400}, 403,
             data=lambda w: {"child": w.child.pk, "programme": w.care_programme.pk}, writers=set()),
    Endpoint("api enrolment withdraw", "post", _api_care("enrolments/{w.enrolment.pk}/withdraw/"),
             {**_anon(False), "worker_owner": 200}, 404, writers={"worker_owner"}),
    Endpoint("api incident record", "post", _api_care("enrolments/{w.enrolment.pk}/incidents/"),
             {**_anon(False), "childcare_staff": 201}, 404,
             data=lambda w: {"occurred_at": timezone.now().isoformat(), "kind": "illness", "description": "发烧",
                             "action_taken": "通知家长"}, writers={"childcare_staff"}),
    Endpoint("api roster", "get", _api_care("roster/"), {**_anon(False), **dict.fromkeys(CARE_STAFF, 200)}, 403),
    Endpoint("api check-in again", "post", _api_care("roster/{w.enrolment.pk}/check-in/"),
             {**_anon(False), "childcare_staff": 200}, 404, data={"brought_by": "爸爸"}, writers=set()),
    Endpoint("api check-out by someone else", "post", _api_care("attendance/{w.attendance.pk}/check-out/"),
             {**_anon(False), "childcare_staff": 409}, 404,
             data={"collector": None, "code": "123456", "presented_name": "陌生人"}, writers={"childcare_staff"}),
]



def _match(path: str):
    return lambda w: f"/matchmaking/{path}".format(w=w)


# The matchmaking station. The owner is a verified member (MATCH_SECRET in what she wrote and in
# her report, MATCH_CONTACT her contact, a photo); a suitor asked to be introduced to her; she has
# a seat at an event. Member pages answer 403 to staff (and send a worker without a profile to the
# station's first page); the matchmaker's pages answer 403 to anyone else; a profile or
# introduction one may not see is a 404.
ENDPOINTS += [
    Endpoint("matchmaking home", "get", _match(""), {**_anon(True), **dict.fromkeys(WORKERS, 200)}, 403),
    Endpoint("my match profile", "get", _match("profile/"),
             {**_anon(True), "worker_owner": 200, "worker_stranger": 302}, 403),
    Endpoint("match suggestions", "get", _match("suggestions/"),
             {**_anon(True), "worker_owner": 200, "worker_stranger": 302}, 403),
    Endpoint("match introductions", "get", _match("introductions/"),
             {**_anon(True), "worker_owner": 200, "worker_stranger": 302}, 403),
    Endpoint("introduction answer (page)", "post", _match("introductions/{w.introduction.pk}/answer/"),
             {**_anon(True), "worker_owner": 302, "worker_stranger": 404}, 403, data={"accept": "no"},
             writers={"worker_owner"}),
    Endpoint("ask again (page)", "post", _match("people/{w.suitor.pk}/ask/"),
             {**_anon(True), "worker_owner": 302, "worker_stranger": 404}, 403, writers=set()),
    Endpoint("block (page)", "post", _match("people/{w.suitor.pk}/block/"),
             {**_anon(True), "worker_owner": 302, "worker_stranger": 404}, 403, writers={"worker_owner"}),
    Endpoint("match photo", "get", _match("photos/{w.match_photo.pk}/"),
             {**_anon(True), **dict.fromkeys(MATCH_READERS, 200)}, 404),
    Endpoint("match events", "get", _match("events/"),
             {**_anon(True), "worker_owner": 200, "worker_stranger": 302}, 403),
    Endpoint("match profile hall case page", "get", lambda w: f"/cases/{w.match_profile.case_id}/",
             {**_anon(True), **dict.fromkeys(MATCH_READERS, 200)}, 404),
    Endpoint("members (matchmaker)", "get", _match("members/?state=verified"),
             {**_anon(True), "matchmaker": 200}, 403),
    Endpoint("member page (matchmaker)", "get", _match("members/{w.match_profile.pk}/"),
             {**_anon(True), "matchmaker": 200}, 403),
    Endpoint("member suspend (page)", "post", _match("members/{w.match_profile.pk}/"),
             {**_anon(True), "matchmaker": 302}, 403, data={"step": "suspend", "reason": "核实"},
             writers={"matchmaker"}),
    Endpoint("match reports", "get", _match("reports/"), {**_anon(True), "matchmaker": 200}, 403),
    Endpoint("report dismiss (page)", "post", _match("reports/"), {**_anon(True), "matchmaker": 302}, 403,
             data=lambda w: {"report": w.match_report.pk, "step": "dismiss", "outcome": "无法核实"},
             writers={"matchmaker"}),
    Endpoint("events (matchmaker)", "get", _match("events/manage/"), {**_anon(True), "matchmaker": 200}, 403),
    Endpoint("event roster", "get", _match("events/manage/{w.match_event.pk}/"),
             {**_anon(True), "matchmaker": 200}, 403),
]


def _api_match(path: str):
    return lambda w: f"/api/v1/matchmaking/{path}".format(w=w)


# The matchmaking API: the same people reach the same things as on its pages.
ENDPOINTS += [
    Endpoint("api match me", "get", _api_match("me/"), {**_anon(False), "worker_owner": 200, "worker_stranger": 404},
             403),
    # A worker without a profile: an empty list.
    Endpoint("api match suggestions", "get", _api_match("suggestions/"),
             {**_anon(False), **dict.fromkeys(WORKERS, 200)}, 403),
    Endpoint("api match introductions", "get", _api_match("introductions/"),
             {**_anon(False), **dict.fromkeys(WORKERS, 200)}, 403),
    Endpoint("api match introduction answer", "post", _api_match("introductions/{w.introduction.pk}/answer/"),
             {**_anon(False), "worker_owner": 200, "worker_stranger": 404}, 403, data={"accept": False},
             writers={"worker_owner"}),
    Endpoint("api match withdraw", "post", _api_match("me/withdraw/"),
             {**_anon(False), "worker_owner": 200, "worker_stranger": 404}, 403, writers={"worker_owner"}),
    Endpoint("api match profiles (matchmaker)", "get", _api_match("profiles/"), {**_anon(False), "matchmaker": 200},
             403),
    Endpoint("api match profile detail (matchmaker)", "get", _api_match("profiles/{w.match_profile.pk}/"),
             {**_anon(False), "matchmaker": 200}, 403),
    Endpoint("api match reports (matchmaker)", "get", _api_match("reports/"), {**_anon(False), "matchmaker": 200},
             403),
]
