"""honnin (本人): verifiable credentials that flow through the person.

The shared core: formats (SD-JWT, SD-JWT VC, mdoc, Token Status List), JOSE/COSE, trust,
DCQL, protocol messages, errors and the ``honnin`` command line. The roles live in the
``issuer``, ``wallet`` and ``verifier`` packages, which import this one and never each other.
"""

from honnin.clock import Clock, FixedClock, SystemClock
from honnin.errors import HonninError
from honnin.qr import QrCode

__version__ = "0.1.0"

__all__ = ["Clock", "FixedClock", "HonninError", "QrCode", "SystemClock", "__version__"]
