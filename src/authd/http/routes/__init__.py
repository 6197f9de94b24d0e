"""HTTP routes, one module per use case."""
