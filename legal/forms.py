from django import forms
from django.utils.translation import gettext_lazy as _

from care.forms import DateInput
from legal.models import ClaimKind, DisputeType, LegalState, Representative


class DetailsForm(forms.Form):
    dispute_type = forms.ChoiceField(label=_("Dispute"), choices=DisputeType.choices)
    employer_name = forms.CharField(label=_("Employer"), max_length=120, required=False)
    employer_credit_code = forms.CharField(label=_("Unified social credit code"), max_length=18, required=False)
    employer_address = forms.CharField(label=_("Employer address"), max_length=200, required=False)
    employer_contact = forms.CharField(label=_("Employer contact"), max_length=100, required=False)
    employment_start = forms.DateField(label=_("Employment start"), required=False,
                                       widget=DateInput())
    employment_end = forms.DateField(label=_("Employment end"), required=False,
                                     widget=DateInput())
    dispute_date = forms.DateField(label=_("Dispute date"), required=False,
                                   widget=DateInput())


class ClaimForm(forms.Form):
    kind = forms.ChoiceField(label=_("Claim"), choices=ClaimKind.choices)
    amount = forms.DecimalField(label=_("Amount (yuan)"), max_digits=12, decimal_places=2, min_value=0.01)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class StepForm(forms.Form):
    reason = forms.CharField(label=_("Reason (the worker sees it)"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    appealed_by = forms.ChoiceField(label=_("Party that went to court"), required=False,
                                    choices=[("", "—"), ("worker", _("Worker")), ("employer", _("Employer"))])


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("Stage"), required=False, choices=[("", _("All open"))] + LegalState.choices)
    due_within = forms.IntegerField(label=_("Deadline within (days)"), required=False, min_value=0, max_value=400)


class RepresentativeForm(forms.Form):
    side = forms.ChoiceField(label=_("Side"), choices=Representative.Side.choices)
    name = forms.CharField(label=_("Name"), max_length=50)
    mobile = forms.CharField(label=_("Mobile number"), max_length=20, required=False,
                             help_text=_("Needed to send an employer's representative the agreement to sign."))
