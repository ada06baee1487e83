"""Register pages and printouts (PL IV). Being written."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def register_index(request):
    return HttpResponse("registers: not yet")


@login_required
def register_print(request, register_id: int, fmt: str):
    return HttpResponse("register print: not yet")
