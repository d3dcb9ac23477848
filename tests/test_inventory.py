"""What UER-py and TencentPretrain ship beyond the 2020 toolkit, each against its original's formula or format:
the tri_stage schedule, TencentPretrain's tokenizer names (hfpretrained, bpe, xlmroberta)."""
import json
import math
import os
import re
from argparse import Namespace

import numpy as np
import pytest
import torch

from conftest import ROOT, CORPUS, load_script
from uer.core.errors import UserInputError

TOKENIZER = os.path.join(ROOT, "models", "chat_tokenizer", "tokenizer.json")


def tri_stage_written_out(step, lr, warmup_steps, decay_steps, total):
    """TencentPretrain's get_tri_stage_schedule, as its docstring and code state it."""
    lr_int, lr_end = lr * 0.01, lr * 0.05
    if step < warmup_steps:
        return lr_int + step * (lr - lr_int) / warmup_steps
    if step < total - decay_steps:
        return lr
    if step <= total:
        return lr * math.exp(math.log(0.05) / decay_steps * (step - total + decay_steps))
    return lr_end


def test_tri_stage_schedule_is_tencentpretrain_s():
    from uer.optim.optimizers import build_optimizer
    model = torch.nn.Linear(3, 3)
    args = Namespace(learning_rate=1e-3, warmup=0.13, decay=0.45, scheduler="tri_stage", optimizer="adamw",
                     beta1=0.9, beta2=0.999, weight_decay=0.0, bias_correction=True)
    total = 100
    optimizer, scheduler = build_optimizer(model, args, total)
    for step in range(total + 5):
        expected = tri_stage_written_out(step, 1e-3, 13.0, 45.0, total)
        assert math.isclose(scheduler.get_last_lr()[0], expected, rel_tol=1e-9), step
        optimizer.step()
        scheduler.step()
    assert math.isclose(scheduler.get_last_lr()[0], 5e-5, rel_tol=1e-9)
    with pytest.raises(UserInputError, match="tri_stage needs --decay"):
        build_optimizer(model, Namespace(**dict(vars(args), decay=None)), total)


def test_hfpretrained_is_the_hf_tokenizer_of_a_model_folder(tmp_path):
    from uer.opts import resolve_tokenizer_alias
    from uer.text.tokenizers import load_vocab_and_tokenizer
    args = resolve_tokenizer_alias(Namespace(tokenizer="hfpretrained", vocab_path=os.path.dirname(TOKENIZER),
                                             tokenizer_path=None, spm_model_path=None))
    assert args.tokenizer == "hf" and args.tokenizer_path == TOKENIZER
    _, tok = load_vocab_and_tokenizer(args, padding=False)
    _, direct = load_vocab_and_tokenizer(Namespace(tokenizer="hf", tokenizer_path=TOKENIZER), padding=False)
    assert tok.encode("sort 312 好") == direct.encode("sort 312 好")
    with pytest.raises(UserInputError, match="must be a HuggingFace model folder"):
        resolve_tokenizer_alias(Namespace(tokenizer="hfpretrained", vocab_path=str(tmp_path), tokenizer_path=None))


def gpt2_files(folder):
    """A byte-level BPE (vocab.json, merges.txt) trained on the sample corpus."""
    from tokenizers import ByteLevelBPETokenizer
    tok = ByteLevelBPETokenizer()
    tok.train([CORPUS], vocab_size=600, special_tokens=["<|endoftext|>"])
    folder.mkdir(parents=True, exist_ok=True)
    tok.save_model(str(folder))
    return str(folder / "vocab.json"), str(folder / "merges.txt")


def test_bpe_tokenizer_reads_gpt2_files_and_preprocesses(tmp_path):
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab_path, merges = gpt2_files(tmp_path / "gpt2")
    vocab, tok = load_vocab_and_tokenizer(Namespace(tokenizer="bpe", vocab_path=vocab_path, merges_path=merges),
                                          padding=False)
    with open(vocab_path, encoding="utf-8") as f:
        table = json.load(f)
    ids = tok.encode("这本书 isn't bad!")
    assert ids and all(0 <= i < len(table) for i in ids) and tok.decode(ids) == "这本书 isn't bad!"
    assert vocab.get("[SEP]") == table["<|endoftext|>"]
    with pytest.raises(UserInputError, match="--tokenizer bpe and --merges_path go together"):
        load_vocab_and_tokenizer(Namespace(tokenizer="bpe", vocab_path=vocab_path, merges_path=None))
    (tmp_path / "docs.jsonl").write_text('{"text": "这本书写得很好"}\n{"text": "not bad at all"}\n')
    load_script("preprocess.py").main(["--corpus_path", str(tmp_path / "docs.jsonl"), "--tokenizer", "bpe",
                                       "--vocab_path", vocab_path, "--merges_path", merges, "--target",
                                       "llm_pretrain", "--seq_length", "16", "--dataset_path", str(tmp_path / "d.pt")])
    assert (tmp_path / "d.pt").exists()


