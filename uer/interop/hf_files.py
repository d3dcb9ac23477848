"""HuggingFace model folders: their safetensors weights, single or sharded (model-0000x-of-0000y.safetensors with
model.safetensors.index.json), read one tensor at a time through safetensors, and written atomically."""
import os

from uer.core.errors import UserInputError

INDEX = "model.safetensors.index.json"


def weight_files(folder):
    """The .safetensors files of a HuggingFace model folder: the shards its index names, or model.safetensors."""
    index = os.path.join(folder, INDEX)
    if os.path.exists(index):
        from uer.core.readers import read_json_object
        weight_map = read_json_object(index, "safetensors index").get("weight_map")
        if not isinstance(weight_map, dict):
            raise UserInputError(f"{index}: no \"weight_map\" object")
        return [os.path.join(folder, name) for name in sorted(set(weight_map.values()))]
    single = os.path.join(folder, "model.safetensors")
    if not os.path.exists(single):
        raise UserInputError(f"{folder}: neither {INDEX} nor model.safetensors")
    return [single]


def iter_tensors(path):
    """(name, tensor) of a .safetensors file, or of every shard of a model folder, one tensor at a time."""
    from safetensors import SafetensorError, safe_open
    for file in weight_files(path) if os.path.isdir(path) else [path]:
        try:
            with safe_open(file, "pt") as f:
                for name in f.keys():
                    yield name, f.get_tensor(name)
        except (OSError, SafetensorError) as e:
            raise UserInputError(f"{file}: not a readable safetensors file ({e})") from None


def write_safetensors(tensors, path):
    """Write (name, tensor) pairs as one .safetensors file: a temporary file beside it, renamed when complete."""
    from safetensors.torch import save_file
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        save_file({name: t.contiguous() for name, t in tensors}, tmp, metadata={"format": "pt"})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def require(config, keys, source):
    """The HF config's keys a conversion cannot guess, each named when missing."""
    missing = [k for k in keys if config.get(k) is None]
    if missing:
        raise UserInputError(f"{source}: no {', '.join(missing)} (needed to describe the model)")


def tie_from_tensors(config, state, source):
    """Whether the output layer is the word embedding, from the tensors: the flag alone misleads (transformers 5
    writes tie_word_embeddings true for T5 v1.1, whose lm_head is a table of its own)."""
    import torch
    out, emb = state.get("target.output_layer.weight"), state.get("embedding.word_embedding.weight")
    if config.get("tie_weights") and out is not None and emb is not None and out is not emb and \
            not torch.equal(out, emb):
        config["tie_weights"] = False
        print(f"note: {source} says the output layer is tied, but the file's lm_head differs from the word "
              "embedding: converted with an output layer of its own")


def hf_folder_to_uer(args, config_to_uer, tensors_to_uer):
    """What a HF -> UER script does: read the folder's config.json and weights (--input_model_path, a folder or
    its .safetensors file; --hf_config_path), write the UER model and its config. config_to_uer(config, path)
    -> UER config; tensors_to_uer(pairs, HF config) -> {UER name: tensor}."""
    from uer.model_saver import atomic_torch_save
    from uer.interop.convert_hf import write_json, uer_config_path
    from uer.core.readers import read_json_object
    folder = args.input_model_path if os.path.isdir(args.input_model_path) else \
        os.path.dirname(os.path.abspath(args.input_model_path))
    hf_config = args.hf_config_path or os.path.join(folder, "config.json")
    if not os.path.exists(hf_config):
        raise UserInputError(f"{hf_config}: config.json not found (give it with --hf_config_path)")
    source = read_json_object(hf_config, "HuggingFace config")
    config = config_to_uer(source, hf_config)
    state = tensors_to_uer(iter_tensors(args.input_model_path), source)
    tie_from_tensors(config, state, hf_config)
    atomic_torch_save(state, args.output_model_path)
    print(f"wrote {args.output_model_path}: {len(state)} tensors")
    write_json(config, uer_config_path(args.output_config_path, args.output_model_path))
    if os.path.exists(os.path.join(folder, "tokenizer.json")):
        print(f"its tokenizer: --tokenizer hf --tokenizer_path {os.path.join(folder, 'tokenizer.json')}")
    note_generation_settings(folder)


GENERATION_SETTINGS = ("forced_eos_token_id", "forced_bos_token_id", "no_repeat_ngram_size")


def note_generation_settings(folder):
    """transformers' generate honours these from generation_config.json (BART forces </s> as the last token at
    the length limit); the generation scripts here do not: say so where the folder sets them."""
    path = os.path.join(folder, "generation_config.json")
    if not os.path.exists(path):
        return
    from uer.core.readers import read_json_object
    given = {k: v for k, v in read_json_object(path, "generation config").items()
             if k in GENERATION_SETTINGS and v is not None and not (k == "no_repeat_ngram_size" and v == 0)}
    if given:
        print(f"note: {path} sets {', '.join(f'{k} {v}' for k, v in given.items())}: generate_seq2seq.py does not "
              "apply them, so where transformers' generate would (e.g. forcing the end token when --max_new_tokens "
              "is reached) the outputs differ")


def uer_to_hf_folder(args, config_to_hf, state_to_hf):
    """What a UER -> HF script does: map the UER model (--input_model_path), convert its config (--config_path),
    write model.safetensors (--output_model_path) and config.json beside it. config_to_hf(config, vocab_size);
    state_to_hf(state, hf_config) -> (HF name, tensor) pairs."""
    from uer.model_loader import read_in_uer_layout
    from uer.opts import load_config
    from uer.interop.convert_hf import write_json
    if not args.output_model_path.endswith(".safetensors"):
        raise UserInputError(f"--output_model_path {args.output_model_path}: expected a .safetensors file")
    uer_config = load_config(args.config_path)
    state = read_in_uer_layout(args.input_model_path, uer_config, mmap=True)
    config = config_to_hf(uer_config, state["embedding.word_embedding.weight"].shape[0])
    write_safetensors(state_to_hf(state, config), args.output_model_path)
    print(f"wrote {args.output_model_path}")
    write_json(config, os.path.join(os.path.dirname(os.path.abspath(args.output_model_path)), "config.json"))


def hf_conversion_parser(doc, to_uer):
    """Options of the HF <-> UER folder conversions (LLaMA family, T5, BART)."""
    import argparse
    from uer.opts import conversion_opts
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    if to_uer:
        conversion_opts(parser, "HF model folder (or its .safetensors file).", "UER model file to write.",
                        layers=False)
        parser.add_argument("--hf_config_path", default=None, help="HF config.json (default: in the input folder).")
        parser.add_argument("--output_config_path", default=None,
                            help="UER config to write (default: OUTPUT_MODEL_PATH with .json for its extension).")
    else:
        conversion_opts(parser, "UER model file.", "model.safetensors to write (config.json goes beside it).",
                        layers=False)
        parser.add_argument("--config_path", required=True, help="UER config of the model.")
    return parser
