#!/usr/bin/env python3
"""Convert a UER BERT model to a Google BERT TensorFlow checkpoint (OUTPUT.index and OUTPUT.data-*), MLM and
NSP heads included. Needs TensorFlow (pip install tensorflow-cpu)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import conversion_parser  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def main(argv=None):
    args = conversion_parser(__doc__, "UER model file.", "Checkpoint prefix, e.g. models/google_model.ckpt.") \
        .parse_args(argv)
    from uer.model_loader import read_in_uer_layout
    from uer.interop.convert_google import uer_to_google, write_checkpoint, tensorflow
    tensorflow()
    arrays = uer_to_google(read_in_uer_layout(args.input_model_path, {}))
    write_checkpoint(arrays, args.output_model_path)
    print(f"wrote {args.output_model_path}: {len(arrays)} variables")


if __name__ == "__main__":
    run_main(main)