def spm_model(folder):
    """A sentencepiece model laid out as XLM-R's (<unk> 0, <s> 1, </s> 2), trained on the sample corpus."""
    import sentencepiece as spm
    prefix = str(folder / "xlmr")
    spm.SentencePieceTrainer.train(input=CORPUS, model_prefix=prefix, vocab_size=400, unk_id=0, bos_id=1,
                                   eos_id=2, pad_id=-1, character_coverage=0.9995)
    return prefix + ".model"


def test_xlmroberta_ids_are_fairseq_s(tmp_path):
    import sentencepiece as spm
    from uer.text.tokenizers import load_vocab_and_tokenizer
    path = spm_model(tmp_path)
    vocab, tok = load_vocab_and_tokenizer(Namespace(tokenizer="xlmroberta", spm_model_path=path, vocab_path=None))
    sp = spm.SentencePieceProcessor(model_file=path)
    text = "这本书写得很好，我很喜欢。Quite good!"
    pieces = sp.encode(text, out_type=str)
    expected = [sp.piece_to_id(p) + 1 if sp.piece_to_id(p) else 3 for p in pieces]  # fairseq's offset
    assert tok.encode(text) == expected
    assert [vocab.get(t) for t in ("[CLS]", "[PAD]", "[SEP]", "[UNK]")] == [0, 1, 2, 3]
    assert vocab.get("[MASK]") == len(vocab) - 1 == sp.get_piece_size() + 1


def test_classifier_grid_tries_every_combination_and_keeps_the_best(tmp_path, capsys):
    from conftest import VOCAB
    data = os.path.join(ROOT, "datasets", "book_review")
    for split, n in (("train", 120), ("dev", 60)):
        with open(os.path.join(data, f"{split}.tsv"), encoding="utf-8") as f:
            (tmp_path / f"{split}.tsv").write_text("".join(f.readlines()[:n + 1]), encoding="utf-8")
    load_script("run_classifier_grid.py").main([
        "--vocab_path", VOCAB, "--config_path", os.path.join(ROOT, "models", "bert_tiny_config.json"),
        "--train_path", str(tmp_path / "train.tsv"), "--dev_path", str(tmp_path / "dev.tsv"),
        "--output_model_path", str(tmp_path / "best.bin"), "--batch_size_list", "16", "32",
        "--learning_rate_list", "1e-4", "--epochs_num_list", "1", "2", "--seq_length", "32"])
    out = capsys.readouterr().out
    rows = [line.split(" | ") for line in out.splitlines() if line.startswith("| ") and "batch_size" not in line]
    assert [(r[0][2:], r[2]) for r in rows] == [("16", "1"), ("16", "2"), ("32", "1"), ("32", "2")]
    last = [float(r[3]) for r in rows]
    assert f"Best Acc. is: {max(last):.4f}" in out
    assert (tmp_path / "best.bin").exists() and not (tmp_path / "best.bin.grid").exists()
    with pytest.raises(UserInputError, match="has no test set"):
        load_script("run_classifier_grid.py").main([
            "--vocab_path", VOCAB, "--train_path", str(tmp_path / "train.tsv"), "--dev_path",
            str(tmp_path / "dev.tsv"), "--test_path", str(tmp_path / "dev.tsv")])


