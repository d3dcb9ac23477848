#!/usr/bin/env python3
"""Grid search of run_classifier.py's batch size, learning rate and epochs (UER-py's run_classifier_grid.py):
every combination of --batch_size_list x --learning_rate_list x --epochs_num_list fine-tuned from the
pre-trained model and scored by dev accuracy after its last epoch; prints the table and the best combination,
whose model is saved."""
from uer.tasks import script

build_parser, main = script(__doc__, "classifier_grid")

if __name__ == "__main__":
    main.run()
