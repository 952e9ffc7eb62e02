"""A one-page PDF certificate: badge, learner, microcredential, issuer, dates, QR code and verification URL.

Written directly (PDF 1.4, the standard Helvetica fonts, the badge as a
Flate-compressed RGB image, the QR code as vector squares) so no PDF library
or font file is needed; the QR code scans from print.
"""

from __future__ import annotations

import io
import textwrap
import unicodedata
import zlib
from dataclasses import dataclass, field

import segno
from PIL import Image

WIDTH, HEIGHT = 842, 595  # A4 landscape, in points


@dataclass(frozen=True, slots=True)
class CertificateText:
    learner: str
    title: str
    issuer: str
    issued: str
    expires: str | None
    verification_url: str
    details: list[str] = field(default_factory=list)  # "5 ECTS", "EQF level 6", skills ...


def _latin(text: str) -> bytes:
    """Text for the standard fonts (WinAnsi): accents kept, other scripts approximated."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1252")
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char).encode("cp1252", errors="ignore")
            out += base or b"?"
    return bytes(out).replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _text(x: float, y: float, size: float, text: str, *, bold: bool = False, grey: bool = False) -> bytes:
    colour = b"0.35 0.35 0.35 rg" if grey else b"0.07 0.09 0.15 rg"
    font = b"/F2" if bold else b"/F1"
    return colour + b" BT " + font + b" %.1f Tf %.1f %.1f Td (" % (size, x, y) + _latin(text) + b") Tj ET\n"


def _qr(data: str, x: float, y: float, size: float) -> bytes:
    matrix = segno.make(data, error="m").matrix
    cells = len(matrix) + 8  # a four-module quiet zone on each side
    cell = size / cells
    out = [b"1 1 1 rg %.2f %.2f %.2f %.2f re f 0 0 0 rg\n" % (x, y, size, size)]
    for row, values in enumerate(matrix):
        for col, dark in enumerate(values):
            if dark:
                out.append(
                    b"%.2f %.2f %.2f %.2f re\n" % (x + (col + 4) * cell, y + size - (row + 5) * cell, cell, cell)
                )
    out.append(b"f\n")
    return b"".join(out)


def _image(png: bytes) -> tuple[int, int, bytes]:
    picture = Image.open(io.BytesIO(png)).convert("RGBA")
    flat = Image.new("RGB", picture.size, (255, 255, 255))
    flat.paste(picture, mask=picture.split()[3])
    return flat.width, flat.height, zlib.compress(flat.tobytes(), 9)


def render(text: CertificateText, badge_png: bytes) -> bytes:
    content = bytearray(b"0.85 0.87 0.9 RG 2 w 24 24 794 547 re S\n")
    content += b"q 170 0 0 170 56 360 cm /Im1 Do Q\n"
    content += _text(260, 500, 13, "CERTIFICATE OF ACHIEVEMENT", grey=True)
    content += _text(260, 470, 12, "This certifies that", grey=True)
    content += _text(260, 440, 26, text.learner[:60], bold=True)
    content += _text(260, 412, 12, "has earned the microcredential", grey=True)
    y = 384.0
    for line in textwrap.wrap(text.title, 44)[:3]:
        content += _text(260, y, 20, line, bold=True)
        y -= 26
    content += _text(260, y - 4, 13, f"awarded by {text.issuer}"[:90])
    y -= 40
    dates = f"Issued {text.issued}" + (f"  ·  valid until {text.expires}" if text.expires else "")
    content += _text(260, y, 11, dates, grey=True)
    for detail in text.details[:5]:
        y -= 18
        content += _text(260, y, 11, detail[:95], grey=True)
    content += _qr(text.verification_url, 56, 60, 150)
    content += _text(220, 96, 10, "Verify this credential at", grey=True)
    content += _text(220, 80, 10, text.verification_url[:110])
    content += _text(220, 64, 9, "The QR code opens the same page. The signed credential is checked live.", grey=True)
    width, height, pixels = _image(badge_png)
    return _document(bytes(content), width, height, pixels)


def _document(content: bytes, width: int, height: int, pixels: bytes) -> bytes:
    stream = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> /XObject << /Im1 7 0 R >> >> >>" % (WIDTH, HEIGHT),
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 "
        b"/Filter /FlateDecode /Length %d >>\nstream\n" % (width, height, len(pixels)) + pixels + b"\nendstream",
        b"<< /Producer (microcred) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        len(objects),
        xref,
    )
    return bytes(out)
