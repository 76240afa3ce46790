from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from care import registry


class MatchmakingConfig(registry.DepartmentAppConfig):
    name = "matchmaking"
    verbose_name = _("Matchmaking station")
    response_time = timedelta(days=7)
