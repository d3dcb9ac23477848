"""The decoder workflow (docs/decoders.md): JSONL data for llm_pretrain, llm_sft and chat, packing, batched
generation and chat.py, preference training, perplexity and multiple-choice evaluation."""
import json
import math
import os
from argparse import Namespace

import numpy as np
import pytest
import torch

from conftest import ROOT, load_script
import synthetic_chat
from uer.core.errors import UserInputError

TOKENIZER = os.path.join(ROOT, "models", "chat_tokenizer", "tokenizer.json")
HF = ["--tokenizer", "hf", "--tokenizer_path", TOKENIZER]
LLAMA = os.path.join(ROOT, "models", "llama_tiny_config.json")


def preprocess(tmp_path, target, rows, *extra, name="d.pt", seq_length=128):
    corpus = tmp_path / f"{target}.jsonl"
    if isinstance(rows, str):
        corpus.write_text(rows, encoding="utf-8")
    else:
        synthetic_chat.write_jsonl(corpus, rows)
    load_script("preprocess.py").main(["--corpus_path", str(corpus), *HF, "--target", target, "--seq_length",
                                       str(seq_length), "--dataset_path", str(tmp_path / name), *extra])
    from uer.data.pretrain_data import PretrainDataset
    return PretrainDataset(str(tmp_path / name))


def tokenizer():
    from uer.text.hf_tokenizer import load_hf
    return load_hf(TOKENIZER, padding=False)


def llama(seed=0, **extra):
    from uer.model_builder import build_model
    from uer.opts import MODEL_DEFAULTS, load_config
    args = Namespace(**dict(MODEL_DEFAULTS, **dict(load_config(LLAMA), **extra)))
    args.factorized_embedding_parameterization = args.parameter_sharing = args.bidirectional = False
    torch.manual_seed(seed)
    return build_model(args, len(tokenizer()[0])).eval()


# --- data -----------------------------------------------------------------------------------------------------

def test_chat_rows_predict_exactly_the_assistant_turns_and_their_end_of_turn(tmp_path):
    conversation = {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "sort 31"},
                                 {"role": "assistant", "content": "13"}, {"role": "user", "content": "add 2+2"},
                                 {"role": "assistant", "content": "4"}]}
    data = preprocess(tmp_path, "chat", [conversation])
    src, tgt, seg = data.batch(np.array([0]))
    vocab, tok = tokenizer()
    text = ("<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nsort 31<|im_end|>\n<|im_start|>assistant\n"
            "13<|im_end|>\n<|im_start|>user\nadd 2+2<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n")
    ids = tok.hf.encode(text, add_special_tokens=False).ids
    assert src[0].tolist() == ids[:-1] and seg[0].tolist() == [1] * (len(ids) - 1)
    predicted = [tok.hf.decode([t], skip_special_tokens=False) for t, m in zip(tgt["lm"][0], tgt["lm_mask"][0]) if m]
    assert "".join(predicted) == "13<|im_end|>\n4<|im_end|>\n"


def test_sharegpt_and_trl_prompt_completion_conversations_are_read_as_their_messages(tmp_path):
    """ShareGPT's {"conversations": [{"from", "value"}]} is its messages; TRL's {"prompt", "completion"} learns only
    the completion's assistant turns."""
    said = [("system", "be brief"), ("user", "sort 31"), ("assistant", "13"), ("user", "add 2+2"), ("assistant", "4")]
    messages = [{"role": r, "content": c} for r, c in said]
    speakers = {"system": "system", "user": "human", "assistant": "gpt"}
    sharegpt = {"conversations": [{"from": speakers[r], "value": c} for r, c in said]}
    split = {"prompt": messages[:4], "completion": messages[4:]}
    rows = {}
    for name, record in [("messages", {"messages": messages}), ("sharegpt", sharegpt), ("split", split)]:
        src, tgt, _ = preprocess(tmp_path, "chat", [record], name=name + ".pt").batch(np.array([0]))
        rows[name] = src[0].tolist(), tgt["lm_mask"][0].tolist(), tgt["lm"][0]
    assert rows["sharegpt"][:2] == rows["messages"][:2] and rows["split"][0] == rows["messages"][0]
    vocab, tok = tokenizer()
    src, mask, labels = rows["split"]
    assert tok.hf.decode([t for t, m in zip(labels, mask) if m], skip_special_tokens=False) == "4<|im_end|>\n"
    assert sum(mask) < sum(rows["messages"][1])


