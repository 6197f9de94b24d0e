"""``python -m authd.cli``."""
from authd.cli import main

main()
