#!/usr/bin/env python3
"""Convert a Google BERT TensorFlow checkpoint (e.g. bert_model.ckpt) to a UER model, MLM and NSP heads
included. Google's layer norm uses eps=1e-12: set "layer_norm_eps": 1e-12 in the UER config to compute what
the checkpoint computed. Needs TensorFlow (pip install tensorflow-cpu)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import conversion_parser  # noqa: E402
from uer.utils.cli import run_main  # noqa: E402


def main(argv=None):
    args = conversion_parser(__doc__, "Checkpoint prefix, e.g. models/bert_model.ckpt.", "UER model file to write.") \
        .parse_args(argv)
    from uer.model_saver import atomic_torch_save
    from uer.utils.convert_google import google_to_uer, read_checkpoint
    state = google_to_uer(read_checkpoint(args.input_model_path))
    if args.layers_num is not None:
        from uer.utils.convert_hf import uer_layers
        if uer_layers(state) != args.layers_num:
            from uer.utils.errors import UserInputError
            raise UserInputError(f"{args.input_model_path} has {uer_layers(state)} layers, not --layers_num "
                                 f"{args.layers_num}")
    atomic_torch_save(state, args.output_model_path)
    print(f"wrote {args.output_model_path}: {len(state)} tensors")


if __name__ == "__main__":
    run_main(main)
