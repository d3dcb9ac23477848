#!/usr/bin/env python3
"""Pre-train an embedding + encoder + target model on a dataset.pt made by preprocess.py."""
import argparse

from uer.opts import (vocab_opts, tgt_vocab_opts, model_opts, masking_opts, optimization_opts, lora_opts,
                      distributed_opts, monitor_opts, parse)
from uer.core.cli import run_main


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--dataset_path", default="dataset.pt", help="Dataset made by preprocess.py.")
    vocab_opts(parser)
    tgt_vocab_opts(parser)
    parser.add_argument("--pretrained_model_path", default=None, help="Model to start from.")
    parser.add_argument("--output_model_path", required=True,
                        help="Checkpoints are written as OUTPUT_MODEL_PATH-STEP.")
    parser.add_argument("--resume", action="store_true",
                        help="Continue from the newest OUTPUT_MODEL_PATH-STEP checkpoint and its .state file "
                             "(start at step 0 if there is none).")
    parser.add_argument("--total_steps", type=int, default=100000, help="Training steps (batches).")
    parser.add_argument("--save_checkpoint_steps", type=int, default=10000, help="Checkpoint interval.")
    parser.add_argument("--report_steps", type=int, default=100, help="Report interval.")
    parser.add_argument("--peak_tflops", type=float, default=None,
                        help="Peak TFLOP/s of one device for the report's MFU (default: a known GPU's data sheet, "
                             "else measured).")
    parser.add_argument("--prefix_lm_loss", action="store_true",
                        help="TencentPretrain's flag: the loss on the answers only. Here the llm_sft and chat datasets "
                             "are made that way (preprocess.py --train_on_prompt: the whole row).")
    parser.add_argument("--accumulation_steps", type=int, default=1, help="Batches per optimizer update.")
    parser.add_argument("--batch_size", type=int, default=32, help="Batch size per process.")
    parser.add_argument("--instances_buffer_size", type=int, default=25600,
                        help="Instances are shuffled within windows of this many.")
    parser.add_argument("--seed", type=int, default=7, help="Random seed.")
    model_opts(parser)
    masking_opts(parser)
    optimization_opts(parser, learning_rate=2e-5)
    lora_opts(parser)
    distributed_opts(parser)
    monitor_opts(parser)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parse(parser, argv)
    from uer.core.errors import UserInputError
    for name in ("total_steps", "save_checkpoint_steps", "report_steps", "batch_size", "dist_timeout"):
        if getattr(args, name) < 1:
            raise UserInputError(f"--{name} must be at least 1")
    if args.tensorboard_dir:
        from uer.monitor.metrics import summary_writer_class
        summary_writer_class()  # fail now, not after the first report
    from uer.trainer import launch
    signum = launch(args)
    return 128 + signum if signum else 0


if __name__ == "__main__":
    run_main(main)
