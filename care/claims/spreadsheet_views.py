"""Spreadsheet pages of claims (being built)."""

from django.http import Http404


def enrolment_import(request, **kwargs):
    raise Http404


def enrolment_template(request, **kwargs):
    raise Http404


def batch_export(request, **kwargs):
    raise Http404
