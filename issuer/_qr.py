"""QR codes for offer URIs: PNG, SVG and terminal renderings of one ``qrcode`` matrix.

The matrix comes from the ``qrcode`` package (ISO/IEC 18004); the renderings are written
here so PNG needs neither Pillow nor PyPNG at run time (PNG: RFC 2083 / ISO/IEC 15948).
"""

from __future__ import annotations

import struct
import zlib
from typing import Final

import qrcode
from qrcode.constants import ERROR_CORRECT_M

__all__ = ["qr_matrix", "render_png", "render_svg", "render_terminal"]

#: ISO/IEC 18004 §9.1: a quiet zone of four modules around the symbol.
QUIET_ZONE: Final = 4


def qr_matrix(text: str) -> list[list[bool]]:
    """The module matrix of ``text`` (error correction level M), without the quiet zone."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(text.encode("utf-8"), optimize=0)
    code.make(fit=True)
    return [[bool(module) for module in row] for row in code.get_matrix()]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def render_png(matrix: list[list[bool]], *, scale: int = 8) -> bytes:
    """A 1-bit greyscale PNG of ``matrix`` with ``scale`` pixels per module."""
    if scale < 1:
        raise ValueError("scale must be >= 1")
    modules = len(matrix) + 2 * QUIET_ZONE
    width = modules * scale
    row_bytes = (width + 7) // 8
    raw = bytearray()
    blank = [False] * QUIET_ZONE
    padded = [[False] * modules] * QUIET_ZONE
    padded += [blank + row + blank for row in matrix]
    padded += [[False] * modules] * QUIET_ZONE
    for row in padded:
        bits = 0
        for module in row:
            for _ in range(scale):
                # In a greyscale PNG bit 1 is white; a dark module is 0.
                bits = (bits << 1) | (0 if module else 1)
        bits <<= row_bytes * 8 - width
        line = b"\x00" + bits.to_bytes(row_bytes, "big")  # filter type 0 (None)
        for _ in range(scale):
            raw += line
    header = struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + _chunk(b"IEND", b"")
    )


def render_svg(matrix: list[list[bool]], *, module_size: int = 8) -> str:
    """A standalone SVG of ``matrix``: one path of unit squares on a white background."""
    size = len(matrix) + 2 * QUIET_ZONE
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                parts.append(f"M{start + QUIET_ZONE},{y + QUIET_ZONE}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    pixels = size * module_size
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{pixels}" height="{pixels}"'
        f' viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{"".join(parts)}" fill="#000"/></svg>'
    )


def render_terminal(matrix: list[list[bool]]) -> str:
    """The matrix in Unicode half blocks (two module rows per text line), dark on light."""
    modules = len(matrix) + 2 * QUIET_ZONE
    blank = [False] * QUIET_ZONE
    rows = [[False] * modules for _ in range(QUIET_ZONE)]
    rows += [blank + row + blank for row in matrix]
    rows += [[False] * modules for _ in range(QUIET_ZONE + 1)]
    # Light modules are drawn as blocks so the code reads on dark terminals too.
    glyph = {(False, False): "█", (True, False): "▄", (False, True): "▀", (True, True): " "}
    lines = []
    for top in range(0, len(rows) - 1, 2):
        upper, lower = rows[top], rows[top + 1]
        lines.append("".join(glyph[(a, b)] for a, b in zip(upper, lower, strict=True)))
    return "\n".join(lines) + "\n"
