"""Forms of the claims pages. They give input its shape; care.claims.services decides what is
allowed (amounts, invoice numbers, cover and dates are checked there, with its messages)."""

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from care.claims import services
from care.claims.models import Category, ClaimState
from care.forms import DateInput

RECEIPT_ACCEPT = ",".join(ext for t in services.RECEIPT_TYPES for ext in t.extensions)
INVOICE_ROWS = 3


def _receipt_field(label, *, required: bool = False) -> forms.FileField:
    return forms.FileField(label=label, required=required, allow_empty_file=True,
                           widget=forms.FileInput(attrs={"accept": RECEIPT_ACCEPT}))


def _receipt_help() -> str:
    return _("PDF or a picture (PNG, JPEG, WEBP), at most %(size)s.") % {
        "size": filesizeformat(services.receipt_max_bytes())}


class ClaimForm(forms.Form):
    """What a member (or the front desk for them) says about the stay in hospital. The plan is
    chosen among the member's enrolments, given as ``cover`` (selectors.cover_for_worker)."""

    enrolment = forms.TypedChoiceField(label=_("Mutual-aid plan"), coerce=int)
    hospital = forms.CharField(label=_("Hospital"), max_length=120)
    admitted_on = forms.DateField(label=_("Admission date"), widget=DateInput())
    discharged_on = forms.DateField(label=_("Discharge date"), widget=DateInput())
    category = forms.ChoiceField(label=_("Kind of treatment"), choices=Category.choices)
    diagnosis = forms.CharField(label=_("Diagnosis (optional)"), max_length=500, required=False,
                                help_text=_("Only the claims office can read it."))
    bank = forms.CharField(label=_("Bank (with branch)"), max_length=60)
    holder = forms.CharField(label=_("Account holder"), max_length=50)
    account_number = forms.CharField(label=_("Account number"), max_length=40,
                                     widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    note = forms.CharField(label=_("Note (optional)"), max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, cover=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.enrolments = {row["enrolment"].pk: row["enrolment"] for row in cover}
        self.fields["enrolment"].choices = [
            (row["enrolment"].pk, f"{row['enrolment'].plan.name} · {row['enrolment'].starts_on:%Y-%m-%d} – "
                                  f"{row['enrolment'].ends_on:%Y-%m-%d}")
            for row in cover
        ]
        current = [row["enrolment"].pk for row in cover if row["current"]]
        if current and not self.is_bound:
            self.fields["enrolment"].initial = current[0]

    def claim_data(self) -> dict:
        """The keyword arguments of services.claim_file (without actor, worker and invoices)."""
        data = self.cleaned_data
        return {
            "enrolment": self.enrolments[data["enrolment"]],
            "hospital": data["hospital"],
            "admitted_on": data["admitted_on"],
            "discharged_on": data["discharged_on"],
            "category": data["category"],
            "diagnosis": data["diagnosis"],
            "bank_account": {"bank": data["bank"], "holder": data["holder"], "number": data["account_number"]},
            "note": data["note"],
        }


class InvoiceForm(forms.Form):
    """One hospital invoice, with the scan of its receipt. Amounts are text: the service reads
    them (``1,280.50`` included) and says what is wrong."""

    number = forms.CharField(label=_("Invoice number"), max_length=40)
    issued_on = forms.DateField(label=_("Invoice date"), widget=DateInput())
    amount = forms.CharField(label=_("Amount (yuan)"), max_length=20,
                             widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    self_paid = forms.CharField(label=_("Self-paid part (yuan)"), max_length=20,
                                widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    receipt = _receipt_field(_("Receipt scan"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receipt"].help_text = _receipt_help()

    def invoice_data(self) -> dict:
        data = self.cleaned_data
        return {"number": data["number"], "issued_on": data["issued_on"], "amount": data["amount"],
                "self_paid": data["self_paid"], "receipt": data.get("receipt") or None}


class BaseInvoiceRows(forms.BaseFormSet):
    """Up to three invoice rows on the filing form; rows left blank are ignored (the service
    checks each invoice, and refuses a number entered twice)."""

    def invoices(self) -> list[dict]:
        return [f.invoice_data() for f in self.forms if f.has_changed() and f.cleaned_data]


InvoiceRows = forms.formset_factory(InvoiceForm, formset=BaseInvoiceRows, extra=INVOICE_ROWS,
                                    max_num=INVOICE_ROWS, validate_max=True)


class ReceiptForm(forms.Form):
    """A receipt added to a claim, for one of its invoices or for the claim as a whole."""

    invoice = forms.TypedChoiceField(label=_("For invoice"), coerce=int, required=False, empty_value=None)
    file = _receipt_field(_("File"), required=True)

    def __init__(self, *args, invoices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].choices = [("", _("The claim as a whole"))] + [(i.pk, i.number) for i in invoices]
        self.fields["file"].help_text = _receipt_help()


class StepForm(forms.Form):
    message = forms.CharField(label=_("Message"), required=False, max_length=services.MESSAGE_MAX,
                              widget=forms.Textarea(attrs={"rows": 2}))
    expected_amount = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("All open and approved"))] + ClaimState.choices)
    q = forms.CharField(label=_("Reference"), required=False, max_length=30)
