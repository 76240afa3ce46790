"""Forms give input its shape; services decide what is allowed."""

from django import forms
from django.utils.translation import gettext_lazy as _

from care import registry
from care.models import ContactTime, SmsStatus, Stage


class RefusalMixin:
    """For forms whose input a service checks: show its refusal (a care.errors.HallError) by the
    field its detail names, else above the form, keeping everything typed."""

    def add_refusal(self, error) -> None:
        fields = [key for key in error.detail if key in self.fields]
        self.add_error(fields[0] if fields else None, str(error.message))


class DateInput(forms.DateInput):
    """A native date picker. Its value is always ISO (what ``<input type="date">`` reads), never
    the active language's date format (Chinese writes 2026/03/05, which the picker drops)."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class RequestForm(forms.Form):
    department = forms.ChoiceField(label=_("Service"))
    description = forms.CharField(
        label=_("What do you need help with?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Only the staff of the service you choose can read this."),
    )
    preferred_contact_time = forms.ChoiceField(
        label=_("When can we reach you?"), choices=ContactTime.choices, initial=ContactTime.ANY
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = registry.department_choices()


class WorkerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    mobile = forms.CharField(
        label=_("Mobile number"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    national_id = forms.CharField(label=_("National ID number"), max_length=18)
    employer = forms.CharField(label=_("Employer"), max_length=120, required=False)
    membership_number = forms.CharField(label=_("Union membership number"), max_length=30, required=False)


class WorkerLookupForm(forms.Form):
    q = forms.CharField(label=_("Mobile or ID number"), max_length=20)


class QueueFilterForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("Stage"), required=False, choices=[("", _("All open and closed"))] + Stage.choices
    )
    q = forms.CharField(label=_("Reference or mobile"), required=False, max_length=30)
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)


class MobileForm(forms.Form):
    mobile = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("6-digit code"),
        regex=r"^\s*\d{6}\s*$",
        max_length=8,
        error_messages={"invalid": _("Enter the 6 digits of the code.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class SelfRegisterForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    national_id = forms.CharField(label=_("National ID number"), max_length=18)
    employer = forms.CharField(label=_("Employer"), max_length=120, required=False)
    membership_number = forms.CharField(label=_("Union membership number"), max_length=30, required=False)


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All"))] + SmsStatus.choices)
    template = forms.CharField(label=_("Template"), required=False, max_length=40)
    number = forms.CharField(label=_("Number"), required=False, max_length=20)
    day = forms.DateField(label=_("Date"), required=False, widget=DateInput())
