"""Verifier registrations: what a verifier may ask for, signed by a registrar (spec/PROFILE.md
"Verifier registrations"; ARF RPRC_17/21; HOSTILE-CASES WL-09, VS-37, D8).

* ``build_registration`` — the registrar signs, for one verifier ``client_id`` and one
  purpose, the credential types and claims it is entitled to (a JWT, ``typ``
  ``honnin-registration+jwt``, with the registrar's ``x5c``).
* ``verify_registration`` — the wallet checks it against the trust list's registrar anchors
  and the requesting verifier, returning a ``VerifiedRegistration``.
* ``check_request`` — compares a request with it and with the restricted claims (the
  My Number), listing exactly the excess and the restricted claims (``RegistrationCheck``).
* ``verifier_info_entry`` / ``registration_from_verifier_info`` — the OpenID4VP 1.0 §5.11
  ``verifier_info`` form.

Pure format code: no I/O, no clock (``now`` is a parameter).

Example::

    token = build_registration(client_id=client_id, name="Hello Work",
                               purpose="unemployment benefit application",
                               entitlements={"withholding-slip": [["payment_amount"]]},
                               key=registrar.private_key, chain=registrar.chain,
                               issued_at=now, expires_at=now + 86400 * 180)
    registration = verify_registration(token, registrar_anchors=trust.registrar_anchors,
                                       client_id=client_id, now=now)
    check = check_request(registration, {"withholding-slip": [["payment_amount"]]},
                          trust.restricted_claims)
    assert check.allowed
"""

from ._check import RegistrationCheck, RestrictedClaims, check_request, restricted_paths
from ._constants import REGISTRATION_TYP, VERIFIER_INFO_FORMAT
from ._registration import VerifiedRegistration, build_registration, verify_registration
from ._verifier_info import registration_from_verifier_info, verifier_info_entry

__all__ = [
    "REGISTRATION_TYP",
    "VERIFIER_INFO_FORMAT",
    "RegistrationCheck",
    "RestrictedClaims",
    "VerifiedRegistration",
    "build_registration",
    "check_request",
    "registration_from_verifier_info",
    "restricted_paths",
    "verifier_info_entry",
    "verify_registration",
]
