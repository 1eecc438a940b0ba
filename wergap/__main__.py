"""``python -m wergap``: the ``wergap`` command."""

import sys

from wergap.cli import main

sys.exit(main())
