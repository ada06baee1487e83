"""Signing benchmark: signatures per second per core, and verifications per second, in two parts.

Run: `.venv/bin/python bench/signing.py` (both parts, about 90 s; `--part engine|service` for one,
`--help` for the counts). One process, so every rate is per core.

Part 1, the engine alone: `signatures.engine` called on bytes in memory. Inputs made here with reportlab
(Vietnamese text in DejaVu Sans): a 2-page and a 50-page document and a 2-page attachment. Keys come from
the demo PKI (`signatures.pki`), held by `signatures.keys.StoredKeyHolder` and decrypted once like in a
worker. Cases:

- leader: `sign_personal`, blue signature PNG + the two empty number/date fields (PAdES B-B);
- fill+seal: `fill_and_seal` on the leader-signed file: Vietnamese number and date + red seal PNG;
- attachment: `sign_attachment`, the 10 pt serif text stamp at the top right;
- the leader signature with an in-process RFC 3161 timestamp (B-T) and with embedded CRLs (B-LT);
- what the service makes with the demo PKI and no TSA: B-B with the chain and CRLs in the DSS, also with
  16 unrelated CAs (each with a CRL) in the trust store, as a province's trust store would have;
- verification: pyHanko `validate_pdf_signature` of each signature of the sealed file, offline, with the diff
  analysis on (rate per signature and per file).

`--profile` prints where the time of one engine leader signature goes (cProfile, grouped by library).

Part 2, the service path: what a `signing` worker does per request, on PostgreSQL. The database
`eoffice_bench_signing` (or SIGNING_BENCH_DATABASE_URL, whose name must contain "bench") is dropped,
created and migrated on every run, so the trust store holds exactly one demo PKI; media go to
var/bench-signing-media. A small agency gets the demo PKI (`demo.pki.install`, CRLs included) and
drafts of a 2-page and a 50-page Decree 30 document (`sample_documents.build_decree30_pdf`) made ready to
sign through `workflows.drafting_services` (create, submit, review, format check). The requests are made by
the services (`request_personal_signature`, then `request_seal`, which registers and numbers the document),
each in its own transaction; Celery has the in-memory broker and no eager tasks, so a commit only publishes a
message. Then `signing.run_signing_request(id)` is timed per request, with the time of each of its steps
(take, read + hash check, layout finding, form check, CRLs, engine, store) and the SQL inside them, and
`verifying.verify_stored_file(sha256)` per issued file. Then the same task with online revocation checking on
(`--part revocation` alone): two-signature files from a local CA whose certificates declare an OCSP responder
and a CRL (certomancer's Animator on 127.0.0.1, in a forked process), against stock pyHanko
`validate_pdf_signature` with `ValidationContext(allow_fetching=True)` on the same file, and the ratio. A cProfile run of 2-page leader and seal requests
groups the time by library.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import shutil
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# Before anything loads Django settings: our own database and media, and Celery with an in-memory broker and
# no eager tasks, so creating a request only publishes a message and the bench runs the task body itself.
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/eoffice_bench_signing"
os.environ["DATABASE_URL"] = os.environ.get("SIGNING_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
BENCH_MEDIA = ROOT / "var" / "bench-signing-media"
os.environ["MEDIA_ROOT"] = str(BENCH_MEDIA)
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eoffice.settings")

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from pyhanko.sign.validation import validate_pdf_signature  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.lib.utils import simpleSplit  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from signatures import engine  # noqa: E402
from signatures.geometry import Box  # noqa: E402
from signatures.keys import StoredKeyHolder, encrypt_key_for  # noqa: E402
from signatures.pki import Identity, build_demo_pki  # noqa: E402

FONT = ROOT / "documents" / "fonts" / "DejaVuSans.ttf"
PAGE_WIDTH, PAGE_HEIGHT = A4

# Where Decree 30 puts things on the first and last page of our generated documents.
NUMBER_BOX = Box(0, 30 * mm, PAGE_HEIGHT - 45 * mm, 95 * mm, PAGE_HEIGHT - 38 * mm)
DATE_BOX = Box(0, 97 * mm, PAGE_HEIGHT - 45 * mm, PAGE_WIDTH - 15 * mm, PAGE_HEIGHT - 38 * mm)
LEADER_BOX = Box(-1, 125 * mm, 118 * mm, 165 * mm, 143 * mm)  # between the title and the name
SEAL_BOX = Box(-1, 112 * mm, 112 * mm, 144 * mm, 144 * mm)  # over the left third of the leader's image

BODY = (
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015; Nghị định số 30/2020/NĐ-CP "
    "ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư. Theo đề nghị của Chánh Văn phòng Ủy ban "
    "nhân dân tỉnh, quyết định ban hành Quy chế quản lý văn bản điện tử, chữ ký số và lưu trữ hồ sơ."
)


def make_document(pages: int) -> bytes:
    """An A4 Decree-30-like document: header, blank number/date line, body text, signature space."""
    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONT)))
    body_lines = simpleSplit((BODY + " ") * 60, "DejaVuSans", 11, PAGE_WIDTH - 45 * mm)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    line = 0
    for page in range(pages):
        top = PAGE_HEIGHT - 20 * mm
        if page == 0:
            canvas.setFont("DejaVuSans", 11)
            canvas.drawCentredString(62 * mm, top - 8 * mm, "ỦY BAN NHÂN DÂN")
            canvas.drawCentredString(62 * mm, top - 13 * mm, "TỈNH HÒA BÌNH")
            canvas.drawCentredString(140 * mm, top - 8 * mm, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
            canvas.drawCentredString(140 * mm, top - 13 * mm, "Độc lập - Tự do - Hạnh phúc")
            canvas.drawCentredString(PAGE_WIDTH / 2, top - 55 * mm, "QUYẾT ĐỊNH")
            top -= 65 * mm
        bottom = 160 * mm if page == pages - 1 else 25 * mm
        text = canvas.beginText(30 * mm, top)
        text.setFont("DejaVuSans", 11)
        while text.getY() > bottom:
            text.textLine(body_lines[line % len(body_lines)])
            line += 1
        canvas.drawText(text)
        if page == pages - 1:
            canvas.setFont("DejaVuSans", 12)
            canvas.drawCentredString(145 * mm, 152 * mm, "TM. ỦY BAN NHÂN DÂN")
            canvas.drawCentredString(145 * mm, 147 * mm, "CHỦ TỊCH")
            canvas.drawCentredString(145 * mm, 112 * mm, "Nguyễn Văn Ấn")
        canvas.setFont("DejaVuSans", 10)
        canvas.drawCentredString(PAGE_WIDTH / 2, 10 * mm, str(page + 1))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def make_png(rgb: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    """A transparent PNG with a coloured drawing, standing in for a scanned signature or seal."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.ellipse((8, 8, width - 8, height - 8), outline=(*rgb, 255), width=max(4, width // 40))
    draw.line((width * 0.2, height * 0.6, width * 0.8, height * 0.4), fill=(*rgb, 230), width=6)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def stored_holder(identity: Identity) -> StoredKeyHolder:
    kek = os.urandom(32)
    holder = StoredKeyHolder(
        encrypt_key_for(identity.certificate, identity.private_key, kek),
        kek,
        identity.certificate,
        identity.chain,
    )
    holder.sign(b"warm-up", "sha256")  # decrypt once, as a long-lived worker would
    return holder


