"""UER: universal encoder representations -- pre-training and fine-tuning toolkit."""
__version__ = "0.1.0"
