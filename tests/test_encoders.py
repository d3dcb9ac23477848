"""The non-transformer encoders, the bilm target and subword composition: checkpoint keys, padding, causality,
the original's arithmetic, training through pretrain.py."""
import re

import pytest
import torch
import torch.nn.functional as F

from conftest import model_args, run_script, VOCAB, CORPUS
from uer.model_builder import build_model
from uer.model_loader import load_model
from uer.model_saver import save_model
from uer.core.errors import UserInputError
from uer.data.pretrain_data import PretrainDataset
from uer.text.subword import char_table, word_characters
from uer.text.vocab import Vocab

RNN = dict(emb_size=512, hidden_size=512, layers_num=2)
WORD_EMBEDDING = {"embedding.word_embedding.weight": [21128, "E"], "embedding.layer_norm.gamma": ["E"],
                  "embedding.layer_norm.beta": ["E"]}


def rnn_keys(prefix, gates, hidden, first_inputs, layers=2, reverse=False):
    """The spec writes one line per key for all k; above layer 0 the input is the layer below's output."""
    keys = {}
    for k in range(layers):
        inputs = first_inputs if k == 0 else hidden * (2 if reverse else 1)
        for suffix in ([""] + (["_reverse"] if reverse else [])):
            keys.update({f"{prefix}.weight_ih_l{k}{suffix}": [gates, inputs], f"{prefix}.weight_hh_l{k}{suffix}":
                         [gates, hidden], f"{prefix}.bias_ih_l{k}{suffix}": [gates],
                         f"{prefix}.bias_hh_l{k}{suffix}": [gates]})
    return keys


def conv_keys(prefix, hidden, kernel, width, rest):
    """conv_1 and `rest` further convolutions: layers_num for cnn, layers_num - 1 for gatedcnn/rcnn/crnn."""
    keys = {f"{prefix}conv_1.weight": [hidden, 1, kernel, width], f"{prefix}conv_1.bias": [hidden]}
    for i in range(rest):
        keys.update({f"{prefix}conv.{i}.weight": [hidden, hidden, kernel, 1], f"{prefix}conv.{i}.bias": [hidden]})
    return keys


def gatedcnn_keys(hidden=807, kernel=4, width=128, layers=9):
    keys = {"encoder.conv_b1": [1, hidden, 1, 1], "encoder.gate_b1": [1, hidden, 1, 1]}
    for name in ("conv", "gate"):
        convs = conv_keys("encoder.", hidden, kernel, width, layers - 1)
        keys.update({k.replace("conv", name): v for k, v in convs.items()})
        keys.update({f"encoder.{name}_b.{i}": [1, hidden, 1, 1] for i in range(layers - 1)})
    return keys


def attn_keys(layers=2):
    keys = {}
    for i in range(layers):
        for j in ("linear_layers.0", "linear_layers.1", "linear_layers.2", "final_linear"):
            keys.update({f"encoder.self_attn.{i}.{j}.weight": [768, 768], f"encoder.self_attn.{i}.{j}.bias": [768]})
    return keys


def with_embedding(emb, *parts, output=None):
    keys = {k: [emb if d == "E" else d for d in v] for k, v in WORD_EMBEDDING.items()}
    for part in parts:
        keys.update(part)
    if output:
        keys.update({"target.output_layer.weight": [21128, output], "target.output_layer.bias": [21128]})
    return keys


BERT_EMBEDDING = {"embedding.word_embedding.weight": [21128, 768], "embedding.position_embedding.weight": [512, 768],
                  "embedding.segment_embedding.weight": [3, 768], "embedding.layer_norm.gamma": [768],
                  "embedding.layer_norm.beta": [768]}
MLM = {"target.mlm_linear_1.weight": [768, 768], "target.mlm_linear_1.bias": [768], "target.layer_norm.gamma": [768],
       "target.layer_norm.beta": [768], "target.mlm_linear_2.weight": [21128, 768], "target.mlm_linear_2.bias": [21128]}

