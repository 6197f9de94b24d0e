"""Storage adapters: the only code that knows SQL or Redis.

The core talks to storage through the Protocols in ``authd.core.ports``;
``sql`` serves SQLite (embedded default) and PostgreSQL (scale-out) with one
schema, ``redis`` holds shared ephemeral state when it is configured.
"""
