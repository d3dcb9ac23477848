"""--compile: the model's forward (and with it the backward) compiled by torch.compile (inductor)."""
import os
import shutil

import torch

from uer.core.errors import UserInputError


def check_compiler(device):
    """Inductor writes C++ for the CPU (and Triton for CUDA, shipped with torch): a CPU run needs a C++ compiler."""
    if torch.device(device).type != "cpu":
        return
    wanted = os.environ.get("CXX") or "g++"
    if not (shutil.which(wanted) or shutil.which("c++") or shutil.which("clang++")):
        raise UserInputError(f"--compile on the CPU needs a C++ compiler ({wanted}, c++ or clang++ on PATH; e.g. "
                             "apt install g++), or drop --compile")


def compile_model(module, device):
    """Compiles module's forward in place (the module, its parameters and state_dict keys stay as they are).
    Batches padded to their own longest sequence change shape: after the first change torch marks the length
    dynamic and compiles once more, not at every new length."""
    check_compiler(device)
    module.compile()
    return module
