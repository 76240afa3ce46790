"""Building matchmaking state for tests: members with verified profiles (a WeChat ID as the
contact to share), a matchmaker."""

from care.roles import Role
from care.validators import id_checksum
from matchmaking import services
from tests.factories import WorkerFactory, staff

_seq = iter(range(1, 1_000_000))


def matchmaker():
    return staff(Role.MATCHMAKER, "matchmaking")


def national_id(born: str, seq: int) -> str:
    """An ID number of someone born on ``born`` (YYYYMMDD)."""
    first17 = f"370202{born}{seq % 1000:03d}"
    return first17 + id_checksum(first17)


def worker(*, born: str = "19950615", employer: str = "", **kwargs):
    """A worker born on ``born``; each at their own employer unless one is given."""
    n = next(_seq)
    return WorkerFactory(national_id=national_id(born, n), employer=employer or f"第{n}公司", **kwargs)


def member(*, gender="male", seeking="female", born="19950615", employer="", verify=True, reviewer=None,
           **fields):
    """A member who opted in, filled in a display name and a contact, and (by default) was
    verified by a matchmaker; ``fields`` go to profile_update (what others see, preferences)."""
    who = worker(born=born, employer=employer)
    profile = services.profile_opt_in(actor=who.user, worker=who, gender=gender, seeking=seeking)
    profile = services.profile_update(actor=who.user, profile=profile, display_name=f"会员{who.pk}",
                                      contact=f"wx_member{who.pk}", **fields)
    if verify:
        services.profile_submit(actor=who.user, profile=profile)
        profile = services.profile_review(actor=reviewer or matchmaker(), profile=profile, step="verify")
    return profile