# The key lists of ../shared/spec/checkpoint-format.md (the 2020 UER-py code, layers_num 2; gatedcnn 9).
SPEC = {
    "lstm": ("word", "lstm", "lm", RNN, with_embedding(512, rnn_keys("encoder.rnn", 2048, 512, 512), output=512)),
    "gru": ("word", "gru", "lm", RNN, with_embedding(512, rnn_keys("encoder.rnn", 1536, 512, 512), output=512)),
    "bilstm": ("word", "bilstm", "bilm", dict(RNN, hidden_size=1536),
               with_embedding(512, rnn_keys("encoder.rnn_forward", 3072, 768, 512),
                              rnn_keys("encoder.rnn_backward", 3072, 768, 512), output=768)),
    "cnn": ("word", "cnn", "lm", dict(RNN, kernel_size=3),
            with_embedding(512, conv_keys("encoder.", 512, 3, 512, rest=2), output=512)),
    "gatedcnn": ("word", "gatedcnn", "lm", dict(emb_size=128, hidden_size=807, kernel_size=4, block_size=5,
                                                layers_num=9), with_embedding(128, gatedcnn_keys(), output=807)),
    "attn": ("bert", "attn", "mlm", dict(layers_num=2), dict(BERT_EMBEDDING, **attn_keys(), **MLM)),
    "rcnn": ("word", "rcnn", "lm", dict(RNN, kernel_size=3, block_size=2),
             with_embedding(512, rnn_keys("encoder.rnn", 2048, 512, 512),
                            conv_keys("encoder.", 512, 3, 512, rest=1), output=512)),
    "crnn": ("word", "crnn", "lm", dict(RNN, kernel_size=3, block_size=2),
             with_embedding(512, conv_keys("encoder.", 512, 3, 512, rest=1),
                            rnn_keys("encoder.rnn", 2048, 512, 512), output=512)),
}


@pytest.mark.parametrize("name", sorted(SPEC))
def test_state_dict_keys_and_shapes_match_uer_checkpoints(name):
    embedding, encoder, target, config, expected = SPEC[name]
    model = build_model(model_args(config, encoder, target, embedding=embedding), 21128)
    assert {k: list(v.shape) for k, v in model.state_dict().items()} == expected


def test_bidirectional_lstm_keys_match_uer_checkpoints():
    # The spec lists it under --target lm, which we refuse (it would see the future); the encoder keys are what
    # published bidirectional checkpoints carry into fine-tuning.
    model = build_model(model_args(RNN, "lstm", "mlm", embedding="word", bidirectional=True, emb_size=512), 21128)
    got = {k: list(v.shape) for k, v in model.state_dict().items() if k.startswith("encoder.")}
    assert got == rnn_keys("encoder.rnn", 1024, 256, 512, reverse=True)


def test_synthesizer_keys_are_documented_ones():
    model = build_model(model_args(dict(layers_num=1), "synt", "mlm"), 21128)
    got = {k: list(v.shape) for k, v in model.state_dict().items() if k.startswith("encoder.")}
    assert got["encoder.synthesizer.0.self_attn.dense_2.weight"] == [12 * 512, 768]
    assert {k.split(".", 3)[3] for k in got} == {
        "self_attn.dense_1.weight", "self_attn.dense_1.bias", "self_attn.dense_2.weight", "self_attn.dense_2.bias",
        "self_attn.value.weight", "self_attn.value.bias", "self_attn.final_linear.weight",
        "self_attn.final_linear.bias", "layer_norm_1.gamma", "layer_norm_1.beta", "layer_norm_2.gamma",
        "layer_norm_2.beta", "feed_forward.linear_1.weight", "feed_forward.linear_1.bias",
        "feed_forward.linear_2.weight", "feed_forward.linear_2.bias"}


