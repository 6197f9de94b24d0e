"""Social login (OAuth 2.0 / OpenID Connect) as a protocol, apart from HTTP serving and storage.

``redirects`` (where users may be sent back), ``request`` (state, nonce, PKCE
and the callback checks), ``idtoken`` (OIDC Core 3.1.3.7), ``providers``
(discovery and the Google/GitHub presets) and ``flow`` (the callback as a
sans-I/O state machine) are pure; ``driver`` runs the flow over httpx.
"""
