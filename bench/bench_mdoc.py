"""ISO mdoc (ISO/IEC 18013-5): issue, issuer-data verification, DeviceResponse verification.

Compared in the same run with the crypto floor (raw ES256 with ``cryptography``: one
signature to issue, one verification of the MSO signature, two verifications for a
DeviceResponse: issuerAuth and deviceSignature) and with PyPI ``pymdoccbor`` (imported
lazily: it is installed only in the bench environment; pymdoccbor 1.4 runs on the same
cbor2 6 as honnin, so it runs in this process).

Shapes: an mdoc of 20 elements in one namespace; the DeviceResponse discloses 5 of them.
Every step validates the issuer chain to the IACA-style root (honnin caches the
time-independent part of chain validation per chain; pymdoccbor re-verifies the document
signer certificate on every call). The issuer-data step goes through a rotating set of
issued mdocs and the DeviceResponse step through as many responses, each with its own
device key, as a wallet and a verifier see them; the floor verifies the same signatures
of the same rotation with the keys already loaded. pymdoccbor verifies its own mdoc of the
same shape (it caches nothing between calls) and has no DeviceResponse/device-signature
verification, so that row has no peer.

A verifier sees thousands of MSOs signed under the same document signer certificate, so
the warm chain cache is the steady state of the two verification rows. The "cold" row shows
the other case, the first MSO of an issuer never seen before: before every call honnin's
per-issuer caches (parsed certificates, validated chains, document signer keys) are
emptied, so the certificate is parsed and the chain validated from scratch; its floor adds
the one certificate signature verification (root over document signer) to the MSO's.

The two "bare minimum" rows are the least work any verifier of the same bytes must do in
Python on the same libraries, with no checks at all (see ``_bare_issuer`` and
``_bare_response``): they bound from below what a pure-Python verifier can reach against
pymdoccbor and against the floor.

Every figure is the median of alternated samples (honnin, floor, peer in turn, see
``bench._sampling``) on thread CPU time; the ratios use CPU time. Wall medians of the same
samples are in each row's ``extra`` (``*_wall_us``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import cycle
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from bench._harness import Row
from bench._sampling import alternated
from honnin import cbor
from honnin.cose import cose_key_from_public_key
from honnin.jose import generate_key
from honnin.mdoc import (
    device_authentication_bytes,
    issue_mdoc,
    openid4vp_session_transcript,
    present,
    verify_device_response,
    verify_issuer_signed,
)
from honnin.mdoc._verify import forget_document_signers
from honnin.trust import make_test_pki
from honnin.trust._certificates import certificate_from_der
from honnin.trust._chain import forget_validations

DOCTYPE = "org.iso.18013.5.1.mDL"
NS = "org.iso.18013.5.1"
ELEMENTS = {f"element_{i:02d}": f"value number {i} of the benchmark mdoc" for i in range(20)}
DISCLOSED = [f"element_{i:02d}" for i in (1, 5, 9, 13, 17)]
TRANSCRIPT = openid4vp_session_transcript(
    "x509_san_dns:verifier.example", "bench-nonce-0123456789abcdef", "https://verifier.example/r"
)
_ECDSA = ec.ECDSA(hashes.SHA256())
_RESPONSES = 64


class _Setup:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)
        self.pki = make_test_pki(["Bench DMV"], now=self.now - timedelta(hours=1))
        self.issuer = self.pki.issuer("Bench DMV")
        self.anchors = [self.pki.root.certificate]
        self.holder = generate_key()
        self.mdoc = self.issue()
        self.issuer_signed = self.mdoc.encode()
        # The traffic: as many mdocs, each bound to its own device key, and one response each.
        self.holders = [generate_key() for _ in range(_RESPONSES)]
        self.issued = [self.issue(holder) for holder in self.holders]
        self.issued_bytes = [mdoc.encode() for mdoc in self.issued]
        self.responses = [
            present(mdoc, holder, TRANSCRIPT, elements={NS: DISCLOSED})
            for mdoc, holder in zip(self.issued, self.holders, strict=True)
        ]
        self._next = cycle(self.responses)
        self._next_issued = cycle(self.issued_bytes)

    def issue(self, holder: Any = None) -> Any:
        return issue_mdoc(
            DOCTYPE,
            {NS: ELEMENTS},
            self.issuer.private_key,
            list(self.issuer.chain),
            (holder or self.holder).public_key(),
            valid_from=self.now,
            valid_until=self.now + timedelta(days=365),
            signed=self.now,
        )

    def issue_bytes(self) -> bytes:
        return bytes(self.issue().encode())

    def verify_issuer(self) -> object:
        return verify_issuer_signed(next(self._next_issued), trust_anchors=self.anchors)

    def verify_issuer_cold(self) -> object:
        """The first MSO of a new issuer: nothing about its certificate is known yet."""
        certificate_from_der.cache_clear()
        forget_validations()
        forget_document_signers()
        return verify_issuer_signed(next(self._next_issued), trust_anchors=self.anchors)

    def verify_response(self) -> object:
        return verify_device_response(
            next(self._next), trust_anchors=self.anchors, session_transcript=TRANSCRIPT
        )


def _der_signature(raw: bytes) -> bytes:
    half = len(raw) // 2
    return encode_dss_signature(
        int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
    )


def _sign1_tbs(protected: bytes, payload: bytes) -> bytes:
    """Sig_structure for COSE_Sign1 without external AAD (RFC 9052 §4.4)."""
    return b"\x84\x6aSignature1" + cbor.encode(protected) + b"\x40" + cbor.encode(payload)


def _floor(setup: _Setup) -> dict[str, Callable[[], object]]:
    """Raw ES256 over the same bytes honnin signs and verifies, with the keys loaded."""
    key = setup.issuer.private_key
    pub = key.public_key()
    issuer_auth = setup.mdoc.issuer_auth
    tbs = _sign1_tbs(issuer_auth.protected_bytes, issuer_auth.payload)
    mso_checks = []
    for mdoc in setup.issued:
        auth = mdoc.issuer_auth
        mso_checks.append(
            (_der_signature(auth.signature), _sign1_tbs(auth.protected_bytes, auth.payload))
        )
    response_checks = []
    for response, holder in zip(setup.responses, setup.holders, strict=True):
        document = cbor.decode(response)["documents"][0]
        protected, _, payload, signature = document["issuerSigned"]["issuerAuth"]
        device_tbs = _sign1_tbs(
            document["deviceSigned"]["deviceAuth"]["deviceSignature"][0],
            device_authentication_bytes(
                TRANSCRIPT, DOCTYPE, document["deviceSigned"]["nameSpaces"]
            ),
        )
        device_sig = document["deviceSigned"]["deviceAuth"]["deviceSignature"][3]
        response_checks.append(
            (
                _der_signature(signature),
                _sign1_tbs(protected, payload),
                holder.public_key(),
                _der_signature(device_sig),
                device_tbs,
            )
        )
    next_mso = cycle(mso_checks).__next__
    next_response = cycle(response_checks).__next__

    def verify_mso() -> None:
        signature, data = next_mso()
        pub.verify(signature, data, _ECDSA)

    certificate = setup.issuer.certificate
    root_pub = setup.pki.root.certificate.public_key()
    assert isinstance(root_pub, ec.EllipticCurvePublicKey)
    assert certificate.signature_hash_algorithm is not None
    certificate_ecdsa = ec.ECDSA(certificate.signature_hash_algorithm)

    def verify_mso_and_certificate() -> None:
        signature, data = next_mso()
        pub.verify(signature, data, _ECDSA)
        root_pub.verify(certificate.signature, certificate.tbs_certificate_bytes, certificate_ecdsa)

    def verify_both() -> None:
        mso_sig, mso_tbs, holder_pub, device_sig, device_tbs = next_response()
        pub.verify(mso_sig, mso_tbs, _ECDSA)
        holder_pub.verify(device_sig, device_tbs, _ECDSA)

    return {
        "issue": lambda: key.sign(tbs, _ECDSA),
        "verify issuer": verify_mso,
        "verify issuer cold": verify_mso_and_certificate,
        "verify response": verify_both,
    }


def _bare_issuer(
    data: bytes, known_signer: bytes, signer: ec.EllipticCurvePublicKey
) -> tuple[dict[str, Any], Any]:
    """The least work of issuer data authentication, and nothing more (see the module doc).

    cbor2 decodes with no options; the chain check is one byte comparison of the x5chain
    certificate with a document signer already trusted; the MSO signature; the MSO decoded
    (cbor2's own tdate decoder); every item hashed over its tag-24 bytes, compared with its
    digest and decoded, all items in one decoder call; validity compared with the clock.
    No shape, type, profile, duplicate-key, algorithm or doctype check.
    """
    return _bare_issuer_signed(cbor2.loads(data), known_signer, signer)


def _bare_issuer_signed(
    issuer_signed: dict[str, Any], known_signer: bytes, signer: ec.EllipticCurvePublicKey
) -> tuple[dict[str, Any], Any]:
    protected, unprotected, payload, signature = issuer_signed["issuerAuth"]
    if unprotected[33] != known_signer:
        raise AssertionError("unknown document signer")
    signer.verify(_der_signature(signature), _sign1_tbs(protected, payload), _ECDSA)
    mso = cbor2.loads(cbor2.loads(payload).value)
    elements: dict[str, Any] = {}
    for ns, items in issuer_signed["nameSpaces"].items():
        digests = mso["valueDigests"][ns]
        contents = [item.value for item in items]
        decoded = cbor2.loads(cbor.head(4, len(contents)) + b"".join(contents))
        for content, item in zip(contents, decoded, strict=True):
            tagged = b"\xd8\x18" + cbor.bstr_header(len(content)) + content
            if digests[item["digestID"]] != hashlib.sha256(tagged).digest():
                raise AssertionError("digest mismatch")
            elements[item["elementIdentifier"]] = item["elementValue"]
    now = datetime.now(UTC)
    validity = mso["validityInfo"]
    if not validity["validFrom"] <= now <= validity["validUntil"]:
        raise AssertionError("outside validity")
    return elements, mso


def _bare_response(
    data: bytes, known_signer: bytes, signer: ec.EllipticCurvePublicKey, transcript: bytes
) -> dict[str, Any]:
    """``_bare_issuer`` on the one Document of a DeviceResponse, then the device signature:
    the device key from its COSE_Key coordinates, DeviceAuthenticationBytes spliced from the
    verifier's transcript and the received DeviceNameSpacesBytes."""
    document = cbor2.loads(data)["documents"][0]
    issuer_signed = document["issuerSigned"]
    elements, mso = _bare_issuer_signed(issuer_signed, known_signer, signer)
    device_key = mso["deviceKeyInfo"]["deviceKey"]
    holder = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), b"\x04" + device_key[-2] + device_key[-3]
    )
    namespaces = document["deviceSigned"]["nameSpaces"].value
    inner = b"".join(
        (
            b"\x84\x74DeviceAuthentication",
            transcript,
            cbor2.dumps(document["docType"]),
            b"\xd8\x18" + cbor.bstr_header(len(namespaces)) + namespaces,
        )
    )
    device_auth = b"\xd8\x18" + cbor.bstr_header(len(inner)) + inner
    protected, _, _, signature = document["deviceSigned"]["deviceAuth"]["deviceSignature"]
    holder.verify(_der_signature(signature), _sign1_tbs(protected, device_auth), _ECDSA)
    return elements