# -- behaviour on tiny models

TINY_CONFIG = dict(emb_size=16, hidden_size=24, feedforward_size=32, heads_num=4, layers_num=2, dropout=0.0,
                   kernel_size=3, block_size=2, max_seq_length=64)
ENCODERS = {  # encoder: (embedding, target, extra config)
    "lstm": ("word", "lm", {}), "gru": ("word", "lm", {}), "lstm_bi": ("word", "mlm", {"bidirectional": True}),
    "gru_bi": ("word", "mlm", {"bidirectional": True}), "bilstm": ("word", "bilm", {}), "cnn": ("word", "lm", {}),
    "gatedcnn": ("word", "lm", {"layers_num": 5}), "rcnn": ("word", "lm", {}), "crnn": ("word", "lm", {}),
    "attn": ("bert", "mlm", {"emb_size": 24}), "synt": ("bert", "mlm", {"emb_size": 24}),
    "gpt": ("bert", "lm", {"emb_size": 24}), "bert": ("bert", "mlm", {"emb_size": 24}),
}
CAUSAL = ["lstm", "gru", "cnn", "gatedcnn", "rcnn", "crnn", "gpt"]


def tiny_model(name, seed=0, **extra):
    embedding, target, config = ENCODERS[name]
    torch.manual_seed(seed)
    args = model_args(dict(TINY_CONFIG, **config, **extra), name.split("_")[0], target, embedding=embedding)
    model = build_model(args, 50).eval()
    for p in model.parameters():  # larger weights than N(0, 0.02), so that every input visibly matters
        p.data.normal_(0, 0.3)
    return model


