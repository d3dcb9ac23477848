#!/usr/bin/env python3
"""Convert a UER BERT model to HuggingFace (BertForPreTraining names; MLM and NSP heads when present).

--output_model_path ending in .safetensors writes safetensors, otherwise a torch pytorch_model.bin. With
--config_path (the UER config) a HuggingFace config.json is written beside it."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import uer_to_hf_parser  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def main(argv=None):
    args = uer_to_hf_parser(__doc__).parse_args(argv)
    from uer.model_loader import read_in_uer_layout
    from uer.opts import load_config
    from uer.interop.convert_hf import uer_to_hf, uer_config_to_hf, write_hf_weights, write_json
    state = read_in_uer_layout(args.input_model_path, {})
    out = uer_to_hf(state, args.layers_num)
    write_hf_weights(out, args.output_model_path)
    print(f"wrote {args.output_model_path}: {len(out)} tensors")
    if args.config_path:
        config = uer_config_to_hf(load_config(args.config_path), state["embedding.word_embedding.weight"].shape[0])
        write_json(config, os.path.join(os.path.dirname(os.path.abspath(args.output_model_path)), "config.json"))


if __name__ == "__main__":
    run_main(main)
