"""Signature and seal images for the demo and for credentials without their own: Decree 30 PL I wants
the handwritten signature in blue and the seal in red, both PNG with a transparent background."""

from __future__ import annotations

import io
import math
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

_FONT = Path(__file__).resolve().parent.parent / "documents" / "fonts" / "DejaVuSans-Bold.ttf"
BLUE = (20, 40, 170, 255)
RED = (210, 20, 30, 255)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


@lru_cache(maxsize=64)
def signature_png(name: str) -> bytes:
    """A blue handwriting-like stroke (a smooth loop per letter of the name's last word) on transparency."""
    width, height = 600, 240
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    word = (name.split() or ["ky"])[-1]
    seed = sum(ord(ch) for ch in word) or 7
    points = []
    for step in range(0, 400):
        t = step / 400
        x = 40 + t * (width - 80)
        y = height / 2 + math.sin(t * math.pi * (4 + seed % 3)) * 55 * (1 - t * 0.5) + math.sin(t * 37 + seed) * 12
        points.append((x, y))
    draw.line(points, fill=BLUE, width=7, joint="curve")
    draw.line([(60, height * 0.78), (width - 70, height * 0.7)], fill=BLUE, width=5)
    return _png(image)


@lru_cache(maxsize=64)
def seal_png(agency_name: str, *, size: int = 480) -> bytes:
    """A red round seal: two rings, the agency's name around, a star in the middle."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    centre = size / 2
    for radius, width in ((centre - 6, 10), (centre * 0.62, 5)):
        draw.ellipse([centre - radius, centre - radius, centre + radius, centre + radius], outline=RED, width=width)
    star = [
        (centre + math.cos(math.radians(-90 + i * 36)) * (centre * (0.28 if i % 2 == 0 else 0.12)),
         centre + math.sin(math.radians(-90 + i * 36)) * (centre * (0.28 if i % 2 == 0 else 0.12)))
        for i in range(10)
    ]
    draw.polygon(star, fill=RED)
    text = (agency_name or "").upper()[:60]
    if text:
        font = ImageFont.truetype(str(_FONT), max(14, int(size / 17)))
        ring = centre * 0.8
        span = min(300.0, 8.0 * len(text))
        for index, char in enumerate(text):
            angle = -90 - span / 2 + span * (index + 0.5) / len(text)
            glyph = Image.new("RGBA", (60, 60), (0, 0, 0, 0))
            ImageDraw.Draw(glyph).text((30, 30), char, font=font, fill=RED, anchor="mm")
            glyph = glyph.rotate(-angle - 90, resample=Image.BICUBIC)
            x = centre + math.cos(math.radians(angle)) * ring - 30
            y = centre + math.sin(math.radians(angle)) * ring - 30
            image.alpha_composite(glyph, (int(x), int(y)))
    return _png(image)
