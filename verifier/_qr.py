"""QR codes for ``openid4vp://`` request URIs (OpenID4VP 1.0 §9: cross-device invocation).

PNG is written directly from the QR module matrix (zlib + the three PNG chunks), so no image
library is needed at run time; SVG comes from ``qrcode``'s own path writer; text uses
half-block characters for a terminal.
"""

from __future__ import annotations

import io
import struct
import zlib

import qrcode
import qrcode.image.svg

__all__ = ["qr_png", "qr_svg", "qr_text"]


def _matrix(data: str, border: int) -> list[list[bool]]:
    code = qrcode.QRCode(border=border, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    return matrix


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def qr_png(data: str, *, scale: int = 8, border: int = 4) -> bytes:
    """``data`` as a black-on-white PNG QR code, ``scale`` pixels per module."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    matrix = _matrix(data, border)
    width = len(matrix) * scale
    rows = bytearray()
    for row in matrix:
        # 8-bit greyscale, filter type 0 per scanline (PNG §9.2): 0 is black, 255 white.
        line = b"\x00" + b"".join((b"\x00" if dark else b"\xff") * scale for dark in row)
        rows += line * scale
    header = struct.pack(">IIBBBBB", width, width, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )


def qr_svg(data: str, *, border: int = 4) -> str:
    """``data`` as an SVG QR code."""
    code = qrcode.QRCode(
        border=border,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    code.add_data(data)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue().decode("utf-8")


def qr_text(data: str, *, border: int = 2) -> str:
    """``data`` as a QR code drawn with half blocks, dark-on-light, for a terminal."""
    matrix = _matrix(data, border)
    if len(matrix) % 2:
        matrix.append([False] * len(matrix[0]))
    glyphs = {(False, False): "█", (True, False): "▄", (False, True): "▀", (True, True): " "}
    lines = []
    for top, bottom in zip(matrix[0::2], matrix[1::2], strict=True):
        lines.append("".join(glyphs[(t, b)] for t, b in zip(top, bottom, strict=True)))
    return "\n".join(lines) + "\n"
