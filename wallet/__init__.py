"""The wallet role of honnin."""

__all__: list[str] = []
