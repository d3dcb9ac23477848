"""The decoder workflow against HuggingFace transformers: chat templates rendered and tokenized as
apply_chat_template does, assistant masks as its {% generation %} masks, left-padded batch generation as its
generate, perplexity as its guide computes it, and a converted Qwen2 chat-tuned (full and LoRA) and converted
back computing our logits. Needs `pip install -r requirements-interop.txt`; skipped without it."""
import json
import math
import os

import numpy as np
import pytest
import torch

from conftest import ROOT, load_script
import synthetic_chat

transformers = pytest.importorskip("transformers")
import test_llama  # noqa: E402
from test_llama import hf_model  # noqa: E402

TOKENIZER = os.path.join(ROOT, "models", "chat_tokenizer", "tokenizer.json")
VOCAB = 259  # the chat tokenizer's

QWEN2 = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
         "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
         "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
         "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
LLAMA3 = ("{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
          "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + "
          "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
          "{% endif %}")
MISTRAL = ("{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
           "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
           "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
           "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% endif %}{% endfor %}")
GENERATION_TAGS = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' }}"
                   "{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] + '<|im_end|>\\n' }}"
                   "{% endgeneration %}{% else %}{{ message['content'] + '<|im_end|>\\n' }}{% endif %}{% endfor %}"
                   "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
SPECIALS = {"qwen2": (QWEN2, "<|endoftext|>", "<|im_end|>", []),
            "llama3": (LLAMA3, "<|begin_of_text|>", "<|eot_id|>",
                       ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]),
            "mistral": (MISTRAL, "<s>", "</s>", ["<s>", "</s>", "[INST]", "[/INST]"]),
            "tags": (GENERATION_TAGS, "<|endoftext|>", "<|im_end|>", [])}


def tokenizer_folder(folder, style):
    """The shipped byte-level tokenizer with a template's special tokens, as a transformers tokenizer folder."""
    from tokenizers import Tokenizer
    template, bos, eos, extra = SPECIALS[style]
    tok = Tokenizer.from_file(TOKENIZER)
    tok.add_special_tokens(extra)
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "bos_token": bos, "eos_token": eos, "pad_token": "<|endoftext|>", "chat_template": template,
        "tokenizer_class": "PreTrainedTokenizerFast"}))
    return transformers.PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"), bos_token=bos,
                                                eos_token=eos, pad_token="<|endoftext|>", chat_template=template)


def uer_model(model_path, config_path):
    return test_llama.uer_model(model_path, config_path, VOCAB)


def convert(hf_folder, out):
    return test_llama.convert(hf_folder, out, vocab=VOCAB)


def hf_ids(hf_tok, messages, **kw):
    out = hf_tok.apply_chat_template(messages, tokenize=True, **kw)
    return out["input_ids"] if isinstance(out, dict) or hasattr(out, "keys") else out


@pytest.mark.parametrize("style", ["qwen2", "llama3", "mistral"])
def test_chat_rows_are_rendered_and_tokenized_as_apply_chat_template(tmp_path, style):
    hf_tok = tokenizer_folder(tmp_path / "tok", style)
    conversations = synthetic_chat.conversations(8, 3, system_share=0 if style == "mistral" else 0.5)
    conversations.append({"messages": [{"role": "user", "content": "这本书 ok? "},
                                       {"role": "assistant", "content": "  很好 \n"}]})
    synthetic_chat.write_jsonl(tmp_path / "chat.jsonl", conversations)
    load_script("preprocess.py").main(["--corpus_path", str(tmp_path / "chat.jsonl"), "--tokenizer", "hf",
                                       "--tokenizer_path", str(tmp_path / "tok" / "tokenizer.json"), "--target",
                                       "chat", "--seq_length", "400", "--dataset_path", str(tmp_path / "d.pt")])
    from uer.data.pretrain_data import PretrainDataset
    from uer.text.chat_template import load_chat_template
    data = PretrainDataset(str(tmp_path / "d.pt"))
    template = load_chat_template(str(tmp_path / "tok" / "tokenizer.json"))
    rows = {}
    for i in range(len(data)):
        src, tgt, _ = data.batch(np.array([i]))
        rows[tuple(src[0].tolist())] = tgt["lm"][0, -1]
    for conversation in conversations:
        messages = conversation["messages"]
        text = hf_tok.apply_chat_template(messages, tokenize=False)
        assert template.render(messages) == text
        prompt = messages[:-1]
        assert template.render(prompt, add_generation_prompt=True) == \
            hf_tok.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
        ids = list(hf_ids(hf_tok, messages))
        assert tuple(ids[:-1]) in rows and rows[tuple(ids[:-1])] == ids[-1]


