#!/usr/bin/env python3
"""k-fold cross-validation of run_classifier.py (UER-py 2020's competition kit): one model per fold, saved as
OUTPUT_MODEL_PATH with -fold_K before its suffix, and the out-of-fold probabilities of every training example,
in file order, saved with numpy.save to --train_features_path (the features of scripts/run_lgb.py)."""
from uer.tasks import script

build_parser, main = script(__doc__, "classifier_cv")

if __name__ == "__main__":
    main.run()