def test_train_on_prompt_predicts_every_next_token(tmp_path):
    data = preprocess(tmp_path, "chat", synthetic_chat.conversations(3, 0), "--train_on_prompt")
    _, tgt, seg = data.batch(np.arange(3))
    # every real position predicts its next token, but the last of a row shorter than the batch's longest
    assert (tgt["lm_mask"] <= seg).all() and (tgt["lm_mask"].sum(1) >= seg.sum(1) - 1).all()


def test_llm_sft_rows_are_tencentpretrain_s(tmp_path):
    """[CLS] + instruction + input, then output + [SEP], at most seq_length tokens; the loss from the output on;
    a literal backslash-n is a line break."""
    rows = [{"instruction": "sort\\n", "input": "31", "output": "13"}, {"instruction": "x", "output": "y" * 40}]
    data = preprocess(tmp_path, "llm_sft", rows, seq_length=16)
    vocab, tok = tokenizer()
    eos = vocab.get("[SEP]")
    src, tgt, _ = data.batch(np.array([0, 1]))
    prompt = [eos] + tok.encode("sort\n31")  # this tokenizer has no bos: [CLS] stands for its eos
    row = prompt + tok.encode("13") + [eos]
    first = 0 if src[0, 0] == eos and src[0, 1:len(prompt)].tolist() == prompt[1:] else 1
    assert src[first].tolist()[:len(row) - 1] == row[:-1]
    assert tgt["lm"][first][tgt["lm_mask"][first] > 0].tolist() == tok.encode("13") + [eos]
    other = 1 - first
    assert int((src[other] > 0).sum() + (src[other] == 0)[:1].sum()) <= 16 and tgt["lm_mask"][other].sum() == 14


@pytest.mark.parametrize("line,message", [
    ('{"messages": [}\n', "invalid JSON"),
    ('{"text": "x"}\n', "field 'messages' is missing"),
    ('{"messages": [{"role": "bot", "content": "x"}]}\n', "unknown role 'bot'"),
    ('{"messages": [{"role": "user", "content": "x"}]}\n', "no assistant turn"),
    ('{"conversations": [{"from": "bot", "value": "x"}]}\n', "turn 0 of 'conversations' is from 'bot'"),
    ('{"conversations": [{"from": "human"}]}\n', "lacks a string 'value'"),
    ('{"prompt": "x", "completion": "y"}\n', "must be lists"),
    ('{"prompt": [{"role": "user", "content": "x"}], "completion": [{"role": "user", "content": "y"}]}\n',
     "no assistant turn"),
    ('{"messages": [{"role": "user", "content": "' + "z" * 200 + '"}, {"role": "assistant", "content": "1"}]}\n',
     "answer is cut away entirely"),
])
def test_bad_chat_lines_are_named_by_file_and_line_and_nothing_is_written(tmp_path, line, message):
    good = json.dumps(synthetic_chat.conversations(1, 0)[0]) + "\n"
    with pytest.raises(UserInputError, match=rf"chat.jsonl:3: .*{message}"):
        preprocess(tmp_path, "chat", good + "\n" + line + good)
    assert not (tmp_path / "d.pt").exists()


def test_llm_sft_missing_output_and_tokenizer_without_template_are_refused(tmp_path):
    with pytest.raises(UserInputError, match=r"llm_sft.jsonl:1: field 'output' is missing"):
        preprocess(tmp_path, "llm_sft", '{"instruction": "a", "input": "b"}\n')
    folder = tmp_path / "bare"
    folder.mkdir()
    (folder / "tokenizer.json").write_bytes(open(TOKENIZER, "rb").read())
    (folder / "chat.jsonl").write_text(json.dumps(synthetic_chat.conversations(1, 0)[0]) + "\n")
    with pytest.raises(UserInputError, match="has no chat_template.*--chat_template"):
        load_script("preprocess.py").main(["--corpus_path", str(folder / "chat.jsonl"), "--tokenizer", "hf",
                                           "--tokenizer_path", str(folder / "tokenizer.json"), "--target", "chat",
                                           "--dataset_path", str(tmp_path / "x.pt")])
    load_script("preprocess.py").main(["--corpus_path", str(folder / "chat.jsonl"), "--tokenizer", "hf",
                                       "--tokenizer_path", str(folder / "tokenizer.json"), "--target", "chat",
                                       "--chat_template", os.path.join(ROOT, "models", "chatml.jinja"),
                                       "--dataset_path", str(tmp_path / "x.pt")])
    with pytest.raises(UserInputError, match="--packing applies to the decoder targets"):
        preprocess(tmp_path, "mt", "a\tb\n", "--packing")


