"""The credential type catalogue (spec/types): SD-JWT VC Type Metadata with ja/en labels,
claims schemas, SD policy, mdoc docType / namespace mapping and samples.

Types: withholding slip (給与所得の源泉徴収票), birth certificate (出生証明書), enrollment
certificate (在学証明書), resident record (住民票の写し), tax certificate (課税証明書) and
national qualification (国家資格). See spec/PROFILE.md "Credential types".

Example::

    from honnin.credential_types import load_catalogue

    slip = load_catalogue().get("withholding-slip")
    claims = slip.sample_claims()
    slip.validate(claims)
    slip.label(("payment_amount",), "ja")   # '支払金額'
"""

from ._catalogue import Catalogue, load_catalogue, spec_directory
from ._mdoc import MdocElement, MdocMapping
from ._paths import ClaimPath
from ._schema import is_corporate_number, is_individual_number
from ._type import ClaimMetadata, CredentialType, SdPolicy

__all__ = [
    "Catalogue",
    "ClaimMetadata",
    "ClaimPath",
    "CredentialType",
    "MdocElement",
    "MdocMapping",
    "SdPolicy",
    "is_corporate_number",
    "is_individual_number",
    "load_catalogue",
    "spec_directory",
]