def padded_batch(lengths, width, seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(5, 50, (len(lengths), width), generator=g)
    seg = (torch.arange(width)[None, :] < torch.tensor(lengths)[:, None]).long()
    return src * seg, seg


def hidden(model, src, seg):
    return model.encoder(model.embed(src, seg), seg)


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_padding_does_not_change_outputs(name):
    model = tiny_model(name)
    src, seg = padded_batch([9, 5, 7], 9)
    more_src, more_seg = F.pad(src, (0, 6)), F.pad(seg, (0, 6))
    with torch.no_grad():
        short, long = hidden(model, src, seg), hidden(model, more_src, more_seg)
        alone = hidden(model, src[1:2, :5], seg[1:2, :5])
    real = seg > 0
    assert torch.allclose(short[real], long[:, :9][real], atol=1e-5)
    assert torch.allclose(alone[0], short[1, :5], atol=1e-5), "a row's outputs do not depend on its batch"


@pytest.mark.parametrize("name", CAUSAL + ["bilstm"])
def test_no_future_leak(name):
    model = tiny_model(name)
    src, seg = padded_batch([12], 12)
    changed = src.clone()
    changed[0, 7:] = (changed[0, 7:] + 3) % 45 + 5
    with torch.no_grad():
        a, b = hidden(model, src, seg), hidden(model, changed, seg)
    if name == "bilstm":
        half = a.size(-1) // 2
        assert torch.allclose(a[0, :7, :half], b[0, :7, :half], atol=1e-6), "forward half sees only the past"
        assert not torch.allclose(a[0, :7, half:], b[0, :7, half:], atol=1e-3), "backward half sees the future"
        return
    assert torch.allclose(a[0, :7], b[0, :7], atol=1e-6)
    assert not torch.allclose(a[0, 7:], b[0, 7:], atol=1e-3)


def uer2020_conv_stack(x, conv_1, convs, kernel):
    """The original's Conv2d arithmetic on 4-D tensors, with its explicit zero padding."""
    b, n, e = x.shape
    h = conv_1(torch.cat([x.new_zeros(b, kernel - 1, e), x], 1).unsqueeze(1))
    for conv in convs:
        h = conv(torch.cat([h.new_zeros(b, h.size(1), kernel - 1, 1), h], 2))
    return h.squeeze(3).transpose(1, 2)


def test_cnn_and_gatedcnn_compute_what_the_original_computed():
    src, seg = padded_batch([10, 10], 10)
    cnn = tiny_model("cnn")
    emb = cnn.embed(src, seg)
    ref = uer2020_conv_stack(emb, cnn.encoder.conv_1, cnn.encoder.conv, 3)
    assert torch.allclose(cnn.encoder(emb, seg), ref, atol=1e-5)

    gated = tiny_model("gatedcnn").encoder
    emb = torch.randn(2, 10, 16)

    def gated_ref(x):  # the original's gated layers, written out in full
        b, n, e = x.shape
        padded = torch.cat([x.new_zeros(b, 2, e), x], 1).unsqueeze(1)
        h = (gated.conv_1(padded) + gated.conv_b1) * torch.sigmoid(gated.gate_1(padded) + gated.gate_b1)
        residual = h
        for i in range(len(gated.conv)):
            p = torch.cat([h.new_zeros(b, h.size(1), 2, 1), h], 2)
            h = (gated.conv[i](p) + gated.conv_b[i]) * torch.sigmoid(gated.gate[i](p) + gated.gate_b[i])
            if (i + 1) % 2 == 0:
                h = h + residual
                residual = h
        return h.squeeze(3).transpose(1, 2)

    assert torch.allclose(gated(emb, seg), gated_ref(emb), atol=1e-5)


def test_bilstm_computes_what_the_original_computed():
    model = tiny_model("bilstm").encoder
    emb, seg = torch.randn(2, 8, 16), torch.ones(2, 8, dtype=torch.long)
    forward = model.rnn_forward(emb)[0]
    backward = model.rnn_backward(emb.flip(1))[0].flip(1)
    assert torch.allclose(model(emb, seg), torch.cat([forward, backward], 2), atol=1e-6)


@pytest.mark.parametrize("encoder, target, extra, message", [
    ("bert", "lm", {"emb_size": 24}, "--encoder bert lets every position see the tokens after it"),
    ("attn", "lm", {"emb_size": 24}, "use a causal encoder"),
    ("lstm", "lm", {"bidirectional": True}, "--encoder lstm --bidirectional lets"),
    ("lstm", "bilm", {}, "--target bilm needs"),
    ("gru", "bilm", {"bidirectional": True, "layers_num": 2}, "--target bilm needs"),
    ("attn", "mlm", {"emb_size": 16}, "needs emb_size == hidden_size"),
])
def test_pairs_that_cannot_work_are_refused(encoder, target, extra, message):
    args = model_args(dict(TINY_CONFIG, **extra), encoder, target, embedding="word")
    with pytest.raises(UserInputError, match=re.escape(message)):
        build_model(args, 50)


def test_one_layer_bidirectional_rnn_fits_bilm():
    model = build_model(model_args(dict(TINY_CONFIG, layers_num=1), "lstm", "bilm", embedding="word",
                                   bidirectional=True), 50)
    assert model.target.output_layer.in_features == 12


# -- data for lm and bilm

def test_bilm_targets_are_the_real_neighbours(datasets):
    data = PretrainDataset(datasets["bilm"])
    src, tgt, seg = data.batch(list(range(8)))
    assert src.shape[1] == data.header["seq_length"]
    real = seg > 0
    assert (src[real] > 0).all() and (src[~real] == 0).all()
    fwd, bwd = tgt["forward"], tgt["backward"]
    assert (fwd[:, :-1][real[:, 1:]] == src[:, 1:][real[:, 1:]]).all(), "forward target = next input"
    assert (bwd[:, 1:][real[:, 1:]] == src[:, :-1][real[:, 1:]]).all(), "backward target = previous input"
    assert (fwd[~real] == 0).all() and (bwd[~real] == 0).all()


def test_lm_dataset_has_seq_length_inputs(datasets):
    src, tgt, seg = PretrainDataset(datasets["lm"]).batch(list(range(200)))
    assert src.shape == tgt["lm"].shape == (200, 64), "the original wrote 129 ids here and then failed"
    assert (tgt["lm"][:, :-1] == src[:, 1:]).all()


# -- training through pretrain.py (in-process: one interpreter for all encoders)

TRAIN = {  # encoder: (embedding, target, extra flags)
    "lstm": ("word", "lm", []), "gru": ("word", "lm", []), "cnn": ("word", "lm", []),
    "gatedcnn": ("word", "lm", []), "rcnn": ("word", "lm", []), "crnn": ("word", "lm", []),
    "bilstm": ("word", "bilm", []), "attn": ("bert", "mlm", []), "synt": ("bert", "mlm", []),
    "lstm_bi": ("word", "mlm", ["--bidirectional"]), "gru_bi": ("word", "bilm", ["--bidirectional"]),
}


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory):
    path = tmp_path_factory.mktemp("config") / "tiny.json"
    path.write_text('{"emb_size": 32, "hidden_size": 32, "feedforward_size": 64, "heads_num": 4, '
                    '"layers_num": 2, "dropout": 0.1, "kernel_size": 3, "block_size": 2, "max_seq_length": 64}')
    return str(path)