# --- packing --------------------------------------------------------------------------------------------------

def test_packed_rows_hold_whole_examples_and_predict_what_the_unpacked_rows_predict(tmp_path):
    rows = synthetic_chat.conversations(40, 1)
    plain = preprocess(tmp_path, "chat", rows, name="plain.pt", seq_length=200)
    packed = preprocess(tmp_path, "chat", rows, "--packing", name="packed.pt", seq_length=200)
    assert len(packed) < len(plain)

    def targets(data):
        src, tgt, _ = data.batch(np.arange(len(data)))
        return sorted(src[i][tgt["lm_mask"][i] > 0].tolist().__len__() for i in range(len(data))), \
            int(tgt["lm_mask"].sum())
    assert targets(plain)[1] == targets(packed)[1]
    src, tgt, seg = packed.batch(np.arange(len(packed)))
    docs = tgt["documents"]
    assert docs.max() >= 2 and ((docs > 0) == (seg > 0)).all()
    # no prediction crosses from one example into the next
    crossing = (docs[:, 1:] != docs[:, :-1]) & (docs[:, 1:] > 0)
    assert not (tgt["lm_mask"][:, :-1][crossing] > 0).any()


@pytest.mark.parametrize("positions", ["rotary", "learned", "alibi"])
def test_a_packed_row_computes_what_its_examples_compute_apart(positions):
    """Per-token losses of a packed row equal those of its examples run alone (1e-5), and changing one example
    changes nothing in the others (no attention across a boundary)."""
    extra = {"rotary": {}, "learned": {"embedding": "word_pos", "rotary_position_embedding": False},
             "alibi": {"rotary_position_embedding": False, "alibi_position_embedding": True}}[positions]
    model = llama(**extra)
    torch.manual_seed(1)
    lengths = [7, 12, 5]
    examples = [torch.randint(3, 250, (n,)) for n in lengths]
    row = torch.cat(examples)[None]
    documents = torch.cat([torch.full((n,), k + 1) for k, n in enumerate(lengths)])[None]

    def token_losses(src, docs=None):
        with torch.no_grad():
            hidden = model.encode(src, torch.ones_like(src), docs)
            logits = model.target.word_logits(hidden)[0, :-1]
            return torch.nn.functional.cross_entropy(logits, src[0, 1:], reduction="none")
    packed = token_losses(row, documents)
    start = 0
    for example in examples:
        alone = token_losses(example[None])
        assert (packed[start:start + len(example) - 1] - alone).abs().max() <= 1e-5
        start += len(example)
    changed = row.clone()
    changed[0, :lengths[0]] = torch.randint(3, 250, (lengths[0],))
    again = token_losses(changed, documents)
    assert torch.equal(again[lengths[0]:], packed[lengths[0]:])


def test_lm_target_with_its_mask_predicts_id_0():
    model = llama()
    src = torch.randint(3, 250, (1, 6))
    tgt = {"lm": torch.tensor([[0, 5, 0, 7, 0, 0]]), "lm_mask": torch.tensor([[1, 1, 0, 1, 0, 0]])}
    part = model(src, tgt, torch.ones_like(src))["lm"]
    assert int(part["count"]) == 3


# --- generation -----------------------------------------------------------------------------------------------

def test_a_left_padded_batch_generates_what_each_prompt_generates_alone():
    from uer.generation.decoder_only import generate
    model = llama(seed=3)
    prompts = [[5, 9, 14, 200, 31, 8], [7, 7], [100, 101, 102, 103]]
    together = generate(model, "cpu", prompts, 10, {2})
    for prompt, out in zip(prompts, together):
        assert generate(model, "cpu", [prompt], 10, {2}) == [out]
    ids = prompts[0]
    with torch.no_grad():
        for _ in range(10):
            src = torch.tensor([ids])
            ids = ids + [int(model.target.word_logits(model.encode(src, torch.ones_like(src)))[0, -1].argmax())]
    assert ids[len(prompts[0]):][:len(together[0])] == together[0]


