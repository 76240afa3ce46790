"""Forms of the counseling pages. They give input its shape; counseling.services decides what
is allowed (consent, free times, limits and steps are checked there, with its messages)."""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from care.forms import DateInput
from counseling import selectors
from counseling.models import Mode, Room, Service, ServiceKind
from counseling.services import CAPACITY_MAX, DESCRIPTION_MAX, REASON_MAX, TITLE_MAX
from counseling.slots import SHANGHAI


def counselor_name(user) -> str:
    return user.get_full_name() or user.username


class CounselorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return counselor_name(obj.user)


class ChooseForm(forms.Form):
    """What the worker wants: the service, the counselor and the way to meet (read from GET)."""

    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none(), empty_label=None)
    counselor = CounselorChoiceField(label=_("Counselor"), queryset=selectors.bookable_profiles().none(),
                                     empty_label=None)
    mode = forms.ChoiceField(label=_("How to meet"), choices=Mode.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(active=True, kind=ServiceKind.INDIVIDUAL)
        self.fields["counselor"].queryset = selectors.bookable_profiles()

    def clean(self):
        data = super().clean()
        profile, mode = data.get("counselor"), data.get("mode")
        if profile is not None and mode and mode not in profile.modes:
            self.add_error("mode", _("This counselor does not offer this way of meeting: choose another."))
        return data


class SlotForm(forms.Form):
    """The free time picked (an ISO date and time with its offset, as the page offers it)."""

    starts_at = forms.DateTimeField()


class DayForm(forms.Form):
    day = forms.DateField(label=_("Day"), required=False, widget=DateInput())


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=REASON_MAX,
                             widget=forms.Textarea(attrs={"rows": 2}))


class TimeInput(forms.TimeInput):
    """A native time picker (24-hour ``HH:MM``, whatever the language)."""

    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


class GroupSessionForm(forms.Form):
    """A counselor schedules a group session or a workshop they lead (local time, Asia/Shanghai).
    counseling.services.group_session_create checks the rest (the future, the order of the
    times, a free room and a free facilitator)."""

    service = forms.ModelChoiceField(label=_("Kind of activity"), queryset=Service.objects.none(),
                                     error_messages={"invalid_choice": _("Choose a group session or workshop "
                                                                         "from the list.")})
    room = forms.ModelChoiceField(label=_("Room"), queryset=Room.objects.none(),
                                  error_messages={"invalid_choice": _("Choose a room from the list.")})
    day = forms.DateField(label=_("Date"), widget=DateInput())
    starts = forms.TimeField(label=_("Starts"), widget=TimeInput())
    ends = forms.TimeField(label=_("Ends"), widget=TimeInput())
    capacity = forms.IntegerField(label=_("Seats"), min_value=1, max_value=CAPACITY_MAX)
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX,
                            help_text=_("Shown to workers in the list of sessions (never sent by SMS)."))
    description = forms.CharField(label=_("About the session"), required=False, max_length=DESCRIPTION_MAX,
                                  widget=forms.Textarea(attrs={"rows": 4}))

    # The service's error keys, and the field each belongs to.
    SERVICE_FIELDS = {"service": "service", "room": "room", "starts_at": "starts", "ends_at": "ends",
                      "capacity": "capacity", "title": "title", "description": "description"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = selectors.group_services()
        self.fields["room"].queryset = selectors.active_rooms()

    def service_arguments(self) -> dict:
        """The cleaned input as counseling.services.group_session_create takes it."""
        data = self.cleaned_data
        return {"service": data["service"], "room": data["room"],
                "starts_at": datetime.datetime.combine(data["day"], data["starts"], tzinfo=SHANGHAI),
                "ends_at": datetime.datetime.combine(data["day"], data["ends"], tzinfo=SHANGHAI),
                "capacity": data["capacity"], "title": data["title"], "description": data["description"]}

    def add_refusal(self, error) -> None:
        """Show a service's refusal (a care.errors.HallError) by the field it names."""
        fields = [self.SERVICE_FIELDS[key] for key in error.detail if key in self.SERVICE_FIELDS]
        self.add_error(fields[0] if fields else None, str(error.message))
