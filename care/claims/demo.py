"""Claims demo data, made through the services (registered with the hall's seed_demo): a plan
with last year's and this year's rules, every demo member covered, and claims at each stage."""

import datetime
from decimal import Decimal

from django.utils import timezone

from care.claims import services
from care.claims.models import Plan, PlanVersion
from care.models import Worker
from care.roles import Role

HOSPITALS = ["青岛大学附属医院", "青岛市市立医院", "青岛市中心医院", "青岛市第八人民医院"]


def seed(accounts: dict) -> None:
    officer, reviewer = accounts[Role.CLAIMS_OFFICER], accounts[Role.CLAIMS_REVIEWER]
    today = timezone.localdate()
    plan = Plan.objects.create(code="ZGZY", name="职工住院医疗互助保障",
                               description="在职职工住院、重大疾病医疗费用互助报销")
    PlanVersion.objects.create(plan=plan, effective_from=datetime.date(today.year - 1, 1, 1), waiting_days=90,
                               deductible=Decimal("1000.00"), ratios={"inpatient": "0.50", "serious_illness": "0.60"},
                               per_claim_cap=Decimal("20000.00"), annual_cap=Decimal("50000.00"))
    PlanVersion.objects.create(plan=plan, effective_from=datetime.date(today.year, 1, 1), waiting_days=90,
                               deductible=Decimal("800.00"),
                               ratios={"inpatient": "0.50", "serious_illness": "0.70", "accident": "0.50"},
                               per_claim_cap=Decimal("30000.00"), annual_cap=Decimal("60000.00"))
    workers = list(Worker.objects.order_by("pk"))
    enrolments = [
        services.enrol(actor=officer, worker=worker, plan=plan, starts_on=datetime.date(today.year - 1, 1, 1),
                       ends_on=datetime.date(today.year, 12, 31), employer_union=f"{worker.employer}工会")
        for worker in workers
    ]
    bank = {"bank": "中国工商银行青岛分行", "holder": "", "number": ""}
    invoice_numbers = iter(range(1, 100))

    def claim(i, self_paid, category="inpatient", days_ago=20):
        enrolment = enrolments[i]
        admitted = today - datetime.timedelta(days=days_ago)
        return services.claim_file(
            actor=enrolment.worker.user, worker=enrolment.worker, enrolment=enrolment,
            hospital=HOSPITALS[i % len(HOSPITALS)], admitted_on=admitted,
            discharged_on=admitted + datetime.timedelta(days=6), category=category,
            bank_account={**bank, "holder": enrolment.worker.name, "number": f"62220216020{i:08d}"},
            invoices=[{"number": f"3702{today.year}{next(invoice_numbers):06d}",
                       "issued_on": admitted + datetime.timedelta(days=6),
                       "amount": Decimal(self_paid) * 2, "self_paid": Decimal(self_paid)}],
        )

    def step(c, actor, transition, **kwargs):
        return services.claim_transition(claim=c, actor=actor, transition=transition, **kwargs)

    claim(0, "6800.00")  # the demo member: just filed
    paid = step(claim(0, "4200.00", days_ago=60), officer, "start_review")
    paid = step(paid, officer, "approve")
    reviewing = step(claim(1, "9800.00"), officer, "start_review")
    step(step(claim(2, "3000.00"), officer, "start_review"), officer, "request_info",
         message="请补充上传出院小结和费用明细清单。")
    big = step(claim(3, "30800.00", "serious_illness"), officer, "start_review")
    step(big, officer, "approve")  # 21,000.00: waits for a second reviewer
    rejected = step(claim(4, "5000.00"), officer, "start_review")
    step(rejected, officer, "reject", message="发票日期不在住院期间，请核对后申诉。")
    batch = services.batch_create(actor=officer)
    services.batch_mark_paid(batch=batch, actor=reviewer)
    step(reviewing, officer, "approve")  # approved, waiting for the next batch
