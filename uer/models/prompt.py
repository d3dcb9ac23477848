import torch

from uer.models.body import build_body, init_weights
from uer.models.model import Body
from uer.targets.mlm_target import MlmTarget


class PromptClassifier(Body):
    """Prompt classification (run_classifier_prompt.py): the pre-trained MLM head (keys target.mlm_*, as BERT's,
    MLM's and ALBERT's targets have them) scores the answer words at the [ANS] position of the template; those
    scores are the logits of the labels, so the pre-trained model classifies before any training."""

    def __init__(self, args, vocab_size, vocab=None, answer_ids=()):
        """answer_ids: the vocabulary ids of the prompt's answer words, one per label."""
        super().__init__(*build_body(args, vocab_size, vocab))
        self.target = MlmTarget(args, vocab_size)
        self.register_buffer("answer_ids", torch.as_tensor(answer_ids, dtype=torch.long), persistent=False)
        init_weights(self, args)

    def forward(self, src, seg, answer_at):
        """answer_at [batch]: the position of [ANS] in each row -> logits [batch, labels_num]."""
        hidden = self.encode(src, seg)[torch.arange(src.size(0), device=src.device), answer_at]
        return self.target.word_logits(hidden, self.answer_ids)
