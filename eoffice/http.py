"""Small helpers every app's web views share: reading posted form values safely, and the client's address."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.shortcuts import get_object_or_404


def posted_int(request: HttpRequest, name: str) -> int | None:
    """A posted id or version, or None: a non-number must give a clear refusal, not a 500."""
    value = request.POST.get(name, "").strip()
    # At most 18 digits: any such number fits a bigint column, so a huge one finds nothing instead of a 500.
    return int(value) if value.isdigit() and len(value) <= 18 else None


def posted_person_or_404(request: HttpRequest, name: str, **filters):
    """The person whose id was posted under `name` (404 when missing, unknown or not a number)."""
    return get_object_or_404(get_user_model(), pk=posted_int(request, name) or 0, **filters)


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:10.0.0.1 is 10.0.0.1
    return mapped or address


def client_address(request) -> str:
    """The address of the person behind a request, the one key of every per-address limit (the token
    endpoint's throttle, the log-in lock-out) and of every logged address.

    X-Forwarded-For is anyone's to write: it is read only when the request comes from a proxy listed in
    TRUSTED_PROXIES (addresses or networks), and then from the right, skipping the trusted proxies, so the
    first address a trusted proxy saw is the client's; whatever a client put to its left is ignored. With no
    trusted proxy (the default), the address is the connection's (REMOTE_ADDR)."""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    peer = _address(remote)
    if not trusted or peer is None or not any(peer in network for network in trusted):
        return str(peer) if peer is not None else remote
    hops = [hop for header in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if (hop := header.strip())]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:  # garbage: keep the nearest address a trusted proxy vouched for
            break
        client = address
        if not any(address in network for network in trusted):
            break
    return str(client)
