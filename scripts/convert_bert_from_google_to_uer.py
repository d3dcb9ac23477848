#!/usr/bin/env python3
"""Convert a Google BERT TensorFlow checkpoint (e.g. bert_model.ckpt) to a UER model, MLM and NSP heads
included. When Google's bert_config.json sits beside the checkpoint (or is given with --bert_config_path), a UER
config is written to --output_config_path with the checkpoint's sizes, hidden_act and Google's layer norm
("layer_norm_unbiased": false, "layer_norm_eps": 1e-12), so that the converted model computes what the
checkpoint computed. Needs TensorFlow (pip install tensorflow-cpu)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import conversion_parser  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = conversion_parser(__doc__, "Checkpoint prefix, e.g. models/bert_model.ckpt.", "UER model file to write.")
    parser.add_argument("--bert_config_path", default=None,
                        help="Google's bert_config.json (default: beside the checkpoint).")
    parser.add_argument("--output_config_path", default=None,
                        help="UER config to write (default: OUTPUT_MODEL_PATH with .json for its extension).")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.model_saver import atomic_torch_save
    from uer.interop.convert_google import google_to_uer, read_checkpoint
    from uer.interop.convert_hf import write_uer_config
    state = google_to_uer(read_checkpoint(args.input_model_path))
    if args.layers_num is not None:
        from uer.interop.convert_hf import uer_layers
        if uer_layers(state) != args.layers_num:
            from uer.core.errors import UserInputError
            raise UserInputError(f"{args.input_model_path} has {uer_layers(state)} layers, not --layers_num "
                                 f"{args.layers_num}")
    atomic_torch_save(state, args.output_model_path)
    print(f"wrote {args.output_model_path}: {len(state)} tensors")
    source = args.bert_config_path or os.path.join(os.path.dirname(os.path.abspath(args.input_model_path)),
                                                   "bert_config.json")
    write_uer_config(source, args.output_config_path, args.output_model_path, "Google bert_config.json")


if __name__ == "__main__":
    run_main(main)
