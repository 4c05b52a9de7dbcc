"""QR codes (ISO/IEC 18004) for ``openid-credential-offer://`` and ``openid4vp://`` URIs.

The module matrix comes from the ``qrcode`` package; the three renderings are written here
so that neither Pillow nor PyPNG is needed at run time:

* ``QrCode.png()`` - a 1-bit greyscale PNG (RFC 2083 / ISO/IEC 15948),
* ``QrCode.svg()`` - a standalone SVG (one path of unit squares),
* ``QrCode.text()`` - Unicode half blocks, two module rows per line, for a terminal.

Used for the credential offer (OpenID4VCI 1.0 §4.1) and the cross-device request
(OpenID4VP 1.0 §9) alike, so an offer and a presentation request render the same way.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import Final

from honnin.errors import TooLarge

__all__ = ["QrCode"]

#: ISO/IEC 18004 §9.1: a quiet zone of four modules around the symbol.
QUIET_ZONE: Final = 4
#: More pixels per module than any screen or printer needs; bounds the PNG size.
_MAX_SCALE: Final = 64

# Two module rows per character (upper, lower), True = dark. Light modules are drawn as
# blocks so the code reads on the usual light-on-dark terminal.
_HALF_BLOCKS: Final = {
    (False, False): "█",
    (True, False): "▄",
    (False, True): "▀",
    (True, True): " ",
}


@dataclass(frozen=True, slots=True)
class QrCode:
    """One QR code symbol of ``data`` (error correction level M, ISO/IEC 18004 §7.5.1).

    ``modules`` holds the dark (True) and light modules row by row, without the quiet zone.
    The repr names only the symbol size: offer URIs can carry a pre-authorized code.

    >>> QrCode.encode("openid4vp://?client_id=...").png()[:4]
    b'\\x89PNG'
    """

    data: str = field(repr=False)
    modules: tuple[tuple[bool, ...], ...] = field(repr=False)

    @classmethod
    def encode(cls, data: str) -> QrCode:
        """The smallest symbol (version 1-40) that holds ``data`` as UTF-8.

        Raises:
            TooLarge: ``data`` does not fit in a version 40 symbol at level M.
        """
        # Imported here so that ``import honnin`` does not pay for the encoder.
        import qrcode
        from qrcode.constants import ERROR_CORRECT_M
        from qrcode.exceptions import DataOverflowError

        code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
        # Byte mode throughout (ISO/IEC 18004 §7.4.5): URIs are ASCII, and one segment
        # decodes the same in every reader.
        code.add_data(data.encode("utf-8"), optimize=0)
        try:
            code.make(fit=True)
        except (DataOverflowError, ValueError) as exc:  # ValueError: "Invalid version 41"
            raise TooLarge(
                f"{len(data.encode('utf-8'))} bytes do not fit in a QR code (level M)"
            ) from exc
        matrix: list[list[bool]] = code.get_matrix()
        return cls(data, tuple(tuple(bool(m) for m in row) for row in matrix))

    @property
    def size(self) -> int:
        """Modules per side, without the quiet zone (21 for version 1, +4 per version)."""
        return len(self.modules)

    def _padded(self, border: int) -> list[tuple[bool, ...]]:
        if border < 0:
            raise ValueError("border must be >= 0")
        side = self.size + 2 * border
        blank_row = (False,) * side
        margin = (False,) * border
        return (
            [blank_row] * border
            + [margin + row + margin for row in self.modules]
            + [blank_row] * border
        )

    def png(self, *, scale: int = 8, border: int = QUIET_ZONE) -> bytes:
        """A 1-bit greyscale PNG with ``scale`` pixels per module and a ``border``-module
        quiet zone."""
        if not 1 <= scale <= _MAX_SCALE:
            raise ValueError(f"scale must be between 1 and {_MAX_SCALE}")
        rows = self._padded(border)
        width = len(rows) * scale
        row_bytes = (width + 7) // 8
        pad = row_bytes * 8 - width
        light, dark = "1" * scale, "0" * scale  # PNG §11.2.2: at bit depth 1, 1 is white
        raw = bytearray()
        for row in rows:
            bits = "".join(dark if module else light for module in row) + "0" * pad
            raw += (b"\x00" + int(bits, 2).to_bytes(row_bytes, "big")) * scale  # filter 0
        header = struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0)  # 1-bit greyscale
        return (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(bytes(raw), 9))
            + _chunk(b"IEND", b"")
        )

    def svg(self, *, module_size: int = 8, border: int = QUIET_ZONE) -> str:
        """A standalone SVG document (``image/svg+xml``), ``module_size`` user units per
        module, black on a white background."""
        if module_size < 1:
            raise ValueError("module_size must be >= 1")
        if border < 0:
            raise ValueError("border must be >= 0")
        side = self.size + 2 * border
        parts = []
        for y, row in enumerate(self.modules):
            x = 0
            while x < len(row):
                if not row[x]:
                    x += 1
                    continue
                start = x
                while x < len(row) and row[x]:
                    x += 1
                parts.append(f"M{start + border},{y + border}h{x - start}v1h-{x - start}z")
        pixels = side * module_size
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{pixels}" height="{pixels}"'
            f' viewBox="0 0 {side} {side}" shape-rendering="crispEdges">'
            f'<rect width="{side}" height="{side}" fill="#fff"/>'
            f'<path d="{"".join(parts)}" fill="#000"/></svg>'
        )

    def text(self, *, border: int = QUIET_ZONE) -> str:
        """The symbol in Unicode half blocks for a terminal, one line per two module rows,
        each line ending in a newline."""
        rows = self._padded(border)
        if len(rows) % 2:
            rows.append((False,) * len(rows[0]))
        lines = [
            "".join(_HALF_BLOCKS[pair] for pair in zip(upper, lower, strict=True))
            for upper, lower in zip(rows[0::2], rows[1::2], strict=True)
        ]
        return "\n".join(lines) + "\n"


def _chunk(kind: bytes, body: bytes) -> bytes:
    """A PNG chunk: length, type, data, CRC-32 over type and data (PNG §5.3)."""
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)
