"""poppler's tools as the independent view of a signed PDF: `pdfsig` (with its own NSS trust store) and
`pdftotext`. Installed by `.ci/run`; missing elsewhere, the test is skipped with the reason."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.conftest import missing_service


def require(*tools: str) -> None:
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing:
        missing_service(f"{', '.join(missing)} not installed (Debian: poppler-utils, libnss3-tools)")


def pdftotext_first_page(pdf: bytes) -> str:
    require("pdftotext")
    return subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


def pdfsig(pdf: bytes, trusted_roots: Iterable[x509.Certificate], workdir: Path) -> str:
    """pdfsig's report of `pdf`, validating against an NSS database holding only `trusted_roots`."""
    require("pdfsig", "certutil")
    nss = workdir / "nss"
    nss.mkdir(exist_ok=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    for index, root in enumerate(trusted_roots):
        pem = workdir / f"root-{index}.pem"
        pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
        subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", f"root-{index}", "-t", "CT,C,C", "-i", str(pem)],
                       check=True, capture_output=True)
    path = workdir / "signed.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True,
                          check=True).stdout
