"""Error pages: JSON under /api/, HTML elsewhere. The HTML ones leave the menu's work counts to the page's script
(`desk_deferred`): a refused or missing page costs no counting."""

from django.shortcuts import render

from .api import api_not_found, api_server_error


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return api_not_found(request, exception)
    return render(request, "errors/404.html", {"desk_deferred": True}, status=404)


def forbidden(request, exception=None):
    if _is_api(request):
        from django.http import JsonResponse

        return JsonResponse({"message": str(exception) or "Forbidden."}, status=403)
    return render(request, "errors/403.html", {"reason": str(exception or ""), "desk_deferred": True}, status=403)


def server_error(request):
    if _is_api(request):
        return api_server_error(request)
    return render(request, "errors/500.html", {"desk_deferred": True}, status=500)