def train_in_process(dataset, out, config, embedding, encoder, target, *extra, steps=30):
    from pretrain import main
    main(["--dataset_path", dataset, "--vocab_path", VOCAB, "--output_model_path", out, "--config_path", config,
          "--embedding", embedding, "--encoder", encoder, "--target", target, "--total_steps", str(steps),
          "--report_steps", "10", "--batch_size", "16", "--learning_rate", "2e-3", "--warmup", "0.1", *extra])


@pytest.mark.parametrize("name", sorted(TRAIN))
def test_every_encoder_trains_saves_and_reloads(name, datasets, tiny_config, tmp_path, capsys):
    embedding, target, extra = TRAIN[name]
    out = str(tmp_path / "m.bin")
    config = tiny_config
    if name == "gru_bi":  # bilm from a bidirectional RNN needs a single layer
        config = str(tmp_path / "one_layer.json")
        with open(tiny_config) as f, open(config, "w") as g:
            g.write(f.read().replace('"layers_num": 2', '"layers_num": 1'))
    train_in_process(datasets[target], out, config, embedding, name.split("_")[0], target, *extra)
    losses = [float(v) for v in re.findall(r"\| loss\s+([0-9.]+)", capsys.readouterr().out)]
    assert len(losses) == 3 and losses[-1] < losses[0] - 0.1, losses

    from uer.opts import load_config
    args = model_args(dict(load_config(config), dropout=0.0), name.split("_")[0], target, embedding=embedding,
                      bidirectional="--bidirectional" in extra)
    trained = build_model(args, 676)
    load_model(trained, out + "-30")
    trained.eval()
    save_model(trained, str(tmp_path / "again.bin"))
    fresh = build_model(args, 676).eval()
    load_model(fresh, str(tmp_path / "again.bin"))
    src, seg = padded_batch([12, 9], 12)
    with torch.no_grad():
        assert torch.equal(hidden(trained, src, seg), hidden(fresh, src, seg))


# -- subword composition

def test_word_characters_and_char_table():
    assert word_characters("##书评") == "书评"
    assert word_characters("\u2581book") == "book"
    assert word_characters("[CLS]") == "" and word_characters("<s>") == "" and word_characters("##") == "##"
    vocab = Vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "ab", "##bz"], "v")
    sub = Vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b"], "s")
    table = char_table(vocab, sub, max_chars=3)
    assert table[5].tolist() == [5, 6, 0] and table[6].tolist() == [6, 1, 0] and table[2].tolist() == [0, 0, 0]


