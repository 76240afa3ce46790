"""The matchmaking station's daily work, both idempotent: introductions past their time expire;
withdrawn profiles past the grace period are erased."""

from django.tasks import task


@task()
def expire_introductions() -> int:
    from matchmaking import services

    return services.introductions_expire_due()


@task()
def erase_withdrawn_profiles() -> int:
    from matchmaking import services

    return services.profiles_erase_due()