def _bare(setup: _Setup) -> dict[str, Callable[[], object]]:
    """The bare minimum rows over the same rotations as honnin's verification rows."""
    known = setup.issuer.certificate.public_bytes(serialization.Encoding.DER)
    signer = setup.issuer.private_key.public_key()
    assert isinstance(signer, ec.EllipticCurvePublicKey)
    transcript = TRANSCRIPT.encoded
    expected = (
        verify_device_response(
            setup.responses[0], trust_anchors=setup.anchors, session_transcript=TRANSCRIPT
        )
        .documents[0]
        .elements[NS]
    )
    if _bare_response(setup.responses[0], known, signer, transcript) != dict(expected):
        raise AssertionError("the bare verifier and honnin disagree on the elements")
    next_issued = cycle(setup.issued_bytes).__next__
    next_response = cycle(setup.responses).__next__
    return {
        "verify issuer bare": lambda: _bare_issuer(next_issued(), known, signer)[0],
        "verify response bare": lambda: _bare_response(next_response(), known, signer, transcript),
    }


def _peer(setup: _Setup) -> dict[str, Callable[[], object]] | None:
    """pymdoccbor's issue and verify (issuerAuth signature, chain to the root, all digests)."""
    try:
        from pymdoccbor.mdoc.issuer import MdocCborIssuer
        from pymdoccbor.mdoc.verifier import MdocCbor
    except ImportError:
        return None
    logging.getLogger("pymdoccbor").disabled = True
    numbers = setup.issuer.private_key.private_numbers()
    private_key = {
        "KTY": "EC2",
        "CURVE": "P_256",
        "ALG": "ES256",
        "D": numbers.private_value.to_bytes(32, "big"),
        "KID": b"bench",
    }
    holder = cose_key_from_public_key(setup.holder)
    device_key = {"KTY": "EC2", "CURVE": "P_256", "X": holder[-2], "Y": holder[-3]}
    issuer = MdocCborIssuer(private_key=private_key, alg="ES256")
    validity = {"issuance_date": setup.now.date().isoformat(), "expiry_date": "2099-12-31"}

    def issue() -> bytes:
        issuer.new(
            data={NS: dict(ELEMENTS)},
            doctype=DOCTYPE,
            validity=validity,
            devicekeyinfo=device_key,
            x509_chain=[setup.issuer.certificate],
        )
        return bytes(issuer.dump())

    issued = issue()

    def verify() -> object:
        mdoc = MdocCbor()
        mdoc.loads(issued)
        if not mdoc.verify(trusted_root_certs=setup.anchors, verify_hashes=True):
            raise AssertionError("pymdoccbor rejected its own mdoc")
        return mdoc

    verify()
    return {"issue": issue, "verify issuer": verify, "verify issuer cold": verify}


