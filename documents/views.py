from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def document_list(request):
    return render(request, "documents/list.html", {})
