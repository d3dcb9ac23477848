#!/usr/bin/env python3
"""Convert a HuggingFace LlamaForCausalLM, MistralForCausalLM or Qwen2ForCausalLM (a folder with config.json
and model.safetensors, or sharded model-0000x-of-0000y.safetensors with their index) to a UER model, and its
config.json to a UER config that describes the whole model, so that pretrain.py, run_classifier.py and
generate.py need no model flag. With --from tencentpretrain the input is a TencentPretrain LLaMA checkpoint
(.bin) and --config_path its config. Tensors are read one at a time: the conversion holds the model about once."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import conversion_opts  # noqa: E402
from uer.utils.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    conversion_opts(parser, "HF model folder (or its .safetensors file); a .bin with --from tencentpretrain.",
                    "UER model file to write.", layers=False)
    parser.add_argument("--from", dest="source", choices=["huggingface", "tencentpretrain"], default="huggingface")
    parser.add_argument("--hf_config_path", default=None, help="HF config.json (default: in the input folder).")
    parser.add_argument("--config_path", default=None,
                        help="The TencentPretrain config of the checkpoint (--from tencentpretrain).")
    parser.add_argument("--output_config_path", default=None,
                        help="UER config to write (default: OUTPUT_MODEL_PATH with .json for its extension).")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.model_saver import atomic_torch_save
    from uer.utils.errors import UserInputError
    from uer.utils.interop import convert_llama
    from uer.utils.interop.convert_hf import write_json, uer_config_path
    if args.source == "tencentpretrain":
        from uer.model_loader import read_state_dict
        from uer.opts import load_config
        if not args.config_path:
            raise UserInputError("--from tencentpretrain needs --config_path, the checkpoint's TencentPretrain config")
        config = load_config(args.config_path)
        heads = config["heads_num"]
        tensors = convert_llama.tencentpretrain_to_uer(read_state_dict(args.input_model_path, mmap=True).items(),
                                                       heads, config.get("local_kv_heads_num") or heads)
    else:
        from uer.utils.interop.hf_files import iter_tensors
        from uer.utils.readers import read_json_object
        folder = args.input_model_path if os.path.isdir(args.input_model_path) else \
            os.path.dirname(os.path.abspath(args.input_model_path))
        hf_config = args.hf_config_path or os.path.join(folder, "config.json")
        if not os.path.exists(hf_config):
            raise UserInputError(f"{hf_config}: config.json not found (give it with --hf_config_path)")
        config = convert_llama.hf_config_to_uer(read_json_object(hf_config, "HuggingFace config"), hf_config)
        tensors = convert_llama.hf_to_uer(iter_tensors(args.input_model_path))
    state = dict(tensors)
    if "target.output_layer.weight" not in state:  # HF leaves a tied head out of the file
        state["target.output_layer.weight"] = state["embedding.word_embedding.weight"]
    atomic_torch_save(state, args.output_model_path)
    print(f"wrote {args.output_model_path}: {len(state)} tensors")
    write_json(config, uer_config_path(args.output_config_path, args.output_model_path))
    if args.source == "huggingface" and os.path.exists(os.path.join(folder, "tokenizer.json")):
        print(f"its tokenizer: --tokenizer hf --tokenizer_path {os.path.join(folder, 'tokenizer.json')}")


if __name__ == "__main__":
    run_main(main)
