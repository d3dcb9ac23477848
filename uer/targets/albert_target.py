from uer.targets.bert_target import BertTarget


class AlbertTarget(BertTarget):
    """MLM + sentence order prediction (label 1: the two segments were swapped)."""

    sentence_task = "sop"
