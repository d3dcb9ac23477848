"""Preference training (run_dpo.py): a decoder learns to prefer the chosen answer to the rejected one of each
JSONL example {"prompt" or "messages", "chosen", "rejected"} (or TRL's implicit prompt, the beginning "chosen" and
"rejected" share), against a frozen reference, the starting model (Rafailov et al.'s DPO; IPO with --loss_type
ipo), with TRL's definitions:

  margin = (log pi(chosen) - log pi(rejected)) - (log ref(chosen) - log ref(rejected))
  sigmoid: loss = -log sigmoid(beta * margin)      ipo: loss = (margin - 1 / (2 beta))^2, over mean log-probs
  rewards: beta * (log pi - log ref) of each answer; reward accuracy: chosen's reward above rejected's.

The reference's log-probabilities are computed once, by the starting model before its first step (with
--use_lora the untrained adapters add nothing), so no second copy of the model is held.

Conversations ("messages") are rendered with the tokenizer's chat template: the prompt with the generation
prompt, each answer as the assistant turn after it (its end-of-turn included); a plain "prompt" is followed by the
answer and the end-of-sequence token. "chosen"/"rejected" are strings or one-message lists
[{"role": "assistant", "content": ...}]. Rows longer than --seq_length keep the end of the prompt."""
import argparse

import numpy as np
import torch
import torch.nn.functional as F

from uer.opts import finetune_opts

LOSS_TYPES = ("sigmoid", "ipo")


def fine_tuning_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/dpo_model.bin", learning_rate=1e-6, batch_size=8,
                  epochs_num=1, seq_length=512)
    parser.add_argument("--beta", type=float, default=0.1, help="Strength of the pull towards the reference.")
    parser.add_argument("--loss_type", choices=LOSS_TYPES, default="sigmoid", help="DPO's loss or IPO's.")
    parser.add_argument("--chat_template", default=None, help="A jinja2 chat template, for a tokenizer without one.")
    return parser


def answer_text(path, number, value, key):
    from uer.core.errors import fail_at
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict) and \
            value[0].get("role") == "assistant" and isinstance(value[0].get("content"), str):
        return value[0]["content"]
    if not isinstance(value, str):
        fail_at(path, number, f"field {key!r} is missing or not a string (or [{{\"role\": \"assistant\", ...}}])")
    return value


def is_conversation(value):
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict) and "role" in value[0]


def shared_prompt(path, number, chosen, rejected):
    """(prompt, chosen, rejected) of TRL's implicit prompt: the beginning "chosen" and "rejected" share (characters
    of two texts, messages of two conversations); a space ending it goes with the answers. As TRL, an answer that
    begins the other leaves its last element to the answers."""
    from uer.core.errors import fail_at
    if not (type(chosen) is type(rejected) and isinstance(chosen, (str, list)) and chosen and rejected):
        fail_at(path, number, "without 'prompt' or 'messages', 'chosen' and 'rejected' must be two texts or two "
                              "conversations that begin with the same prompt")
    limit = min(len(chosen), len(rejected))
    shared = next((i for i in range(limit) if chosen[i] != rejected[i]), limit - 1)
    if shared > 0 and chosen[shared - 1] == " ":
        shared -= 1
    if shared == 0:
        fail_at(path, number, "'chosen' and 'rejected' share no prompt at their beginning")
    return chosen[:shared], chosen[shared:], rejected[shared:]


def preference_example(path, number, record):
    """({"prompt": text} or {"messages": conversation}, chosen text, rejected text) of a record in any of TRL's
    preference layouts: an explicit prompt (a text, or a conversation as "prompt" or "messages"), or an implicit
    one shared by two texts or two conversations, which a text "prompt" beside whole conversations also is."""
    from uer.core.errors import fail_at
    if not isinstance(record, dict):
        fail_at(path, number, "expected a JSON object with 'chosen' and 'rejected'")
    chosen, rejected = record.get("chosen"), record.get("rejected")
    prompt = record["messages"] if "messages" in record else record.get("prompt")
    if prompt is None or (isinstance(prompt, str) and is_conversation(chosen) and len(chosen) > 1):
        prompt, chosen, rejected = shared_prompt(path, number, chosen, rejected)
    key = "messages" if isinstance(prompt, list) else "prompt"
    return {key: prompt}, answer_text(path, number, chosen, "chosen"), answer_text(path, number, rejected, "rejected")


