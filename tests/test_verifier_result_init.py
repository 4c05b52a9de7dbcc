"""The verifier's result types keep their dataclass contract with their hand-written
``__init__`` (which stores fields without ``object.__setattr__``, for speed)."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

from verifier import VerificationResult, VerifiedCredential
from verifier._result import CredentialError, FlaggedClaim, TrustDecision

TRUST = TrustDecision("CN=Issuer", "CN=Root", "ab" * 32, "anchor")
CREDENTIAL = {
    "query_id": "slip",
    "format": "dc+sd-jwt",
    "credential_type": "withholding-slip",
    "type_value": "https://honnin.example/vct/withholding-slip/v1",
    "issuer": "https://issuer.example",
    "issuer_name": "Example Corp",
    "trust": TRUST,
    "claims": {"payment_amount": 5_000_000},
    "status": "valid",
    "holder_binding": True,
}


def _result(**changes: Any) -> VerificationResult:
    return VerificationResult(
        **{"verified": True, "transaction_id": "t",
           "credentials": {"slip": (VerifiedCredential(**CREDENTIAL),)}, **changes}
    )  # fmt: skip


@pytest.mark.parametrize("cls", [VerifiedCredential, VerificationResult])
def test_init_takes_exactly_the_fields_with_their_defaults(cls: Any) -> None:
    parameters = list(inspect.signature(cls).parameters.values())
    assert [p.name for p in parameters] == [f.name for f in dataclasses.fields(cls)]
    for parameter, spec in zip(parameters, dataclasses.fields(cls), strict=True):
        expected = inspect.Parameter.empty if spec.default is dataclasses.MISSING else spec.default
        assert parameter.default == expected


def test_verified_credential_fields_and_frozen() -> None:
    credential = VerifiedCredential(**CREDENTIAL)
    assert {f.name: getattr(credential, f.name) for f in dataclasses.fields(credential)} == (
        CREDENTIAL
    )
    assert credential == dataclasses.replace(credential)
    assert VerifiedCredential.from_json(credential.to_json()) == credential
    with pytest.raises(dataclasses.FrozenInstanceError):
        credential.status = "revoked"  # type: ignore[misc]


def test_verification_result_fields_defaults_and_frozen() -> None:
    result = _result()
    assert (result.errors, result.flagged, result.verified_at, result.wallet_error) == (
        (), (), 0.0, None
    )  # fmt: skip
    assert result["payment_amount"] == 5_000_000
    full = _result(
        errors=(CredentialError("claims_missing", "m", "slip", 0),),
        flagged=(FlaggedClaim("slip", "my_number"),),
        verified_at=12.5,
        wallet_error="access_denied",
        _labels=lambda type_id, key, language: f"{key}:{language}",
    )
    assert VerificationResult.from_json(full.to_json()) == full  # _labels is compare=False
    assert full.form("en") == [("payment_amount:en", 5_000_000)]
    assert dataclasses.replace(full, verified=False).verified is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.verified = False  # type: ignore[misc]
