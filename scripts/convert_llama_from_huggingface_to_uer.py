#!/usr/bin/env python3
"""Convert a HuggingFace LlamaForCausalLM, MistralForCausalLM or Qwen2ForCausalLM (a folder with config.json
and model.safetensors, or sharded model-0000x-of-0000y.safetensors with their index) to a UER model, and its
config.json to a UER config that describes the whole model, so that pretrain.py, run_classifier.py and
generate.py need no model flag. With --from tencentpretrain the input is a TencentPretrain LLaMA checkpoint
(.bin) and --config_path its config. Tensors are read one at a time: the conversion holds the model about once."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import parser  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    options = parser(__doc__, ["llama"], to_uer=True)
    options.add_argument("--from", dest="source", choices=["huggingface", "tencentpretrain"], default="huggingface")
    options.add_argument("--config_path", default=None,
                         help="The TencentPretrain config of the checkpoint (--from tencentpretrain).")
    return options


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.interop import convert_llama
    from uer.interop import conversion
    if args.source == "huggingface":
        conversion.convert_to_uer(args, "llama")
        return
    from uer.model_loader import read_state_dict
    from uer.model_saver import atomic_torch_save
    from uer.opts import load_config
    from uer.core.errors import UserInputError
    from uer.interop.hf_files import write_json, uer_config_path
    from uer.model_layout import to_uer
    if not args.config_path:
        raise UserInputError("--from tencentpretrain needs --config_path, the checkpoint's TencentPretrain config")
    config = load_config(args.config_path)
    heads = config["heads_num"]
    state, _ = to_uer(read_state_dict(args.input_model_path, mmap=True), rotary_heads=(
        heads, config.get("local_kv_heads_num") or heads))
    state = convert_llama.with_output_layer(state)
    atomic_torch_save(state, args.output_model_path)
    print(f"wrote {args.output_model_path}: {len(state)} tensors")
    write_json(config, uer_config_path(args.output_config_path, args.output_model_path))


if __name__ == "__main__":
    run_main(main)
