"""Redis adapters: shared ephemeral state for scaled-out deployments.

Cookie sessions, rate-limit counters and revocation fan-out. Every adapter
turns a Redis outage into ``ServiceUnavailable`` (fail closed) or a documented
fallback; none ever accepts a credential it could not check.
"""