_TARGETS = {
    "issue": ">=15x faster than pymdoccbor",
    "verify issuer": ">=15x faster than pymdoccbor",
    "verify issuer cold": "(record: first MSO of a new issuer)",
    "verify response": "<=1.5x floor (2 ECDSA verifications)",
    "verify issuer bare": "(record: lower bound for any pure-Python verifier)",
    "verify response bare": "(record: lower bound for any pure-Python verifier)",
}
_STEPS = {
    "issue": "issue 20 elements",
    "verify issuer": "issuerAuth + chain + 20 digests",
    "verify issuer cold": "same, chain cold (new issuer)",
    "verify response": "DeviceResponse 5/20, issuer + device sig",
    "verify issuer bare": "issuerAuth + 20 digests, bare minimum (no checks)",
    "verify response bare": "DeviceResponse 5/20, bare minimum (no checks)",
}


def run(quick: bool) -> list[Row]:
    """Median times of issue / issuer verification / DeviceResponse verification."""
    samples, min_time = (5, 0.01) if quick else (31, 0.04)
    setup = _Setup()
    floor = _floor(setup)
    peer = _peer(setup)
    floor["verify issuer bare"] = floor["verify issuer"]
    floor["verify response bare"] = floor["verify response"]
    if peer is not None:
        peer["verify issuer bare"] = peer["verify issuer"]
    ours: dict[str, Callable[[], object]] = {
        "issue": setup.issue_bytes,
        "verify issuer": setup.verify_issuer,
        "verify issuer cold": setup.verify_issuer_cold,
        "verify response": setup.verify_response,
        **_bare(setup),
    }
    rows: list[Row] = []
    for step, label in _STEPS.items():
        peer_fn = peer.get(step) if peer else None
        honnin_t, floor_t, peer_t = alternated(
            [ours[step], floor[step], peer_fn], samples=samples, min_time=min_time
        )
        assert honnin_t is not None and floor_t is not None
        extra: dict[str, Any] = {
            "clock": "thread CPU time (wall in *_wall_us)",
            "honnin_wall_us": honnin_t.wall_us,
            "floor_wall_us": floor_t.wall_us,
            "peer_wall_us": peer_t.wall_us if peer_t else None,
            "samples": samples,
            "issuer_signed_bytes": len(setup.issuer_signed),
            "device_response_bytes": len(setup.responses[0]),
        }
        if step in ("verify issuer cold", "verify issuer bare", "verify response bare"):
            pass  # recorded, no target
        elif peer_t is not None:
            extra["met"] = peer_t.cpu_us / honnin_t.cpu_us >= 15
        elif step == "verify response":
            extra["met"] = honnin_t.cpu_us <= 1.5 * floor_t.cpu_us
        rows.append(
            Row(
                group="mdoc 20 elements",
                step=label,
                honnin_us=honnin_t.cpu_us,
                floor_us=floor_t.cpu_us,
                peer="pymdoccbor" if peer_fn else None,
                peer_us=peer_t.cpu_us if peer_t else None,
                target=_TARGETS[step],
                extra=extra,
            )
        )
    return rows
