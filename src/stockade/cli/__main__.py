import sys

from stockade.cli.main import main

sys.exit(main())
