"""The pure domain: rules and use cases over storage ports.

Nothing here imports a web framework, a database driver or an HTTP client.
"""
