"""The issuer role of honnin."""

__all__: list[str] = []
