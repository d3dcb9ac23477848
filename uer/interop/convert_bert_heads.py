"""BERT with a fine-tuned head, between HuggingFace's task models and this toolkit's fine-tuning models, as
UER-py's convert_bert_{text_classification,token_classification,extractive_qa}_* scripts map them: the body as the
bert family does, and
- text_classification: BertForSequenceClassification's pooler and classifier are run_classifier.py's
  output_layer_1 (tanh) and output_layer_2 (pooling "first");
- token_classification: BertForTokenClassification's classifier is run_ner.py's output_layer;
- extractive_qa: BertForQuestionAnswering's qa_outputs is the single output_layer of today's UER-py run_cmrc.py
  (run_cmrc.py here reads such a model; its own two-layer head of UER-py 2020 has no HF counterpart)."""
from types import SimpleNamespace

from uer.core.errors import UserInputError
from uer.interop import convert_bert

HEADS = {"text_classification": ("BertForSequenceClassification", {
             "output_layer_1.weight": "bert.pooler.dense.weight", "output_layer_1.bias": "bert.pooler.dense.bias",
             "output_layer_2.weight": "classifier.weight", "output_layer_2.bias": "classifier.bias"}),
         "token_classification": ("BertForTokenClassification", {
             "output_layer.weight": "classifier.weight", "output_layer.bias": "classifier.bias"}),
         "extractive_qa": ("BertForQuestionAnswering", {
             "output_layer.weight": "qa_outputs.weight", "output_layer.bias": "qa_outputs.bias"})}


def head_family(kind):
    """The four functions of a conversion family (uer/interop/families.py) for BERT with the head `kind`."""
    architecture, head = HEADS[kind]

    def to_uer(tensors, hf_config=None, layers_num=None):
        state = convert_bert.normalise_hf(dict(tensors))
        missing = [hf for hf in head.values() if hf not in state]
        if missing:
            raise UserInputError(f"not a {architecture}: {', '.join(missing)} missing")
        body = {k: v for k, v in convert_bert.to_uer(state.items(), hf_config, layers_num).items()
                if not k.startswith("target.")}
        return dict(body, **{uer: state[hf] for uer, hf in head.items()})

    def from_uer(state, hf_config=None, layers_num=None):
        missing = [uer for uer in head if uer not in state]
        if missing:
            two_layer = kind == "extractive_qa" and "output_layer_1.weight" in state
            raise UserInputError("a run_cmrc.py model with UER-py 2020's two-layer head (output_layer_1, tanh, "
                                 "output_layer_2) has no BertForQuestionAnswering counterpart" if two_layer else
                                 f"the UER model has no {', '.join(missing)}: not the model of a {kind} head")
        body = {k: v for k, v in state.items() if k.startswith(("embedding.", "encoder."))}
        out = convert_bert.from_uer(body, hf_config, layers_num)
        out.update({hf: state[uer].contiguous() for uer, hf in head.items()})
        if hf_config is not None and kind != "extractive_qa":
            labels = state[next(k for k in head if k.endswith("weight") and "_1" not in k)].shape[0]
            hf_config.update(id2label={str(i): f"LABEL_{i}" for i in range(labels)},
                             label2id={f"LABEL_{i}": i for i in range(labels)})
        return out

    def config_from_uer(config, vocab_size):
        return dict(convert_bert.config_from_uer(config, vocab_size), architectures=[architecture])

    return SimpleNamespace(to_uer=to_uer, from_uer=from_uer, config_to_uer=convert_bert.config_to_uer,
                           config_from_uer=config_from_uer, WITHOUT_CONFIG=convert_bert.WITHOUT_CONFIG)
