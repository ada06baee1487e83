"""Regenerate the two stamp fonts shipped next to this script.

Run once with `.venv/bin/python signatures/fonts/build_fonts.py` and commit the .ttf files; the signing engine
only reads the results. Why we do not embed the system DejaVu fonts as they are:

- pyHanko 0.38 lays stamp text out as if a font had 1000 units per em; DejaVu has 2048, which doubles the
  letter spacing. Rescaling the outlines to 1000 units per em once fixes that for any caller.
- The full fonts are ~700 KB with thousands of glyphs; a subset with the Latin + Vietnamese repertoire and
  no hinting is ~10x smaller, so embedding it into every signed PDF costs little time and space.
- The output is byte-for-byte reproducible (no timestamps), so re-running the script changes nothing.

DejaVu Serif stands in for Times New Roman (what Decree 30 names for attachment stamps), which we may not
ship. The licence (LICENSE) lets us modify the fonts if the names do not contain "Bitstream" or "Vera";
we rename the families to "DejaVu Sans VN" / "DejaVu Serif VN" so they never clash with installed fonts.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem

HERE = Path(__file__).resolve().parent
SYSTEM_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
REPO_FONTS = HERE.parent.parent / "documents" / "fonts"

TARGET_UNITS_PER_EM = 1000


def _ranges(*spans: tuple[int, int]) -> list[int]:
    return [code for first, last in spans for code in range(first, last + 1)]


# Latin + Vietnamese: ASCII (digits, punctuation and every ISO 8601 character: 0-9 - : T + Z .), Latin-1,
# Latin Extended-A (Đ đ Ĩ ĩ Ũ ũ), the horned letters Ơ ơ Ư ư, the combining tone marks (for text that arrives
# decomposed), all precomposed Vietnamese letters (Latin Extended Additional U+1EA0-U+1EF9), typographic
# punctuation, the đồng sign (DejaVu Serif has none), numero sign, and the dotted circle for a lone combining mark.
CODEPOINTS: list[int] = _ranges(
    (0x0020, 0x007E),
    (0x00A0, 0x017F),
    (0x01A0, 0x01A1),
    (0x01AF, 0x01B0),
    (0x0300, 0x0303),
    (0x0306, 0x0306),
    (0x0309, 0x0309),
    (0x031B, 0x031B),
    (0x0323, 0x0323),
    (0x1EA0, 0x1EF9),
    (0x2010, 0x2027),
    (0x2030, 0x203A),
    (0x20AB, 0x20AC),
    (0x2116, 0x2116),
    (0x2122, 0x2122),
    (0x2212, 0x2212),
    (0x25CC, 0x25CC),
)

FONTS = {
    # output file: (source file name, new family name, new PostScript name)
    "DejaVuSansVN.ttf": ("DejaVuSans.ttf", "DejaVu Sans VN", "DejaVuSansVN"),
    "DejaVuSerifVN.ttf": ("DejaVuSerif.ttf", "DejaVu Serif VN", "DejaVuSerifVN"),
}


def _find_source(file_name: str) -> Path:
    for folder in (REPO_FONTS, SYSTEM_DEJAVU):
        candidate = folder / file_name
        if candidate.exists():
            return candidate
    raise SystemExit(f"{file_name} not found in {REPO_FONTS} or {SYSTEM_DEJAVU} (Debian: fonts-dejavu-core)")


def _rename(font: TTFont, family: str, postscript_name: str) -> None:
    """Give the subset its own name, as the Bitstream Vera licence asks of modified fonts."""
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 16):
            names.setName(family, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 3:
            names.setName(f"{postscript_name} subset", 3, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 4:
            names.setName(family, 4, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 6:
            names.setName(postscript_name, 6, record.platformID, record.platEncID, record.langID)


def build_font(source: Path, target: Path, family: str, postscript_name: str) -> None:
    font = TTFont(source, recalcTimestamp=False)
    options = subset.Options()
    options.hinting = False  # half the size; PDF viewers rasterise without TrueType hints anyway
    options.layout_features = []  # the engine maps NFC text straight through 'cmap'; no shaping needed
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM", "MATH"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # keep copyright, licence and naming records
    options.notdef_outline = True
    options.glyph_names = False
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=CODEPOINTS)
    subsetter.subset(font)
    scale_upem(font, TARGET_UNITS_PER_EM)
    _rename(font, family, postscript_name)
    font.save(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: next to this script)")
    args = parser.parse_args()
    for output_name, (source_name, family, postscript_name) in FONTS.items():
        target = args.out / output_name
        build_font(_find_source(source_name), target, family, postscript_name)
        print(f"{target}: {target.stat().st_size} bytes")


if __name__ == "__main__":
    main()
