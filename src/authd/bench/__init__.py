"""``authd bench``: measure an authd deployment the way redis-benchmark measures Redis."""
