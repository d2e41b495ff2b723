"""SVG drawing shared by every picture: one palette, one set of text metrics, one writer.

Numbers print with at most one decimal (:func:`number`), so the same picture comes out
byte for byte on every machine. Elements carry presentation attributes only: no
``<style>``, no ids (front ends that inline an SVG would leak them into the page).
"""

from __future__ import annotations

from html import escape

# --- Fonts and text metrics ----------------------------------------------------------

SANS = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, 'DejaVu Sans', sans-serif"
MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace"
# Average character width as a fraction of the font size, a little generous: DejaVu (the
# Linux fallback) is wide. No font is measured: the layout must not depend on the machine.
MONO_EM, SANS_EM = 0.61, 0.55


def char_width(size: float, mono: bool = True) -> float:
    """Width of one character at font ``size`` (px)."""
    return size * (MONO_EM if mono else SANS_EM)


def text_width(text: str, size: float, mono: bool = True) -> float:
    """Estimated width of ``text`` at font ``size`` (px)."""
    return len(text) * size * (MONO_EM if mono else SANS_EM)


# --- Palette -------------------------------------------------------------------------

WHITE, FRAME = "#ffffff", "#e2e8f0"
INK, MUTED, FAINT, TITLE = "#1e293b", "#64748b", "#94a3b8", "#1e1b4b"
HEADER, STRIPE, EDGE = "#e0e7ff", "#f8fafc", "#64748b"
PK_INK, FK_INK = "#b45309", "#1d4ed8"
# (background, ink) pairs: changed rows, tags and highlighted boxes.
GREEN, RED, AMBER = ("#dcfce7", "#166534"), ("#fee2e2", "#991b1b"), ("#fef3c7", "#92400e")
LIGHT_BLUE, BLUE = ("#dbeafe", "#1d4ed8"), ("#2563eb", WHITE)
NAVY, SLATE = ("#0f172a", WHITE), ("#f1f5f9", "#475569")
VIOLET, ORANGE = ("#ede9fe", "#6d28d9"), ("#ffedd5", "#c2410c")

# --- Layout shared by the pictures: margin, and the table boxes of the ER and the diff -

MARGIN, HEAD_H, ROW_H = 20, 28, 20


def number(value: float) -> str:
    """A coordinate with at most one decimal: floats must print the same everywhere."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


class Svg:
    """Collects SVG elements; ``render`` wraps them with a white background and border.

    Coordinates are px from the top left; ``parts`` holds the elements as text, in order.
    """

    def __init__(self) -> None:
        self.parts: list[str] = []

    def rect(self, x, y, w, h, fill=WHITE, stroke="none", rx=0, sw=1, dash=None):
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<rect x="{number(x)}" y="{number(y)}" width="{number(w)}" height="{number(h)}" '
            f'rx="{number(rx)}" fill="{fill}" stroke="{stroke}" stroke-width="{number(sw)}"'
            f"{extra}/>"
        )

    def text(self, x, y, text, size=12, fill=INK, mono=True, bold=False, anchor="start",
             italic=False):
        attrs = f' font-family="{MONO}"' if mono else ""
        attrs += ' font-weight="bold"' if bold else ""
        attrs += ' font-style="italic"' if italic else ""
        attrs += f' text-anchor="{anchor}"' if anchor != "start" else ""
        self.parts.append(
            f'<text x="{number(x)}" y="{number(y)}" font-size="{number(size)}" fill="{fill}"'
            f"{attrs}>{escape(text)}</text>"
        )

    def path(self, points, stroke=EDGE, sw=1.4, dash=None, fill="none"):
        d = "M" + " L".join(f"{number(x)},{number(y)}" for x, y in points)
        if fill != "none":
            d += " Z"
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<path d="{d}" fill="{fill}" stroke="{stroke}" stroke-width="{number(sw)}"{extra}/>'
        )

    def line(self, x1, y1, x2, y2, stroke=EDGE, sw=1):
        self.parts.append(f'<line x1="{number(x1)}" y1="{number(y1)}" x2="{number(x2)}" '
                          f'y2="{number(y2)}" stroke="{stroke}" stroke-width="{number(sw)}"/>')

    def circle(self, cx, cy, r, fill=INK):
        self.parts.append(
            f'<circle cx="{number(cx)}" cy="{number(cy)}" r="{number(r)}" fill="{fill}"/>')

    def arrowhead(self, x, y, direction, color=EDGE):
        """A small filled triangle with its tip at (x, y); direction is +1 down, -1 up."""
        back = y - 8 * direction
        self.path([(x, y), (x - 4.5, back), (x + 4.5, back)], stroke=color, sw=1, fill=color)

    def pill(self, x, y, label, colors, anchor_right=True):
        """A small rounded tag; returns its width. (x, y) is its right or left end, middle."""
        bg, ink = colors
        w = text_width(label, 10, mono=False) + 10
        left = x - w if anchor_right else x
        self.rect(left, y - 8, w, 16, fill=bg, rx=8)
        self.text(left + w / 2, y + 3.5, label, size=10, fill=ink, mono=False, bold=True,
                  anchor="middle")
        return w

    def render(self, width: float, height: float) -> str:
        w, h = number(width), number(height)
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" font-family="{SANS}" font-size="12">'
        )
        frame = (f'<rect x="0.5" y="0.5" width="{number(width - 1)}" '
                 f'height="{number(height - 1)}" rx="6" fill="{WHITE}" stroke="{FRAME}"/>')
        return "\n".join([head, frame, *self.parts, "</svg>"]) + "\n"


def message_svg(message: str) -> str:
    """The small picture for an empty state: a sentence in a box."""
    svg = Svg()
    svg.text(20, 34, message, size=13, fill=MUTED, mono=False, italic=True)
    return svg.render(max(240, text_width(message, 13, mono=False) + 40), 56)