def rate(operation: Callable[[], object], seconds: float) -> tuple[float, float]:
    """Operations per second: median of five rounds, and the spread (max-min) between rounds."""
    operation()  # warm caches (fonts, images, certificates) like a running worker
    rounds = []
    for _round in range(5):
        count, start = 0, time.perf_counter()
        while True:
            operation()
            count += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds / 5:
                break
        rounds.append(count / elapsed)
    return statistics.median(rounds), max(rounds) - min(rounds)


UNRELATED_CAS = 16


def stock_pyhanko_signer(identity: Identity):
    """What a developer without this project would write: pyHanko's own `PdfSigner.sign_pdf` with a
    `SimpleSigner` (key loaded once, as in a long-lived worker) and a text stamp in a new field."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import TextStampStyle
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    certificate = asn1_x509.Certificate.load(identity.certificate.public_bytes(serialization.Encoding.DER))
    key = asn1_keys.PrivateKeyInfo.load(identity.private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    chain = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in identity.chain]
    signer = signers.SimpleSigner(signing_cert=certificate, signing_key=key,
                                  cert_registry=SimpleCertificateStore.from_certs(chain))
    style = TextStampStyle(stamp_text="Signed by: %(signer)s\nTime: %(ts)s")

    def sign(pdf: bytes) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        pdf_signer = signers.PdfSigner(
            signers.PdfSignatureMetadata(field_name="Signature1"), signer=signer, stamp_style=style,
            new_field_spec=fields.SigFieldSpec("Signature1", on_page=-1, box=LEADER_BOX.rect),
        )
        return pdf_signer.sign_pdf(writer).getvalue()

    return sign


def unrelated_ca(index: int) -> tuple[x509.Certificate, x509.CertificateRevocationList]:
    """A self-signed CA of another name with a 50-entry CRL: the other CAs of a province's trust store."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"Other CA {index + 1}"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"Other certification authority {index + 1}"),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(index + 1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(name)
        .last_update(now - timedelta(hours=1))
        .next_update(now + timedelta(days=7))
    )
    for serial in range(1000, 1050):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now - timedelta(days=2)).build()
        )
    return certificate, builder.sign(key, hashes.SHA256())


STAGES = [
    ("opening the file (xref, trailer)", ("pyhanko/pdf_utils/incremental_writer.py", "__init__")),
    ("reading PDF objects (pure-Python parser)", ("pyhanko/pdf_utils/reader.py", "_read_object")),
    ("number/date fields + signature field", ("signatures/engine.py", "_add_text_fields")),
    ("signature appearance (image XObject, form XObject)", ("pyhanko/sign/signers/cms_embedder.py", "apply")),
    ("writing the incremental update (serialising objects)", ("pyhanko/pdf_utils/writer.py", "_write")),
    ("CMS: attributes, SignerInfo, certificates + raw signature", ("pyhanko/sign/signers/pdf_cms.py", "async_sign")),
    ("  of which the private-key operation (StoredKeyHolder.sign)", ("signatures/keys.py", "sign")),
    ("serialising the CMS into /Contents (hex)", ("pyhanko/sign/signers/pdf_byterange.py", "fill_with_cms")),
]


