"""Online revocation checking: OCSP and CRLs fetched from the addresses the certificates declare (AIA, CDP).

pyhanko-certvalidator's requests-based fetchers do the fetching; this module only bounds and remembers it,
because the documents we check come from outside and the CAs' services are slow, far or unreachable:

* a per-request timeout (`SIGNATURE_REVOCATION_TIMEOUT`, seconds);
* a cache shared by the processes (Django's cache: Redis in production) of CRLs by URL and of OCSP responses
  by certificate (issuer + serial) and responder, kept until the answer's nextUpdate and at most
  `SIGNATURE_REVOCATION_CACHE_SECONDS`, so a batch of files from one CA costs one request per CA, not per file;
* a short memory (`UNREACHABLE_SECONDS`) of URLs that refused the connection or timed out, so an offline
  installation pays the timeout once per URL and then answers "could not check revocation" at once;
* small fetch limits per verification (a hostile file must not make us send many requests) and http(s) only.

`fetcher_backend()` gives a fresh backend for one verification (or one signature) when
`SIGNATURE_REVOCATION_CHECKING` is on, else None: the caller then stays offline.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from asn1crypto import cms, crl, ocsp, x509
from django.conf import settings
from django.core.cache import cache
from pyhanko_certvalidator.authority import Authority
from pyhanko_certvalidator.fetchers.api import FetcherBackend, Fetchers, FetchLimits
from pyhanko_certvalidator.fetchers.common_utils import FetchBudget
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend
from pyhanko_certvalidator.fetchers.requests_fetchers.cert_fetch_client import RequestsCertificateFetcher
from pyhanko_certvalidator.fetchers.requests_fetchers.crl_client import RequestsCRLFetcher
from pyhanko_certvalidator.fetchers.requests_fetchers.ocsp_client import RequestsOCSPFetcher
from pyhanko_certvalidator.util import get_ocsp_urls, issuer_serial

logger = logging.getLogger(__name__)

UNREACHABLE_SECONDS = 300
"""How long a URL that refused the connection or timed out is not asked again."""
NO_NEXT_UPDATE_SECONDS = 300
"""How long an answer without nextUpdate is kept (RFC 6960: newer information is always available)."""
LIMITS = FetchLimits(max_requests=12, max_cert_requests=3, max_aia_urls_per_object=2)
"""Per verification (every signature and timestamp of one file together). A real chain needs two or three
requests per signature (OCSP or CRL for the signer, a CRL for an intermediate CA); cache hits do not count."""
_PREFIX = "sigrev:"

T = TypeVar("T")


def checking_enabled() -> bool:
    return bool(getattr(settings, "SIGNATURE_REVOCATION_CHECKING", False))


def fetcher_backend() -> FetcherBackend | None:
    """A backend for one verification or signature when online checking is on, else None (stay offline)."""
    return CachingFetcherBackend() if checking_enabled() else None


def _timeout() -> float:
    return float(getattr(settings, "SIGNATURE_REVOCATION_TIMEOUT", 5))


def _max_age() -> int:
    return int(getattr(settings, "SIGNATURE_REVOCATION_CACHE_SECONDS", 3600))


def _key(kind: str, *parts: Any) -> str:
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return f"{_PREFIX}{kind}:{digest}"


def _seconds_until(next_update: datetime | None) -> int:
    """How long to keep an answer: until its nextUpdate, at most the configured maximum; 0: do not keep."""
    limit = _max_age()
    if next_update is None:
        return min(limit, NO_NEXT_UPDATE_SECONDS)
    remaining = int((next_update - datetime.now(UTC)).total_seconds())
    return max(0, min(limit, remaining))


def _ocsp_next_update(response: ocsp.OCSPResponse) -> datetime | None:
    single = response["response_bytes"]["response"].parsed["tbs_response_data"]["responses"][0]
    return single["next_update"].native


def _admit(url: str) -> None:
    """Refuse, without touching the network, a URL that is not http(s) or that was unreachable lately
    (raised as the requests error the fetchers already turn into a fetch failure)."""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise requests.exceptions.InvalidSchema(f"Only http and https revocation URLs are used: {url!r}")
    if cache.get(_key("down", url)):
        raise requests.ConnectionError(f"{url} was unreachable less than {UNREACHABLE_SECONDS} s ago")


async def _watched(url: str, pending: Awaitable[T]) -> T:
    try:
        return await pending
    except (requests.ConnectionError, requests.Timeout):
        logger.warning("Revocation service %s unreachable; not asked again for %d s", url, UNREACHABLE_SECONDS)
        cache.set(_key("down", url), True, UNREACHABLE_SECONDS)
        raise


class _GuardedRequests:
    """Mixed into the requests fetchers: scheme check and unreachable memory around every GET and POST."""

    def _get(self, url: str, *, acceptable_content_types: Any) -> Awaitable[requests.Response]:
        _admit(url)
        return _watched(url, super()._get(url, acceptable_content_types=acceptable_content_types))  # type: ignore[misc]

    def _post(self, url: str, data: Any, *, content_type: str,
              acceptable_content_types: Any) -> Awaitable[requests.Response]:
        _admit(url)
        return _watched(url, super()._post(  # type: ignore[misc]
            url, data, content_type=content_type, acceptable_content_types=acceptable_content_types))


class CachingOCSPFetcher(_GuardedRequests, RequestsOCSPFetcher):
    """OCSP responses cached by certificate (issuer + serial), issuer key and responder URLs. Without nonces:
    a cached answer is reused on purpose, and many responders serve pre-signed answers anyway."""

    async def _fetch(self, cert: x509.Certificate | cms.AttributeCertificateV2, authority: Authority) -> Any:
        key = _key("ocsp", issuer_serial(cert), authority.hashable, tuple(get_ocsp_urls(cert)))
        der = cache.get(key)
        if der is not None:
            return ocsp.OCSPResponse.load(der)
        response = await super()._fetch(cert, authority)
        try:
            seconds = _seconds_until(_ocsp_next_update(response))
        except Exception:  # an odd response is used once (if usable at all), not kept
            seconds = 0
        if seconds > 0:
            cache.set(key, response.dump(), seconds)
        return response


class CachingCRLFetcher(_GuardedRequests, RequestsCRLFetcher):
    """CRLs cached by URL."""

    async def _fetch_single(self, url: str) -> Any:
        key = _key("crl", url)
        der = cache.get(key)
        if der is not None:
            async def cached() -> crl.CertificateList:
                return crl.CertificateList.load(der)

            return await self._perform_fetch(url, cached)
        fetched = await super()._fetch_single(url)
        seconds = _seconds_until(fetched["tbs_cert_list"]["next_update"].native)
        if seconds > 0:
            cache.set(key, fetched.dump(), seconds)
        return fetched


class GuardedCertificateFetcher(_GuardedRequests, RequestsCertificateFetcher):
    """Issuer certificates from AIA caIssuers: not cached (rarely needed), but bounded and guarded."""


class CachingFetcherBackend(RequestsFetcherBackend):
    """The requests backend with our fetchers, the timeout from the settings and ONE fetch budget for every
    validation context made from this backend (make one backend per verified file)."""

    def __init__(self) -> None:
        super().__init__(per_request_timeout=_timeout(), limits=LIMITS)
        self.budget = FetchBudget(LIMITS)

    def get_fetchers(self) -> Fetchers:
        timeout, budget = self.per_request_timeout, self.budget
        return Fetchers(
            ocsp_fetcher=CachingOCSPFetcher(per_request_timeout=timeout, request_nonces=False, budget=budget),
            crl_fetcher=CachingCRLFetcher(per_request_timeout=timeout, budget=budget),
            cert_fetcher=GuardedCertificateFetcher(per_request_timeout=timeout, budget=budget),
        )
