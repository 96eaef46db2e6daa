import sys

from heedless.cli import main

sys.exit(main())
