"""LoRA adapters and files: a pre-trained model adapted as --use_lora asks (uer/layers/lora.py: the adapter
layers), a --use_lora run's file of adapters loaded into it, or merged with the model it adapted."""
from uer.layers.lora import adapt, merged
from uer.model_loader import read_in_uer_layout, read_state_dict
from uer.core.errors import UserInputError


def adapt_pretrained(model, args, loaded, head_prefixes):
    """adapt() a model load_model filled from --pretrained_model_path (`loaded`: its report; the keys the file
    lacked and those under head_prefixes train), then --lora_pretrained_model_path's adapters into it. Returns
    the number of weights that train."""
    if loaded is None:
        raise UserInputError("--use_lora adapts a pre-trained model: give --pretrained_model_path")
    missing = set(loaded["missing"])
    pretrained = {k for k in model.state_dict() if k not in missing and not k.startswith(head_prefixes)}
    trained = adapt(model, args, pretrained)
    if args.lora_pretrained_model_path:
        load_adapters(model, args.lora_pretrained_model_path)
    return trained


def load_adapters(model, path):
    """A file of adapters (and head) written by a --use_lora run, into the adapted model."""
    state = read_state_dict(path)
    own = model.state_dict()
    unexpected = [k for k in state if k not in own]
    if unexpected or not any(".lora_" in k for k in state):
        raise UserInputError(f"{path}: not this model's LoRA weights (e.g. {(unexpected or list(state))[:2]}); "
                             "give the file a --use_lora run wrote, with the same --lora_feed_forward")
    if not next(model.parameters()).is_meta:  # a --fsdp process's model: the master's weights are sent to it
        model.load_state_dict(state, strict=False)


def merged_files(base_path, lora_path, alpha, config=None):
    """(merged() of the base model file, in either layout, and a --use_lora run's file, the number of adapted
    layers); config: the base's (read_in_uer_layout)."""
    adapters = read_state_dict(lora_path)
    pairs = sum(k.endswith(".lora_a") for k in adapters)
    if not pairs:
        raise UserInputError(f"{lora_path}: no LoRA adapters (keys ending in .lora_a)")
    return merged(read_in_uer_layout(base_path, config), adapters, alpha), pairs
