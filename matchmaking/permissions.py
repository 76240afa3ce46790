"""Who may do what at the matchmaking station. Members trust it with their privacy:
* a member (a worker with a verified identity: their national ID, 18 or older) manages their
  own profile, preferences, blocks and hidden names, asks for introductions and answers them;
* a matchmaker (红娘) reviews profiles, proposes introductions, handles reports and may
  suspend a profile; they read profiles (never ID numbers, never the contact to share);
* nobody else reads a profile: not other departments, not the center manager, not the
  administrator."""

from care import permissions as hall
from care.roles import Role
from matchmaking.models import DEPARTMENT


def is_matchmaker(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_role(Role.MATCHMAKER)
                and hall.works_department(user, DEPARTMENT))


def is_the_member(user, profile) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_role(Role.WORKER)
                and profile.worker.user_id == user.pk)


def can_opt_in(user, worker) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_role(Role.WORKER)
                and worker.user_id == user.pk)
