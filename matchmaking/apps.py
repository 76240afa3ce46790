import datetime
from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from care import registry


class MatchmakingConfig(registry.DepartmentAppConfig):
    name = "matchmaking"
    verbose_name = _("Matchmaking station")
    response_time = timedelta(days=7)

    def ready(self):
        super().ready()
        from care.roles import Role
        from care.tasks_runtime import register_daily
        from matchmaking import demo, selectors, services  # noqa: F401 - services registers the station's SMS templates
        from matchmaking.models import Profile

        # A profile's review case ends through the profile (withdrawn), never in the hall.
        registry.register_file_check("matchmaking", lambda case: Profile.objects.filter(case_id=case.pk).exists())
        registry.register_nav(roles={Role.WORKER}, label=_("Meet members"), url_name="matchmaking:home")
        registry.register_nav(roles={Role.MATCHMAKER}, label=_("Members"), url_name="matchmaking:members")
        registry.register_nav(roles={Role.MATCHMAKER}, label=_("Introductions"),
                              url_name="matchmaking:introductions_all")
        registry.register_nav(roles={Role.MATCHMAKER}, label=_("Reports"), url_name="matchmaking:reports")
        registry.register_nav(roles={Role.MATCHMAKER}, label=_("Social events"), url_name="matchmaking:events_manage")
        registry.register_demo_seeder(demo.seed)
        register_daily("matchmaking.tasks.expire_introductions", datetime.time(3, 0))
        register_daily("matchmaking.tasks.erase_withdrawn_profiles", datetime.time(3, 30))
        registry.register_figures("matchmaking", selectors.figures)
