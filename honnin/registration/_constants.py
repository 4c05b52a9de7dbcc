"""Constants of the honnin verifier registration (spec/PROFILE.md "Verifier registrations").

The payload members follow the ETSI TS 119 475 Wallet-Relying Party Registration Certificate
(WRPRC) as summarised in the public WE BUILD trust-group notes (the ETSI text itself was not
reviewed): ``sub``, ``name``, ``purpose``, ``credentials[].format/meta/claim``, ``iat``,
``exp``. The ``typ`` is honnin's own because ``sub`` is bound to the OpenID4VP ``client_id``
and ``exp`` is required (see the profile).
"""

from __future__ import annotations

from typing import Final

#: RFC 7515 §4.1.9 explicit typing: a registration is never mistaken for another JWT.
REGISTRATION_TYP: Final = "honnin-registration+jwt"
#: OpenID4VP 1.0 §5.11: the ``verifier_info`` ``format`` that carries a registration JWT as
#: its ``data`` string (an ecosystem-specific identifier, named like the verifier's
#: ``honnin_purpose`` entry).
VERIFIER_INFO_FORMAT: Final = "honnin_registration"
#: ETSI TS 119 475 (as summarised, GEN-5.2.4-08): a registration lives at most 12 months.
MAX_LIFETIME_SECONDS: Final = 366 * 24 * 3600
#: spec/PROFILE.md §4: the clock skew tolerated on ``iat``.
CLOCK_SKEW_SECONDS: Final = 60
#: Bounds on what one registration may list (hostile-input limits, CONVENTIONS 12).
MAX_CREDENTIAL_ENTRIES: Final = 64
MAX_CLAIMS_PER_ENTRY: Final = 512
MAX_PATH_LENGTH: Final = 16
MAX_TEXT: Final = 2000
#: The credential formats a registration entry may name (OpenID4VP 1.0 Appendix B).
SD_JWT_VC: Final = "dc+sd-jwt"
MSO_MDOC: Final = "mso_mdoc"