def profile(operation: Callable[[], object], repeat: int = 200) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        operation()
    profiler.disable()
    stats = pstats.Stats(profiler)
    by_library: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        total += tottime
        for library in ("asn1crypto", "pyhanko_certvalidator", "pyhanko", "cryptography", "PIL", "fontTools"):
            if f"/{library}/" in filename:
                by_library[library] += tottime
                break
        else:
            by_library["signatures" if "/signatures/" in filename else "other (stdlib, asyncio, builtins)"] += tottime
    print(f"\nWhere one leader signature's time goes (own time by library, {repeat} signatures under cProfile):")
    for library, seconds in sorted(by_library.items(), key=lambda item: -item[1]):
        print(f"  {library:36s} {100 * seconds / total:5.1f} %")
    cumulative: dict[tuple[str, str], float] = defaultdict(float)
    for (filename, _line, name), (_cc, _nc, _tt, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        cumulative[(filename.rsplit("/site-packages/", 1)[-1].rsplit("/main/", 1)[-1], name)] += cumtime
    whole = cumulative[("signatures/engine.py", "sign_personal")]
    print("\nBy stage (cumulative, overlapping where nested):")
    for label, key in STAGES:
        print(f"  {label:62s} {100 * cumulative.get(key, 0.0) / whole:5.1f} %")
    print("\nTop functions by cumulative time:")
    stats.sort_stats("cumulative").print_stats(25)


def engine_part(args: argparse.Namespace) -> None:
    """Part 1: `signatures.engine` called directly, inputs in memory."""
    print("=== Part 1: the signing engine alone (signatures.engine) ===\n")
    started = time.perf_counter()
    pki = build_demo_pki(seals={"ubnd-hb": "Ủy ban nhân dân tỉnh Hòa Bình"}, people={"an.nv": "Nguyễn Văn Ấn"})
    leader = stored_holder(pki.people["an.nv"])
    seal = stored_holder(pki.seals["ubnd-hb"])
    documents = {pages: make_document(pages) for pages in (2, 50)}
    attachment = make_document(2)
    signature_png = make_png((20, 40, 200), (480, 240))
    seal_png = make_png((220, 20, 20), (400, 400))
    timestamper = engine.make_timestamper(pki.tsa.certificate, pki.tsa.private_key, pki.tsa.chain)
    validation = engine.ValidationMaterial(
        trust_roots=pki.trust_roots,
        intermediates=[pki.issuing_ca.certificate],
        crls=[pki.crl(), pki.crl(issuer="root")],
        revocation_mode="require",
    )
    # A province's trust store holds more than one CA: the service passes every trusted CRL to the signer.
    others = [unrelated_ca(index) for index in range(UNRELATED_CAS)]
    crowded = engine.ValidationMaterial(
        trust_roots=[*pki.trust_roots, *(certificate for certificate, _crl in others)],
        intermediates=[pki.issuing_ca.certificate],
        crls=[pki.crl(), pki.crl(issuer="root"), *(crl for _certificate, crl in others)],
        revocation_mode="require",
    )
    print(
        f"Setup {time.perf_counter() - started:.1f} s; inputs: "
        + ", ".join(f"{pages} pages {len(data) // 1024} KB" for pages, data in documents.items())
        + f"; Python {sys.version.split()[0]}, 1 process; load average "
        + "{:.2f} {:.2f} {:.2f}\n".format(*os.getloadavg())
    )

    def leader_sign(pdf: bytes, **extra: object) -> bytes:
        return engine.sign_personal(
            pdf,
            leader,
            image_png=signature_png,
            box=LEADER_BOX,
            number_box=NUMBER_BOX,
            date_box=DATE_BOX,
            signer_name="Nguyễn Văn Ấn",
            reason="Ký ban hành",
            location="Hòa Bình",
            **extra,
        )

    def fill_and_seal(pdf: bytes, **extra: object) -> bytes:
        return engine.fill_and_seal(
            pdf,
            seal,
            number_notation="Số: 15/QĐ-UBND",
            date_text="Hòa Bình, ngày 23 tháng 11 năm 2026",
            seal_png=seal_png,
            box=SEAL_BOX,
            agency_name="Ủy ban nhân dân tỉnh Hòa Bình",
            **extra,
        )

    signed = {pages: leader_sign(pdf) for pages, pdf in documents.items()}
    sealed = {pages: fill_and_seal(pdf) for pages, pdf in signed.items()}
    signing_time = datetime(2026, 11, 23, 7, 5, 9, tzinfo=UTC)

    cases: list[tuple[str, Callable[[], object]]] = []
    for pages, pdf in documents.items():
        cases.append((f"leader signature, image, {pages} pages (B-B)", lambda pdf=pdf: leader_sign(pdf)))
    for pages, pdf in signed.items():
        cases.append((f"fill number/date + seal, {pages} pages (B-B)", lambda pdf=pdf: fill_and_seal(pdf)))
    cases.append(
        (
            "attachment stamp, 2 pages (B-B)",
            lambda: engine.sign_attachment(attachment, seal, number_notation="15/QĐ-UBND", signing_time=signing_time),
        )
    )
    cases.append(
        ("leader signature, 2 pages, B-T (in-process TSA)", lambda: leader_sign(documents[2], timestamper=timestamper))
    )
    cases.append(
        (
            "leader signature, 2 pages, B-LT (TSA + CRLs in DSS)",
            lambda: leader_sign(documents[2], timestamper=timestamper, validation=validation),
        )
    )
    # What the service makes with the demo PKI installed and no TSA configured: chain + CRLs in the DSS.
    for pages, pdf in documents.items():
        cases.append(
            (
                f"leader, {pages} pages, CRLs in DSS, no TSA (= service)",
                lambda pdf=pdf: leader_sign(pdf, validation=validation),
            )
        )
    for pages, pdf in signed.items():
        cases.append(
            (
                f"fill + seal, {pages} pages, CRLs in DSS, no TSA (= service)",
                lambda pdf=pdf: fill_and_seal(pdf, validation=validation),
            )
        )
    cases.append(
        (
            f"leader, 2 pages, CRLs in DSS, +{UNRELATED_CAS} other CAs trusted",
            lambda: leader_sign(documents[2], validation=crowded),
        )
    )

    print(f"{'signing (signatures/s per core)':58s} {'rate':>8s} {'spread':>8s} {'ms each':>8s}")
    for label, operation in cases:
        per_second, spread = rate(operation, args.seconds)
        print(f"{label:58s} {per_second:8.1f} {spread:8.1f} {1000 / per_second:8.1f}")

    context_material = engine.ValidationMaterial(trust_roots=pki.trust_roots)
    print(f"\n{'verification (pyHanko, offline, diff analysis on)':58s} {'rate':>8s} {'spread':>8s} {'ms each':>8s}")
    for pages, data in sealed.items():

        def verify_file(data: bytes = data) -> None:
            reader = PdfFileReader(io.BytesIO(data))
            for signature in reader.embedded_signatures:
                status = validate_pdf_signature(signature, context_material.validation_context())
                assert status.bottom_line, status

        per_file, spread = rate(verify_file, args.seconds)
        count = len(PdfFileReader(io.BytesIO(data)).embedded_signatures)
        print(
            f"{f'sealed file, {pages} pages, per signature ({count} per file)':58s} {per_file * count:8.1f} {spread * count:8.1f} {1000 / (per_file * count):8.1f}"
        )
        print(f"{f'sealed file, {pages} pages, per file':58s} {per_file:8.1f} {spread:8.1f} {1000 / per_file:8.1f}")

    if args.profile:
        profile(lambda: leader_sign(documents[2]))


# --- Part 2: through the service code, as a `signing` worker runs it ---------------------------------

PASSWORD = "bench-signing-pass"
SERVICE_PAGES = (2, 50)


class QueryClock:
    """Counts the SQL statements and the time spent in them (Django's execute_wrapper: round trip included)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):  # Django execute_wrapper signature
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.seconds += time.perf_counter() - start


class StageClock:
    """Times the steps of `run_signing_request` without a profiler, by wrapping the module-level functions it
    looks up at call time (the engine calls included); each step also gets the SQL time spent inside it."""

    STEPS = [
        ("take", "signing", "_take"),
        ("read+hash", "signing", "_read"),
        ("layout", "signing", "_layout"),  # before the placement was stored ahead of signing
        ("layout", "signing", "placement"),
        ("form", "signing", "_has_number_field"),
        ("form", "signing", "_signed_form"),  # the proposed one-read replacement (form + seal box), if present
        ("CRLs", "signing", "validation_material"),
        ("engine", "engine", "sign_personal"),
        ("engine", "engine", "fill_and_seal"),
        ("store", "signing", "_store"),
    ]

    def __init__(self, queries: QueryClock) -> None:
        self.queries = queries
        self.seconds: dict[str, float] = defaultdict(float)
        self.db_seconds: dict[str, float] = defaultdict(float)
        self._originals: list[tuple[object, str, Callable]] = []

    def _wrap(self, label: str, function: Callable) -> Callable:
        def timed(*args, **kwargs):
            start, db_start = time.perf_counter(), self.queries.seconds
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.db_seconds[label] += self.queries.seconds - db_start

        return timed

    def __enter__(self) -> StageClock:
        from signatures import signing

        modules = {"signing": signing, "engine": engine}
        for label, module_name, name in self.STEPS:
            module = modules[module_name]
            original = getattr(module, name, None)
            if original is None:  # a step this version of signing.py does not have
                continue
            self._originals.append((module, name, original))
            setattr(module, name, self._wrap(label, original))
        return self

    def __exit__(self, *exc_info: object) -> None:
        for module, name, original in reversed(self._originals):
            setattr(module, name, original)
        self._originals.clear()


class Timed:
    """Milliseconds per call of a task body, with the SQL statements and DB time of the whole series."""

    def __init__(self, milliseconds: list[float], clock: QueryClock, stages: StageClock | None = None) -> None:
        self.milliseconds = milliseconds
        self.queries = clock.count / len(milliseconds)
        self.db_ms = 1000 * clock.seconds / len(milliseconds)
        count = len(milliseconds)
        self.stage_ms = {k: 1000 * v / count for k, v in stages.seconds.items()} if stages else {}
        self.stage_db_ms = {k: 1000 * v / count for k, v in stages.db_seconds.items()} if stages else {}
        self.cpu_ms = 0.0  # this process's CPU time per call (PostgreSQL's own work runs in its server process)

    @property
    def per_second(self) -> float:
        return 1000 * len(self.milliseconds) / sum(self.milliseconds)

    @property
    def median(self) -> float:
        return statistics.median(self.milliseconds)

    @property
    def p95(self) -> float:
        ordered = sorted(self.milliseconds)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def setup_django() -> str:
    """(Re)create and migrate the bench database; returns the PostgreSQL server version.

    Every run starts empty: the trust store then holds exactly one demo PKI. (Runs on top of each other would
    add a root and an issuing CA with their CRLs each time, and every trusted CRL is examined for every
    certificate of the path when the service embeds validation data, so signing would slow down run by run.)
    """
    import dj_database_url
    import django
    import registry  # the bench database helper (keeps our DATABASE_URL: it only sets defaults)

    url = os.environ["DATABASE_URL"]
    if "bench" not in dj_database_url.parse(url)["NAME"]:
        sys.exit(f"Refusing to drop {url!r}: the signing bench only recreates a database named *bench*.")
    registry.ensure_database(url, drop=True)
    shutil.rmtree(BENCH_MEDIA, ignore_errors=True)  # the files of the previous run's blobs
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    call_command("migrate", verbosity=0)
    # The services check the signer's password on every request; a fast hasher keeps the (untimed) setup short.
    # The bench's signers have no second factor: the one-time code is not what is measured (OTP_REQUIRED off).
    override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"], OTP_REQUIRED=False).enable()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def build_office(other_cas: int = 0):
    """An agency with a drafter, a unit leader, a clerk and the leader who signs, the demo PKI installed (trust
    store, CRLs, seal and personal certificates with images) and the default chain; `other_cas` unrelated CAs
    with their CRLs are added to the trust store through the services, as a province's would hold."""
    from cryptography.hazmat.primitives import serialization
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from accounts import roles
    from accounts.models import Agency, AgencyKind, Unit
    from demo.pki import install
    from documents.models import DocumentType
    from signatures import services
    from workflows import drafting_services

    user_model = get_user_model()
    tag = f"{datetime.now():%Y%m%d%H%M%S}-{os.getpid()}"
    admin = user_model.objects.create_superuser(f"bench-admin-{tag}", password=PASSWORD)
    agency = Agency.objects.create(
        name="Sở Nội vụ tỉnh Hòa Bình",
        abbreviation="SNV",
        kind=AgencyKind.PROVINCE_BODY,
        identifier=f"BENCH-{tag}",
        place_name="Hòa Bình",
    )
    unit = Unit.objects.create(agency=agency, name="Phòng Công chức, viên chức", abbreviation="CCVC")

    def person(username: str, full_name: str, role: str, position: str, *, in_unit: bool = False):
        user = user_model.objects.create_user(
            f"{username}-{tag}",
            password=PASSWORD,
            full_name=full_name,
            agency=agency,
            unit=unit if in_unit else None,
            position=position,
        )
        user.groups.add(Group.objects.get(name=role))
        return user_model.objects.get(pk=user.pk)

    office = argparse.Namespace(
        agency=agency,
        leader=person("giamdoc", "Nguyễn Văn Ấn", roles.AGENCY_LEADER, "Giám đốc"),
        clerk=person("vanthu", "Trần Thị Bình", roles.CLERK, "Văn thư"),
        unit_leader=person("truongphong", "Lê Văn Cường", roles.UNIT_LEADER, "Trưởng phòng", in_unit=True),
        drafter=person("chuyenvien", "Phạm Thị Dung", roles.STAFF, "Chuyên viên", in_unit=True),
        document_type_id=DocumentType.objects.get(code="quyet-dinh").pk,
    )
    office.admin = admin
    office.pki = install(admin, [agency]).pki
    for index in range(other_cas):
        certificate, crl = unrelated_ca(index)
        services.add_trust_anchors(admin, certificate.public_bytes(serialization.Encoding.PEM))
        services.set_revocation_list(admin, crl.public_bytes(serialization.Encoding.DER))
    drafting_services.ensure_default_chain(agency)
    return office


def decree30(office, pages: int) -> bytes:
    from signatures.sample_documents import build_decree30_pdf

    return build_decree30_pdf(
        agency_parent="ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH",
        agency_name="SỞ NỘI VỤ",
        notation_suffix="QĐ-SNV",
        title_kind="QUYẾT ĐỊNH",
        subject="Về việc ban hành Quy chế quản lý văn bản điện tử và chữ ký số",
        body_paragraphs=[
            "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư;",
            "Theo đề nghị của Trưởng phòng Công chức, viên chức.",
        ],
        place="Hòa Bình",
        position_title="GIÁM ĐỐC",
        signer_name=office.leader.display_name,
        recipients=["Như Điều 3;", "Lưu: VT, CCVC."],
        pages=pages,
    )


def ready_drafts(office, pdf: bytes, count: int, label: str) -> list:
    """Drafts at the signing step, through the drafting services (create, submit, review, format check)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from workflows import drafting_services
    from workflows.drafting import DraftState

    drafts = []
    for index in range(count):
        data = drafting_services.DraftInput(
            document_type_id=office.document_type_id,
            subject=f"Về việc ban hành Quy chế ({label}, {index + 1})",
            proposed_signer_id=office.leader.pk,
            recipients=[{"name": "Như Điều 3"}],
        )
        draft = drafting_services.create_draft(
            office.drafter, data, SimpleUploadedFile("quyet-dinh.pdf", pdf, "application/pdf")
        )
        draft = drafting_services.submit(office.drafter, draft)
        draft = drafting_services.approve_step(office.unit_leader, draft)
        draft = drafting_services.approve_step(office.clerk, draft)
        assert draft.state == DraftState.READY_TO_SIGN, draft.state
        drafts.append(draft)
    # What the `default` worker does when a draft reaches the signing step (signatures.tasks.place): the
    # signature's placement is found then, once per content and signer, not in the signing task.
    from signatures import signing

    blob = drafts[0].versions.get(number=1).blob_id
    signing.prepare_placement(blob, office.leader.display_name)
    return drafts


def create_requests(actor, drafts: list, kind: str) -> list[int]:
    """One request per draft, each in its own transaction; its on-commit publish goes to the memory broker."""
    from django.db import transaction

    from workflows import draft_signing

    ids = []
    for draft in drafts:
        with transaction.atomic():
            if kind == "leader":
                request = draft_signing.request_personal_signature(actor, draft, password=PASSWORD)
            else:
                request = draft_signing.request_seal(actor, draft, password=PASSWORD)
        ids.append(request.pk)
    return ids


def run_requests(request_ids: list[int], *, by_step: bool = False) -> Timed:
    """Run the `signing` task body for each request, as a worker would, one after the other."""
    import contextlib

    from django.db import connection

    from signatures.models import SigningRequest
    from signatures.signing import run_signing_request

    clock = QueryClock()
    stages = StageClock(clock) if by_step else None
    milliseconds = []
    cpu_start = time.process_time()
    with connection.execute_wrapper(clock), stages or contextlib.nullcontext():
        for request_id in request_ids:
            start = time.perf_counter()
            outcome = run_signing_request(request_id)
            milliseconds.append(1000 * (time.perf_counter() - start))
            if outcome != "done":
                error = SigningRequest.objects.get(pk=request_id).error
                sys.exit(f"Signing request {request_id} ended {outcome!r}: {error}")
    timed = Timed(milliseconds, clock, stages)
    timed.cpu_ms = 1000 * (time.process_time() - cpu_start) / len(request_ids)
    return timed


def run_verifications(sha256s: list[str]) -> tuple[Timed, Counter]:
    from django.db import connection

    from signatures.verifying import verify_stored_file

    clock = QueryClock()
    milliseconds, verdicts = [], Counter()
    with connection.execute_wrapper(clock):
        for sha256 in sha256s:
            start = time.perf_counter()
            verdicts[verify_stored_file(sha256)] += 1
            milliseconds.append(1000 * (time.perf_counter() - start))
    return Timed(milliseconds, clock), verdicts


def result_sizes(request_ids: list[int]) -> float:
    from signatures.models import SigningRequest

    sizes = SigningRequest.objects.filter(pk__in=request_ids).values_list("result_blob__size", flat=True)
    return statistics.mean(sizes) / 1024


def _serve_local_ca(key_dir: Path, connection) -> None:
    """Child process: serve the local CA (tests/signatures/revocation_pki.py) and answer "count" / "stop"."""
    from tests.signatures.revocation_pki import local_ca

    with local_ca(key_dir) as ca:
        pem = serialization_pem()
        connection.send((ca.base_url, {label: c.public_bytes(pem.Encoding.DER) for label, c in ca.certificates.items()},
                         {label: k.private_bytes(pem.Encoding.PEM, pem.PrivateFormat.PKCS8, pem.NoEncryption())
                          for label, k in ca.keys.items()}))
        while (command := connection.recv()) != "stop":
            connection.send(ca.request_count if command == "count" else None)
    connection.close()


def serialization_pem():
    from cryptography.hazmat.primitives import serialization

    return serialization


class ForkedCA:
    """The local OCSP responder and CRL server in its own process (forked), so that the CPU it spends signing
    OCSP answers is not charged to the verifications measured here."""

    def __init__(self, key_dir: Path) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._connection, child = context.Pipe()
        self.process = context.Process(target=self._child, args=(key_dir, child), daemon=True)
        self.process.start()
        self.base_url, certificates, keys = self._connection.recv()
        pem = serialization_pem()
        self.certificates = {label: x509.load_der_x509_certificate(der) for label, der in certificates.items()}
        self.keys = {label: pem.load_pem_private_key(data, None) for label, data in keys.items()}

    @staticmethod
    def _child(key_dir: Path, connection) -> None:
        try:
            _serve_local_ca(key_dir, connection)
        finally:
            os._exit(0)  # never run the parent's cleanup (its database connection) in the child

    def request_count(self) -> int:
        self._connection.send("count")
        return self._connection.recv()

    def stop(self) -> None:
        self._connection.send("stop")
        self.process.join(5)


def revocation_verification(office, args: argparse.Namespace) -> None:
    """verify_stored_file with online revocation checking on, against a local CA whose certificates declare an
    OCSP responder and a CRL (certomancer's Animator on 127.0.0.1, in a forked process), next to stock pyHanko
    `validate_pdf_signature` with `ValidationContext(allow_fetching=True)` on the same file.

    The files: 2-page documents signed by the CA's "alice" (leader, with image) and sealed by its "seal"
    (number/date + seal), signed with checking off, so they carry no revocation data (like most received
    files) and each verification has to ask the CA (or our cache) about both signatures."""
    import tempfile

    from django.test.utils import override_settings

    from documents.storage import store_blob
    from documents.uploads import PDF, checked_bytes
    from signatures import services
    from signatures.models import FileVerification

    ca = ForkedCA(Path(tempfile.mkdtemp(prefix="bench-local-ca-")))
    try:
        services.add_trust_anchors(office.admin, ca.certificates["root"].public_bytes(serialization_pem().Encoding.PEM))
        leader = stored_holder(Identity(ca.certificates["alice"], ca.keys["alice"], [ca.certificates["root"]]))
        seal = stored_holder(Identity(ca.certificates["seal"], ca.keys["seal"], [ca.certificates["root"]]))
        document, signature_png, seal_png = make_document(2), make_png((20, 40, 200), (480, 240)), make_png(
            (220, 20, 20), (400, 400))
        files = []
        with override_settings(SIGNATURE_REVOCATION_CHECKING=False):
            for index in range(args.warmup + args.requests):
                signed = engine.sign_personal(document, leader, image_png=signature_png, box=LEADER_BOX,
                                              number_box=NUMBER_BOX, date_box=DATE_BOX, signer_name="Alice")
                files.append(engine.fill_and_seal(
                    signed, seal, number_notation=f"Số: {index + 1}/QĐ-SNV", date_text="Hòa Bình, ngày 7/12/2026",
                    seal_png=seal_png, box=SEAL_BOX, agency_name="Local agency seal"))
        sha256s = []
        for index, data in enumerate(files):
            blob = store_blob(checked_bytes(data, f"revocation-{index}.pdf", PDF))
            FileVerification.objects.get_or_create(blob=blob)
            sha256s.append(blob.sha256)

        before = ca.request_count()
        with override_settings(SIGNATURE_REVOCATION_CHECKING=True):
            run_verifications(sha256s[: args.warmup])  # the first file asks the CA; the cache answers the rest
            timed, verdicts = run_verifications(sha256s[args.warmup :])
        ours_requests = ca.request_count() - before

        from asn1crypto import x509 as asn1_x509
        from pyhanko_certvalidator import ValidationContext

        root = asn1_x509.Certificate.load(ca.certificates["root"].public_bytes(serialization_pem().Encoding.DER))
        sample = files[-1]

        def stock_verify() -> None:
            for signature in PdfFileReader(io.BytesIO(sample)).embedded_signatures:
                context = ValidationContext(trust_roots=[root], allow_fetching=True)
                status = validate_pdf_signature(signature, context)
                assert status.bottom_line, status

        before = ca.request_count()
        stock_rate, spread = rate(stock_verify, args.seconds)
        stock_calls = ca.request_count() - before
    finally:
        ca.stop()
    print(
        f"\n{'with revocation checking on (local OCSP + CRL, 2 signatures)':58s} {'file/s':>6s} {'median':>7s} "
        f"{'p95':>7s}  requests to the CA"
    )
    print(
        f"{f'verify_stored_file, 2 pages ({len(sha256s) - args.warmup}), {dict(verdicts)}':58s} "
        f"{timed.per_second:6.1f} {timed.median:7.1f} {timed.p95:7.1f}  {ours_requests} for "
        f"{len(sha256s)} files (cache)"
    )
    print(
        f"{'stock pyHanko validate_pdf_signature, allow_fetching=True':58s} {stock_rate:6.1f} "
        f"{1000 / stock_rate:7.1f} {'':>7s}  {stock_calls / max(1, round(stock_rate * args.seconds)):.1f} per file "
        f"(spread {spread:.1f}/s)"
    )
    print(f"{'verify_stored_file with checking on / stock pyHanko online':58s} {timed.per_second / stock_rate:6.2f}x")


SERVICE_STAGES = [
    ("take the request (row lock, state, attempts)", ("signatures/signing.py", "_take")),
    ("read the source PDF from storage + SHA-256 check", ("signatures/signing.py", "_read")),
    ("layout finding (pypdf: parse, page text, boxes)", ("signatures/signing.py", "_layout")),
    ("number-field check (pypdf get_fields; seal only)", ("signatures/signing.py", "_has_number_field")),
    ("form read: field names + seal box (proposed; seal only)", ("signatures/signing.py", "_signed_form")),
    ("validation material (trust anchors + CRLs from the DB)", ("signatures/signing.py", "validation_material")),
    ("key holder (cached per process)", ("signatures/signing.py", "key_holder")),
    ("engine: sign_personal / fill_and_seal (pyHanko + crypto)", ("signatures/engine.py", "{engine}")),
    (
        "  of which the signer's chain + CRL check before signing (certvalidator)",
        ("pyhanko/sign/signers/pdf_signer.py", "perform_presign_validation"),
    ),
    ("  of which the private-key operation", ("signatures/keys.py", "sign")),
    ("store: version or document file, workflow, audit (DB + storage)", ("signatures/signing.py", "_store")),
    ("  of which writing the blob (hash, exists, save, row)", ("documents/storage.py", "store_blob")),
    ("  of which audit events (hash chain)", ("audit/services.py", "record_event")),
]

LIBRARIES = [
    ("DB: Django ORM, psycopg, waiting for PostgreSQL", ("/django/db/", "/psycopg", "psycopg", "select.", "poll")),
    ("pypdf (layout finding, number-field check)", ("/pypdf/",)),
    ("pyhanko-certvalidator (chain + CRLs, B-LT)", ("/pyhanko_certvalidator/",)),
    ("pyHanko (PDF parse/write, CMS assembly)", ("/pyhanko/",)),
    ("asn1crypto (CMS, certificates, CRLs)", ("/asn1crypto/",)),
    ("cryptography (RSA, certificate parsing)", ("/cryptography/", "cryptography")),
    ("SHA-256 (hashlib)", ("hashlib",)),
    ("zlib (stream compression)", ("zlib",)),
    ("file I/O (storage)", ("_io.", "io.open", "posix.", "/django/core/files/")),
    ("fontTools / PIL", ("/fontTools/", "/PIL/")),
    ("Django (other: auth, models, translation)", ("/django/",)),
    ("project code (signatures, documents, workflows, audit)", ("/main/",)),
]


OTHER = "other (stdlib and builtins called from the stdlib, asyncio, the bench)"


def module_path(filename: str) -> str:
    """ "pyhanko/sign/signers/pdf_signer.py" for a library, "signatures/signing.py" for the project's code."""
    inside = filename.rsplit("/site-packages/", 1)
    return inside[1] if len(inside) == 2 else "/".join(Path(filename).parts[-2:])


def library_of(filename: str, name: str) -> str:
    text = filename if filename != "~" else name
    for label, markers in LIBRARIES:
        if any(marker in text for marker in markers):
            return label
    return OTHER


def profile_requests(request_ids: list[int], engine_function: str, label: str) -> list[str]:
    """cProfile over a series of task bodies: time per stage of run_signing_request and own time by library
    (returned as report lines; the profiler inflates pure-Python code, so read shares, not milliseconds)."""
    profiler = cProfile.Profile()
    profiler.enable()
    timed = run_requests(request_ids)
    profiler.disable()
    stats = pstats.Stats(profiler)
    count = len(request_ids)
    cumulative: dict[tuple[str, str], float] = defaultdict(float)
    by_library: dict[str, float] = defaultdict(float)
    total_own = 0.0
    for (filename, _line, name), (_cc, _nc, tottime, cumtime, callers) in stats.stats.items():  # type: ignore[attr-defined]
        cumulative[(module_path(filename), name)] += cumtime
        total_own += tottime
        library = library_of(filename, name)
        if library != OTHER or not callers:
            by_library[library] += tottime
            continue
        # A builtin or stdlib function (bytes.decode, re, base64...): charge it to the libraries that called it.
        calls = sum(caller_stats[3] for caller_stats in callers.values()) or 1.0
        for (caller_file, _caller_line, caller_name), caller_stats in callers.items():
            by_library[library_of(caller_file, caller_name)] += tottime * caller_stats[3] / calls
    whole = cumulative[("signatures/signing.py", "run_signing_request")]
    lines = [
        f"\nProfile: {label}, {count} requests under cProfile ({timed.median:.1f} ms median with the profiler on)",
        f"  {'step of run_signing_request (cumulative)':72s} {'ms/req':>7s} {'share':>6s}",
    ]
    for stage, (path, function) in SERVICE_STAGES:
        seconds = cumulative.get((path, function.format(engine=engine_function)), 0.0)
        if seconds:
            lines.append(f"  {stage:72s} {1000 * seconds / count:7.2f} {100 * seconds / whole:5.1f} %")
    lines.append(f"  {'own time by library':72s} {'ms/req':>7s} {'share':>6s}")
    for library, seconds in sorted(by_library.items(), key=lambda item: -item[1]):
        if 100 * seconds / total_own >= 0.5:
            lines.append(f"  {library:72s} {1000 * seconds / count:7.2f} {100 * seconds / total_own:5.1f} %")
    if os.environ.get("SIGNING_BENCH_VERBOSE"):
        stats.sort_stats("cumulative").print_stats(40)
    return lines


def service_part(args: argparse.Namespace) -> None:
    """Part 2: run_signing_request and verify_stored_file on PostgreSQL, per request."""
    print("\n=== Part 2: the service path (signing.run_signing_request, verifying.verify_stored_file) ===\n")
    started = time.perf_counter()
    server = setup_django()
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)  # "No hostname was supplied" (memory broker)
    from documents.models import DocumentFile
    from signatures import signing
    from signatures.models import SigningRequest

    office = build_office(args.other_cas)
    material = signing.validation_material()
    level = "B-B with the chain and CRLs in the DSS (no TSA configured)" if material is not None else "B-B"
    warmup, count, profiled = args.warmup, args.requests, args.profile_requests
    pdfs = {pages: decree30(office, pages) for pages in SERVICE_PAGES}
    drafts = {
        pages: ready_drafts(office, pdf, warmup + count + (profiled if pages == 2 else 0), f"{pages} trang")
        for pages, pdf in pdfs.items()
    }
    print(
        f"Setup {time.perf_counter() - started:.1f} s: database {os.environ['DATABASE_URL'].rsplit('/', 1)[-1]} "
        f"(PostgreSQL {server.split()[0]}), demo PKI installed"
        + (f" + {args.other_cas} other CAs with CRLs in the trust store, " if args.other_cas else ", ")
        + ", ".join(f"{len(d)} drafts of {pages} pages ({len(pdfs[pages]) // 1024} KB)" for pages, d in drafts.items())
        + f"; signatures made: PAdES {level}; Python {sys.version.split()[0]}, 1 process, {os.cpu_count()} CPUs, "
        + "load average {:.2f} {:.2f} {:.2f}\n".format(*os.getloadavg())
    )

    def split(ids: list[int]) -> tuple[list[int], list[int], list[int]]:
        return ids[:warmup], ids[warmup : warmup + count], ids[warmup + count :]

    header = (
        f"{'task body (per request, one process)':44s} {'sig/s':>6s} {'median':>7s} {'p95':>7s} "
        f"{'min':>6s} {'CPU ms':>6s} {'SQL':>4s} {'DB ms':>6s} {'KB':>5s}"
    )
    results: dict[tuple[str, int], Timed] = {}
    profiles: list[str] = []
    request_ids: dict[tuple[str, int], list[int]] = {}
    for kind, actor, engine_function in (
        ("leader", office.leader, "sign_personal"),
        ("seal", office.clerk, "fill_and_seal"),
    ):
        for pages in SERVICE_PAGES:
            request_ids[kind, pages] = create_requests(actor, drafts[pages], kind)
        print(header if kind == "leader" else "")
        for pages in SERVICE_PAGES:
            first, timed_ids, _rest = split(request_ids[kind, pages])
            run_requests(first)  # warm-up: fonts, images, the key holder cache, Django's caches
            timed = results[kind, pages] = run_requests(timed_ids, by_step=True)
            what = "leader signature + image" if kind == "leader" else "number/date + seal + image"
            print(
                f"{f'{what}, {pages} pages ({len(timed_ids)})':44s} {timed.per_second:6.1f} {timed.median:7.1f} "
                f"{timed.p95:7.1f} {min(timed.milliseconds):6.1f} {timed.cpu_ms:6.1f} {timed.queries:4.0f} "
                f"{timed.db_ms:6.1f} {result_sizes(timed_ids):5.0f}"
            )
        if profiled:  # after the timed runs (the seal requests need these drafts signed first)
            profiles += profile_requests(split(request_ids[kind, 2])[2], engine_function, f"{kind}, 2 pages")

    steps = ["take", "read+hash", "layout", "form", "CRLs", "engine", "store"]
    print("\nWhere the time of a request goes (no profiler; ms per request, SQL time inside each step in brackets):")
    print(f"  {'case':18s} {'total':>12s} " + " ".join(f"{step:>11s}" for step in [*steps, "rest"]))
    for (kind, pages), timed in results.items():
        total = statistics.mean(timed.milliseconds)
        rest = total - sum(timed.stage_ms.values())
        rest_db = timed.db_ms - sum(timed.stage_db_ms.values())
        cells = [(timed.stage_ms.get(step, 0.0), timed.stage_db_ms.get(step, 0.0)) for step in steps]
        cells += [(rest, rest_db)]
        print(
            f"  {f'{kind}, {pages} pages':18s} {f'{total:.1f} ({timed.db_ms:.1f})':>12s} "
            + " ".join(f"{f'{ms:.1f} ({db:.1f})':>11s}" for ms, db in cells)
        )
    print("  (rest: lazy foreign-key loads in _sign_main, the attachments query, key cache, images, task overhead)")

    print(
        f"\n{'verify_stored_file (issued file, 2 signatures)':44s} {'file/s':>6s} {'median':>7s} {'p95':>7s} "
        f"{'min':>6s} {'SQL':>4s} {'DB ms':>6s} {'sig/s':>6s}  verdicts"
    )
    for pages in SERVICE_PAGES:
        seal_ids = request_ids["seal", pages]
        sha256s = list(
            SigningRequest.objects.filter(pk__in=seal_ids[: warmup + count])
            .order_by("pk")
            .values_list("result_blob_id", flat=True)
        )
        assert DocumentFile.objects.filter(blob_id__in=sha256s, is_main=True).count() == len(sha256s)
        run_verifications(sha256s[:warmup])
        timed, verdicts = run_verifications(sha256s[warmup:])
        print(
            f"{f'sealed, {pages} pages ({len(sha256s) - warmup})':44s} {timed.per_second:6.1f} {timed.median:7.1f} "
            f"{timed.p95:7.1f} {min(timed.milliseconds):6.1f} {timed.queries:4.0f} {timed.db_ms:6.1f} "
            f"{2 * timed.per_second:6.1f}  {dict(verdicts)}"
        )
    # The alternative, measured in this run on the same machine: stock pyHanko on the same 2-page document,
    # in memory (no database, no storage), against the whole task body above.
    logging.getLogger("pyhanko.pdf_utils.layout").setLevel(logging.ERROR)  # the stock stamp's rounding notes
    stock = stock_pyhanko_signer(office.pki.people[office.leader.username])
    stock_rate, spread = rate(lambda: stock(pdfs[2]), 3.0)
    print(f"\n{'stock pyHanko sign_pdf + text stamp, 2 pages, in memory':58s} {stock_rate:6.1f}/s (spread {spread:.1f})")
    for kind in ("leader", "seal"):
        timed = results[kind, 2]
        print(f"{f'whole {kind} task, 2 pages / stock pyHanko':58s} {timed.per_second / stock_rate:6.2f}x")
    revocation_verification(office, args)
    print("\n".join(profiles))
    print(f"\nTotal {time.perf_counter() - started:.0f} s.")


def revocation_part(args: argparse.Namespace) -> None:
    """Only the verification with revocation checking on (its own fresh bench database)."""
    print("\n=== Verification with online revocation checking (verifying.verify_stored_file) ===")
    started = time.perf_counter()
    setup_django()
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    revocation_verification(build_office(0), args)
    print(f"\nTotal {time.perf_counter() - started:.0f} s.")


def main() -> None:
    parser = argparse.ArgumentParser(description="Signing and verification throughput per core.")
    parser.add_argument("--part", choices=("all", "engine", "service", "revocation"), default="all")
    parser.add_argument("--seconds", type=float, default=3.0, help="engine: measuring time per case (default 3)")
    parser.add_argument("--profile", action="store_true", help="engine: profile the 2-page leader signature")
    parser.add_argument("--requests", type=int, default=40, help="service: timed requests per case (default 40)")
    parser.add_argument("--warmup", type=int, default=3, help="service: untimed requests first (default 3)")
    parser.add_argument(
        "--profile-requests",
        type=int,
        default=20,
        help="service: 2-page requests run under cProfile, leader and seal (0: none; default 20)",
    )
    parser.add_argument(
        "--other-cas",
        type=int,
        default=0,
        help="service: unrelated CAs (each with a CRL) added to the trust store besides the demo PKI (default 0)",
    )
    args = parser.parse_args()
    if args.part in ("all", "engine"):
        engine_part(args)
    if args.part in ("all", "service"):
        service_part(args)
    if args.part == "revocation":
        revocation_part(args)


if __name__ == "__main__":
    main()
