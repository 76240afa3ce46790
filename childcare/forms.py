"""Forms of the care station's pages. They give input its shape; childcare.services decides what
is allowed (ages, places, the ratio, who may collect a child), with its messages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from care.forms import DateInput, RefusalMixin
from childcare.models import WEEKDAY_CHOICES, IncidentKind, ProgrammeKind


class ChildForm(RefusalMixin, forms.Form):
    name = forms.CharField(label=_("Child's name"), max_length=50)
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateInput)
    school = forms.CharField(label=_("School"), max_length=100, required=False)
    allergies = forms.CharField(label=_("Allergies"), required=False, max_length=2000,
                                widget=forms.Textarea(attrs={"rows": 2}),
                                help_text=_("Shown to the staff on duty, highlighted on the roster."))
    medical_notes = forms.CharField(label=_("Medical notes"), required=False, max_length=2000,
                                    widget=forms.Textarea(attrs={"rows": 2}))
    contact_name = forms.CharField(label=_("Emergency contact: name"), max_length=50)
    contact_relation = forms.CharField(label=_("Emergency contact: relation"), max_length=30)
    contact_mobile = forms.CharField(label=_("Emergency contact: mobile number"), max_length=20)

    def service_arguments(self) -> dict:
        """What childcare.services.child_register takes (but the actor and the guardian)."""
        data = self.cleaned_data
        return {"name": data["name"], "date_of_birth": data["date_of_birth"], "school": data["school"],
                "allergies": data["allergies"], "medical_notes": data["medical_notes"],
                "emergency_contacts": [{"name": data["contact_name"], "relation": data["contact_relation"],
                                        "mobile": data["contact_mobile"]}]}


class MedicalForm(RefusalMixin, forms.Form):
    school = forms.CharField(label=_("School"), max_length=100, required=False)
    allergies = forms.CharField(label=_("Allergies"), required=False, max_length=2000,
                                widget=forms.Textarea(attrs={"rows": 2}))
    medical_notes = forms.CharField(label=_("Medical notes"), required=False, max_length=2000,
                                    widget=forms.Textarea(attrs={"rows": 2}))


class PickupPersonForm(RefusalMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    relation = forms.CharField(label=_("Relation to the child"), max_length=30)
    mobile = forms.CharField(label=_("Mobile number"), max_length=20)
    id_number = forms.CharField(label=_("ID number"), max_length=18)
    photo = forms.FileField(label=_("Photo (optional)"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}))


class ProgrammeForm(RefusalMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    kind = forms.ChoiceField(label=_("Kind"), choices=ProgrammeKind.choices)
    starts_on = forms.DateField(label=_("First day"), widget=DateInput)
    ends_on = forms.DateField(label=_("Last day"), widget=DateInput)
    weekdays = forms.TypedMultipleChoiceField(label=_("Weekdays"), choices=WEEKDAY_CHOICES, coerce=int,
                                              widget=forms.CheckboxSelectMultiple, initial=[1, 2, 3, 4, 5])
    opens_at = forms.TimeField(label=_("Opens"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    closes_at = forms.TimeField(label=_("Closes"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    min_age = forms.IntegerField(label=_("Youngest age"), min_value=0, max_value=17)
    max_age = forms.IntegerField(label=_("Oldest age"), min_value=0, max_value=17)
    capacity = forms.IntegerField(label=_("Places"), min_value=1, max_value=500)
    ratio = forms.IntegerField(label=_("Children per member of staff"), min_value=1, max_value=30, initial=8)

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["weekdays"] = "".join(str(d) for d in data["weekdays"])
        return data


class IncidentForm(RefusalMixin, forms.Form):
    occurred_at = forms.DateTimeField(label=_("When"), widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    kind = forms.ChoiceField(label=_("Kind"), choices=IncidentKind.choices)
    description = forms.CharField(label=_("What happened"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    action_taken = forms.CharField(label=_("Action taken"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class ExportForm(forms.Form):
    since = forms.DateField(label=_("From"), widget=DateInput)
    until = forms.DateField(label=_("To"), widget=DateInput)

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            self.add_error("until", _("The end must not come before the start."))
        return data
