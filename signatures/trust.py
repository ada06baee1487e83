"""Reading the trust store: the trusted CA certificates and their revocation lists, parsed.

Read by the services (importing certificates), the signing task (PAdES B-LT material) and verification,
so none of them needs another's module. Changes to the trust store are in `services.py`."""

from __future__ import annotations

from cryptography import x509

from .models import TrustAnchor


def trust_roots() -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(bytes(der)) for der in
            TrustAnchor.objects.filter(is_active=True, is_root=True).values_list("certificate_der", flat=True)]


def intermediates() -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(bytes(der)) for der in
            TrustAnchor.objects.filter(is_active=True, is_root=False).values_list("certificate_der", flat=True)]


def revocation_lists() -> list[x509.CertificateRevocationList]:
    return [x509.load_der_x509_crl(bytes(der)) for der in
            TrustAnchor.objects.filter(is_active=True, crl_der__isnull=False).values_list("crl_der", flat=True)]


def chain_from_trust_store(certificate: x509.Certificate) -> list[x509.Certificate]:
    """The issuing CAs above `certificate` found among the trusted intermediates, nearest first (root
    excluded): a certificate uploaded alone still signs with its chain, so other validators (pdfsig,
    Adobe) can build the path."""
    pool = intermediates()
    chain: list[x509.Certificate] = []
    current = certificate
    while current.issuer != current.subject:
        issuer = next((ca for ca in pool if ca.subject == current.issuer and ca not in chain), None)
        if issuer is None:
            break
        chain.append(issuer)
        current = issuer
    return chain
