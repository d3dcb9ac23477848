"""XLM-RoBERTa (XLMRobertaModel / XLMRobertaForMaskedLM) between HuggingFace's names and UER's, through the bert
family: the body under "roberta." instead of "bert.", the MLM head under "lm_head.", learned positions from row
pad_token_id + 1 (UER's "position_offset": 2), and one token type (UER's segments 1 and 2 both get it; written
back as one row when they are equal). Its tokenizer: --tokenizer xlmroberta --spm_model_path
sentencepiece.bpe.model."""
import torch

from uer.interop import convert_bert

WITHOUT_CONFIG = "no UER config written: the position offset and layer norm of XLM-R come from its config.json"
HEAD = {"lm_head.dense.": "cls.predictions.transform.dense.", "lm_head.layer_norm.": "cls.predictions.transform.LayerNorm.",
        "lm_head.decoder.weight": "cls.predictions.decoder.weight", "lm_head.bias": "cls.predictions.bias"}


def to_bert_names(name):
    if name.startswith("roberta."):
        return "bert." + name[len("roberta."):]
    for old, new in HEAD.items():
        if name.startswith(old):
            return new + name[len(old):]
    return None  # lm_head.decoder.bias: the same tensor as lm_head.bias


def to_uer(tensors, hf_config=None, layers_num=None):
    renamed = {n: t for n, t in ((to_bert_names(n), t) for n, t in tensors) if n is not None}
    if "cls.predictions.bias" in renamed:  # the decoder is tied to the word embedding: files leave it out
        renamed.setdefault("cls.predictions.decoder.weight", renamed["bert.embeddings.word_embeddings.weight"])
    state = convert_bert.to_uer(renamed.items(), hf_config, layers_num)
    seg = state["embedding.segment_embedding.weight"]
    if seg.shape[0] == 2:  # one token type: sentence B reads it too
        state["embedding.segment_embedding.weight"] = torch.cat([seg, seg[1:]], 0)
    return state


def from_uer(state, hf_config=None, layers_num=None):
    out = convert_bert.from_uer(state, hf_config, layers_num)
    types = out["bert.embeddings.token_type_embeddings.weight"]
    if torch.equal(types[0], types[1]):
        out["bert.embeddings.token_type_embeddings.weight"] = types[:1].contiguous()
    if hf_config is not None:
        hf_config["type_vocab_size"] = out["bert.embeddings.token_type_embeddings.weight"].shape[0]
    inverse = {new: old for old, new in HEAD.items()}
    renamed = {}
    for name, tensor in out.items():
        if name.startswith("bert."):
            renamed["roberta." + name[len("bert."):]] = tensor
        elif name == "cls.predictions.decoder.bias":
            renamed["lm_head.decoder.bias"] = tensor
        else:
            prefix = next((p for p in inverse if name.startswith(p)), None)
            renamed[inverse[prefix] + name[len(prefix):] if prefix else name] = tensor
    return renamed


def config_to_uer(config, source="HuggingFace config"):
    offset = config.get("pad_token_id", 1) + 1
    out = convert_bert.config_to_uer(config, source)
    out.update(position_offset=offset, max_seq_length=config.get("max_position_embeddings", 514) - offset)
    return out


def config_from_uer(config, vocab_size):
    offset = config.get("position_offset", 0)
    if offset < 1:
        from uer.core.errors import UserInputError
        raise UserInputError("an XLM-R UER config has \"position_offset\": pad_token_id + 1 (2)")
    out = convert_bert.config_from_uer(config, vocab_size)
    out.update(architectures=["XLMRobertaForMaskedLM"], model_type="xlm-roberta", pad_token_id=offset - 1,
               bos_token_id=0, eos_token_id=2, max_position_embeddings=config.get("max_seq_length", 512) + offset)
    return out
