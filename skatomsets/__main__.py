"""``python -m skatomsets``: the ``skatomsets`` command (see :mod:`skatomsets.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
