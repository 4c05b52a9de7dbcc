"""``honnin.qr.QrCode``: every rendering carries exactly the encoded URI, and the issuer's
``Offer`` and the verifier's ``PresentationRequest`` render through it with the same names."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

import honnin
import honnin.qr
from honnin.credential_types import load_catalogue
from honnin.errors import TooLarge
from honnin.qr import QUIET_ZONE, QrCode
from issuer import Issuer
from verifier import Query, Verifier

OFFER = (
    "openid-credential-offer://?credential_offer=%7B%22credential_issuer%22%3A%22https%3A%2F"
    "%2Fissuer.example%22%2C%22credential_configuration_ids%22%3A%5B%22withholding-slip.sd_"
    "jwt_vc%22%5D%7D"
)
REQUEST = (
    "openid4vp://?client_id=x509_san_dns%3Averifier.example"
    "&request_uri=https%3A%2F%2Fverifier.example%2Frequest%2Fq1Z-9"
)
_GLYPHS = {"█": (False, False), "▄": (True, False), "▀": (False, True), " ": (True, True)}


def _decode(image: Image.Image) -> list[str]:
    return [
        code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    ]


def _text_rows(text: str) -> list[tuple[bool, ...]]:
    """The module rows (True = dark) a terminal rendering shows, two per line."""
    rows: list[tuple[bool, ...]] = []
    for line in text.splitlines():
        pairs = [_GLYPHS[c] for c in line]
        rows += [tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)]
    return rows


def _svg_rows(svg: str, side: int) -> list[tuple[bool, ...]]:
    """The dark modules the SVG path paints (``Mx,yhNv1h-Nz`` runs)."""
    grid = [[False] * side for _ in range(side)]
    for x, y, run in re.findall(r"M(\d+),(\d+)h(\d+)v1h-\d+z", svg):
        for dx in range(int(run)):
            grid[int(y)][int(x) + dx] = True
    return [tuple(row) for row in grid]


def _padded(code: QrCode, border: int) -> list[tuple[bool, ...]]:
    side = code.size + 2 * border
    blank = (False,) * border
    return (
        [(False,) * side] * border
        + [blank + row + blank for row in code.modules]
        + [(False,) * side] * border
    )


@pytest.mark.parametrize("uri", [OFFER, REQUEST], ids=["offer", "request"])
@pytest.mark.parametrize("scale", [1, 3, 8])
def test_png_decodes_to_the_exact_uri(uri: str, scale: int) -> None:
    code = QrCode.encode(uri)
    png = code.png(scale=scale)
    image = Image.open(io.BytesIO(png))
    assert image.size == ((code.size + 2 * QUIET_ZONE) * scale,) * 2
    assert image.mode == "1"  # 1-bit greyscale
    assert _decode(image) == [uri]


def test_terminal_text_shows_the_matrix_and_decodes() -> None:
    code = QrCode.encode(OFFER)
    text = code.text()
    assert text.endswith("\n") and set(text) <= {*_GLYPHS, "\n"}
    lines = text.splitlines()
    assert len({len(line) for line in lines}) == 1
    rows = _text_rows(text)
    expected = _padded(code, QUIET_ZONE)
    assert rows[: len(expected)] == expected
    assert rows[len(expected) :] in ([], [(False,) * len(expected[0])])  # odd: one light row
    # Drawn light-on-dark: the blocks are the light modules. Rasterised that way it scans.
    pixels = [[0 if dark else 255 for dark in row for _ in range(4)] for row in rows]
    image = Image.new("L", (len(pixels[0]), len(pixels) * 4))
    image.putdata([value for row in pixels for _ in range(4) for value in row])
    assert _decode(image) == [OFFER]


def test_terminal_text_border() -> None:
    code = QrCode.encode(REQUEST)
    assert len(code.text(border=2).splitlines()[0]) == code.size + 4
    assert _text_rows(code.text(border=0))[: code.size] == list(code.modules)


def test_svg_paints_exactly_the_dark_modules() -> None:
    code = QrCode.encode(REQUEST)
    svg = code.svg(module_size=5)
    side = code.size + 2 * QUIET_ZONE
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and svg.endswith("</svg>")
    assert f'width="{side * 5}"' in svg and f'viewBox="0 0 {side} {side}"' in svg
    assert _svg_rows(svg, side) == _padded(code, QUIET_ZONE)


def test_the_symbol_is_deterministic_and_grows_with_the_data() -> None:
    assert QrCode.encode(REQUEST) == QrCode.encode(REQUEST)
    small, large = QrCode.encode("openid4vp://"), QrCode.encode(OFFER * 4)
    assert small.size == 21  # version 1: 14 bytes at level M
    assert large.size > small.size and (large.size - 17) % 4 == 0  # ISO/IEC 18004 §6.3.1


def test_data_beyond_version_40_is_too_large() -> None:
    QrCode.encode("x" * 2331)  # ISO/IEC 18004 Table 7: 40-M holds 2331 bytes
    with pytest.raises(TooLarge):
        QrCode.encode("x" * 2332)


def test_a_request_by_value_is_too_large_for_a_qr_code() -> None:
    # The whole signed request object rides in the URI: serve it by reference instead.
    agency = Verifier.create("Hello Work", trust=[])
    request = agency.request(Query.of("withholding-slip", "payment_amount"), purpose="benefit")
    with pytest.raises(TooLarge):
        request.qr_png()


def test_repr_does_not_show_the_uri() -> None:
    # An offer URI by value carries the pre-authorized code: never in a log line.
    secret = "openid-credential-offer://?pre-authorized_code=SECRET-CODE"
    assert "SECRET" not in repr(QrCode.encode(secret))


@pytest.mark.parametrize("bad", [{"scale": 0}, {"scale": 65}, {"border": -1}])
def test_png_options_are_checked(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        QrCode.encode(REQUEST).png(**bad)


def test_public_api_is_pinned() -> None:
    assert honnin.qr.__all__ == ["QrCode"]
    assert honnin.__all__ == [
        "Clock",
        "FixedClock",
        "HonninError",
        "QrCode",
        "SystemClock",
        "__version__",
    ]
    assert honnin.QrCode is QrCode


def test_offer_and_presentation_request_render_alike() -> None:
    employer = Issuer.create("Example Corp")
    offer = employer.create_offer(
        "withholding-slip", load_catalogue().get("withholding-slip").sample_claims()
    )
    agency = Verifier.create("Hello Work", trust=[employer.certificate])
    request = agency.request(
        Query.of("withholding-slip", "payment_amount"),
        purpose="benefit",
        request_uri_base="https://verifier.honnin.example/request",
    )
    for made in (offer, request):
        code = QrCode.encode(made.uri)
        assert made.qr_png() == code.png()
        assert made.qr_svg() == code.svg()
        assert made.qr_text() == code.text()
        assert _decode(Image.open(io.BytesIO(made.qr_png(scale=3)))) == [made.uri]
    employer.close()


def test_offer_qr_terminal_is_a_deprecated_alias() -> None:
    employer = Issuer.create("Example Corp")
    offer = employer.create_offer(
        "withholding-slip", load_catalogue().get("withholding-slip").sample_claims()
    )
    with pytest.warns(DeprecationWarning, match="qr_text"):
        assert offer.qr_terminal() == offer.qr_text()
    employer.close()


def test_qr_png_writes_the_file(tmp_path: Path) -> None:
    agency = Verifier.create("Hello Work", trust=[])
    request = agency.request(
        Query.of("withholding-slip", "payment_amount"),
        purpose="benefit",
        request_uri_base="https://verifier.honnin.example/request",
    )
    path = tmp_path / "request.png"
    assert request.qr_png(path) == path.read_bytes()
