"""Legal aid's background work."""

from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from care import sms
from legal import deadlines
from legal.models import OPEN_STATES, Deadline

sms.register_template(sms.SmsTemplate(
    "staff_deadline",
    gettext_lazy("Worker Service Center: %(ref)s has a deadline on %(due)s. Details: %(link)s"),
    sample={"due": "2026-12-01"},
))


@task()
def flag_deadlines() -> int:
    """Daily: tell the assigned caseworker of every deadline that is near or past, once a day.
    Idempotent: a deadline already warned today is skipped."""
    today = timezone.localdate()
    warned = 0
    open_deadlines = (
        Deadline.objects.filter(met_at__isnull=True, suspended_on__isnull=True, legal_case__state__in=OPEN_STATES)
        .exclude(last_warned_on=today)
        .select_related("legal_case__case__assignee")
        .order_by("due_on")
    )
    for deadline in open_deadlines.iterator(chunk_size=500):
        if today < deadlines.warn_from(deadline.rule, deadline.due_on):
            continue
        with transaction.atomic():
            if not Deadline.objects.filter(pk=deadline.pk).exclude(last_warned_on=today).update(last_warned_on=today):
                continue  # another run got here first
            case = deadline.legal_case.case
            if case.assignee is not None:
                sms.notify(
                    recipient=case.assignee, template="staff_deadline",
                    context={"ref": case.reference, "due": deadline.due_on.isoformat(),
                             "link": sms.link(reverse("care:case_detail", args=[case.pk]))},
                )
            warned += 1
    return warned




@task()
def video_rooms_create(room_id: int) -> str:
    """A video hearing's room opened with Twilio Video: make its Twilio rooms (idempotent: a
    room that exists is looked up). Failing (Twilio down), the task fails and is run again by
    whoever retries it; the page keeps saying the video is not ready."""
    from legal import video_providers
    from legal.models import VideoRoom

    room = VideoRoom.objects.get(pk=room_id)
    sids = video_providers.create_twilio_rooms(room)
    VideoRoom.objects.filter(pk=room_id).update(provider_room=sids["main"])
    return sids["main"]


@task()
def video_rooms_end(room_id: int) -> str:
    from legal import video_providers
    from legal.models import VideoRoom

    video_providers.end_twilio_rooms(VideoRoom.objects.get(pk=room_id))
    return "completed"
