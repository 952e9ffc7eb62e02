"""Generated badge art: one distinctive design per microcredential, as SVG and as the same picture in PNG.

The design is drawn from a few primitives (polygons, rectangles, circles, text)
so the SVG and the Pillow rendering stay the same picture without an SVG
rasteriser.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import io
import math
import textwrap
from dataclasses import dataclass
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

from microcred.domain.microcredentials import MicrocredentialDefinition

SIZE = 400
Primitive = tuple[str, tuple[float, ...]]

# Icons in a 100 x 100 box, centred on the badge's upper half.
ICONS: dict[str, list[Primitive]] = {
    "chart": [("rect", (14, 60, 16, 30)), ("rect", (42, 38, 16, 52)), ("rect", (70, 14, 16, 76))],
    "code": [
        ("poly", (36, 20, 46, 28, 24, 50, 46, 72, 36, 80, 4, 50)),
        ("poly", (64, 20, 96, 50, 64, 80, 54, 72, 76, 50, 54, 28)),
    ],
    "shield": [("poly", (50, 6, 88, 20, 84, 58, 50, 94, 16, 58, 12, 20))],
    "leaf": [("poly", (50, 4, 80, 30, 86, 60, 64, 86, 50, 96, 36, 86, 14, 60, 20, 30)), ("rect", (47, 40, 6, 58))],
    "gear": [("circle", (50, 50, 30))]
    + [("rect", (44 + 40 * math.cos(a), 44 + 40 * math.sin(a), 12, 12)) for a in (0, 1.05, 2.09, 3.14, 4.19, 5.24)],
    "book": [("poly", (6, 18, 48, 26, 48, 88, 6, 80)), ("poly", (52, 26, 94, 18, 94, 80, 52, 88))],
}
KEYWORDS = (
    ("chart", ("data", "analytic", "statistic", "business intelligence", "finance")),
    ("code", ("python", "programming", "software", "web", "javascript", "developer", "code")),
    ("shield", ("security", "cyber", "privacy", "safety", "risk")),
    ("leaf", ("green", "sustainab", "energy", "climate", "environment")),
    ("gear", ("engineer", "cloud", "devops", "manufactur", "automation", "kubernetes")),
    ("book", ("teach", "learning", "education", "language", "writing")),
)


def _star_point(i: int) -> tuple[float, float]:
    radius = 46 if i % 2 == 0 else 20
    angle = -math.pi / 2 + i * math.pi / 5
    return 50 + radius * math.cos(angle), 52 + radius * math.sin(angle)


ICONS["star"] = [("poly", tuple(v for i in range(10) for v in _star_point(i)))]


@dataclass(frozen=True, slots=True)
class BadgeDesign:
    title: str
    issuer: str
    level: str | None  # "EQF 6", "5 ECTS" ...
    colour: str  # #rrggbb
    icon: str


def issuer_colour(seed: str) -> str:
    """A stable colour per issuer, dark enough for white text (contrast above 4.5:1)."""
    hue = int(hashlib.sha256(seed.encode()).hexdigest()[:4], 16) / 0xFFFF
    red, green, blue = colorsys.hls_to_rgb(hue, 0.30, 0.65)
    return f"#{int(red * 255):02x}{int(green * 255):02x}{int(blue * 255):02x}"


def pick_icon(title: str, tags: list[str]) -> str:
    text = " ".join([title, *tags]).lower()
    for icon, words in KEYWORDS:
        if any(word in text for word in words):
            return icon
    return "star"


def _lines(title: str) -> list[str]:
    lines = textwrap.wrap(title, width=18, break_long_words=True)[:3]
    if len(textwrap.wrap(title, width=18)) > 3:
        lines[-1] = lines[-1][:16].rstrip() + "…"
    return lines


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _lighter(colour: str, amount: float) -> str:
    red, green, blue = (min(255, int(c + (255 - c) * amount)) for c in _rgb(colour))
    return f"#{red:02x}{green:02x}{blue:02x}"


def _hexagon(scale: float = 1.0) -> list[tuple[float, float]]:
    radius = 196 * scale
    return [
        (200 + radius * math.cos(math.pi / 6 + i * math.pi / 3), 200 + radius * math.sin(math.pi / 6 + i * math.pi / 3))
        for i in range(6)
    ]


def _icon_box(x: float, y: float) -> tuple[float, float]:
    return 150 + x, 58 + y  # the icon's 100 x 100 box sits at (150, 58)


def svg(design: BadgeDesign) -> str:
    outer = " ".join(f"{x:.1f},{y:.1f}" for x, y in _hexagon())
    inner = " ".join(f"{x:.1f},{y:.1f}" for x, y in _hexagon(0.9))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" height="{SIZE}" role="img">',
        f"<title>{escape(design.title)} ({escape(design.issuer)})</title>",
        f'<polygon points="{outer}" fill="{design.colour}"/>',
        f'<polygon points="{inner}" fill="none" stroke="{_lighter(design.colour, 0.5)}" stroke-width="4"/>',
    ]
    for kind, values in ICONS.get(design.icon, ICONS["star"]):
        parts.append(_svg_primitive(kind, values, "#ffffff"))
    for n, line in enumerate(_lines(design.title)):
        parts.append(
            f'<text x="200" y="{200 + n * 30}" font-family="DejaVu Sans, Arial, sans-serif" font-size="26" '
            f'font-weight="bold" fill="#ffffff" text-anchor="middle">{escape(line)}</text>'
        )
    if design.level:
        parts.append(f'<rect x="130" y="292" width="140" height="34" rx="17" fill="{_lighter(design.colour, 0.85)}"/>')
        parts.append(
            f'<text x="200" y="316" font-family="DejaVu Sans, Arial, sans-serif" font-size="18" fill="{design.colour}" '
            f'text-anchor="middle">{escape(design.level)}</text>'
        )
    parts.append(
        f'<text x="200" y="352" font-family="DejaVu Sans, Arial, sans-serif" font-size="15" fill="#ffffff" '
        f'text-anchor="middle">{escape(design.issuer[:34])}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _svg_primitive(kind: str, values: tuple[float, ...], fill: str) -> str:
    if kind == "rect":
        x, y = _icon_box(values[0], values[1])
        return f'<rect x="{x:.1f}" y="{y:.1f}" width="{values[2]:.1f}" height="{values[3]:.1f}" fill="{fill}"/>'
    if kind == "circle":
        x, y = _icon_box(values[0], values[1])
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{values[2]:.1f}" fill="none" stroke="{fill}" stroke-width="10"/>'
    points = " ".join(
        f"{_icon_box(values[i], values[i + 1])[0]:.1f},{_icon_box(values[i], values[i + 1])[1]:.1f}"
        for i in range(0, len(values), 2)
    )
    return f'<polygon points="{points}" fill="{fill}"/>'


def png(design: BadgeDesign, size: int = SIZE) -> bytes:
    scale = 2  # drawn at twice the size, then reduced: smooth edges without an SVG rasteriser
    canvas = Image.new("RGBA", (SIZE * scale, SIZE * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)

    def pts(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * scale, y * scale) for x, y in points]

    draw.polygon(pts(_hexagon()), fill=design.colour)
    draw.polygon(pts(_hexagon(0.9)), outline=_lighter(design.colour, 0.5), width=4 * scale)
    for kind, values in ICONS.get(design.icon, ICONS["star"]):
        _png_primitive(draw, kind, values, scale)
    title_font = ImageFont.load_default(size=26 * scale)
    for n, line in enumerate(_lines(design.title)):
        draw.text((200 * scale, (200 + n * 30) * scale), line, font=title_font, fill="#ffffff", anchor="ms")
    if design.level:
        draw.rounded_rectangle(
            [(130 * scale, 292 * scale), (270 * scale, 326 * scale)],
            radius=17 * scale,
            fill=_lighter(design.colour, 0.85),
        )
        draw.text(
            (200 * scale, 316 * scale),
            design.level,
            font=ImageFont.load_default(size=18 * scale),
            fill=design.colour,
            anchor="ms",
        )
    draw.text(
        (200 * scale, 352 * scale),
        design.issuer[:34],
        font=ImageFont.load_default(size=15 * scale),
        fill="#ffffff",
        anchor="ms",
    )
    image = canvas.resize((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _png_primitive(draw: ImageDraw.ImageDraw, kind: str, values: tuple[float, ...], scale: int) -> None:
    if kind == "rect":
        x, y = _icon_box(values[0], values[1])
        draw.rectangle([(x * scale, y * scale), ((x + values[2]) * scale, (y + values[3]) * scale)], fill="#ffffff")
    elif kind == "circle":
        x, y = _icon_box(values[0], values[1])
        r = values[2]
        draw.ellipse(
            [((x - r) * scale, (y - r) * scale), ((x + r) * scale, (y + r) * scale)],
            outline="#ffffff",
            width=10 * scale,
        )
    else:
        points = [_icon_box(values[i], values[i + 1]) for i in range(0, len(values), 2)]
        draw.polygon([(x * scale, y * scale) for x, y in points], fill="#ffffff")


def level_of(definition: MicrocredentialDefinition) -> str | None:
    parts = []
    if definition.eqf_level:
        parts.append(f"EQF {definition.eqf_level}")
    if definition.ects:
        parts.append(f"{definition.ects:g} ECTS")
    elif definition.workload_hours:
        parts.append(f"{definition.workload_hours:g} h")
    return " · ".join(parts) or None


def design_for(definition: MicrocredentialDefinition, issuer_name: str, colour: str) -> BadgeDesign:
    return BadgeDesign(
        definition.name, issuer_name, level_of(definition), colour, pick_icon(definition.name, definition.tags)
    )


@functools.lru_cache(maxsize=256)
def cached_png(design: BadgeDesign) -> bytes:
    """Rendering takes tens of milliseconds; a design is drawn once per process."""
    return png(design)
