"""Forms of the matchmaking pages. They give input its shape; matchmaking.services decides what is
allowed (ages, contact, limits), with its messages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from care.forms import RefusalMixin
from matchmaking.models import Education, EmployerType, Gender


class OptInForm(RefusalMixin, forms.Form):
    gender = forms.ChoiceField(label=_("I am a"), choices=Gender.choices, widget=forms.RadioSelect)
    seeking = forms.ChoiceField(label=_("I would like to meet a"), choices=Gender.choices, widget=forms.RadioSelect)
    consent = forms.BooleanField(label=_("I agree that the station keeps my profile and shows it to members it may "
                                         "suit, and I know I can withdraw at any time."))


class ProfileForm(RefusalMixin, forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=30)
    height_cm = forms.IntegerField(label=_("Height (cm)"), required=False, min_value=120, max_value=230)
    education = forms.TypedChoiceField(label=_("Education"), choices=[("", "—"), *Education.choices], coerce=int,
                                       empty_value=None, required=False)
    occupation = forms.CharField(label=_("Occupation"), max_length=50, required=False)
    employer_type = forms.ChoiceField(label=_("Employer type"), choices=[("", "—"), *EmployerType.choices],
                                      required=False)
    show_employer = forms.BooleanField(label=_("Show my employer's name"), required=False)
    district = forms.CharField(label=_("District"), max_length=30, required=False)
    hobbies = forms.CharField(label=_("Hobbies"), max_length=200, required=False)
    introduction = forms.CharField(label=_("About me"), max_length=1000, required=False,
                                   widget=forms.Textarea(attrs={"rows": 4}))
    contact = forms.CharField(label=_("Contact to share when both say yes (mobile or WeChat ID)"), max_length=40,
                              help_text=_("Never shown on your profile: sent by SMS only to someone you both said "
                                          "yes to."))


class PreferencesForm(RefusalMixin, forms.Form):
    pref_age_min = forms.IntegerField(label=_("Youngest age"), min_value=18, max_value=99)
    pref_age_max = forms.IntegerField(label=_("Oldest age"), min_value=18, max_value=99)
    pref_districts = forms.CharField(label=_("Districts (separated by commas)"), max_length=300, required=False)
    pref_education_min = forms.TypedChoiceField(label=_("Education at least"),
                                                choices=[("", "—"), *Education.choices], coerce=int,
                                                empty_value=None, required=False)
    pref_height_min = forms.IntegerField(label=_("Height at least (cm)"), required=False, min_value=120,
                                         max_value=230)
    pref_height_max = forms.IntegerField(label=_("Height at most (cm)"), required=False, min_value=120,
                                         max_value=230)
    hide_from_colleagues = forms.BooleanField(label=_("Hide me from colleagues at my employer"), required=False)


class HideForm(RefusalMixin, forms.Form):
    mobile = forms.CharField(label=_("Hide me from this mobile number"), max_length=20)


class ReportForm(RefusalMixin, forms.Form):
    reason = forms.CharField(label=_("What happened"), max_length=1000, widget=forms.Textarea(attrs={"rows": 4}))


class EventForm(RefusalMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=100)
    place = forms.CharField(label=_("Place"), max_length=200)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                                   format="%Y-%m-%dT%H:%M"))
    ends_at = forms.DateTimeField(label=_("Ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                               format="%Y-%m-%dT%H:%M"))
    capacity = forms.IntegerField(label=_("Seats"), min_value=2, max_value=500)
    balance_genders = forms.BooleanField(label=_("As many women as men"), required=False, initial=True)
    min_age = forms.IntegerField(label=_("Youngest age"), min_value=18, max_value=99, initial=18)
    max_age = forms.IntegerField(label=_("Oldest age"), min_value=18, max_value=99, initial=45)
    description = forms.CharField(label=_("About the event"), max_length=2000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
