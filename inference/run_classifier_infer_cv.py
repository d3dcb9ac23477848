#!/usr/bin/env python3
"""The test features of cross-validated classifiers (run_classifier_cv.py): the mean of the fold models'
softmax probabilities, examples x labels, saved with numpy.save to --test_features_path."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.tasks import script  # noqa: E402

build_parser, main = script(__doc__, "classifier_cv", inference=True)

if __name__ == "__main__":
    main.run()
