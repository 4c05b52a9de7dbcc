"""SD-JWT (RFC 9901): issue, present from a stored credential, verify.

Compared in the same run with the crypto floor (raw ES256 with ``cryptography``: one
signature to issue, one to present with KB, two verifications to verify with KB) and with
PyPI ``sd-jwt`` 0.10.4 (the reference implementation, imported lazily: it is installed only
in the bench environment).

Shapes: 20 claims with 5 disclosed, and 100 claims with 25 disclosed; every claim is
selectively disclosable, and each presentation carries a KB-JWT.

Inputs are what each side sees in use. Issue: the same claims for a holder key given as a
JWK. Present: the same stored credential, a fresh KB-JWT each time. Verify: honnin and the
floor go through the same rotating set of ``_ROTATION`` presentations of as many
credentials, each bound to its own holder key (a verifier rarely sees a holder key twice,
and the rotation is longer than honnin's ``cnf`` key cache), so every verification parses
a holder key it has not just seen; the floor verifies the same two signatures of the same
presentations with keys already loaded; the peer verifies its own presentations of the
same shape for the same holder keys, in the same rotation.

The verify rows also report, in ``extra["floor_with_holder_key_load_us"]``, the floor's two
verifications with the holder key loaded from its point on each call, sampled in the same
rotation: a verifier must load each ``cnf.jwk`` it has not seen (the key's first use also
costs OpenSSL more than later ones). It only explains the gap; the floor and the ratio
stay as the issue defines them.

Each shape also has a "verify, bare minimum" row: the least work any verifier of these
presentations must do in Python on the same libraries, with no checks at all (see
``_bare_verify``). It is honnin's code only in that it reads the same bytes; its ratio to
the floor says how far below the ``<=1.5x floor`` target a pure-Python verifier can go.

Every figure is the median of alternated samples (honnin, floor, peer in turn, see
``bench._sampling``) on thread CPU time; the ratios use CPU time. Wall medians of the same
samples are in each row's ``extra`` (``*_wall_us``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from itertools import cycle
from typing import Any

import pybase64
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bench._harness import Row
from bench._sampling import Timing, alternated
from honnin.jose import jwk_from_private_key, jwk_from_public_key
from honnin.sdjwt import KeyBinding, SdJwt, issue_sd_jwt, verify_sd_jwt

NONCE = "bench-nonce-0123456789abcdef"
AUD = "https://verifier.example.org"
_ECDSA = ec.ECDSA(hashes.SHA256())
_ROTATION = 512


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


def _signing_inputs(presentation: str) -> tuple[bytes, bytes]:
    """The issuer JWS and KB-JWT signing inputs of a compact presentation."""
    issuer_jwt, _, kb_jwt = presentation.rpartition("~")
    issuer_input = issuer_jwt.split("~")[0].rsplit(".", 1)[0].encode()
    return issuer_input, kb_jwt.rsplit(".", 1)[0].encode()


class _Shape:
    """One benchmark shape: the same claims and selection for honnin, floor and peer."""

    def __init__(self, claims: int, disclosed: int, rotation: int) -> None:
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
        self.paths = [(n,) for n in self.disclose]
        self.token = self.issue()
        self.stored = SdJwt.parse(self.token)
        self.presentation = self.present()
        # The verifier's traffic: one presentation per credential, one holder key each.
        self.holders = [ec.generate_private_key(ec.SECP256R1()) for _ in range(rotation)]
        self.presentations = [self._present_new(holder) for holder in self.holders]
        self._next = cycle(self.presentations)

    def _present_new(self, holder: ec.EllipticCurvePrivateKey) -> str:
        token = issue_sd_jwt(
            self.claims,
            self.issuer,
            disclosable=self.disclosable,
            holder_key=jwk_from_public_key(holder),
        )
        return SdJwt.parse(token).present(self.paths, holder_key=holder, nonce=NONCE, aud=AUD)

    def issue(self) -> str:
        return issue_sd_jwt(
            self.claims, self.issuer, disclosable=self.disclosable, holder_key=self.holder_jwk
        )

    def present(self) -> str:
        return self.stored.present(self.paths, holder_key=self.holder, nonce=NONCE, aud=AUD)

    def verify_one(self, presentation: str) -> dict[str, Any]:
        return verify_sd_jwt(
            presentation,
            self.issuer_pub,
            key_binding=KeyBinding.REQUIRED,
            nonce=NONCE,
            aud=AUD,
        ).claims

    def verify(self) -> dict[str, Any]:
        return self.verify_one(next(self._next))


def _floor(shape: _Shape) -> dict[str, Callable[[], object]]:
    """Raw ES256 over the same signing inputs honnin signs and verifies."""
    issuer_input, kb_input = _signing_inputs(shape.presentation)
    issuer_pub = shape.issuer_pub
    pairs = []
    for holder, presentation in zip(shape.holders, shape.presentations, strict=True):
        issuer_in, kb_in = _signing_inputs(presentation)
        pairs.append(
            (
                shape.issuer.sign(issuer_in, _ECDSA),
                issuer_in,
                holder.public_key(),
                holder.sign(kb_in, _ECDSA),
                kb_in,
            )
        )
    next_pair = cycle(pairs).__next__

    def verify_both() -> None:
        issuer_sig, issuer_in, holder_pub, kb_sig, kb_in = next_pair()
        issuer_pub.verify(issuer_sig, issuer_in, _ECDSA)
        holder_pub.verify(kb_sig, kb_in, _ECDSA)

    # Informative only (the floor stays verify_both): the same two verifications with the
    # holder key loaded from its point each time, as a verifier must (cnf.jwk, RFC 7800).
    points = cycle(
        [
            (holder.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint), *pair)
            for holder, pair in zip(shape.holders, pairs, strict=True)
        ]
    ).__next__

    def verify_both_loading_the_holder_key() -> None:
        point, issuer_sig, issuer_in, _, kb_sig, kb_in = points()
        issuer_pub.verify(issuer_sig, issuer_in, _ECDSA)
        holder_pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        holder_pub.verify(kb_sig, kb_in, _ECDSA)

    return {
        "issue": lambda: shape.issuer.sign(issuer_input, _ECDSA),
        "present": lambda: shape.holder.sign(kb_input, _ECDSA),
        "verify": verify_both,
        "verify_key_load": verify_both_loading_the_holder_key,
    }


def _b64(text: str) -> bytes:
    return pybase64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _der(signature: bytes) -> bytes:
    return encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )


def _bare_verify(presentation: str, issuer_pub: ec.EllipticCurvePublicKey) -> dict[str, Any]:
    """The least work a verifier of these presentations must do, and nothing more.

    Both signatures (the holder key loaded from ``cnf.jwk``), the header and payload of
    both JWTs decoded, each disclosure hashed, decoded and placed, ``sd_hash`` computed and
    compared with ``nonce`` and ``aud``, on the fastest primitives of the stack (pybase64,
    the json module's C scanner without hooks, hashlib) and batched as honnin batches them:
    the digests base64-encoded in one call, the disclosures parsed as one JSON array. No
    check beyond those comparisons: no duplicate names, no depth, no digest uniqueness, no
    alg allow-list, no claim types, no time window, top-level disclosures only (the shapes
    here have no others). A lower bound for a verifier on these libraries, not a verifier.
    """
    issued, _, kb_jwt = presentation.rpartition("~")
    jwt, *disclosures = issued.split("~")
    header, payload, signature = jwt.split(".")
    json.loads(_b64(header))
    issuer_pub.verify(_der(_b64(signature)), f"{header}.{payload}".encode(), _ECDSA)
    claims: dict[str, Any] = json.loads(_b64(payload))
    digests = set(claims.pop("_sd"))
    claims.pop("_sd_alg")
    # SHA-256 digests are 32 bytes: each padded to 33 is exactly 44 base64 characters.
    joined = pybase64.urlsafe_b64encode(
        b"\0".join(hashlib.sha256(d.encode()).digest() for d in disclosures) + b"\0"
    ).decode()
    values = json.loads(b"[" + b",".join(map(_b64, disclosures)) + b"]")
    for index, (_, name, value) in enumerate(values):
        if joined[44 * index : 44 * index + 43] in digests:
            claims[name] = value
    jwk = claims["cnf"]["jwk"]
    holder_pub = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), b"\x04" + _b64(jwk["x"]) + _b64(jwk["y"])
    )
    kb_header, kb_payload, kb_signature = kb_jwt.split(".")
    json.loads(_b64(kb_header))
    holder_pub.verify(_der(_b64(kb_signature)), f"{kb_header}.{kb_payload}".encode(), _ECDSA)
    kb = json.loads(_b64(kb_payload))
    sd_hash = pybase64.urlsafe_b64encode(hashlib.sha256(f"{issued}~".encode()).digest())
    if (kb["nonce"], kb["aud"], kb["sd_hash"]) != (NONCE, AUD, sd_hash.rstrip(b"=").decode()):
        raise AssertionError("the bare verifier rejects a valid presentation")
    return claims


def _bare(shape: _Shape) -> Callable[[], object]:
    """``_bare_verify`` over the same rotation of presentations as honnin's verify row."""
    for presentation in shape.presentations[:4]:
        expected = shape.verify_one(presentation)
        got = _bare_verify(presentation, shape.issuer_pub)
        if {k: got[k] for k in expected} != expected:
            raise AssertionError("the bare verifier and honnin disagree on the claims")
    next_presentation = cycle(shape.presentations).__next__
    issuer_pub = shape.issuer_pub
    return lambda: _bare_verify(next_presentation(), issuer_pub)


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

    def issue_for(holder: Any) -> str:
        return str(SDJWTIssuer(user_claims, issuer_jwk, holder).sd_jwt_issuance)

    def issue() -> str:
        return issue_for(holder_jwk)

    holder = SDJWTHolder(issue())

    def present() -> str:
        holder.create_presentation(to_disclose, NONCE, AUD, holder_jwk)
        return str(holder.sd_jwt_presentation)

    def present_new(key: ec.EllipticCurvePrivateKey) -> str:
        jwk = JWK(**jwk_from_private_key(key))
        new_holder = SDJWTHolder(issue_for(jwk))
        new_holder.create_presentation(to_disclose, NONCE, AUD, jwk)
        return str(new_holder.sd_jwt_presentation)

    # The verifier's traffic, as for honnin: one presentation per credential and holder key.
    next_presentation = cycle([present_new(key) for key in shape.holders]).__next__

    def verify_one(presentation: str) -> Any:
        return SDJWTVerifier(
            presentation, lambda iss, header: issuer_jwk, AUD, NONCE
        ).get_verified_payload()

    def verify() -> Any:
        return verify_one(next_presentation())

    expected = shape.verify_one(shape.presentation)
    got = verify_one(present())
    if {k: got[k] for k in shape.disclose} != {k: expected[k] for k in shape.disclose}:
        raise AssertionError("peer and honnin disagree on the verified claims")
    return {"issue": issue, "present": present, "verify": verify}


_TARGETS = {
    "issue": ">=3x faster than sd-jwt",
    "present": ">=6x faster than sd-jwt",
    "verify": "<=1.5x floor, >=3x faster than sd-jwt",
}


def _met(step: str, ours: Timing, floor: Timing, peer: Timing | None) -> bool | None:
    speedup = peer.cpu_us / ours.cpu_us if peer else None
    if step == "issue":
        return None if speedup is None else speedup >= 3
    if step == "present":
        return None if speedup is None else speedup >= 6
    within_floor = ours.cpu_us <= 1.5 * floor.cpu_us
    return within_floor if speedup is None else within_floor and speedup >= 3


def run(quick: bool) -> list[Row]:
    """Median times of issue / present / verify for honnin, the floor and the peer."""
    samples, min_time, rotation = (5, 0.01, 64) if quick else (31, 0.04, _ROTATION)
    rows: list[Row] = []
    for claims, disclosed in ((20, 5), (100, 25)):
        shape = _Shape(claims, disclosed, rotation)
        floor = _floor(shape)
        peer = _peer(shape)
        ours = {"issue": shape.issue, "present": shape.present, "verify": shape.verify}
        for step in ("issue", "present", "verify"):
            honnin_t, floor_t, peer_t, loading_t = alternated(
                [
                    ours[step],
                    floor[step],
                    peer[step] if peer else None,
                    floor["verify_key_load"] if step == "verify" else None,
                ],
                samples=samples,
                min_time=min_time,
            )
            assert honnin_t is not None and floor_t is not None
            extra: dict[str, Any] = {
                "clock": "thread CPU time (wall in *_wall_us)",
                "honnin_wall_us": honnin_t.wall_us,
                "floor_wall_us": floor_t.wall_us,
                "peer_wall_us": peer_t.wall_us if peer_t else None,
                "samples": samples,
                "presentation_bytes": len(shape.presentation),
            }
            if step == "verify":
                extra["rotation"] = rotation
                if loading_t is not None:
                    extra["floor_with_holder_key_load_us"] = loading_t.cpu_us
            met = _met(step, honnin_t, floor_t, peer_t)
            if met is not None:
                extra["met"] = met
            rows.append(
                Row(
                    group=shape.name,
                    step=step,
                    honnin_us=honnin_t.cpu_us,
                    floor_us=floor_t.cpu_us,
                    peer="sd-jwt 0.10.4" if peer else None,
                    peer_us=peer_t.cpu_us if peer_t else None,
                    target=_TARGETS[step],
                    extra=extra,
                )
            )
        rows.append(_bare_row(shape, floor, peer, samples, min_time, rotation))
    return rows


def _bare_row(
    shape: _Shape,
    floor: dict[str, Callable[[], object]],
    peer: dict[str, Callable[[], object]] | None,
    samples: int,
    min_time: float,
    rotation: int,
) -> Row:
    """The bare minimum of a verification, against the same floor and peer in the same run."""
    bare_t, floor_t, peer_t = alternated(
        [_bare(shape), floor["verify"], peer["verify"] if peer else None],
        samples=samples,
        min_time=min_time,
    )
    assert bare_t is not None and floor_t is not None
    return Row(
        group=shape.name,
        step="verify, bare minimum (no checks)",
        honnin_us=bare_t.cpu_us,
        floor_us=floor_t.cpu_us,
        peer="sd-jwt 0.10.4" if peer_t else None,
        peer_us=peer_t.cpu_us if peer_t else None,
        target="(record: lower bound for any pure-Python verifier)",
        extra={
            "clock": "thread CPU time (wall in *_wall_us)",
            "bare_wall_us": bare_t.wall_us,
            "floor_wall_us": floor_t.wall_us,
            "peer_wall_us": peer_t.wall_us if peer_t else None,
            "samples": samples,
            "rotation": rotation,
        },
    )