def test_template_of_a_tokenizer_saved_by_transformers_is_its_chat_template_jinja(tmp_path):
    """transformers 5 saves the template as chat_template.jinja (not in tokenizer_config.json), and a jinja file
    takes over a template the config still has: the template read here is the one it loads."""
    from uer.text.chat_template import load_chat_template
    tokenizer_folder(tmp_path / "built", "llama3").save_pretrained(str(tmp_path / "tok"))
    assert (tmp_path / "tok" / "chat_template.jinja").exists()
    config_path = tmp_path / "tok" / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    assert "chat_template" not in config
    conversations = synthetic_chat.conversations(4, 3, system_share=0.5)
    tokenizer = str(tmp_path / "tok" / "tokenizer.json")
    for inline in (None, QWEN2):  # the jinja file wins over a template left in the config
        if inline:
            config_path.write_text(json.dumps(dict(config, chat_template=inline)))
        hf_tok = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "tok"))
        template = load_chat_template(tokenizer)
        for conversation in conversations:
            messages = conversation["messages"]
            assert template.render(messages) == hf_tok.apply_chat_template(messages, tokenize=False)
            assert "<|eot_id|>" in template.render(messages)
    load_script("preprocess.py").main(["--corpus_path", str(synthetic_chat.write_jsonl(tmp_path / "c.jsonl",
                                                                                        conversations)),
                                       "--tokenizer", "hf", "--tokenizer_path", tokenizer, "--target", "chat",
                                       "--seq_length", "400", "--dataset_path", str(tmp_path / "d.pt")])
    assert (tmp_path / "d.pt").exists()


def test_assistant_turns_are_transformers_assistant_masks(tmp_path):
    """With a template marking its assistant text by {% generation %}, transformers' assistant mask is the set
    of tokens preprocess.py predicts."""
    hf_tok = tokenizer_folder(tmp_path / "tok", "tags")
    conversations = synthetic_chat.conversations(6, 4)
    synthetic_chat.write_jsonl(tmp_path / "chat.jsonl", conversations)
    load_script("preprocess.py").main(["--corpus_path", str(tmp_path / "chat.jsonl"), "--tokenizer", "hf",
                                       "--tokenizer_path", str(tmp_path / "tok" / "tokenizer.json"), "--target",
                                       "chat", "--seq_length", "400", "--dataset_path", str(tmp_path / "d.pt")])
    from uer.data.pretrain_data import PretrainDataset
    data = PretrainDataset(str(tmp_path / "d.pt"))
    ours = {}
    for i in range(len(data)):
        src, tgt, _ = data.batch(np.array([i]))
        ours[tuple(src[0].tolist())] = [0] + tgt["lm_mask"][0].tolist()
    for conversation in conversations:
        out = hf_tok.apply_chat_template(conversation["messages"], tokenize=True, return_dict=True,
                                         return_assistant_tokens_mask=True)
        ids = list(out["input_ids"])
        assert ours[tuple(ids[:-1])] == list(out["assistant_masks"])


