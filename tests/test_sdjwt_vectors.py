"""Every SD-JWT vector verifies to its expected processed payload, and honnin's own
issuance of each vector's inputs, presented with the same choice, verifies to the same.

Vectors: ../shared/vectors/sd-jwt (reference-implementation cases, RFC 9901 examples,
the OpenID4VP 1.0 example, disclosure digests) and ../shared/vectors/sd-jwt-vc.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

import pytest
import yaml
from vectors import load_json, vector_path

from honnin.jose import (
    PrivateKey,
    PublicKey,
    generate_key,
    parse_jws,
    private_key_from_jwk,
    sign_jws,
)
from honnin.sdjwt import (
    ClaimPath,
    Disclosure,
    HashAlgorithm,
    KeyBinding,
    SdJwt,
    Serialization,
    issue_sd_jwt,
    parse_sd_jwt,
    receive_sd_jwt,
    verify_sd_jwt,
)

#: The KB-JWT ``iat`` of every generated vector (vectors README §1a): the pinned clock.
VECTOR_NOW = 1795730286


@dataclass(frozen=True)
class Sd:
    """A value or key marked ``!sd`` in a vector's ``specification.yml``."""

    value: Any


class _SpecLoader(yaml.SafeLoader):
    pass


def _construct_sd(loader: yaml.SafeLoader, node: yaml.Node) -> Sd:
    if isinstance(node, yaml.ScalarNode):
        # The custom tag hides the implicit type (42, true, null); resolve it as YAML would.
        plain = node.style in (None, "")
        tag = loader.resolve(yaml.ScalarNode, node.value, (plain, not plain))
        inner = yaml.ScalarNode(tag, node.value, node.start_mark, node.end_mark, node.style)
        return Sd(loader.construct_object(inner, deep=True))
    if isinstance(node, yaml.SequenceNode):
        return Sd(loader.construct_sequence(node, deep=True))
    assert isinstance(node, yaml.MappingNode)
    return Sd(loader.construct_mapping(node, deep=True))


_SpecLoader.add_constructor("!sd", _construct_sd)


def load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_SpecLoader)


def split_sd_marks(value: Any, path: ClaimPath = ()) -> tuple[Any, list[ClaimPath]]:
    """Plain claims and the disclosable claim paths of a ``user_claims`` tree with ``!sd``."""
    marked: list[ClaimPath] = []
    if isinstance(value, Sd):
        plain, inner = split_sd_marks(value.value, path)
        return plain, [path, *inner]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = key.value if isinstance(key, Sd) else key
            plain, inner = split_sd_marks(item, (*path, name))
            out[name] = plain
            if isinstance(key, Sd):
                marked.append((*path, name))
            marked.extend(inner)
        return out, marked
    if isinstance(value, list):
        items = []
        for index, item in enumerate(value):
            plain, inner = split_sd_marks(item, (*path, index))
            items.append(plain)
            marked.extend(inner)
        return items, marked
    return value, marked


def reference_selection(credential: SdJwt, spec: Any) -> list[Disclosure]:
    """The disclosures the reference implementation releases for ``holder_disclosed_claims``.

    Its rule: a selectively disclosable claim is released when its entry is truthy; ``True``
    on an object or array releases it without the disclosable claims inside it.
    """
    by_digest = {d.digest: d for d in credential.disclosures}
    out: list[Disclosure] = []

    def walk(node: Any, wanted: Any) -> None:
        if isinstance(node, list):
            if wanted is None:
                return
            wanted = [] if wanted is True else wanted
            for want, element in zip_longest(wanted, node):
                if isinstance(element, dict) and set(element) == {"..."}:
                    found = by_digest.get(element["..."])
                    if found is None or want in (False, None):
                        continue
                    out.append(found)
                    walk(found.value, want)
                else:
                    walk(element, want)
        elif isinstance(node, dict):
            if wanted is None:
                return
            wanted = {} if wanted is True else wanted
            for key, value in node.items():
                if key != "_sd":
                    walk(value, wanted.get(key))
                    continue
                for digest in value:
                    found = by_digest.get(digest)
                    if found is None:
                        continue
                    assert found.name is not None
                    if wanted.get(found.name):
                        out.append(found)
                    walk(found.value, wanted.get(found.name))

    walk(credential.payload, spec)
    return out


