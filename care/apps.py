from datetime import time, timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "care"
    verbose_name = _("Service hall")

    def ready(self):
        from django.db.backends.signals import connection_created

        from care import figures, registry, surveys  # noqa: F401 - surveys registers its SMS template
        from care.claims import demo, selectors, services  # noqa: F401 - services registers the claims SMS templates
        from care.claims.models import Claim
        from care.roles import Role
        from care.tasks_runtime import register_daily

        # Mutual-insurance claims are run by the hall itself (care.claims, ADR 0010).
        registry.register_department(registry.Department("claims", _("Mutual-insurance claims"), timedelta(days=5),
                                                         "claims:for_case"))
        registry.register_file_check("claims", lambda case: Claim.objects.filter(case_id=case.pk).exists())
        registry.register_nav(roles={Role.WORKER}, label=_("My cover"), url_name="claims:cover")
        registry.register_nav(roles={Role.CLAIMS_OFFICER, Role.CLAIMS_REVIEWER}, label=_("Mutual-insurance claims"),
                              url_name="claims:queue")
        registry.register_nav(roles={Role.CLAIMS_OFFICER, Role.CLAIMS_REVIEWER}, label=_("Payment batches"),
                              url_name="claims:batches")
        registry.register_nav(roles={Role.CENTER_MANAGER}, label=_("Claims paid"), url_name="claims:figures")
        registry.register_walk_in_action(label=_("File a claim for this member"), url_name="claims:new_for_worker")
        registry.register_demo_seeder(demo.seed)
        registry.register_figures("claims", selectors.figures)
        register_daily("care.tasks.monthly_figures_report", time(6, 0))
        connection_created.connect(figures.register_sqlite_functions, dispatch_uid="care.figures.sqlite")