def test_cls_mlm_is_tencentpretrain_s_data_processor_and_target_pair(tmp_path, capsys):
    """--target cls_mlm: labelled lines masked as mlm; a TencentPretrain config naming ["mlm", "cls"] and the
    cls_mlm data processor trains both parts; its keys go to TencentPretrain's names and back."""
    import numpy as np
    from conftest import CORPUS_CLS, VOCAB
    from uer.data.pretrain_data import PretrainDataset
    load_script("preprocess.py").main(["--corpus_path", CORPUS_CLS, "--vocab_path", VOCAB, "--target", "cls_mlm",
                                       "--seq_length", "48", "--dataset_path", str(tmp_path / "d.pt")])
    data = PretrainDataset(str(tmp_path / "d.pt"))
    src, tgt, seg = data.batch(np.arange(8))
    assert (tgt["mlm"] > 0).any(1).all() and set(tgt["label"].tolist()) <= {0, 1}
    assert data.header["labels_num"] == 2
    with open(os.path.join(ROOT, "models", "bert_tiny_config.json")) as f:
        config = json.load(f)
    config.update({"embedding": ["word", "pos", "seg"], "encoder": "transformer", "mask": "fully_visible",
                   "target": ["mlm", "cls"], "data_processor": "cls_mlm"})
    (tmp_path / "config.json").write_text(json.dumps(config))
    load_script("pretrain.py").main(["--dataset_path", str(tmp_path / "d.pt"), "--vocab_path", VOCAB,
                                     "--config_path", str(tmp_path / "config.json"), "--output_model_path",
                                     str(tmp_path / "m.bin"), "--total_steps", "2", "--report_steps", "2",
                                     "--batch_size", "8"])
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("|")][-1]
    assert "loss_mlm" in line and "loss_cls" in line
    from uer.model_layout import to_tencentpretrain, to_uer
    state = torch.load(str(tmp_path / "m.bin-2"), map_location="cpu")
    theirs = to_tencentpretrain(state, target="cls_mlm")
    assert {"target.mlm.linear_1.weight", "target.cls.linear_2.weight"} <= set(theirs)
    back, _ = to_uer(theirs)
    assert set(back) == set(state) and all(torch.equal(back[k], state[k]) for k in state)


def test_a_model_split_into_blocks_loads_wherever_a_model_file_does(tmp_path):
    """convert_model_into_blocks.py's folder (TencentPretrain's layout: blocks of at most --block_size GB and a
    weight_map index) read by pre-training, fine-tuning, inference and a converter as the file itself."""
    from conftest import VOCAB, TINY
    from uer.model_loader import read_state_dict
    data = os.path.join(ROOT, "datasets", "book_review")
    common = ["--vocab_path", VOCAB, "--config_path", TINY, "--seq_length", "32"]
    load_script("run_classifier.py").main(common + [
        "--train_path", os.path.join(data, "dev.tsv"), "--dev_path", os.path.join(data, "dev.tsv"),
        "--output_model_path", str(tmp_path / "cls.bin"), "--epochs_num", "1"])
    load_script("scripts/convert_model_into_blocks.py").main([
        "--input_model_path", str(tmp_path / "cls.bin"), "--output_model_path", str(tmp_path / "blocks"),
        "--block_size", "0.0002"])
    index = json.loads((tmp_path / "blocks" / "tencentpretrain_model.bin.index.json").read_text())
    files = sorted(set(index["weight_map"].values()))
    whole, split = read_state_dict(str(tmp_path / "cls.bin")), read_state_dict(str(tmp_path / "blocks"))
    sizes = {f: [whole[k].numel() * whole[k].element_size() for k, v in index["weight_map"].items() if v == f]
             for f in files}
    assert len(files) > 2 and all(sum(s) <= 0.0002e9 or len(s) == 1 for s in sizes.values())
    assert list(whole) == list(split) and all(torch.equal(whole[k], split[k]) for k in whole)
    for model in (str(tmp_path / "cls.bin"), str(tmp_path / "blocks")):  # inference predicts the same
        load_script("inference/run_classifier_infer.py").main(common + [
            "--load_model_path", model, "--test_path", os.path.join(data, "test_nolabel.tsv"),
            "--prediction_path", str(tmp_path / f"{os.path.basename(model)}.tsv"), "--labels_num", "2",
            "--output_logits"])
    assert (tmp_path / "cls.bin.tsv").read_text() == (tmp_path / "blocks.tsv").read_text()
    load_script("run_classifier.py").main(common + [
        "--pretrained_model_path", str(tmp_path / "blocks" / "tencentpretrain_model.bin.index.json"),
        "--train_path", os.path.join(data, "dev.tsv"), "--dev_path", os.path.join(data, "dev.tsv"),
        "--output_model_path", str(tmp_path / "again.bin"), "--epochs_num", "1"])
    load_script("scripts/convert_bert_from_uer_to_huggingface.py").main([
        "--input_model_path", str(tmp_path / "blocks"), "--output_model_path", str(tmp_path / "hf" / "model.bin")])
    assert (tmp_path / "hf" / "model.bin").exists()
    with pytest.raises(UserInputError, match="without tencentpretrain_model.bin.index.json"):
        read_state_dict(str(tmp_path / "hf"))


