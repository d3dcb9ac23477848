import torch.nn as nn

from uer.layers.crf import CRF
from uer.models.body import build_body, init_weights
from uer.models.model import Body


class Tagger(Body):
    """Sequence labeling as UER-py's run_ner.py: one linear `output_layer` (hidden -> labels_num) per token;
    with --crf_target a CRF (`crf.*`) over those scores."""

    def __init__(self, args, vocab_size, vocab=None, labels_num=None, labels_source="--labels_num"):
        """labels_num: the tags' (default: args.labels_num); labels_source names where from, when a checkpoint's
        head differs."""
        super().__init__(*build_body(args, vocab_size, vocab))
        labels_num = args.labels_num if labels_num is None else labels_num
        self.output_layer = nn.Linear(args.hidden_size, labels_num)
        self.labels_source = labels_source
        init_weights(self, args)
        self.crf = CRF(labels_num) if getattr(args, "crf_target", False) else None

    def forward(self, src, seg):
        return self.output_layer(self.encode(src, seg))