class PairEncoder:
    """(prompt ids, answer ids) of an example, by the chat template or as plain text."""

    def __init__(self, args, vocab, tokenizer):
        from uer.text.hf_tokenizer import HfTokenizer
        self.vocab, self.tokenizer, self.args, self.template = vocab, tokenizer, args, None
        self.hf = isinstance(tokenizer, HfTokenizer)

    def chat_template(self, path):
        from uer.core.errors import UserInputError
        from uer.text.chat_template import load_chat_template
        if self.template is None:
            if not self.hf:
                raise UserInputError(f"{path}: conversations are rendered with a HuggingFace tokenizer's chat "
                                     "template: --tokenizer hf --tokenizer_path tokenizer.json")
            self.template = load_chat_template(self.args.tokenizer_path, self.args.chat_template)
        return self.template

    def ids(self, text):
        return self.tokenizer.hf.encode(text, add_special_tokens=False).ids if self.hf else self.tokenizer.encode(text)

    def encode(self, path, number, record, answers):
        from uer.core.constants import CLS_TOKEN, SEP_TOKEN
        from uer.core.errors import fail_at
        from uer.text.chat_template import check_messages_only
        if "messages" in record:
            messages = check_messages_only(path, number, record)
            if messages[-1]["role"] == "assistant":
                fail_at(path, number, "the prompt ends with an assistant turn; it must end with the turn answered")
            template = self.chat_template(path)
            prompt = template.render(messages, add_generation_prompt=True)
            out = []
            for answer in answers:
                full = template.render(messages + [{"role": "assistant", "content": answer}])
                if not full.startswith(prompt):
                    fail_at(path, number, "the chat template does not render the answer after the prompt it renders")
                out.append(self.ids(full[len(prompt):]))
            return self.ids(prompt), out
        if not isinstance(record.get("prompt"), str):
            fail_at(path, number, "expected a 'prompt' string or a 'messages' list")
        prompt = self.ids(record["prompt"])
        prompt = prompt if self.hf else [self.vocab.get(CLS_TOKEN)] + prompt
        return prompt, [self.ids(a) + [self.vocab.get(SEP_TOKEN)] for a in answers]


def read_preferences(path, encoder, seq_length):
    """GroupedExamples of (prompt + chosen, prompt + rejected) rows, segment 2 on the answers."""
    from uer.core.errors import UserInputError
    from uer.finetune.data import Examples, GroupedExamples
    from uer.core.readers import read_jsonl
    rows, a_lens = [], []
    for number, record in read_jsonl(path, "preference file", "'chosen', 'rejected' (and 'prompt' or 'messages')"):
        prompt, chosen, rejected = preference_example(path, number, record)
        prompt, encoded = encoder.encode(path, number, prompt, [chosen, rejected])
        for answer in encoded:
            answer = answer[:seq_length - 1]
            kept = prompt[-(seq_length - len(answer)):]
            rows.append(kept + answer)
            a_lens.append(len(kept))
    if not rows:
        raise UserInputError(f"{path}: no preference example")
    return GroupedExamples(Examples(rows, a_lens), 2, {}, unit="preference pairs")


def pair_log_probs(model, examples, indices, device):
    """[n, 2] summed log-probabilities of (chosen, rejected), [n, 2] their token counts."""
    from uer.evaluation.likelihood import continuation_log_probs
    src, seg = examples.batch(indices, device)
    logps, tokens = continuation_log_probs(model, src.flatten(0, 1), seg.flatten(0, 1))
    return logps.view(-1, 2), tokens.view(-1, 2)