def test_chid_rows_are_uer_py_s():
    """Each blank: per candidate [CLS] candidate [SEP] left [SEP] right [SEP] of characters around it (other blanks
    [MASK]), seq_length - 4 of them balanced as UER-py's add_tokens_around; padded to seq_length; missing candidates
    are empty rows."""
    import tempfile
    from argparse import Namespace as NS
    from conftest import VOCAB
    from uer.tasks.chid import read_chid, around
    from uer.text.tokenizers import CharTokenizer, load_vocab
    vocab, _ = load_vocab(NS(vocab_path=VOCAB))
    tok = CharTokenizer(vocab)
    with tempfile.TemporaryDirectory() as d:
        path, answers = os.path.join(d, "t.json"), os.path.join(d, "a.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(json.dumps({"candidates": ["好书好书", "坏书坏书"], "content": ["我看#idiom000001#很好#idiom000002#了"]},
                               ensure_ascii=False) + "\n")
        with open(answers, "w") as f:
            json.dump({"#idiom000001#": 1, "#idiom000002#": 0}, f)
        examples = read_chid(path, answers, tok, 12, 3)
    assert examples.fields["tag"] == ["#idiom000001#", "#idiom000002#"]
    assert examples.fields["label"].tolist() == [1, 0] and examples.rows.pad_to == 12
    src, _ = examples.batch(np.array([0, 1]), "cpu")
    ids = [vocab.get(t) for t in ["[CLS]", "好", "书", "好", "书", "[SEP]", "我", "看", "[SEP]", "很", "好", "[MASK]"]]
    assert src[0, 0].tolist() == ids  # 8 context tokens: the 2 before, then 6 after (2 only exist before)
    assert src[0, 2].tolist() == [0] * 12  # the third candidate does not exist
    assert around(list("abcdefghij"), 5, 4) == (list("de"), list("gh"))
    assert around(list("abcdefghij"), 1, 4) == (list("a"), list("cde"))
    assert around(list("abcdefghij"), 8, 4) == (list("fgh"), list("j"))


def test_chid_assignment_takes_the_best_pairs_each_candidate_once():
    from uer.tasks.chid import assign
    scores = np.array([[0.9, 0.8, 0.1], [0.95, 0.2, 0.3]])  # blank 1 takes candidate 0 first, blank 0 then 1
    assert assign(scores) == [1, 0]


def test_run_chid_and_its_inference_run_as_users_run_them(tmp_path, capsys):
    """run_chid.py trains and reports dev accuracy; run_chid_infer.py answers every blank, each passage group's
    candidates used once."""
    from conftest import VOCAB
    import synthetic_tasks
    for split, n, seed in (("train", 24, 1), ("dev", 8, 2)):
        lines, answers = synthetic_tasks.idiom_cloze(n, seed, candidates=4)
        (tmp_path / f"{split}.json").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
        (tmp_path / f"{split}_answer.json").write_text(json.dumps(answers))
    common = ["--vocab_path", VOCAB, "--config_path", os.path.join(ROOT, "models", "bert_tiny_config.json"),
              "--seq_length", "24", "--max_choices_num", "4"]
    load_script("run_chid.py").main(common + [
        "--train_path", str(tmp_path / "train.json"), "--train_answer_path", str(tmp_path / "train_answer.json"),
        "--dev_path", str(tmp_path / "dev.json"), "--dev_answer_path", str(tmp_path / "dev_answer.json"),
        "--output_model_path", str(tmp_path / "chid.bin"), "--epochs_num", "1", "--batch_size", "8"])
    assert any(line.startswith("dev: accuracy") for line in capsys.readouterr().out.splitlines())
    load_script("inference/run_chid_infer.py").main(common + [
        "--load_model_path", str(tmp_path / "chid.bin"), "--test_path", str(tmp_path / "dev.json"),
        "--prediction_path", str(tmp_path / "pred.json")])
    predicted = json.loads((tmp_path / "pred.json").read_text())
    truth = json.loads((tmp_path / "dev_answer.json").read_text())
    assert set(predicted) == set(truth) and all(0 <= c < 4 for c in predicted.values())
    lines = [json.loads(x) for x in (tmp_path / "dev.json").read_text().splitlines()]
    for line in lines:  # within a passage group no candidate is given twice
        tags = [t for text in line["content"] for t in re.findall(r"#idiom\d{6}#", text)]
        assert len({predicted[t] for t in tags}) == len(tags)
