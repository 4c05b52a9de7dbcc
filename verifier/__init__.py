"""The verifier role of honnin."""

__all__: list[str] = []
