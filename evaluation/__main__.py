"""``python -m evaluation``: see ``evaluation.run``."""

import sys

from .run import main

sys.exit(main())
