"""Renders one page of a PDF in a child process (`python -m documents.pdf_render_worker`), so that a hostile
PDF that makes PDFium spin, eat memory or crash costs a killed child, never a web worker. No Django here: the
parent (documents/page_images.py) reads and checks the bytes, this only draws them.

Protocol: the PDF on stdin; argv = page (1-based, 0 = only count the pages), width in pixels, max pixels,
max pages. Stdout: one line of JSON ({"pages": n, "width": w, "height": h, "length": k}) then k bytes of WebP.
Exit code 2 with a one-line reason on stderr when the PDF cannot be drawn."""

from __future__ import annotations

import io
import json
import resource
import sys

MEMORY_LIMIT = 1536 * 1024 * 1024  # address space of the child: a bomb stops here, not at the host's RAM
CPU_SECONDS = 20
MAX_SIDE = 16000


def _limit() -> None:
    for limit, value in ((resource.RLIMIT_AS, MEMORY_LIMIT), (resource.RLIMIT_CPU, CPU_SECONDS)):
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):  # pragma: no cover - a platform without the limit still has the timeout
            pass


def render(data: bytes, page: int, width: int, max_pixels: int, max_pages: int) -> tuple[dict, bytes]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        pages = len(pdf)
        info = {"pages": pages}
        if page == 0:
            return info, b""
        if not 1 <= page <= min(pages, max_pages):
            raise ValueError(f"page {page} out of range")
        pdf_page = pdf[page - 1]
        page_width, page_height = pdf_page.get_size()
        if page_width <= 0 or page_height <= 0:
            raise ValueError("page without a size")
        scale = width / page_width
        if width * page_height * scale > max_pixels:  # a very tall page: narrower rather than huge
            scale = (max_pixels / (page_width * page_height)) ** 0.5
        scale = min(scale, MAX_SIDE / page_width, MAX_SIDE / page_height)  # WebP's limit for a sliver of a page
        image = pdf_page.render(scale=scale, may_draw_forms=True).to_pil().convert("RGB")
        out = io.BytesIO()
        image.save(out, format="WEBP", quality=82, method=4)
        info.update(width=image.width, height=image.height)
        return info, out.getvalue()
    finally:
        pdf.close()


def main() -> int:
    _limit()
    page, width, max_pixels, max_pages = (int(value) for value in sys.argv[1:5])
    data = sys.stdin.buffer.read()
    try:
        info, image = render(data, page, width, max_pixels, max_pages)
    except Exception as error:  # noqa: BLE001 - any failure of a hostile file is "cannot be drawn"
        sys.stderr.write(f"{type(error).__name__}: {error}"[:300])
        return 2
    info["length"] = len(image)
    sys.stdout.buffer.write(json.dumps(info).encode() + b"\n" + image)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
