"""ISO/IEC 18013-5 / 23220-2 mdoc (``mso_mdoc``): issue, present and verify.

* ``issue_mdoc`` signs namespaces of elements into an ``IssuerSigned`` (MSO + issuerAuth).
* ``present`` / ``build_document`` + ``build_device_response`` make a DeviceResponse that
  discloses only the chosen elements, device-signed over a ``SessionTranscript``.
* ``openid4vp_session_transcript`` / ``openid4vp_dc_api_session_transcript`` build the
  OpenID4VP 1.0 Appendix B.2.6 transcripts.
* ``verify_device_response`` / ``verify_issuer_signed`` check everything and return typed
  results with the elements per namespace.

Example::

    from honnin.mdoc import issue_mdoc, present, verify_device_response
    from honnin.mdoc import openid4vp_session_transcript

    mdoc = issue_mdoc(doctype, {ns: claims}, ds_key, [ds_cert], holder_key.public_key(),
                      valid_from=now, valid_until=later, signed=now)
    transcript = openid4vp_session_transcript(client_id, nonce, response_uri)
    response = present(mdoc, holder_key, transcript, elements={ns: ["family_name"]})
    result = verify_device_response(response, trust_anchors=[iaca],
                                    session_transcript=transcript)
"""

from ._constants import (
    CLOCK_SKEW,
    DEFAULT_DIGEST_ALGORITHMS,
    MAX_DEVICE_RESPONSE_SIZE,
    MAX_ISSUER_SIGNED_SIZE,
)
from ._device_auth import (
    derive_emac_key,
    device_authentication_bytes,
    verify_device_signed,
)
from ._issue import issue_mdoc
from ._issuer_signed import IssuerSigned, parse_issuer_signed
from ._mso import IssuerSignedItem, MobileSecurityObject, ValidityInfo
from ._present import Document, build_device_response, build_document, present
from ._transcript import (
    SessionTranscript,
    openid4vp_dc_api_handover_info,
    openid4vp_dc_api_session_transcript,
    openid4vp_handover,
    openid4vp_handover_info,
    openid4vp_session_transcript,
)
from ._verify import (
    VerifiedDeviceResponse,
    VerifiedIssuerSigned,
    VerifiedMdoc,
    verify_device_response,
    verify_issuer_signed,
)

__all__ = [
    "CLOCK_SKEW",
    "DEFAULT_DIGEST_ALGORITHMS",
    "MAX_DEVICE_RESPONSE_SIZE",
    "MAX_ISSUER_SIGNED_SIZE",
    "Document",
    "IssuerSigned",
    "IssuerSignedItem",
    "MobileSecurityObject",
    "SessionTranscript",
    "ValidityInfo",
    "VerifiedDeviceResponse",
    "VerifiedIssuerSigned",
    "VerifiedMdoc",
    "build_device_response",
    "build_document",
    "derive_emac_key",
    "device_authentication_bytes",
    "issue_mdoc",
    "openid4vp_dc_api_handover_info",
    "openid4vp_dc_api_session_transcript",
    "openid4vp_handover",
    "openid4vp_handover_info",
    "openid4vp_session_transcript",
    "parse_issuer_signed",
    "present",
    "verify_device_response",
    "verify_device_signed",
    "verify_issuer_signed",
]
