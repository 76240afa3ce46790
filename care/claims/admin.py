"""Claims in the admin: the plans and their rules are configured here (a version already used
by a claim is never edited: add a new version from a later date); claims, enrolments and
batches are shown read-only, without private content."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from care.admin import ReadOnlyAdmin
from care.claims.models import Category, Claim, Enrolment, PaymentBatch, Plan, PlanVersion
from care.claims.rules import parse_ratios


class PlanVersionForm(forms.ModelForm):
    class Meta:
        model = PlanVersion
        fields = ("plan", "effective_from", "waiting_days", "deductible", "ratios", "per_claim_cap", "annual_cap")

    def clean_ratios(self):
        ratios = self.cleaned_data["ratios"]
        try:
            parsed = parse_ratios(ratios)
        except ValueError:
            raise forms.ValidationError(
                _('Give each category its ratio between 0 and 1, e.g. {"inpatient": "0.50"}.')) from None
        unknown = set(parsed) - set(Category.values)
        if unknown:
            raise forms.ValidationError(_("Unknown categories: %(names)s.") % {"names": ", ".join(sorted(unknown))})
        return {k: str(v) for k, v in parsed.items()}


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(PlanVersion)
class PlanVersionAdmin(admin.ModelAdmin):
    form = PlanVersionForm
    list_display = ("plan", "effective_from", "deductible", "per_claim_cap", "annual_cap", "waiting_days")
    list_filter = ("plan",)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.claims.exists():
            return False  # used by a claim: its rules are history now
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyAdmin):
    list_display = ("worker", "plan", "starts_on", "ends_on", "employer_union")
    list_filter = ("plan",)
    fields = list_display
    readonly_fields = fields


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = ("case", "state", "cap_year", "submitted_at", "decided_at", "paid_at")
    list_filter = ("state", "cap_year")
    fields = ("case", "state", "cap_year", "approved_amount", "submitted_at", "decided_at", "paid_at", "batch")
    readonly_fields = fields


@admin.register(PaymentBatch)
class PaymentBatchAdmin(ReadOnlyAdmin):
    list_display = ("reference", "state", "count", "total", "created_at", "paid_at")
    list_filter = ("state",)
    fields = list_display
    readonly_fields = fields
