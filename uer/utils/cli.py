import os
import sys

from uer.utils.errors import UserInputError


def run_main(main):
    """Run a script's main(): user errors print one line (no traceback) and exit 2.

    Set UER_TRACEBACK=1 to see the traceback of such errors.
    """
    try:
        main()
    except UserInputError as e:
        if os.environ.get("UER_TRACEBACK"):
            raise
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
