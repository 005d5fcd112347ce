"""``python -m skff``: runs the command line of :mod:`skff._cli`."""

import sys

from skff._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
