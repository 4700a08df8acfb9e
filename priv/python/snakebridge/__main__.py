"""`python -m snakebridge [-- COMMAND ARGS...]`: run the nanny (see snakebridge._nanny)."""

from __future__ import annotations

import sys

from snakebridge._nanny import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
