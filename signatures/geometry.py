"""Rectangles on PDF pages, shared by the layout finder and the signing engine.

One class for both so that a box found by `signatures.layout` can be handed to the engine as it is.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    """A rectangle on one page, in PDF user-space points (origin at the page's lower-left corner).

    `page` is zero-based; a negative index counts from the end, as pyHanko's `on_page` does (the layout
    finder always gives the real index). The corners are normalised: x1 < x2 and y1 < y2, the order
    pyHanko expects for a field's rectangle.
    """

    page: int
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def rect(self) -> tuple[float, float, float, float]:
        """(x1, y1, x2, y2), the tuple pyHanko's `SigFieldSpec(box=...)` takes."""
        return (self.x1, self.y1, self.x2, self.y2)

    def overlap(self, other: Box) -> Box | None:
        """The common part of two boxes on the same page, or None when they do not overlap."""
        if other.page != self.page:
            return None
        x1, y1 = max(self.x1, other.x1), max(self.y1, other.y1)
        x2, y2 = min(self.x2, other.x2), min(self.y2, other.y2)
        if x1 >= x2 or y1 >= y2:
            return None
        return Box(self.page, x1, y1, x2, y2)

    def contains(self, other: Box, tolerance: float = 0.01) -> bool:
        """True when `other` lies wholly inside this box (same page)."""
        return (
            other.page == self.page
            and other.x1 >= self.x1 - tolerance
            and other.y1 >= self.y1 - tolerance
            and other.x2 <= self.x2 + tolerance
            and other.y2 <= self.y2 + tolerance
        )
