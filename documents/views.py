from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def document_list(request):
    return HttpResponse("list")


register_outgoing = register_incoming = document_detail = file_download = file_preview = document_list