@dataclass(frozen=True)
class Case:
    folder: Path
    spec: dict[str, Any]
    settings: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.folder.parent.name}/{self.folder.name}"

    def _keys(self) -> dict[str, Any]:
        override = self.spec.get("settings_override", {})
        keys: dict[str, Any] = dict(self.settings["key_settings"])
        keys.update(override.get("key_settings", override))
        return keys

    def issuer_private(self) -> PrivateKey:
        keys = self._keys()
        jwk = (keys.get("issuer_keys") or [keys.get("issuer_key")])[0]
        return private_key_from_jwk({k: jwk[k] for k in ("kty", "crv", "x", "y", "d")})

    def issuer_public(self) -> PublicKey:
        return self.issuer_private().public_key()

    def holder_private(self) -> PrivateKey:
        jwk = self._keys()["holder_key"]
        return private_key_from_jwk({k: jwk[k] for k in ("kty", "crv", "x", "y", "d")})

    def file(self, name: str) -> Path:
        return self.folder / name

    def presentation(self) -> str:
        for name in ("sd_jwt_presentation.txt", "sd_jwt_presentation.json"):
            path = self.file(name)
            if path.exists():
                text = path.read_text(encoding="utf-8")
                if name.endswith(".json"):
                    return json.dumps(json.loads(text))
                # The OpenID4VP example wraps its presentation over lines for display.
                return "".join(text.split())
        raise AssertionError(f"{self.name} has no presentation")

    def issuance(self) -> str:
        for name in ("sd_jwt_issuance.txt", "sd_jwt_issuance.json"):
            path = self.file(name)
            if path.exists():
                text = path.read_text(encoding="utf-8")
                if name.endswith(".json"):
                    return json.dumps(json.loads(text))
                return "".join(text.split())
        raise AssertionError(f"{self.name} has no issuance")

    def kb_expectation(self) -> dict[str, Any] | None:
        path = self.file("kb_jwt_payload.json")
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def expected(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.file("verified_contents.json").read_text("utf-8"))
        return result


def _cases(*folders: str) -> list[Case]:
    cases = []
    for folder in folders:
        root = vector_path(*folder.split("/"))
        settings_file = root / "settings.yml"
        for sub in sorted(p for p in root.iterdir() if p.is_dir()):
            settings = load_yaml(settings_file if settings_file.exists() else sub / "settings.yml")
            cases.append(Case(sub, load_yaml(sub / "specification.yml"), settings))
    return cases


_OPENID4VP = vector_path("sd-jwt", "openid4vp-1.0-sd-jwt-vcld-01")
SD_JWT_CASES = [
    *_cases("sd-jwt/reference-impl-testcases", "sd-jwt/rfc9901-examples"),
    Case(
        _OPENID4VP,
        load_yaml(_OPENID4VP / "specification.yml"),
        load_yaml(_OPENID4VP / "settings.yml"),
    ),
]
SD_JWT_VC_CASES = _cases("sd-jwt-vc/draft-examples")
ALL_CASES = SD_JWT_CASES + SD_JWT_VC_CASES


def verify_case(case: Case, presentation: str) -> Any:
    kb = case.kb_expectation()
    if kb is None:
        return verify_sd_jwt(
            presentation, case.issuer_public(), key_binding=KeyBinding.FORBIDDEN, now=VECTOR_NOW
        )
    return verify_sd_jwt(
        presentation,
        case.issuer_public(),
        key_binding=KeyBinding.REQUIRED,
        nonce=kb["nonce"],
        aud=kb["aud"],
        now=kb["iat"],
    )


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.name)
def test_vector_presentation_verifies_to_expected_payload(case: Case) -> None:
    verified = verify_case(case, case.presentation())
    assert verified.claims == case.expected()
    assert (verified.key_binding is not None) == (case.kb_expectation() is not None)
    if verified.key_binding is not None:
        assert verified.key_binding.claims == case.kb_expectation()


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.name)
def test_vector_issuance_is_received_with_every_claim(case: Case) -> None:
    credential = receive_sd_jwt(case.issuance(), case.issuer_public(), now=VECTOR_NOW)
    user_claims = json.loads(case.file("user_claims.json").read_text(encoding="utf-8"))
    for name, value in user_claims.items():
        assert credential.claims[name] == value
    assert credential.payload == json.loads(case.file("sd_jwt_payload.json").read_text("utf-8"))


@pytest.mark.parametrize(
    "case", [c for c in ALL_CASES if "expect_verified_user_claims" in c.spec], ids=lambda c: c.name
)
def test_expect_verified_user_claims(case: Case) -> None:
    claims = dict(verify_case(case, case.presentation()).claims)
    for harness_claim in ("iss", "iat", "exp", "cnf"):  # added by the vector generator
        claims.pop(harness_claim, None)
    assert claims == case.spec["expect_verified_user_claims"]


