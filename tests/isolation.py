"""The role-isolation matrix: every role × every endpoint × own / someone else's object.

Apps extend it by adding ``Endpoint`` rows to ``ENDPOINTS`` (and objects to ``World``),
not by copying the test. For each cell the test checks the status, that a refusal changed
nothing, and that the case's private content never reaches anyone outside READERS.
"""

from dataclasses import dataclass, field

from care.models import Stage
from care.roles import Role
from tests.factories import CaseFactory, WorkerFactory, staff

ACTORS = [
    "anonymous", "worker_owner", "worker_stranger", "front_desk", "legal_assignee", "legal_other", "mediator",
    "arbitrator", "counselor", "claims_officer", "claims_reviewer", "childcare_staff", "matchmaker",
    "center_manager", "administrator",
]

SECRET = "欠薪纠纷细节-SECRET-7731"


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
            "claims_officer": staff(Role.CLAIMS_OFFICER, "claims"),
            "claims_reviewer": staff(Role.CLAIMS_REVIEWER, "claims"),
            "childcare_staff": staff(Role.CHILDCARE_STAFF, "childcare"),
            "matchmaker": staff(Role.MATCHMAKER, "matchmaking"),
            "center_manager": staff(Role.CENTER_MANAGER),
            "administrator": staff(Role.ADMINISTRATOR, is_staff=True, is_superuser=True),
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

    def snapshot(self):
        from care.models import AuditEvent, Case, OutboundSms, SmsOptOut

        case = Case.objects.get(pk=self.case.pk)
        return (case.stage, case.assignee_id, case.closed_at, Case.objects.count(),
                AuditEvent.objects.exclude(event_type__endswith=".viewed").count(),
                OutboundSms.objects.get(pk=self.sms.pk).status, SmsOptOut.objects.count())


@dataclass
class Endpoint:
    name: str
    method: str
    url: object  # callable(world) -> str
    expect: dict[str, int]
    default: int
    data: dict = field(default_factory=dict)
    # For a write: the actors whose request succeeds (anything else must change nothing).
    writers: set[str] = field(default_factory=set)

    def status_for(self, actor: str) -> int:
        return self.expect.get(actor, self.default)


def _anon(page: bool) -> dict[str, int]:
    return {"anonymous": 302 if page else 403}


# The only actors who may ever read the case's private content, in any response.
READERS = {"worker_owner", "legal_assignee"}
# Who may see the SMS outbox and send a failed message again.
OUTBOX = {"front_desk", "administrator"}

ENDPOINTS: list[Endpoint] = [
    # Pages
    Endpoint("case page", "get", lambda w: f"/cases/{w.case.pk}/", {**_anon(True), **dict.fromkeys(READERS, 200)},
             404),
    Endpoint("case close (page)", "post", lambda w: f"/cases/{w.case.pk}/close/",
             {**_anon(True), **dict.fromkeys(READERS, 302)}, 404, writers={"legal_assignee"}),
    Endpoint("case withdraw (page)", "post", lambda w: f"/cases/{w.case.pk}/withdraw/",
             {**_anon(True), **dict.fromkeys(READERS, 302)}, 404, writers={"worker_owner"}),
    Endpoint("case take-up (page)", "post", lambda w: f"/cases/{w.case.pk}/take-up/",
             {**_anon(True), **dict.fromkeys(READERS, 302)}, 404, writers=set()),
    Endpoint("my requests", "get", lambda w: "/requests/",
             {**_anon(True), "worker_owner": 200, "worker_stranger": 200}, 403),
    Endpoint("front desk", "get", lambda w: "/front-desk/", {**_anon(True), "front_desk": 200}, 403),
    Endpoint("walk-in request form", "get", lambda w: f"/front-desk/workers/{w.owner.pk}/request/",
             {**_anon(True), "front_desk": 200}, 403),
    Endpoint("queue", "get", lambda w: "/queue/",
             {**_anon(True), **dict.fromkeys(["legal_assignee", "legal_other", "mediator", "arbitrator", "counselor",
                                              "claims_officer", "claims_reviewer", "childcare_staff",
                                              "matchmaker"], 200)}, 403),
    Endpoint("figures", "get", lambda w: "/figures/",
             {**_anon(True), "center_manager": 200, "administrator": 200}, 403),
    Endpoint("admin case list", "get", lambda w: "/admin/care/case/",
             {"administrator": 200}, 302),
    Endpoint("admin case page", "get", lambda w: f"/admin/care/case/{w.case.pk}/change/",
             {"administrator": 200}, 302),
    # API
    Endpoint("api case detail", "get", lambda w: f"/api/v1/cases/{w.case.pk}/",
             {**_anon(False), **dict.fromkeys(READERS, 200)}, 404),
    Endpoint("api case list", "get", lambda w: "/api/v1/cases/", _anon(False), 200),
    Endpoint("api case close", "post", lambda w: f"/api/v1/cases/{w.case.pk}/close/",
             {**_anon(False), "legal_assignee": 200, "worker_owner": 403}, 404, writers={"legal_assignee"}),
    Endpoint("api case withdraw", "post", lambda w: f"/api/v1/cases/{w.case.pk}/withdraw/",
             {**_anon(False), "worker_owner": 200, "legal_assignee": 403}, 404, writers={"worker_owner"}),
    Endpoint("api case take-up", "post", lambda w: f"/api/v1/cases/{w.case.pk}/take-up/",
             {**_anon(False), "worker_owner": 403, "legal_assignee": 200}, 404, writers=set()),
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
