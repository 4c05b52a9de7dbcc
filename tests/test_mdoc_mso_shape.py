"""A validly signed MSO whose valueDigests entries have the wrong types ends in a typed error
(ISO 18013-5 §9.1.2.4), never in a TypeError later in verification."""

from __future__ import annotations

import pytest

from honnin.errors import MalformedCredential
from honnin.mdoc._mso import _value_digests


@pytest.mark.parametrize(
    "digests",
    [{"ns": {0: [1, 2]}}, {"ns": {0: "ab"}}, {"ns": {-1: b"x" * 32}}, {"ns": {"0": b"x" * 32}}],
)
def test_ill_typed_digest_entries_are_malformed(digests: dict[str, dict[object, object]]) -> None:
    with pytest.raises(MalformedCredential, match="valueDigests"):
        _value_digests(digests)


def test_well_typed_digests_pass() -> None:
    digests = {"ns": {0: b"x" * 32, 7: b"y" * 32}}
    assert _value_digests(digests) == digests
