"""Forms of the counseling pages. They give input its shape; counseling.services decides what
is allowed (consent, free times, limits and steps are checked there, with its messages)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from care.forms import DateInput
from counseling import selectors
from counseling.models import Mode, Service, ServiceKind
from counseling.services import REASON_MAX


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
