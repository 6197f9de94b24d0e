"""Storage fixtures: ``sql_url`` and ``migrated_db`` (in tests/conftest.py) give every storage
test a fresh database on each SQL backend."""
