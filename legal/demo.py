"""Legal aid's demo data, made through the services (registered with the hall's seed_demo)."""

import datetime
from decimal import Decimal

from django.utils import timezone

from care import services as hall
from care.models import Worker
from care.roles import Role
from legal import hearings, services
from legal.models import ClaimKind, DisputeType

EMPLOYERS = [
    ("青岛某机械制造有限公司", "91370200163562681G"),
    ("青岛某物流有限公司", "91110000100006485K"),
]


def seed(accounts: dict) -> None:
    officer, arbitrator = accounts[Role.LEGAL_OFFICER], accounts[Role.ARBITRATOR]
    cases = [
        hall.request_file(actor=worker.user, worker=worker, department="legal",
                          description="公司拖欠三个月工资，约一万八千元，想申请劳动仲裁。")
        for worker in Worker.objects.order_by("pk")[:4]
    ]
    today = timezone.localdate()
    for i, case in enumerate(cases):
        legal_case = services.legal_case_open(case=case, actor=officer)
        name, code = EMPLOYERS[i % len(EMPLOYERS)]
        services.legal_case_update_details(
            legal_case=legal_case, actor=officer, dispute_type=DisputeType.WAGES, employer_name=name,
            employer_credit_code=code, dispute_date=today - datetime.timedelta(days=60 + 90 * i),
            employment_start=datetime.date(2019, 3, 1),
        )
        services.claim_add(legal_case=legal_case, actor=officer, kind=ClaimKind.WAGES, amount=Decimal("18600.00"),
                           note="2026年4月至6月工资")
        steps = [["accept_aid"], ["accept_aid", "start_mediation"],
                 ["accept_aid", "prepare_application", "file_application"],
                 ["accept_aid", "prepare_application", "file_application", "committee_accept"]][i]
        for step in steps:
            legal_case = services.legal_transition(legal_case=legal_case, actor=officer, transition=step)
        services.representative_add(legal_case=legal_case, actor=officer, side="employer", name="张经理",
                                    mobile=f"+861390000009{i}")
        if legal_case.state == "committee_accepted":
            # A video hearing whose room is open now (from 30 minutes before): the demo arbitrator
            # enters from the hearing page, the worker by the link in the SMS outbox.
            starts = (timezone.localtime() + datetime.timedelta(minutes=20)).replace(second=0, microsecond=0)
            hearings.hearing_schedule(legal_case=legal_case, actor=officer, arbitrator=arbitrator, starts_at=starts,
                                      ends_at=starts + datetime.timedelta(hours=3), is_video=True,
                                      short_notice_reason="演示：线上庭审")
