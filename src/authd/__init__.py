"""authd: an authentication server and the library that verifies its tokens.

This top-level package stays import-light on purpose: ``authd.verify`` and
``authd.jose`` are used by resource servers that install none of the server's
dependencies.
"""

__version__ = "0.1.0"
