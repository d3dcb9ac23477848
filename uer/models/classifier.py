import torch
import torch.nn as nn

from uer.layers.pooling import pool
from uer.models.body import build_body, init_weights
from uer.models.model import Body


class Classifier(Body):
    """Sequence (pair) classifier as UER-py's run_classifier.py: pooled hidden state -> tanh(output_layer_1)
    -> output_layer_2 -> labels_num logits. Pooling ignores padding."""

    def __init__(self, args, vocab_size, vocab=None, labels_num=None, labels_source="--labels_num"):
        """labels_num: what the task found (default: --labels_num); labels_source names where from, when a
        checkpoint's head differs."""
        super().__init__(*build_body(args, vocab_size, vocab))
        self.pooling = args.pooling
        self.output_layer_1 = nn.Linear(args.hidden_size, args.hidden_size)
        self.output_layer_2 = nn.Linear(args.hidden_size, args.labels_num if labels_num is None else labels_num)
        self.labels_source = labels_source
        init_weights(self, args)

    def forward(self, src, seg):
        pooled = pool(self.encode(src, seg), seg, self.pooling)
        return self.output_layer_2(torch.tanh(self.output_layer_1(pooled)))


class MultiTaskClassifier(Body):
    """Shared embedding and encoder with one classifier head per task (`output_layers_1.{t}`,
    `output_layers_2.{t}`), as UER-py's run_mt_classifier.py."""

    leaves_parameters_unused = True  # a batch goes through its task's head only (DDP must look for the others)

    def __init__(self, args, vocab_size, vocab=None, labels_num_list=()):
        super().__init__(*build_body(args, vocab_size, vocab))
        self.pooling = args.pooling
        self.output_layers_1 = nn.ModuleList(nn.Linear(args.hidden_size, args.hidden_size) for _ in labels_num_list)
        self.output_layers_2 = nn.ModuleList(nn.Linear(args.hidden_size, n) for n in labels_num_list)
        init_weights(self, args)

    def forward(self, src, seg, task):
        pooled = pool(self.encode(src, seg), seg, self.pooling)
        return self.output_layers_2[task](torch.tanh(self.output_layers_1[task](pooled)))


class SpanReader(Body):
    """Extractive reading comprehension as UER-py's run_cmrc.py: tanh(output_layer_1) then output_layer_2
    (hidden -> 2): a start and an end logit per token."""

    def __init__(self, args, vocab_size, vocab=None):
        super().__init__(*build_body(args, vocab_size, vocab))
        self.output_layer_1 = nn.Linear(args.hidden_size, args.hidden_size)
        self.output_layer_2 = nn.Linear(args.hidden_size, 2)
        init_weights(self, args)

    def adapt_to_checkpoint(self, state):
        """Today's UER-py run_cmrc.py (and a converted BertForQuestionAnswering) has one `output_layer`
        (hidden -> 2) instead: a checkpoint with it gets that head."""
        if "output_layer.weight" in state and "output_layer_1.weight" not in state:
            del self.output_layer_1, self.output_layer_2
            self.output_layer = nn.Linear(*reversed(state["output_layer.weight"].shape))

    def forward(self, src, seg):
        if hasattr(self, "output_layer"):
            return self.output_layer(self.encode(src, seg))
        return self.output_layer_2(torch.tanh(self.output_layer_1(self.encode(src, seg))))


class MultipleChoice(Body):
    """Multiple choice as UER-py's run_c3.py: one `output_layer` score (hidden -> 1) per (choice, question,
    context) sequence, from its first token; the choices of a question compete in a softmax."""

    def __init__(self, args, vocab_size, vocab=None):
        super().__init__(*build_body(args, vocab_size, vocab))
        self.output_layer = nn.Linear(args.hidden_size, 1)
        init_weights(self, args)

    def forward(self, src, seg):
        """src, seg [questions, choices, length] -> scores [questions, choices]."""
        return self.output_layer(self.encode(src.flatten(0, 1), seg.flatten(0, 1))[:, 0]).view(src.shape[:2])


class IdiomCloze(MultipleChoice):
    """ChID as UER-py's run_chid.py computes it: MultipleChoice over rows whose segment is 0 everywhere, which in
    UER-py's encoder masks every position alike, that is none: segment 0 in the embedding, every position seen."""

    def forward(self, src, seg):
        rows = src.flatten(0, 1)
        hidden = self.encoder(self.embed(rows, torch.zeros_like(rows)), torch.ones_like(rows))
        return self.output_layer(hidden[:, 0]).view(src.shape[:2])
