"""Pages of mutual-insurance claims (being built)."""

from django.http import Http404


def my_cover(request, **kwargs):
    raise Http404


def claim_new(request, **kwargs):
    raise Http404


def claim_new_for_worker(request, **kwargs):
    raise Http404


def claim_page(request, **kwargs):
    raise Http404


def invoice_add(request, **kwargs):
    raise Http404


def invoice_remove(request, **kwargs):
    raise Http404


def receipt_upload(request, **kwargs):
    raise Http404


def receipt_download(request, **kwargs):
    raise Http404


def step(request, **kwargs):
    raise Http404


def for_case(request, **kwargs):
    raise Http404


def queue(request, **kwargs):
    raise Http404


def batches(request, **kwargs):
    raise Http404


def batch_page(request, **kwargs):
    raise Http404


def batch_paid(request, **kwargs):
    raise Http404


def figures(request, **kwargs):
    raise Http404
