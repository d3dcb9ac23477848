#!/usr/bin/env python3
"""Convert a HuggingFace GPT-2 (GPT2LMHeadModel or GPT2Model: pytorch_model.bin, model.safetensors, or their
folder) to a UER model, and its config.json to a UER config that describes the whole model (word_pos
embedding, pre-LN gpt encoder, tied lm target, gelu_new), so generate.py and pretrain.py need no model flag."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import hf_to_uer_parser  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def main(argv=None):
    args = hf_to_uer_parser(__doc__).parse_args(argv)
    from uer.model_saver import atomic_torch_save
    from uer.core.errors import UserInputError
    from uer.interop.convert_hf import read_hf_weights, config_beside, write_json, uer_config_path
    from uer.interop.convert_gpt2 import gpt2_to_uer, gpt2_config_to_uer
    from uer.interop.hf_files import tie_from_tensors
    from uer.core.readers import read_json_object
    state = gpt2_to_uer(read_hf_weights(args.input_model_path), args.layers_num)
    hf_config = config_beside(args.input_model_path, args.hf_config_path)
    if not os.path.exists(hf_config):
        raise UserInputError(f"{hf_config}: GPT-2 config.json not found (give it with --hf_config_path); the UER "
                             "config made from it is what makes the converted model compute GPT-2")
    config = gpt2_config_to_uer(read_json_object(hf_config, "HuggingFace GPT-2 config"))
    tie_from_tensors(config, state, hf_config)
    atomic_torch_save(state, args.output_model_path)
    print(f"wrote {args.output_model_path}: {len(state)} tensors")
    write_json(config, uer_config_path(args.output_config_path, args.output_model_path))


if __name__ == "__main__":
    run_main(main)
