from datetime import time, timedelta

from django.utils.translation import gettext_lazy as _

from care import registry


class LegalConfig(registry.DepartmentAppConfig):
    name = "legal"
    verbose_name = _("Legal aid")
    response_time = timedelta(days=3)
    file_url_name = "legal:open"

    def ready(self):
        super().ready()
        from care.roles import Role
        from care.tasks_runtime import register_daily
        from legal import demo, hearings, selectors, services, signing, tasks  # noqa: F401 - they register SMS templates
        from legal.models import LegalCase

        register_daily("legal.tasks.flag_deadlines", time(7, 30))
        registry.register_nav(roles={Role.LEGAL_OFFICER, Role.MEDIATOR}, label=_("Legal aid cases"),
                              url_name="legal:queue")
        registry.register_nav(roles={Role.ARBITRATOR}, label=_("My hearings"), url_name="legal:my_hearings")
        registry.register_demo_seeder(demo.seed)
        registry.register_file_check("legal", lambda case: LegalCase.objects.filter(case_id=case.pk).exists())
        registry.register_figures("legal", selectors.figures)
