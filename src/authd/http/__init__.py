"""The thin HTTP layer: Starlette routes that translate requests into core calls."""
