import os
import sys

from uer.core.errors import UserInputError, RunFailure, Stopped


def run_main(main):
    """Run a script's main(): user errors print one line (no traceback) and exit 2, run failures exit 1; an
    int returned by main() is the exit status (e.g. 128 + signal after a training run stopped by a signal).

    Set UER_TRACEBACK=1 to see the traceback of such errors.
    """
    try:
        status = main()
    except (UserInputError, RunFailure) as e:
        if os.environ.get("UER_TRACEBACK"):
            raise
        print(f"error: {e}", file=sys.stderr)
        status = 2 if isinstance(e, UserInputError) else 1
    except Stopped as e:
        if str(e):
            print(e, flush=True)
        status = 128 + e.signum
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        status = 130
    status = status if isinstance(status, int) else 0
    distributed = sys.modules.get("uer.runtime.distributed")  # imported by the scripts that train, not by all
    if distributed is not None and distributed.joined_group:
        distributed.leave(status)  # e.g. a process started by torchrun
    sys.exit(status)


class ScriptMain:
    """A script's main(argv=None): its options parsed (by parse(parser, argv) when given), then body(args); run()
    is the command line's entry (run_main)."""

    def __init__(self, build_parser, body, parse=None):
        self.build_parser, self.body, self.parse = build_parser, body, parse

    def __call__(self, argv=None):
        parser = self.build_parser()
        return self.body(self.parse(parser, argv) if self.parse else parser.parse_args(argv))

    def run(self):
        run_main(self)
