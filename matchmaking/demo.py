"""Matchmaking demo data, made through the services (registered with the hall's seed_demo): the
demo worker's verified profile with an introduction waiting for her answer, two other verified
members, one profile waiting for the matchmaker's review, and a social event in five days with
the demo worker's seat."""

import datetime

from django.utils import timezone

from care.models import Worker
from care.roles import Role
from matchmaking import services
from matchmaking.models import Profile

DEMO_WORKER_MOBILE = "+8613800000001"
PEOPLE = [("male", "阳光", "市南区", "喜欢跑步和摄影"), ("male", "大海", "崂山区", "周末常去爬山"),
          ("female", "小满", "市北区", "爱读书，会做饭")]


def _member(worker: Worker, gender: str, name: str, district: str, about: str, keeper, *, verify=True) -> Profile:
    profile = services.profile_opt_in(actor=worker.user, worker=worker, gender=gender,
                                      seeking="female" if gender == "male" else "male")
    profile = services.profile_update(actor=worker.user, profile=profile, display_name=name, district=district,
                                      introduction=about, contact=f"wx_demo{worker.pk:04d}", education=4,
                                      pref_age_min=22, pref_age_max=60,
                                      hide_from_colleagues=False)  # the demo's workers share employers
    services.profile_submit(actor=worker.user, profile=profile)
    return services.profile_review(actor=keeper, profile=profile, step="verify") if verify else profile


def seed(accounts: dict) -> None:
    keeper = accounts[Role.MATCHMAKER]
    if Profile.objects.exists():
        return  # already seeded
    demo = Worker.objects.filter(mobile=DEMO_WORKER_MOBILE).select_related("user").first()
    others = list(Worker.objects.exclude(mobile=DEMO_WORKER_MOBILE).filter(user__isnull=False)
                  .select_related("user").order_by("pk")[:len(PEOPLE)])
    if demo is None or len(others) < len(PEOPLE):
        return
    her = _member(demo, "female", "小雨", "市南区", "在港口工作，喜欢旅行和音乐", keeper)
    members = [_member(w, gender, name, district, about, keeper, verify=index < 2)
               for index, (w, (gender, name, district, about)) in enumerate(zip(others, PEOPLE, strict=True))]
    services.introduction_request(actor=members[0].worker.user, profile=members[0], other=her)
    start = timezone.localtime(timezone.now() + datetime.timedelta(days=5)).replace(hour=14, minute=0, second=0,
                                                                                   microsecond=0)
    event = services.event_create(actor=keeper, title="冬日读书联谊会", place="工人文化宫三楼多功能厅",
                                  starts_at=start, ends_at=start + datetime.timedelta(hours=3), capacity=20,
                                  min_age=22, max_age=60, description="读书分享与茶歇，男女各十人。")
    services.event_signup(actor=demo.user, profile=her, event=event)