def preference_loss(policy, reference, beta, loss_type, tokens=None):
    """(losses [n], chosen rewards [n], rejected rewards [n]) from [n, 2] summed log-probabilities (TRL's)."""
    if loss_type == "ipo":
        policy, reference = policy / tokens, reference / tokens
    margin = (policy[:, 0] - policy[:, 1]) - (reference[:, 0] - reference[:, 1])
    if loss_type == "ipo":
        losses = (margin - 1 / (2 * beta)) ** 2
    else:
        losses = -F.logsigmoid(beta * margin)
    rewards = beta * (policy - reference).detach()
    return losses, rewards[:, 0], rewards[:, 1]


def reference_log_probs(model, examples, batch_size, runtime):
    """The starting model's [n, 2] log-probabilities of every pair (evaluation mode, no gradient)."""
    from uer.finetune.data import evaluation_batches
    out = np.zeros((len(examples), 2), dtype=np.float64)
    with runtime.evaluating(model) as scoring, torch.no_grad():
        for indices in evaluation_batches(examples.length, batch_size):
            with runtime.precision.autocast():
                logps, _ = pair_log_probs(scoring, examples, indices, runtime.device)
            out[indices] = logps.double().cpu().numpy()
    return out


def dpo_loss(beta, loss_type):
    def loss_of(model, examples, indices, src, seg):
        logps, tokens = pair_log_probs(model, examples, indices, src.device)
        reference = examples.field("reference", indices, src.device).to(logps.dtype)
        losses, _, _ = preference_loss(logps.float(), reference.float(), beta, loss_type, tokens.float())
        return losses.mean()
    return loss_of


def preference_evaluator(batch_size, runtime, beta, loss_type):
    def evaluate(model, examples, split):
        from uer.finetune.data import evaluation_batches
        policy, tokens = np.zeros((len(examples), 2)), np.zeros((len(examples), 2))
        with torch.no_grad():
            for indices in evaluation_batches(examples.length, batch_size):
                logps, counts = pair_log_probs(model, examples, indices, runtime.device)
                policy[indices], tokens[indices] = logps.double().cpu().numpy(), counts.cpu().numpy()
        losses, chosen, rejected = preference_loss(torch.from_numpy(policy), torch.from_numpy(
            examples.fields["reference"]), beta, loss_type, torch.from_numpy(tokens))
        figures = {"prefers_chosen": float(np.mean(policy[:, 0] > policy[:, 1])),
                   "reward_accuracy": float((chosen > rejected).double().mean()),
                   "reward_margin": float((chosen - rejected).mean()), "loss": float(losses.mean())}
        print(f"{split}: " + ", ".join(f"{k} {v:.4f}" for k, v in figures.items()) + f" ({len(examples)} pairs)",
              flush=True)
        return figures
    return evaluate


def lm_model(args, vocab_size, vocab):
    from uer.core.model_config import model_config
    from uer.model_builder import build_model
    return build_model(model_config(args, target="lm"), vocab_size, vocab)


def fine_tune(args):
    from uer.core.errors import UserInputError
    from uer.finetune.loop import FineTuner
    from uer.text.tokenizers import load_vocab_and_tokenizer
    if args.beta <= 0:
        raise UserInputError(f"--beta must be positive, not {args.beta}")
    vocab, tokenizer = load_vocab_and_tokenizer(args, padding=False)
    encoder = PairEncoder(args, vocab, tokenizer)
    train, dev, test = (read_preferences(path, encoder, args.seq_length) if path else None
                        for path in (args.train_path, args.dev_path, args.test_path))
    print(train.describe("training"), flush=True)
    tuner = FineTuner(args, lm_model, vocab, keep_heads=True)
    for examples in (train, dev, test):  # the reference: the starting model
        if examples is not None:
            examples.fields["reference"] = reference_log_probs(tuner.model, examples, args.batch_size, tuner.runtime)
    tuner.run(train, dev, test, dpo_loss(args.beta, args.loss_type),
              preference_evaluator(args.batch_size, tuner.runtime, args.beta, args.loss_type))