def test_decoding_stores_linear_weights_by_column_and_the_model_computes_and_trains_as_before():
    from uer.generation.decoder_only import generate, training_layout
    model = llama(seed=4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    src = torch.tensor([[5, 9, 14, 200, 31, 8]])
    with torch.no_grad():
        logits = model.target.word_logits(model.encode(src, torch.ones_like(src)))
    generate(model, "cpu", [src[0].tolist()], 4, {2})
    linear = [m.weight for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert linear and all(w.t().is_contiguous() and not w.is_contiguous() for w in linear)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    with torch.no_grad():
        assert (model.target.word_logits(model.encode(src, torch.ones_like(src))) - logits).abs().max() <= 1e-5
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for layout in ("by column", "by row"):
        part = model(src[:, :-1], {"lm": src[:, 1:]}, torch.ones_like(src[:, :-1]))["lm"]
        (part["loss_sum"] / part["count"]).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        assert any(not torch.equal(v, before[k]) for k, v in model.state_dict().items()), layout
        before = {k: v.clone() for k, v in model.state_dict().items()}
        training_layout(model)
        assert all(w.is_contiguous() for w in linear)
        assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def train_chat_model(tmp_path, steps=60):
    data = synthetic_chat.conversations(200, 5, turns=(1, 1), system_share=0)
    preprocess(tmp_path, "chat", data, "--packing", seq_length=64)
    load_script("pretrain.py").main(["--dataset_path", str(tmp_path / "d.pt"), "--tokenizer_path", TOKENIZER,
                                     "--config_path", LLAMA,
                                     "--output_model_path", str(tmp_path / "m.bin"), "--total_steps", str(steps),
                                     "--report_steps", str(steps), "--batch_size", "8", "--learning_rate", "3e-3",
                                     "--target", "lm", "--save_checkpoint_steps", str(steps)])
    return str(tmp_path / f"m.bin-{steps}")


@pytest.fixture(scope="module")
def chat_model(tmp_path_factory):
    return train_chat_model(tmp_path_factory.mktemp("chat"))


def test_pretraining_on_packed_chat_rows_reports_mfu_and_lowers_the_loss(tmp_path, capsys):
    train_chat_model(tmp_path, steps=40)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    assert "mfu" in lines[-1] and float(lines[-1].split("mfu")[1].strip(" %")) > 0


def test_chat_script_answers_a_file_as_the_generation_loop_does(tmp_path, chat_model):
    from uer.generation.chat import Chat
    test = synthetic_chat.conversations(6, 9, turns=(1, 1), system_share=0)
    synthetic_chat.write_jsonl(tmp_path / "test.jsonl", test)
    common = ["--pretrained_model_path", chat_model, "--config_path", LLAMA, *HF, "--max_new_tokens", "8"]
    load_script("scripts/chat.py").main(common + ["--input_path", str(tmp_path / "test.jsonl"), "--output_path",
                                                  str(tmp_path / "out.jsonl"), "--batch_size", "4"])
    answered = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [a["reference"] for a in answered] == [t["messages"][-1]["content"] for t in test]
    # one at a time gives the same answers
    from uer.model_builder import build_for_probing
    from uer.opts import parse
    args = parse(load_script("scripts/chat.py").build_parser(), common)
    vocab, tok = tokenizer()
    model = build_for_probing(args, vocab, chat_model, target="lm")
    chat = Chat(args, model, "cpu", vocab, tok)
    for record, conversation in zip(answered, test):
        assert chat.answers([conversation["messages"][:-1]]) == [record["messages"][-1]["content"]]


def test_chat_stops_at_the_special_token_its_template_ends_a_turn_with(tmp_path):
    """A template's own end-of-turn token (not one of the known names) stops generation; plain text after the
    words (a blank line) does not make a stop token."""
    from tokenizers import Tokenizer
    from uer.generation.chat import END_OF_TURN, stop_ids
    from uer.text.chat_template import ChatTemplate
    from uer.text.hf_tokenizer import load_hf
    tok = Tokenizer.from_file(TOKENIZER)
    tok.add_special_tokens(["<|turn_end|>"])
    tok.save(str(tmp_path / "tokenizer.json"))
    vocab, tokenizer = load_hf(str(tmp_path / "tokenizer.json"), padding=False)
    own = ChatTemplate("{% for m in messages %}{{ m['role'] + ': ' + m['content'] + ' <|turn_end|>\n' }}"
                       "{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}", "own")
    plain = ChatTemplate("{% for m in messages %}{{ m['role'] + ': ' + m['content'] + '\n\n' }}{% endfor %}"
                         "{% if add_generation_prompt %}assistant: {% endif %}", "plain")
    known = stop_ids(vocab)
    assert vocab.w2i["<|turn_end|>"] not in known and "<|turn_end|>" not in END_OF_TURN
    assert stop_ids(vocab, own, tokenizer) == known | {vocab.w2i["<|turn_end|>"]}
    assert stop_ids(vocab, plain, tokenizer) == known
    chatml = ChatTemplate(open(os.path.join(ROOT, "models", "chatml.jinja")).read(), "chatml")
    assert vocab.w2i["<|im_end|>"] in stop_ids(vocab, chatml, tokenizer)


def test_chat_files_in_each_layout_give_the_turns_to_answer_and_the_reference(tmp_path):
    from uer.generation.chat import read_conversations
    user, answer = {"role": "user", "content": "sort 31"}, {"role": "assistant", "content": "13"}
    synthetic_chat.write_jsonl(tmp_path / "c.jsonl", [
        {"messages": [user, answer]}, {"prompt": [user], "completion": [answer]},
        {"conversations": [{"from": "human", "value": "sort 31"}, {"from": "gpt", "value": "13"}]},
        {"messages": [user]}])
    assert read_conversations(str(tmp_path / "c.jsonl")) == [([user], "13")] * 3 + [([user], None)]


def test_interactive_chat_streams_the_answer_it_keeps(chat_model):
    from uer.generation.chat import Chat, interactive
    from uer.model_builder import build_for_probing
    from uer.opts import parse
    args = parse(load_script("scripts/chat.py").build_parser(),
                 ["--pretrained_model_path", chat_model, "--config_path", LLAMA, *HF, "--max_new_tokens", "6"])
    vocab, tok = tokenizer()
    chat = Chat(args, build_for_probing(args, vocab, chat_model, target="lm"), "cpu", vocab, tok)
    said, inputs = [], iter(["sort 321", ""])
    messages = interactive(chat, args, read=lambda prompt: next(inputs), write=said.append)
    streamed = "".join(said).split("assistant> ")[1].rstrip("\n")
    assert messages[-1]["role"] == "assistant" and streamed == messages[-1]["content"]


# --- preference training --------------------------------------------------------------------------------------

def test_dpo_and_ipo_losses_are_trl_s_formulas():
    from uer.tasks.dpo import preference_loss
    policy = torch.tensor([[-3.0, -5.0], [-7.0, -4.0]])
    reference = torch.tensor([[-4.0, -4.5], [-6.0, -6.0]])
    tokens = torch.tensor([[2.0, 4.0], [5.0, 1.0]])
    beta = 0.2
    losses, chosen, rejected = preference_loss(policy, reference, beta, "sigmoid")
    for i, (pc, pr, rc, rr) in enumerate([(-3, -5, -4, -4.5), (-7, -4, -6, -6)]):
        z = beta * ((pc - pr) - (rc - rr))
        assert math.isclose(float(losses[i]), math.log(1 + math.exp(-z)), rel_tol=1e-6)
        assert math.isclose(float(chosen[i]), beta * (pc - rc), rel_tol=1e-6)
        assert math.isclose(float(rejected[i]), beta * (pr - rr), rel_tol=1e-6)
    losses, _, _ = preference_loss(policy, reference, beta, "ipo", tokens)
    margin = (-3 / 2 - -5 / 4) - (-4 / 2 - -4.5 / 4)
    assert math.isclose(float(losses[0]), (margin - 1 / (2 * beta)) ** 2, rel_tol=1e-6)


def test_preference_files_in_each_of_trl_s_layouts_give_the_same_rows(tmp_path):
    """An explicit prompt (text, or a conversation as "prompt" or "messages") and TRL's implicit one (the shared
    beginning of two texts or two conversations; a text "prompt" beside whole conversations) read alike."""
    from uer.tasks.dpo import PairEncoder, preference_example, read_preferences
    user, yes, no = {"role": "user", "content": "sort 312"}, "123", "132"

    def said(text):
        return [{"role": "assistant", "content": text}]
    explicit = {"messages": [user], "chosen": yes, "rejected": no}
    layouts = [{"prompt": [user], "chosen": said(yes), "rejected": said(no)},
               {"chosen": [user] + said(yes), "rejected": [user] + said(no)},
               {"prompt": "sort 312", "chosen": [user] + said(yes), "rejected": [user] + said(no)}]
    for layout in layouts:
        assert preference_example("f", 1, layout) == ({"messages": [user]}, yes, no)
    # TRL's own example: the space before the answers goes with them
    assert preference_example("f", 1, {"chosen": "The sky is blue.", "rejected": "The sky is green."}) == \
        ({"prompt": "The sky is"}, " blue.", " green.")
    vocab, tok = tokenizer()
    args = Namespace(tokenizer_path=TOKENIZER, chat_template=os.path.join(ROOT, "models", "chatml.jinja"))

    def rows(records):
        synthetic_chat.write_jsonl(tmp_path / "p.jsonl", records)
        examples = read_preferences(str(tmp_path / "p.jsonl"), PairEncoder(args, vocab, tok), 64)
        return examples.batch(np.arange(len(examples)), "cpu")[0].tolist()
    assert all(rows([layout]) == rows([explicit]) for layout in layouts)
    for bad, why in [({"chosen": "abc", "rejected": "xyz"}, "share no prompt"),
                     ({"chosen": "abc", "rejected": [user]}, "two texts or two conversations"),
                     ({"messages": [user] + said("1"), "chosen": yes, "rejected": no}, "ends with an assistant turn")]:
        with pytest.raises(UserInputError, match=f"p.jsonl:2: .*{why}"):
            rows([explicit, bad])


def test_dpo_raises_the_margin_of_chosen_over_rejected(tmp_path, chat_model, capsys):
    synthetic_chat.write_jsonl(tmp_path / "train.jsonl", synthetic_chat.preferences(64, 1))
    synthetic_chat.write_jsonl(tmp_path / "dev.jsonl", synthetic_chat.preferences(32, 2))
    load_script("run_dpo.py").main(["--pretrained_model_path", chat_model, "--config_path", LLAMA, *HF,
                                    "--train_path", str(tmp_path / "train.jsonl"), "--dev_path",
                                    str(tmp_path / "dev.jsonl"), "--output_model_path", str(tmp_path / "dpo.bin"),
                                    "--epochs_num", "3", "--batch_size", "8", "--learning_rate", "1e-3",
                                    "--seq_length", "64"])
    margins = [float(line.split("reward_margin ")[1].split(",")[0])
               for line in capsys.readouterr().out.splitlines() if line.startswith("dev:")]
    assert len(margins) == 3 and margins[-1] > margins[0] > 0


# --- evaluation -----------------------------------------------------------------------------------------------

def test_perplexity_windows_follow_the_guide():
    from uer.evaluation.perplexity import windows
    assert windows(10, 4, 4) == [(0, 4, 4), (4, 8, 4), (8, 10, 2)]
    assert windows(10, 4, 2) == [(0, 4, 4), (2, 6, 2), (4, 8, 2), (6, 10, 2)]


def test_disjoint_window_perplexity_is_exp_of_the_mean_token_loss():
    from uer.evaluation.perplexity import perplexity
    model = llama(seed=4)
    ids = torch.randint(3, 250, (30,)).tolist()
    ppl, nll, scored = perplexity(model, ids, 30, 30, "cpu")
    with torch.no_grad():
        src = torch.tensor([ids])
        logits = model.target.word_logits(model.encode(src, torch.ones_like(src)))[0, :-1]
        expected = float(torch.nn.functional.cross_entropy(logits, src[0, 1:]))
    assert scored == 29 and abs(nll - expected) < 1e-5 and math.isclose(ppl, math.exp(nll))


def test_choices_are_picked_by_sum_and_by_length_normalised_sum():
    from uer.evaluation.choice import pick, encode_pair
    assert pick([-4.0, -3.0, -9.0, -8.0], [2, 1, 6, 3]) == (1, 2)  # -3/1 = -3, but -9/6 = -1.5 is the best
    words = {"a": 1, " b": 2, " ": 3}

    def encode(text):  # " b" is one token only with its space
        out, i = [], 0
        while i < len(text):
            if text[i:i + 2] in words:
                out.append(words[text[i:i + 2]])
                i += 2
            else:
                out.append(words.get(text[i], 9))
                i += 1
        return out
    assert encode_pair(encode, "a ", "b") == ([1], [2])


def test_multiple_choice_evaluation_reads_c_eval_files_and_counts(tmp_path):
    from uer.evaluation.choice import read_questions, evaluate
    (tmp_path / "test.csv").write_text("id,question,A,B,C,D,answer\n0,1+1=?,2,3,4,5,A\n1,2+2=?,1,4,6,8,b\n")
    questions = read_questions(str(tmp_path / "test.csv"))
    assert questions[1] == ("2+2=?", ["1", "4", "6", "8"], 1)
    (tmp_path / "bad.csv").write_text("question,A,B,C,D,answer\nq,1,2,3,4,E\n")
    with pytest.raises(UserInputError, match=r"bad.csv:2: answer 'E'"):
        read_questions(str(tmp_path / "bad.csv"))
    model = llama(seed=5)
    vocab, tok = tokenizer()
    figures = evaluate(model, "cpu", lambda t: tok.hf.encode(t, add_special_tokens=False).ids, questions,
                       shots=questions[:1])
    assert figures["questions"] == 2 and figures["acc"] in (0.0, 0.5, 1.0)


def test_lm_target_packs_plain_documents_and_pretrains(tmp_path):
    """--target lm --packing on a one-document-per-line corpus with a BERT vocabulary: rows of whole documents
    (longer ones cut first), trained by pretrain.py."""
    from conftest import CORPUS, VOCAB
    from uer.data.pretrain_data import PretrainDataset
    for packing in (False, True):
        load_script("preprocess.py").main(["--corpus_path", CORPUS, "--vocab_path", VOCAB, "--target", "lm",
                                           "--seq_length", "64", "--dataset_path", str(tmp_path / f"{packing}.pt"),
                                           *(["--packing"] if packing else [])])
    plain, packed = (PretrainDataset(str(tmp_path / f"{p}.pt")) for p in (False, True))
    assert len(packed) < len(plain)
    _, tgt, _ = packed.batch(np.arange(len(packed)))
    _, plain_tgt, _ = plain.batch(np.arange(len(plain)))
    assert int(tgt["lm_mask"].sum()) == int((plain_tgt["lm"] > 0).sum())
    load_script("pretrain.py").main(["--dataset_path", str(tmp_path / "True.pt"), "--vocab_path", VOCAB,
                                     "--config_path", os.path.join(ROOT, "models", "bert_tiny_config.json"),
                                     "--encoder", "gpt", "--embedding", "word_pos", "--target", "lm",
                                     "--output_model_path", str(tmp_path / "m.bin"), "--total_steps", "3",
                                     "--batch_size", "4"])
    assert (tmp_path / "m.bin-3").exists()


def test_prefix_lm_loss_is_how_sft_datasets_are_made(tmp_path, capsys):
    preprocess(tmp_path, "llm_sft", synthetic_chat.instructions(20, 0), name="sft.pt")
    preprocess(tmp_path, "llm_sft", synthetic_chat.instructions(20, 0), "--train_on_prompt", name="all.pt")
    common = ["--tokenizer_path", TOKENIZER, "--config_path", LLAMA, "--target", "lm", "--total_steps", "1", "--batch_size", "4",
              "--output_model_path", str(tmp_path / "m.bin")]
    load_script("pretrain.py").main(["--dataset_path", str(tmp_path / "sft.pt"), *common])
    assert "TencentPretrain's --prefix_lm_loss" in capsys.readouterr().err
    load_script("pretrain.py").main(["--dataset_path", str(tmp_path / "sft.pt"), "--prefix_lm_loss", *common])
    assert "--prefix_lm_loss" not in capsys.readouterr().err
    with pytest.raises(UserInputError, match="made with --train_on_prompt"):
        load_script("pretrain.py").main(["--dataset_path", str(tmp_path / "all.pt"), "--prefix_lm_loss", *common])
