"""The stories ``honnin demo`` tells: who issues what to whom, and who asks for what and why.

Each is the citizen-mediated flow of the public service mesh plan (DESIGN.md): an issuer
signs a credential for a person, the person's wallet keeps it, and a verifier asks for
exactly what its procedure needs. Claims are the credential type catalogue's samples
(spec/types); claim names are catalogue claim paths (``payer.name``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["BIRTH", "JOB_CHANGE", "SCENARIOS", "Scenario"]


@dataclass(frozen=True)
class Scenario:
    """One story: the issuer, the holder, the verifier, the credential and the request.

    ``required`` claims are what the verifier's procedure needs, and what the registrar
    registers it for; ``optional`` claims are asked for only if the verifier may have them
    (a DCQL ``claim_sets`` alternative, OpenID4VP 1.0 §6.4.1), e.g. the My Number, which
    neither a registered verifier asks for nor a wallet releases unless the registration
    names it (spec/PROFILE.md "Verifier registrations"). ``pseudonym``: the verifier also
    asks for the wallet's pairwise pseudonym, to recognise the person next time without any
    global identifier (spec/PROFILE.md "Pairwise pseudonyms").
    """

    id: str
    title: str
    credential_type: str
    format: str
    issuer_name: str
    issuer_role: str
    holder: str
    verifier_name: str
    verifier_role: str
    purpose: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    pseudonym: bool = False


JOB_CHANGE: Final = Scenario(
    id="job-change",
    title="Job change: the year-end adjustment with the former employer's withholding slip",
    credential_type="withholding-slip",
    format="dc+sd-jwt",
    issuer_name="Sample Shoji Co., Ltd.",
    issuer_role="former employer",
    holder="Hanako Yamada",
    verifier_name="Honnin Systems Co., Ltd.",
    verifier_role="new employer",
    purpose="year-end adjustment (年末調整) for an employee who joined during the year",
    required=(
        "payment_amount",
        "withholding_tax",
        "social_insurance_premiums",
        "payer.name",
        "payer.address",
    ),
    optional=("my_number",),
    pseudonym=True,
)

BIRTH: Final = Scenario(
    id="birth",
    title="Birth registration: the doctor's birth certificate, presented by a parent",
    credential_type="birth-certificate",
    format="mso_mdoc",
    issuer_name="Sakura General Hospital",
    issuer_role="doctor",
    holder="Hanako Yamada, the mother",
    verifier_name="Minato City",
    verifier_role="municipality",
    purpose="birth registration (出生届) and the family register entry",
    required=(
        "child_family_name",
        "child_given_name",
        "sex",
        "birth_date",
        "birth_time",
        "place_of_birth.address",
        "mother.name",
        "attendant.kind",
        "attendant.name",
    ),
)

#: The stories by id; ``job-change`` is the default of ``honnin demo``.
SCENARIOS: Final = {s.id: s for s in (JOB_CHANGE, BIRTH)}