@pytest.mark.parametrize("subencoder", ["avg", "lstm", "gru", "cnn"])
def test_subword_composition_is_used_and_trained(subencoder):
    vocab = Vocab.load(VOCAB)
    args = model_args(dict(TINY_CONFIG), "lstm", "lm", embedding="word", subword_type="char", sub_vocab_path=VOCAB,
                      subencoder=subencoder, sub_layers_num=2)
    torch.manual_seed(0)
    model = build_model(args, len(vocab), vocab)
    assert any(k.startswith("subencoder.embedding_layer") for k in model.state_dict())
    src, seg = padded_batch([10, 6], 10)
    src = src + 100  # ordinary words of the sample vocabulary
    src[seg == 0] = 0
    parts = model(src, {"lm": torch.roll(src, -1, 1) * seg}, seg)
    parts["lm"]["loss_sum"].backward()
    assert model.subencoder.embedding_layer.weight.grad.abs().sum() > 0, "characters must reach the loss"
    with torch.no_grad():
        special = model.subencoder(torch.tensor([[0, 2, 3]]))
    assert (special == 0).all(), "[PAD]/[CLS]/[SEP] have no characters"


def test_subword_flags_that_make_no_sense_are_refused():
    base = model_args(dict(TINY_CONFIG), "lstm", "lm", embedding="word")
    with pytest.raises(UserInputError, match="--subencoder has no effect without --subword_type char"):
        build_model(model_args(dict(TINY_CONFIG), "lstm", "lm", embedding="word", subencoder="lstm"), 50)
    with pytest.raises(UserInputError, match="needs --sub_vocab_path"):
        build_model(model_args(dict(TINY_CONFIG), "lstm", "lm", embedding="word", subword_type="char"), 50)
    assert build_model(base, 50).subencoder is None


def test_subword_pretraining_from_the_command_line(datasets, tmp_path):
    out = str(tmp_path / "m.bin")
    run_script("pretrain.py", "--dataset_path", datasets["lm"], "--vocab_path", VOCAB, "--output_model_path", out,
               "--config_path", "models/rnn_config.json", "--embedding", "word", "--encoder", "lstm",
               "--target", "lm", "--subword_type", "char", "--sub_vocab_path", VOCAB, "--subencoder_type", "cnn",
               "--total_steps", "2", "--report_steps", "1", "--batch_size", "4")
    state = torch.load(out + "-2", weights_only=True)
    assert "subencoder.conv_1.weight" in state and "subencoder.embedding_layer.weight" in state


# -- the examples of docs/models.md (RNNs, CNNs, ELMo), with the shipped configs

@pytest.mark.parametrize("target, train", [
    ("lm", ["--embedding", "word", "--encoder", "lstm", "--target", "lm", "--learning_rate", "1e-3",
            "--config_path", "models/rnn_config.json"]),
    ("lm", ["--embedding", "word", "--encoder", "gatedcnn", "--target", "lm", "--learning_rate", "1e-4",
            "--config_path", "models/gatedcnn_9_config.json"]),
    ("bilm", ["--embedding", "word", "--encoder", "bilstm", "--target", "bilm", "--learning_rate", "5e-4",
              "--config_path", "models/birnn_config.json"]),
])
def test_readme_more_combinations(tmp_path, target, train):
    dataset = str(tmp_path / "dataset.pt")
    run_script("preprocess.py", "--corpus_path", CORPUS, "--vocab_path", VOCAB, "--dataset_path", dataset,
               "--processes_num", "2", "--target", target, "--seq_length", "32")
    out = str(tmp_path / "output_model.bin")
    run_script("pretrain.py", "--dataset_path", dataset, "--vocab_path", VOCAB, "--output_model_path", out,
               "--total_steps", "3", "--save_checkpoint_steps", "2", "--report_steps", "1", "--batch_size", "4",
               *train)
    assert (tmp_path / "output_model.bin-2").exists() and (tmp_path / "output_model.bin-3").exists()
