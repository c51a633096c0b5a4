"""Entry point for ``python3 -m allied5g``."""
import sys

from .report import main

sys.exit(main())
