"""Large payloads in object storage (DESIGN §15): S3, GCS, Azure, S3-compatible servers, a
read-only HTTPS copy, or a ``file://`` directory.

``objects`` names objects by their sha256 under a URL's prefix (through obstore, imported
only when a remote is opened); ``cache`` is the local read-through cache every read passes,
checked against the digest each time.

Layer: part of ``apirec.stores``; it may import ``apirec.gate``, ``apirec.codec`` and
``apirec.errors``.
"""
