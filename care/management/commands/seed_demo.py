"""Demo data: one account per role and realistic requests, made through the services."""

import datetime
import random
import secrets

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from care import figures, registry, services
from care.models import Case, Channel, ContactTime, Stage, Survey, User, Worker
from care.roles import Role
from care.validators import id_checksum

DEMO_PASSWORD = "demo-pass-2026"
DEMO_WORKER_MOBILE = "+8613800000001"

STAFF = [
    ("frontdesk", Role.FRONT_DESK, ""),
    ("legal", Role.LEGAL_OFFICER, "legal"),
    ("mediator", Role.MEDIATOR, "legal"),
    ("arbitrator", Role.ARBITRATOR, ""),
    ("counselor", Role.COUNSELOR, "counseling"),
    ("claims", Role.CLAIMS_OFFICER, "claims"),
    ("reviewer", Role.CLAIMS_REVIEWER, "claims"),
    ("childcare", Role.CHILDCARE_STAFF, "childcare"),
    ("matchmaker", Role.MATCHMAKER, "matchmaking"),
    ("manager", Role.CENTER_MANAGER, ""),
    ("admin", Role.ADMINISTRATOR, ""),
]

NAMES = ["王建国", "李秀英", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄海涛", "周丽", "吴强",
         "徐芳", "孙浩", "马俊", "朱琳", "胡斌", "郭晓燕", "林志强", "何婷"]
EMPLOYERS = ["青岛港务集团", "海尔智家股份有限公司", "青岛啤酒股份有限公司", "中车青岛四方机车车辆",
             "青岛地铁集团", "利群商业集团", "青岛城市建设集团"]
REQUESTS = {
    "legal": ["公司拖欠三个月工资，共计约一万八千元，想申请劳动仲裁。",
              "被单位口头辞退，没有任何补偿，想咨询违法解除劳动合同的赔偿。",
              "单位两年没有给我缴纳社会保险，想了解如何维权。",
              "在车间工作时手部受伤，单位不愿意申报工伤。"],
    "counseling": ["最近工作压力很大，晚上睡不着，想预约心理咨询。",
                   "孩子青春期沟通困难，想参加亲子关系团体辅导。"],
    "claims": ["住院做了阑尾炎手术，想申请医疗互助理赔。", "母亲住院期间的费用能否申请互助报销？"],
    "childcare": ["暑假期间孩子无人照看，想报名暑期托管班。", "想给孩子报名课后托管。"],
    "matchmaking": ["想报名参加单身职工联谊活动。"],
}


def national_id(seq: int) -> str:
    first17 = f"370202{1975 + seq % 25:04d}{1 + seq % 12:02d}{1 + seq % 28:02d}{100 + seq:03d}"
    return first17 + id_checksum(first17)


class Command(BaseCommand):
    help = "Create one demo account per role and realistic demo requests (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        if User.objects.filter(username="frontdesk").exists():
            self.stdout.write("demo data already present")
            return
        rng = random.Random(2026)
        accounts = {}
        for username, role, department in STAFF:
            user = User.objects.create_user(username=username, password=DEMO_PASSWORD, department=department,
                                            mobile=f"+86137000000{len(accounts):02d}",
                                            is_staff=role == Role.ADMINISTRATOR,
                                            is_superuser=role == Role.ADMINISTRATOR)
            user.groups.add(Group.objects.get(name=role))
            accounts[role] = user
        desk = accounts[Role.FRONT_DESK]
        workers = []
        for i, name in enumerate(NAMES):
            mobile = DEMO_WORKER_MOBILE if i == 0 else f"+86139{rng.randint(10000000, 99999999)}"
            workers.append(services.worker_register(
                actor=desk, name=name, mobile=mobile, national_id=national_id(i),
                employer=rng.choice(EMPLOYERS), membership_number=f"QDGH{2026000 + i}",
            ))
        # The demo worker can also sign in with a password until SMS sign-in is enabled.
        demo = Worker.objects.get(mobile=DEMO_WORKER_MOBILE).user
        demo.set_password(DEMO_PASSWORD)
        demo.save(update_fields=["password"])
        for worker in workers:
            for _ in range(rng.randint(1, 3)):
                department = rng.choice(list(REQUESTS))
                actor = worker.user if rng.random() < 0.6 else desk
                case = services.request_file(
                    actor=actor, worker=worker, department=department,
                    description=rng.choice(REQUESTS[department]),
                    preferred_contact_time=rng.choice(ContactTime.values),
                )
                staff = {"legal": Role.LEGAL_OFFICER, "counseling": Role.COUNSELOR, "claims": Role.CLAIMS_OFFICER,
                         "childcare": Role.CHILDCARE_STAFF, "matchmaking": Role.MATCHMAKER}[department]
                if rng.random() < 0.5:
                    services.case_take_up(case=case, actor=accounts[staff])
                    if rng.random() < 0.3:
                        services.case_close(case=case, actor=accounts[staff])
        for seed in registry.demo_seeders():
            seed(accounts)
        history(workers, desk, rng)
        self.stdout.write(self.style.SUCCESS(
            f"demo data ready: {len(STAFF)} staff accounts and worker {DEMO_WORKER_MOBILE} "
            f"(username {demo.username}), password {DEMO_PASSWORD}"
        ))


LOW_RATING_COMMENTS = ["等了很久才有人联系我，希望能快一点。", "电话总是打不通。"]


def history(workers, desk, rng: random.Random, n: int = 400) -> None:
    """Twelve weeks of past cases and answered surveys, so that the manager's figures and charts
    have something to show: written directly as history (no SMS, no audit of their own), with
    their own reference prefix. Two low ratings wait on the follow-up list, one of a worker who
    allowed a call back. Then last month's report is made, as the daily task would."""
    now = timezone.now()
    departments = [d.code for d in registry.departments()]
    cases = []
    for i in range(n):
        department = rng.choice(departments)
        opened = now - datetime.timedelta(days=rng.uniform(1, 84))
        closed = opened + datetime.timedelta(days=rng.lognormvariate(1.2, 0.8))
        stage = Stage.CLOSED if closed < now else Stage.IN_PROGRESS
        if stage == Stage.CLOSED and rng.random() < 0.06:
            stage = Stage.WITHDRAWN
        cases.append(Case(reference=f"LS-2026-{i + 1:05d}", worker=rng.choice(workers), department=department,
                          stage=stage, channel=rng.choice(Channel.values), description=rng.choice(REQUESTS[department]),
                          filed_by=desk, opened_at=opened,
                          due_at=opened + registry.department(department).response_time,
                          closed_at=closed if stage != Stage.IN_PROGRESS else None))
    Case.objects.bulk_create(cases)
    surveys = []
    for case in cases:
        if case.stage == Stage.CLOSED and rng.random() < 0.7:
            answered = rng.random() < 0.75
            rating = rng.choices([3, 4, 5], weights=[10, 35, 50])[0] if answered else None
            surveys.append(Survey(case=case, department=case.department, token_hash=secrets.token_hex(32),
                                  sent_at=case.closed_at, rating=rating,
                                  answered_at=case.closed_at + datetime.timedelta(hours=5) if answered else None))
    low = [s for s in surveys if s.rating is not None][:2]  # the follow-up list's two
    for survey, rating, comment in zip(low, (1, 2), LOW_RATING_COMMENTS, strict=True):
        survey.rating, survey.comment = rating, comment
    low[0].call_back = True
    Survey.objects.bulk_create(surveys)
    figures.report_last_month()
