#!/usr/bin/env python3
"""Convert a LLaMA-style UER model to Meta's original format: --output_model_path consolidated.00.pth, and with
--config_path the params.json beside it (the rotary query/key rows reordered to Meta's adjacent pairs)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["meta_llama"], to_uer=False)

if __name__ == "__main__":
    main.run()
