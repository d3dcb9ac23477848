"""Google TensorFlow checkpoint conversion. The round trip needs TensorFlow (pip install tensorflow-cpu) and is
skipped without it; the clear message when it is missing is tested where it is missing."""
import importlib.util

import pytest
import torch

from conftest import model_args, run_script
from uer.model_builder import build_model
from uer.model_saver import save_model

HAS_TF = importlib.util.find_spec("tensorflow") is not None


def tiny_bert(path, tie=False):
    torch.manual_seed(0)
    model = build_model(model_args({"emb_size": 16, "hidden_size": 16, "feedforward_size": 32, "heads_num": 2,
                                    "layers_num": 2}, "bert", "bert", tie_weights=tie), 50)
    for p in model.parameters():
        p.data.normal_(0, 0.5)
    save_model(model, str(path))
    return torch.load(str(path), weights_only=True)


@pytest.mark.skipif(HAS_TF, reason="TensorFlow is installed here")
@pytest.mark.parametrize("script", ["convert_bert_from_uer_to_google.py", "convert_albert_from_uer_to_google.py",
                                    "convert_albert_from_google_to_uer.py"])
def test_missing_tensorflow_gives_a_clear_message(tmp_path, script):
    tiny_bert(tmp_path / "m.bin")
    (tmp_path / "albert_config.json").write_text('{"hidden_act": "gelu"}')
    source = tmp_path / ("model.ckpt" if "google_to_uer" in script else "m.bin")
    proc = run_script(f"scripts/{script}", "--input_model_path", str(source),
                      "--output_model_path", str(tmp_path / ("out.bin" if "google_to_uer" in script else "g.ckpt")),
                      check=False)
    assert proc.returncode == 2 and "needs TensorFlow: pip install tensorflow-cpu" in proc.stderr


@pytest.mark.skipif(not HAS_TF, reason="needs TensorFlow (pip install tensorflow-cpu)")
@pytest.mark.parametrize("tie", [False, True])
def test_uer_google_uer_round_trip_is_bit_identical(tmp_path, tie):
    import tensorflow as tf
    original = tiny_bert(tmp_path / "m.bin", tie)
    run_script("scripts/convert_bert_from_uer_to_google.py", "--input_model_path", str(tmp_path / "m.bin"),
               "--output_model_path", str(tmp_path / "g.ckpt"))
    reader = tf.train.load_checkpoint(str(tmp_path / "g.ckpt"))
    names = reader.get_variable_to_shape_map()
    kernel = reader.get_tensor("bert/encoder/layer_1/attention/self/query/kernel")
    assert torch.equal(torch.from_numpy(kernel), original["encoder.transformer.1.self_attn.linear_layers.0.weight"].t())
    assert names["bert/embeddings/token_type_embeddings"] == [2, 16] and names["cls/predictions/output_bias"] == [50]
    assert names["cls/seq_relationship/output_weights"] == [2, 16]
    assert ("uer/mlm_output_weights" in names) == (not tie)
    run_script("scripts/convert_bert_from_google_to_uer.py", "--input_model_path", str(tmp_path / "g.ckpt"),
               "--output_model_path", str(tmp_path / "back.bin"), "--layers_num", "2")
    back = torch.load(str(tmp_path / "back.bin"), weights_only=True)
    assert back.keys() == original.keys()
    for key in original:
        assert torch.equal(back[key], original[key]), key
