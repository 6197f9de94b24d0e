"""The ``authd`` command line."""
