"""Signing benchmark: signatures per second per core through `signatures.engine`, and verifications per second.

Run: `.venv/bin/python bench/signing.py [--seconds 3] [--profile]`

One process, so every rate is per core (two processes scale almost linearly, see stack-facts.md). The inputs
are made here with reportlab (Vietnamese text in DejaVu Sans): a 2-page and a 50-page document and a 2-page
attachment. Keys come from the demo PKI (`signatures.pki`) and are held by `signatures.keys.StoredKeyHolder`,
the holder the signing tasks use, decrypted once like in a worker. Cases:

- leader: `sign_personal`, blue signature PNG + the two empty number/date fields (PAdES B-B);
- fill+seal: `fill_and_seal` on the leader-signed file: Vietnamese number and date + red seal PNG;
- attachment: `sign_attachment`, the 10 pt serif text stamp at the top right;
- the same leader signature with an in-process RFC 3161 timestamp (B-T) and with embedded CRLs (B-LT);
- verification: pyHanko `validate_pdf_signature` of each signature of the sealed file, offline, with the diff
  analysis on (rate per signature and per file).

`--profile` prints where the time of one leader signature goes (cProfile, grouped by library).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def main() -> None:
    parser = argparse.ArgumentParser(description="Signing and verification throughput per core.")
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per case (default 3)")
    parser.add_argument("--profile", action="store_true", help="profile the 2-page leader signature")
    args = parser.parse_args()

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
    print(
        f"Setup {time.perf_counter() - started:.1f} s; inputs: "
        + ", ".join(f"{pages} pages {len(data) // 1024} KB" for pages, data in documents.items())
        + f"; Python {sys.version.split()[0]}, 1 process\n"
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

    def fill_and_seal(pdf: bytes) -> bytes:
        return engine.fill_and_seal(
            pdf,
            seal,
            number_notation="Số: 15/QĐ-UBND",
            date_text="Hòa Bình, ngày 23 tháng 11 năm 2026",
            seal_png=seal_png,
            box=SEAL_BOX,
            agency_name="Ủy ban nhân dân tỉnh Hòa Bình",
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


if __name__ == "__main__":
    main()
