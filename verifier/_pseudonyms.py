"""Verifying a pairwise pseudonym presented for a pseudonym Credential Query (spec/PROFILE.md
"Pairwise pseudonyms"): a self-issued SD-JWT VC whose issuer is its own key, checked strictly
by ``honnin.pseudonym.verify_pseudonym_proof`` against this transaction's nonce and the full
client_id, with the KB-JWT ``iat`` window of HOSTILE-CASES D6. No issuer trust applies (there
is no issuer); the result says so (``entitlement`` ``self_issued``)."""

from __future__ import annotations

from typing import Any, Final

from honnin.dcql import PresentedCredential
from honnin.errors import MalformedCredential
from honnin.pseudonym import (
    PSEUDONYM_TYPE,
    PSEUDONYM_VCT,
    THUMBPRINT_URI_PREFIX,
    verify_pseudonym_proof,
)

from ._presentations import CLOCK_SKEW, KB_MAX_AGE, CheckedPresentation, PresentationContext
from ._result import TrustDecision

__all__ = ["SELF_ISSUED", "check_pseudonym"]

#: The ``entitlement`` and anchor of a self-issued pseudonym's trust decision.
SELF_ISSUED: Final = "self_issued"


def check_pseudonym(presentation: Any, ctx: PresentationContext) -> CheckedPresentation:
    """Verify one pseudonym presentation; its claims are ``{"sub": <pseudonym>}``.

    Raises:
        InvalidKeyBinding: another verifier's or an old proof (``reason`` ``aud``,
            ``nonce``, ``iat``), or a bad KB-JWT.
        MalformedCredential / InvalidSignature / UnsupportedAlgorithm: not a valid
            self-issued pseudonym.
    """
    if not isinstance(presentation, str):
        raise MalformedCredential("a pseudonym presentation is a string (App. B.3.6)")
    kb_max_age = min(KB_MAX_AGE, ctx.now - (ctx.created_at - CLOCK_SKEW))
    verified = verify_pseudonym_proof(
        presentation,
        aud=ctx.client_id,
        nonce=ctx.nonce,
        now=ctx.now,
        kb_max_age=max(kb_max_age, 0.0),
    )
    issuer = THUMBPRINT_URI_PREFIX + verified.pseudonym
    return CheckedPresentation(
        presented=PresentedCredential(
            format="dc+sd-jwt",
            vct=PSEUDONYM_VCT,
            claims={"sub": verified.pseudonym},
            disclosed=(),
            holder_binding=True,
        ),
        credential_type=PSEUDONYM_TYPE,
        type_value=PSEUDONYM_VCT,
        issuer=issuer,
        issuer_name="self-issued pseudonym",
        trust=TrustDecision(issuer, SELF_ISSUED, "", SELF_ISSUED),
        status="none",
    )
