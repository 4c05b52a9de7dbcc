"""Building the VP Token and the Authorization Response (OpenID4VP 1.0 §8, App. B).

Per approved Credential Query, one fresh copy is taken: an SD-JWT VC with exactly the
disclosures of the approved paths (never a withheld or unrequested one, WL-12) and a KB-JWT
whose ``aud`` is the full client_id, with the request's ``nonce`` and ``iat`` (App. B.3.6);
or an mdoc DeviceResponse with only the approved elements, device-signed over the OpenID4VP
SessionTranscript (client_id, nonce, the thumbprint of the verifier's encryption key or
null, response_uri; App. B.2.6.1). With ``direct_post.jwt`` the parameters are encrypted
to the verifier's key (ECDH-ES, §8.3). Copies are marked used before anything leaves the
wallet (HOSTILE-CASES WL-35). A KB-JWT also carries the hashes of the transaction data its
credential authorizes (OpenID4VP 1.0 §8.4, App. B.3.3; ``_transaction_data``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from honnin.encoding import b64url_decode, b64url_encode, json_dumps
from honnin.errors import InvalidRequest
from honnin.jose.jwe import encrypt_response
from honnin.mdoc import build_device_response, build_document, openid4vp_session_transcript
from honnin.sdjwt import SdJwt, Serialization

from ._consent import Approval
from ._holdings import CopyPolicy, HeldCopy, Holdings
from ._pseudonyms import PSEUDONYM_ID, Pseudonyms
from ._request import ResolvedRequest
from ._selection import MSO_MDOC, Planned, under
from ._signer import Signer
from ._signing import CoseSigner, build_kb_jwt
from ._transaction_data import transaction_data_claims

__all__ = ["PresentationResponse", "build_response"]


@dataclass(frozen=True)
class PresentationResponse:
    """An Authorization Response (OpenID4VP 1.0 §8.1), shaped like
    ``honnin.oid4vp.AuthorizationResponse``: ``vp_token`` by Credential Query id and
    ``state``; for ``direct_post.jwt`` also ``response``, the JWE to post instead.

    ``Verifier.verify`` takes it in process; ``Wallet.submit`` posts ``to_form()`` to
    ``response_uri``. Presentations are personal data: they stay out of ``repr``.
    """

    vp_token: Mapping[str, list[str]] = field(repr=False)
    state: str | None = field(repr=False)
    response_uri: str
    response_mode: str
    client_id: str
    response: str | None = field(default=None, repr=False)

    def to_form(self) -> dict[str, str]:
        """The form fields to post (§8.2 ``direct_post``; §8.3 ``direct_post.jwt``)."""
        if self.response is not None:
            return {"response": self.response}
        form = {"vp_token": json_dumps({k: list(v) for k, v in self.vp_token.items()})}
        if self.state is not None:
            form["state"] = self.state
        return form


def _sd_jwt_presentation(
    copy: HeldCopy,
    planned: Planned,
    withheld: tuple[Any, ...],
    signer: Signer,
    resolved: ResolvedRequest,
    iat: int,
    extra: Mapping[str, Any] | None,
) -> str:
    credential = SdJwt.parse(copy.credential)
    paths = list(dict.fromkeys(tuple(c.path) for c in planned.claims))
    chosen = [
        d
        for d in credential.select(paths)
        if not any(under(w, d.path) for w in withheld)  # spec/PROFILE.md §8
    ]
    hash_input = credential.present_disclosures(chosen, serialization=Serialization.COMPACT)
    request = resolved.request
    kb_jwt = build_kb_jwt(
        signer,
        hash_input,
        credential.hash_alg,
        nonce=request.nonce,
        aud=request.client_id,
        iat=iat,
        extra=extra,
    )
    return hash_input + kb_jwt


def _mdoc_presentation(
    copy: HeldCopy, planned: Planned, signer: Signer, resolved: ResolvedRequest
) -> str:
    elements: dict[str, list[str]] = {}
    for claim in planned.claims:
        namespace, element = str(claim.path[0]), str(claim.path[1])
        if element not in elements.setdefault(namespace, []):
            elements[namespace].append(element)
    request = resolved.request
    # App. B.2.6.1: the thumbprint of the key the response is encrypted to, or null.
    transcript = openid4vp_session_transcript(
        request.client_id,
        request.nonce,
        resolved.response_uri,
        encryption_jwk=resolved.encryption_jwk,
    )
    document = build_document(
        b64url_decode(copy.credential, what="mdoc credential"),
        transcript,
        device_signer=CoseSigner(signer),
        elements=elements,
    )
    return b64url_encode(build_device_response([document]))


def build_response(
    approval: Approval,
    holdings: Holdings,
    signer_of: Callable[[str], Signer],
    *,
    policy: CopyPolicy,
    now: float,
    pseudonyms: Pseudonyms | None = None,
) -> PresentationResponse:
    """Present ``approval`` (see the module docstring). The pseudonym, when approved, is a
    self-issued proof from ``pseudonyms`` (spec/PROFILE.md "Pairwise pseudonyms").

    Raises:
        NotFound: a credential has no copy left.
        PolicyViolation: the approval was presented already.
        UnsupportedAlgorithm / InvalidRequest: the verifier's encryption key is unusable.
    """
    approval.claim()
    resolved = approval.request
    bound = transaction_data_claims(
        resolved.transaction_data, resolved.transaction_data_strings, approval.plan.keys()
    )
    tag = holdings.verifier_tag(resolved.verifier.client_id)
    taken: list[HeldCopy] = []
    vp_token: dict[str, list[str]] = {}
    for query_id, planned in approval.plan.items():
        if query_id in bound and (
            planned.candidate.id == PSEUDONYM_ID or planned.candidate.format == MSO_MDOC
        ):
            # Only an SD-JWT VC's KB-JWT binds transaction data here (App. B.3.3).
            raise InvalidRequest(
                f"{query_id!r} cannot carry transaction data",
                error="invalid_transaction_data",
                reason="transaction_data",
            )
    for query_id, planned in approval.plan.items():
        if planned.candidate.id == PSEUDONYM_ID and pseudonyms is not None:
            client_id, nonce = resolved.request.client_id, resolved.request.nonce
            vp_token[query_id] = [pseudonyms.proof(client_id, nonce, int(now))]
            continue
        copy = holdings.take(planned.candidate.id, policy, tag, exclude={c.id for c in taken})
        taken.append(copy)
        signer = signer_of(copy.key_id)
        if planned.candidate.format == MSO_MDOC:
            presentation = _mdoc_presentation(copy, planned, signer, resolved)
        else:
            withheld = approval.withheld.get(query_id, ())
            presentation = _sd_jwt_presentation(
                copy, planned, withheld, signer, resolved, int(now), bound.get(query_id)
            )
        vp_token[query_id] = [presentation]
    request = resolved.request
    response = None
    if resolved.encryption_jwk is not None:
        payload: dict[str, Any] = {"vp_token": vp_token}
        if request.state is not None:
            payload["state"] = request.state
        response = encrypt_response(payload, resolved.encryption_jwk, enc=resolved.enc or "A128GCM")
    # WL-35: reserve before send. The copies count as used from here on, whatever happens
    # to the response afterwards.
    holdings.use(taken, policy, tag)
    return PresentationResponse(
        vp_token=vp_token,
        state=request.state,
        response_uri=resolved.response_uri,
        response_mode=request.response_mode,
        client_id=request.client_id,
        response=response,
    )
