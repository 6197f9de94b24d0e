"""Social login (OAuth 2.0 / OpenID Connect). Being built: see issue "Social login".

So far: the redirect allow-list (``redirects``) and the PKCE/state/nonce
values of the authorization request (``request``), both pure.
"""