def _own_issuance(case: Case, serialization: Serialization) -> str:
    claims, marked = split_sd_marks(case.spec["user_claims"])
    base: dict[str, Any] = {}
    if case.spec.get("include_default_claims", True):
        base = {
            "iss": case.settings["identifiers"]["issuer"],
            "iat": case.settings["iat"],
            "exp": case.settings["exp"],
        }
    header = dict(case.spec.get("extra_header_parameters", {}))
    holder = case.holder_private().public_key() if case.spec.get("key_binding") else None
    return issue_sd_jwt(
        {**base, **claims},
        case.issuer_private(),
        disclosable=marked,
        holder_key=holder,
        header=header,
        decoys=2 if case.spec.get("add_decoy_claims") else 0,
        serialization=serialization,
    )


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.name)
def test_own_issuance_presented_the_same_way_verifies_the_same(case: Case) -> None:
    serialization = (
        Serialization.JSON_FLATTENED
        if case.spec.get("serialization_format") == "json"
        else Serialization.COMPACT
    )
    token = _own_issuance(case, serialization)
    credential = receive_sd_jwt(token, case.issuer_public(), now=VECTOR_NOW)
    chosen = reference_selection(credential, case.spec.get("holder_disclosed_claims", {}))
    kb = case.kb_expectation()
    if kb is None:
        presentation = credential.present_disclosures(chosen)
    else:
        presentation = credential.present_disclosures(
            chosen,
            holder_key=case.holder_private(),
            nonce=kb["nonce"],
            aud=kb["aud"],
            iat=kb["iat"],
        )
    assert verify_case(case, presentation).claims == case.expected()


def test_openid4vp_example_presents_exactly_one_disclosure() -> None:
    case = SD_JWT_CASES[-1]
    verified = verify_case(case, case.presentation())
    assert [d.path for d in verified.disclosures] == [("ld", "credentialSubject", "givenName")]
    assert verified.header["typ"] == "dc+sd-jwt"


def test_rfc_simple_example_digests_match_the_rfc_text() -> None:
    case = next(c for c in SD_JWT_CASES if c.name == "rfc9901-examples/simple")
    unverified = parse_sd_jwt(case.issuance())
    by_name = {d.name: d.digest for d in unverified.disclosures}
    assert by_name["given_name"] == "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4"


@pytest.mark.parametrize(
    "vector",
    load_json("sd-jwt", "rfc9901-disclosure-digest-vectors.json")["vectors"],
    ids=lambda v: v["source"],
)
def test_disclosure_digest_vectors(vector: dict[str, Any]) -> None:
    # A verifier hashes the base64url text as received and never canonicalizes (§4.2.3).
    jws = sign_jws({"_sd_alg": HashAlgorithm.SHA256.value}, generate_key())
    decoded = parse_sd_jwt(f"{jws}~{vector['disclosure']}~").disclosures[0]
    assert decoded.digest == vector["sha256_digest_b64url"]
    if decoded.name is None:
        assert [decoded.salt, decoded.value] == vector["decoded"]
    else:
        assert [decoded.salt, decoded.name, decoded.value] == vector["decoded"]


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.name)
def test_jws_part_is_the_issuer_signed_jwt(case: Case) -> None:
    compact = case.file("sd_jwt_jws_part.txt")
    if compact.exists():
        assert parse_sd_jwt(case.issuance()).issuer_jwt == "".join(compact.read_text().split())
    else:  # the JSON serialization's "JWS part" is the whole issued document
        document = json.loads(case.file("sd_jwt_jws_part.json").read_text(encoding="utf-8"))
        assert document == json.loads(case.issuance())


@pytest.mark.parametrize(
    "case", [c for c in ALL_CASES if c.kb_expectation() is not None], ids=lambda c: c.name
)
def test_kb_jwt_files_match_the_presentation(case: Case) -> None:
    kb_jwt = parse_sd_jwt(case.presentation()).kb_jwt
    assert kb_jwt == "".join(case.file("kb_jwt_serialized.txt").read_text().split())
    header = json.loads(case.file("kb_jwt_header.json").read_text(encoding="utf-8"))
    assert parse_jws(kb_jwt).header == header


def test_decoy_digests_are_signed_and_ignored() -> None:
    case = next(c for c in SD_JWT_CASES if c.name == "rfc9901-examples/simple_structured")
    decoys = json.loads(case.file("decoy_digests.json").read_text(encoding="utf-8"))
    credential = receive_sd_jwt(case.issuance(), case.issuer_public(), now=VECTOR_NOW)
    signed = json.dumps(credential.payload)
    assert all(d in signed for d in decoys)
    assert not {d.digest for d in credential.disclosures} & set(decoys)


def test_openid4vp_disclosure_table() -> None:
    # disclosures.md lists each disclosure (wrapped over lines) with its SHA-256 digest.
    text = (_OPENID4VP / "disclosures.md").read_text(encoding="utf-8")
    entries = re.findall(
        r"SHA-256 Hash: `([^`]+)`\s*\n \* Disclosure:\\\s*\n((?:`[^`]+`\\?\s*\n)+)", text
    )
    assert len(entries) == 3
    for digest, wrapped in entries:
        disclosure = "".join(re.findall(r"`([^`]+)`", wrapped))
        jws = sign_jws({"_sd_alg": "sha-256"}, generate_key())
        assert parse_sd_jwt(f"{jws}~{disclosure}~").disclosures[0].digest == digest
