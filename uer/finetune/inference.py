"""What the inference scripts (inference/run_*_infer.py) share: the vocabulary, --test_path read by the task,
the fine-tuned model of --load_model_path, its predictions in input order, and the output TSV."""
import torch

from uer.finetune.prediction import predict
from uer.runtime.runtime import place
from uer.runtime.adapters import merged_files
from uer.model_loader import load_model
from uer.core.fileutil import atomic_open
from uer.text.tokenizers import load_vocab_and_tokenizer


def predict_test_set(args, model_class, read, outputs, **facts):
    """read(tokenizer) -> the examples of --test_path; outputs(model, examples, indices, src, seg) -> a row per
    example. Returns the rows in input order."""
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    examples = read(tokenizer)
    model, device = fine_tuned(args, model_class, vocab, **facts)
    return predict(model, examples, args.batch_size, device, outputs)


def fine_tuned(args, model_class, vocab, parallel=True, **facts):
    """(model_class's fine-tuned model of --load_model_path (with the task's facts), placed for prediction; its
    device)."""
    model = model_class(args, len(vocab), vocab, **facts)
    load_fine_tuned(model, args)
    return place(model, parallel)


def load_fine_tuned(model, args, path=None):
    """The fine-tuned model of `path` (default --load_model_path); with --lora_base_model_path that file holds a
    --use_lora run's adapters, merged here into the base model it adapted."""
    path = path or args.load_model_path
    if not args.lora_base_model_path:
        return load_model(model, path)
    state, _ = merged_files(args.lora_base_model_path, path, args.lora_alpha, args)
    return load_model(model, f"{args.lora_base_model_path} + {path}", state=state)


def write_predictions(path, header, rows, what="predictions"):
    """A TSV: the header's columns, then a line of string fields per row."""
    with atomic_open(path, "w") as f:
        f.write("\t".join(header) + "\n")
        f.writelines("\t".join(fields) + "\n" for fields in rows)
    print(f"wrote {len(rows)} {what} to {path}")


def numbers(values):
    return " ".join(f"{v:.6g}" for v in values)


def write_class_predictions(args, logit_rows):
    """A classifier's TSV: label (the argmax), then the space-separated logits (--output_logits) and softmax
    probabilities (--output_prob)."""
    logits = torch.stack(logit_rows)
    probs = torch.softmax(logits, -1)
    header = ["label"] + ["logits"] * args.output_logits + ["prob"] * args.output_prob
    rows = [[str(label)] + [numbers(row_logits)] * args.output_logits + [numbers(row_probs)] * args.output_prob
            for label, row_logits, row_probs in zip(logits.argmax(-1).tolist(), logits.tolist(), probs.tolist())]
    write_predictions(args.prediction_path, header, rows)
