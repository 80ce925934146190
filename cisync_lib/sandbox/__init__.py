"""A local, HTTPS-only ServiceNow instance and Defender tenant for tests, demos and notebooks."""

__all__: list[str] = []
