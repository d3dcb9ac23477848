"""Models over sentence vectors: the siamese classifier (run_classifier_siamese.py) and the sentence encoder
(run_simcse.py). Their batches are [examples, 2, length]: an example's first text, then its second."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from uer.layers.pooling import pool
from uer.models.body import build_body, init_weights
from uer.models.model import Body
from uer.core.model_config import model_config


class SentenceEncoder(Body):
    """A vector per text: the pooled hidden states (keys embedding., encoder.: a pre-trained model's body)."""

    def __init__(self, args, vocab_size, vocab=None):
        super().__init__(*build_body(args, vocab_size, vocab))
        self.pooling = args.pooling
        # "normalize_sentence_vectors": vectors of length 1 (a sentence-transformers model's Normalize module)
        self.normalize = model_config(args).normalize_sentence_vectors

    def forward(self, src, seg):
        """src, seg [examples, texts, length] -> [examples, texts, hidden_size]."""
        vectors = self.vectors(src.flatten(0, 1), seg.flatten(0, 1))
        return torch.stack(vectors.split(src.shape[1]))  # not a view: FSDP warns of views as a model's output

    def vectors(self, src, seg):
        pooled = pool(self.encode(src, seg), seg, self.pooling)
        return F.normalize(pooled, dim=-1) if self.normalize else pooled


class SiameseClassifier(SentenceEncoder):
    """Text vectors u (text_a) and v (text_b) from one encoder, or with --separate_towers from two (the second's
    keys under tower_b., both starting from the pre-trained weights); the label from
    tanh(output_layer_1([u, v, |u - v|, u * v])) -> output_layer_2."""

    copied_after_loading = ("tower_b.",)  # not in a pre-trained file: pretrained_loaded() fills them

    def __init__(self, args, vocab_size, vocab=None, labels_num=None, labels_source="--labels_num"):
        super().__init__(args, vocab_size, vocab)
        self.tower_b = SentenceEncoder(args, vocab_size, vocab) if args.separate_towers else None
        self.output_layer_1 = nn.Linear(4 * args.hidden_size, args.hidden_size)
        self.output_layer_2 = nn.Linear(args.hidden_size, args.labels_num if labels_num is None else labels_num)
        self.labels_source = labels_source
        init_weights(self, args)

    def pretrained_loaded(self):
        """The second tower starts as the first (pre-trained) one."""
        if self.tower_b is not None:
            self.tower_b.load_state_dict({k: v for k, v in self.state_dict().items()
                                          if k.startswith(("embedding.", "encoder.", "subencoder."))})

    def forward(self, src, seg):
        """src, seg [pairs, 2, length] -> logits [pairs, labels_num]."""
        if self.tower_b is None:
            u, v = super().forward(src, seg).unbind(1)
        else:
            u, v = self.vectors(src[:, 0], seg[:, 0]), self.tower_b.vectors(src[:, 1], seg[:, 1])
        features = torch.cat([u, v, (u - v).abs(), u * v], -1)
        return self.output_layer_2(torch.tanh(self.output_layer_1(features)))


def pair_similarity(vectors):
    """Cosine similarity of the two vectors of each example ([examples, 2, hidden_size])."""
    return F.cosine_similarity(vectors[:, 0].float(), vectors[:, 1].float(), dim=-1)
