#!/usr/bin/env python3
"""Write a UER model file in either key layout: "uer" (UER-py 2020's names, what this project writes and reads)
or "tencentpretrain" (what TencentPretrain and UER-py's code since 2023 write and load), so that a model
trained here goes on in today's UER-py or TencentPretrain, and back. The input's layout is told from its keys;
--config_path (the model's config) names its target (the output layer's and sentence head's names there) and
whether its layers rotate queries and keys (LLaMA: their rows are reordered between the two layouts)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    from uer.opts import conversion_parser
    parser = conversion_parser(__doc__, "Model file, in either layout.", "Model file to write.", layers=False)
    parser.add_argument("--config_path", required=True, help="The model's config (UER or TencentPretrain form).")
    parser.add_argument("--layout", choices=["uer", "tencentpretrain"], required=True, help="Layout to write.")
    parser.add_argument("--target", default=None,
                        help="The model's pre-training target, where the config names none (default: lm).")
    return parser


def rotary_heads(config):
    if not config.get("rotary_position_embedding"):
        return None
    return config["heads_num"], config.get("local_kv_heads_num") or config["heads_num"]


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.model_loader import read_state_dict
    from uer.model_saver import atomic_torch_save
    from uer.opts import load_config
    from uer.model_layout import layout_of, to_tencentpretrain, to_uer
    config = load_config(args.config_path)
    target = args.target or config.get("target") or "lm"
    state = read_state_dict(args.input_model_path)
    source = layout_of(state)
    state, _ = to_uer(state, "sop" if target == "albert" else "nsp", rotary_heads(config))
    if args.layout == "tencentpretrain":
        state = to_tencentpretrain(state, target, rotary_heads(config))
    atomic_torch_save(state, args.output_model_path)
    print(f"{args.output_model_path}: {len(state)} tensors, {source} layout -> {args.layout}")


if __name__ == "__main__":
    run_main(main)
