#!/usr/bin/env python3
"""Preference training (DPO, or IPO with --loss_type ipo) of a decoder on JSONL {"prompt" or "messages",
"chosen", "rejected"}: the model learns to prefer each chosen answer to its rejected one, against the frozen
starting model. Reported on dev: the share of pairs whose chosen answer the model finds more likely, TRL's reward
accuracy and margin. The trained model answers with scripts/chat.py."""
from uer.tasks import script

build_parser, main = script(__doc__, "dpo")

if __name__ == "__main__":
    main.run()
