"""Pre-training data: corpus tokenization, instances, masking, the preprocess pipeline and the batches of
pretrain.py."""
