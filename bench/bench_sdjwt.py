"""SD-JWT (RFC 9901): issue, present from a stored credential, verify.

Compared in the same run with the crypto floor (raw ES256 with ``cryptography``: one
signature to issue, one to present with KB, two verifications to verify with KB) and with
PyPI ``sd-jwt`` 0.10.4 (the reference implementation, imported lazily: it is installed only
in the bench environment).

Shapes: 20 claims with 5 disclosed, and 100 claims with 25 disclosed; every claim is
selectively disclosable, and each presentation carries a KB-JWT.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from bench._harness import Row, median_us
from honnin.jose import jwk_from_private_key, jwk_from_public_key
from honnin.sdjwt import KeyBinding, SdJwt, issue_sd_jwt, verify_sd_jwt

NONCE = "bench-nonce-0123456789abcdef"
AUD = "https://verifier.example.org"
_ECDSA = ec.ECDSA(hashes.SHA256())


def _claims(count: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(count):
        if i % 3 == 0:
            out[f"claim_{i:03d}"] = i * 1000 + 7
        elif i % 3 == 1:
            out[f"claim_{i:03d}"] = f"value number {i} of the benchmark credential"
        else:
            out[f"claim_{i:03d}"] = {"street": f"{i} Main St", "locality": "Anytown"}
    return out


class _Shape:
    """One benchmark shape: the same claims and selection for honnin, floor and peer."""

    def __init__(self, claims: int, disclosed: int) -> None:
        self.name = f"sd-jwt {claims} claims / {disclosed} disclosed + KB"
        self.claims = _claims(claims)
        self.names = list(self.claims)
        self.disclose = self.names[:: max(1, claims // disclosed)][:disclosed]
        self.issuer = ec.generate_private_key(ec.SECP256R1())
        self.holder = ec.generate_private_key(ec.SECP256R1())
        self.issuer_pub = self.issuer.public_key()
        # The holder key arrives as a JWK (e.g. in an OpenID4VCI proof), as for the peer.
        self.holder_jwk = jwk_from_public_key(self.holder)
        self.disclosable = [(n,) for n in self.names]
        self.token = self.issue()
        self.stored = SdJwt.parse(self.token)
        self.paths = [(n,) for n in self.disclose]
        self.presentation = self.present()

    def issue(self) -> str:
        return issue_sd_jwt(
            self.claims, self.issuer, disclosable=self.disclosable, holder_key=self.holder_jwk
        )

    def present(self) -> str:
        return self.stored.present(self.paths, holder_key=self.holder, nonce=NONCE, aud=AUD)

    def verify(self) -> dict[str, Any]:
        return verify_sd_jwt(
            self.presentation,
            self.issuer_pub,
            key_binding=KeyBinding.REQUIRED,
            nonce=NONCE,
            aud=AUD,
        ).claims


def _floor(shape: _Shape) -> dict[str, Callable[[], object]]:
    """Raw ES256 over the same signing inputs honnin signs and verifies."""
    issuer_jwt, _, kb_jwt = shape.presentation.rpartition("~")
    issuer_input = issuer_jwt.split("~")[0].rsplit(".", 1)[0].encode()
    kb_input = kb_jwt.rsplit(".", 1)[0].encode()
    issuer_sig = shape.issuer.sign(issuer_input, _ECDSA)
    kb_sig = shape.holder.sign(kb_input, _ECDSA)
    issuer_pub, holder_pub = shape.issuer_pub, shape.holder.public_key()

    def verify_both() -> None:
        issuer_pub.verify(issuer_sig, issuer_input, _ECDSA)
        holder_pub.verify(kb_sig, kb_input, _ECDSA)

    return {
        "issue": lambda: shape.issuer.sign(issuer_input, _ECDSA),
        "present": lambda: shape.holder.sign(kb_input, _ECDSA),
        "verify": verify_both,
    }


def _peer(shape: _Shape) -> dict[str, Callable[[], object]] | None:
    """The same three steps with PyPI sd-jwt 0.10.4, or None when it is not installed."""
    try:
        from jwcrypto.jwk import JWK
        from sd_jwt.common import SDObj  # type: ignore[import-not-found,unused-ignore]
        from sd_jwt.holder import SDJWTHolder  # type: ignore[import-not-found,unused-ignore]
        from sd_jwt.issuer import SDJWTIssuer  # type: ignore[import-not-found,unused-ignore]
        from sd_jwt.verifier import SDJWTVerifier  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    issuer_jwk = JWK(**jwk_from_private_key(shape.issuer))
    holder_jwk = JWK(**jwk_from_private_key(shape.holder))
    user_claims = {SDObj(k): v for k, v in shape.claims.items()}
    to_disclose = dict.fromkeys(shape.disclose, True)

    def issue() -> str:
        return str(SDJWTIssuer(user_claims, issuer_jwk, holder_jwk).sd_jwt_issuance)

    holder = SDJWTHolder(issue())

    def present() -> str:
        holder.create_presentation(to_disclose, NONCE, AUD, holder_jwk)
        return str(holder.sd_jwt_presentation)

    presentation = present()

    def verify() -> Any:
        return SDJWTVerifier(
            presentation, lambda iss, header: issuer_jwk, AUD, NONCE
        ).get_verified_payload()

    expected = shape.verify()
    got = verify()
    if {k: got[k] for k in shape.disclose} != {k: expected[k] for k in shape.disclose}:
        raise AssertionError("peer and honnin disagree on the verified claims")
    return {"issue": issue, "present": present, "verify": verify}


_TARGETS = {
    "issue": ">=3x faster than sd-jwt",
    "present": ">=6x faster than sd-jwt",
    "verify": "<=1.5x floor, >=3x faster than sd-jwt",
}


def _interleaved(
    fns: list[Callable[[], object] | None], rounds: int, repeat: int, min_time: float
) -> list[float | None]:
    """Median over ``rounds`` of each function's median time, measured in turn each round,
    so that load on this shared machine falls on honnin, floor and peer alike."""
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for index, fn in enumerate(fns):
            if fn is not None:
                samples[index].append(median_us(fn, repeat=repeat, min_time=min_time))
    return [statistics.median(s) if s else None for s in samples]


def run(quick: bool) -> list[Row]:
    """Median times of issue / present / verify for honnin, the floor and the peer."""
    rounds, repeat, min_time = (1, 3, 0.02) if quick else (5, 5, 0.05)
    rows: list[Row] = []
    for claims, disclosed in ((20, 5), (100, 25)):
        shape = _Shape(claims, disclosed)
        floor = _floor(shape)
        peer = _peer(shape)
        ours = {"issue": shape.issue, "present": shape.present, "verify": shape.verify}
        for step in ("issue", "present", "verify"):
            honnin_us, floor_us, peer_us = _interleaved(
                [ours[step], floor[step], peer[step] if peer else None], rounds, repeat, min_time
            )
            assert honnin_us is not None
            rows.append(
                Row(
                    group=shape.name,
                    step=step,
                    honnin_us=honnin_us,
                    floor_us=floor_us,
                    peer="sd-jwt 0.10.4" if peer else None,
                    peer_us=peer_us,
                    target=_TARGETS[step],
                    extra={"presentation_bytes": len(shape.presentation), "rounds": rounds},
                )
            )
    return rows
