"""Keys by type (EC, OKP, RSA, oct), one module each; ``_jwk`` is the front that parses and groups them."""
