#!/usr/bin/env bash
# Install what is needed and run the quickstart pipeline on the shipped sample corpus:
# preprocess -> pre-train a small BERT (CPU, about two minutes) -> check what it learned.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m pip install -q --disable-pip-version-check torch==2.13.0 -r requirements.txt
python3 preprocess.py --corpus_path corpora/book_review_bert.txt --vocab_path models/reviews_vocab.txt \
                      --dataset_path dataset.pt --processes_num 2 --target bert --seq_length 64
python3 pretrain.py --dataset_path dataset.pt --vocab_path models/reviews_vocab.txt \
                    --config_path models/bert_tiny_config.json --output_model_path models/book_review_model.bin \
                    --total_steps 150 --save_checkpoint_steps 150 --report_steps 25 --batch_size 32 \
                    --learning_rate 1e-3 --encoder bert --target bert
mv models/book_review_model.bin-150 models/book_review_model.bin
echo "quickstart done: models/book_review_model.bin"
