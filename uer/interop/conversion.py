"""What every conversion script does, for any family of uer/interop/families.py: its options, and the two
directions. A script names its family (the encoder-decoder scripts two: t5, bart, told apart by the config)."""
import argparse
import os

from uer.core.errors import UserInputError
from uer.interop.families import str2family, family_of_source, family_of_uer
from uer.interop.hf_files import tie_from_tensors, uer_config_path, write_json, note_generation_settings


def parser(doc, names, to_uer):
    """The options of a conversion script of the families `names`, one way."""
    from uer.opts import conversion_opts
    family = str2family[names[0]]
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    if to_uer:
        conversion_opts(p, "The source model: a folder, its weights file or a checkpoint prefix.",
                        "UER model file to write.", layers=family.layers_flag)
        p.add_argument(f"--{family.config_flag}", default=None,
                       help=f"The source's {family.config_file} (default: beside the input).")
        p.add_argument("--output_config_path", default=None,
                       help="UER config to write (default: OUTPUT_MODEL_PATH with .json for its extension).")
    else:
        output = "pytorch_model.bin or model.safetensors" if family.any_weights_file else "model.safetensors"
        conversion_opts(p, "UER model file.", f"{output} to write ({family.config_file} goes beside it).",
                        layers=family.layers_flag)
        if family.config_to_source != "none":
            p.add_argument("--config_path", required=family.config_to_source == "required",
                           default=None, help="UER config of the model.")
    return p


def source_config(args, family):
    """(the source's config or None, its path)."""
    from uer.core.readers import read_json_object
    given = getattr(args, family.config_flag)
    path = given or os.path.join(input_folder(args.input_model_path), family.config_file)
    if os.path.exists(path):
        return read_json_object(path, f"source model's {family.config_file}"), path
    note = getattr(family.module, "WITHOUT_CONFIG", None)
    if note is None:
        raise UserInputError(f"{path}: {family.config_file} not found (give it with --{family.config_flag}); the UER "
                             "config made from it is what makes the converted model compute what the source did")
    print(f"no {family.config_file} at {path}: {note}")
    return None, path


def input_folder(path):
    return path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))


def convert_to_uer(args, *names):
    """The source model (--input_model_path) as a UER model file, and its config as a UER config."""
    from uer.model_saver import atomic_torch_save
    str2family[names[0]].check()
    source, path = source_config(args, str2family[names[0]])
    family = family_of_source(names, source, path) if source is not None else str2family[names[0]]
    try:
        config = family.module.config_to_uer(source, path) if source is not None else None
    except KeyError as e:
        raise UserInputError(f"{path}: no {e.args[0]!r}, which the converted model's config needs") from None
    state = family.module.to_uer(family.read(args.input_model_path), source, getattr(args, "layers_num", None))
    if config is not None:
        tie_from_tensors(config, state, path)
    atomic_torch_save(state, args.output_model_path)
    print(f"wrote {args.output_model_path}: {len(state)} tensors")
    if config is not None:
        write_json(config, uer_config_path(args.output_config_path, args.output_model_path))
    folder = input_folder(args.input_model_path)
    if os.path.exists(os.path.join(folder, "tokenizer.json")):
        print(f"its tokenizer: --tokenizer hf --tokenizer_path {os.path.join(folder, 'tokenizer.json')}")
    note_generation_settings(folder)


def convert_from_uer(args, *names):
    """A UER model file (either layout) as the family's weights, and with --config_path its config beside them."""
    from uer.model_loader import read_in_uer_layout
    from uer.opts import load_config
    first = str2family[names[0]]
    first.check()
    if not first.any_weights_file and not args.output_model_path.endswith(".safetensors"):
        raise UserInputError(f"--output_model_path {args.output_model_path}: expected a .safetensors file")
    uer_config = load_config(args.config_path) if getattr(args, "config_path", None) else None
    family = family_of_uer(names, uer_config or {})
    state = read_in_uer_layout(args.input_model_path, uer_config or {}, mmap=True)
    vocab_size = state["embedding.word_embedding.weight"].shape[0]
    config = family.module.config_from_uer(uer_config, vocab_size) if uer_config is not None else None
    out = family.module.from_uer(state, config, getattr(args, "layers_num", None))
    written = family.write(out.items() if isinstance(out, dict) else out, args.output_model_path)
    print(f"wrote {args.output_model_path}: {written} tensors")
    if config is not None:
        write_json(config, os.path.join(input_folder(args.output_model_path), family.config_file))


def script(doc, names, to_uer):
    """(build_parser, main) of the conversion script of the families `names`, one way; main.names and
    main.to_uer say which."""
    from uer.core.cli import ScriptMain

    def build_parser():
        return parser(doc, names, to_uer)
    convert = convert_to_uer if to_uer else convert_from_uer
    main = ScriptMain(build_parser, lambda args: convert(args, *names))
    main.names, main.to_uer = names, to_uer
    return build_parser, main