def test_left_padded_batch_generation_is_transformers_generate(tmp_path):
    from uer.generation.decoder_only import generate
    hf = hf_model("qwen2", tmp_path / "hf", vocab_size=VOCAB)
    ours = convert(tmp_path / "hf", tmp_path)
    prompts = [[5, 9, 14, 200, 31, 8], [7, 7], [100, 101, 102, 103]]
    out = generate(ours, "cpu", prompts, 12, {2})
    width = max(map(len, prompts))
    ids = torch.tensor([[0] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    with torch.no_grad():
        theirs = hf.generate(ids, attention_mask=mask, max_new_tokens=12, do_sample=False, eos_token_id=2,
                             pad_token_id=0)[:, width:].tolist()
    for mine, their in zip(out, theirs):
        their = their[:their.index(2)] if 2 in their else their
        assert mine == [t for t in their if t != 0] or mine == their


def test_perplexity_script_is_the_guide_s_computation(tmp_path, capsys):
    hf = hf_model("llama", tmp_path / "hf", vocab_size=VOCAB)
    convert(tmp_path / "hf", tmp_path)
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(TOKENIZER)
    text = " ".join(f"reverse {i * 37 % 1000} gives {str(i * 37 % 1000)[::-1]}." for i in range(60))
    (tmp_path / "text.txt").write_text(text)
    ids = torch.tensor([tok.encode(text).ids])
    window, stride = 64, 24
    nll_sum, n_tokens, previous = 0.0, 0, 0
    for begin in range(0, ids.size(1), stride):  # the guide's loop
        end = min(begin + window, ids.size(1))
        target_len = end - previous
        input_ids = ids[:, begin:end]
        targets = input_ids.clone()
        targets[:, :-target_len] = -100
        with torch.no_grad():
            loss = hf(input_ids, labels=targets).loss
        valid = (targets != -100).sum().item() - targets.size(0)
        nll_sum += loss * valid
        n_tokens += valid
        previous = end
        if end == ids.size(1):
            break
    expected = math.exp(float(nll_sum / n_tokens))
    load_script("scripts/perplexity.py").main([
        "--pretrained_model_path", str(tmp_path / "uer.bin"), "--config_path", str(tmp_path / "uer.json"),
        "--tokenizer", "hf", "--tokenizer_path", TOKENIZER, "--input_path", str(tmp_path / "text.txt"),
        "--seq_length", str(window), "--stride", str(stride)])
    ours = float(capsys.readouterr().out.split("perplexity ")[1].split()[0])
    assert abs(ours - expected) <= 1e-4 * expected


@pytest.mark.parametrize("lora", [False, True])
def test_chat_tuned_converted_qwen2_goes_back_to_transformers_with_our_logits(tmp_path, lora):
    hf_model("qwen2", tmp_path / "hf", vocab_size=VOCAB)
    base = convert(tmp_path / "hf", tmp_path)
    synthetic_chat.write_jsonl(tmp_path / "chat.jsonl", synthetic_chat.conversations(40, 6))
    load_script("preprocess.py").main(["--corpus_path", str(tmp_path / "chat.jsonl"), "--tokenizer", "hf",
                                       "--tokenizer_path", TOKENIZER, "--target", "chat", "--seq_length", "96",
                                       "--packing", "--dataset_path", str(tmp_path / "d.pt")])
    load_script("pretrain.py").main(["--dataset_path", str(tmp_path / "d.pt"), "--tokenizer_path", TOKENIZER, "--config_path", str(tmp_path / "uer.json"),
                                     "--pretrained_model_path", str(tmp_path / "uer.bin"), "--output_model_path",
                                     str(tmp_path / "sft.bin"), "--total_steps", "4", "--batch_size", "4",
                                     "--learning_rate", "1e-2", "--target", "lm", "--report_steps", "4",
                                     *(["--use_lora", "--lora_r", "4"] if lora else [])])
    tuned = tmp_path / "sft.bin-4"
    if lora:
        load_script("scripts/merge_lora.py").main(["--pretrained_model_path", str(tmp_path / "uer.bin"),
                                                   "--lora_model_path", str(tuned), "--output_model_path",
                                                   str(tmp_path / "merged.bin")])
        tuned = tmp_path / "merged.bin"
    ours = uer_model(tuned, tmp_path / "uer.json")
    load_script(test_llama.TO_HF).main(["--input_model_path", str(tuned), "--config_path",
                                        str(tmp_path / "uer.json"), "--output_model_path",
                                        str(tmp_path / "back" / "model.safetensors")])
    back = transformers.Qwen2ForCausalLM.from_pretrained(str(tmp_path / "back")).eval()
    src = torch.randint(3, VOCAB, (2, 30))
    with torch.no_grad():
        mine = ours.target.word_logits(ours.encode(src, torch.ones_like(src)))
        before = base.target.word_logits(base.encode(src, torch.ones_like(src)))
        assert (mine - back(src).logits).abs().max() <= 1e-5
    assert (mine - before).abs().max() > 1e-3  # the tuning changed the model
