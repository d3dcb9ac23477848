#!/usr/bin/env bash
# Install what is needed and run the quickstart pipeline on the shipped sample corpus:
# preprocess -> pre-train a small BERT -> fine-tune it as a classifier -> predict, then the same with a tiny T5
# (span corruption, classification written as words), then a tiny LLaMA-style decoder from pre-training to chat
# (docs/decoders.md) (CPU, about seven minutes).
set -euo pipefail
cd "$(dirname "$0")"
python3 -m pip install -q --disable-pip-version-check torch==2.13.0 -r requirements.txt
python3 preprocess.py --corpus_path corpora/book_review_bert.txt --vocab_path models/reviews_vocab.txt \
                      --dataset_path dataset.pt --processes_num 2 --target bert --seq_length 64
# A 150-step demo at a high learning rate: UER-py's uncorrected Adam (the default) takes steps up to ~6x larger in
# the first tens of updates and collapses this model to frequent tokens; --bias_correction keeps it learning
# (docs/benchmarks.md, "Faithfulness").
python3 pretrain.py --dataset_path dataset.pt --vocab_path models/reviews_vocab.txt \
                    --config_path models/bert_tiny_config.json --output_model_path models/book_review_model.bin \
                    --total_steps 150 --save_checkpoint_steps 150 --report_steps 25 --batch_size 32 \
                    --learning_rate 1e-3 --bias_correction --encoder bert --target bert
mv models/book_review_model.bin-150 models/book_review_model.bin
rm -f models/book_review_model.bin-150.state  # only needed to resume pre-training
python3 run_classifier.py --pretrained_model_path models/book_review_model.bin --vocab_path models/reviews_vocab.txt \
                          --config_path models/bert_tiny_config.json --train_path datasets/book_review/train.tsv \
                          --dev_path datasets/book_review/dev.tsv --test_path datasets/book_review/test.tsv \
                          --epochs_num 2 --batch_size 32 --learning_rate 1e-4 --report_steps 10 --encoder bert
python3 inference/run_classifier_infer.py --load_model_path models/classifier_model.bin \
                                          --vocab_path models/reviews_vocab.txt \
                                          --config_path models/bert_tiny_config.json \
                                          --test_path datasets/book_review/test_nolabel.tsv \
                                          --prediction_path datasets/book_review/prediction.tsv --labels_num 2 \
                                          --output_logits --output_prob --encoder bert
# Text to text: pre-train a tiny T5 with span corruption, fine-tune it to write the label as a word, generate.
python3 preprocess.py --corpus_path corpora/book_review.txt --vocab_path models/reviews_t5_vocab.txt \
                      --dataset_path t5_dataset.pt --target t5 --seq_length 64
python3 pretrain.py --dataset_path t5_dataset.pt --vocab_path models/reviews_t5_vocab.txt \
                    --config_path models/t5_tiny_config.json --output_model_path models/t5_review_model.bin \
                    --total_steps 300 --save_checkpoint_steps 300 --report_steps 50 --batch_size 32 \
                    --learning_rate 1e-3 --bias_correction
mv models/t5_review_model.bin-300 models/t5_review_model.bin
rm -f models/t5_review_model.bin-300.state
for split in train dev; do
  awk -F'\t' 'NR == 1 {print "text_a\tlabel"; next} {print $2 "\t" ($1 == 1 ? "好" : "差")}' \
      datasets/book_review/$split.tsv > datasets/book_review/${split}_text.tsv
done
python3 run_text2text.py --pretrained_model_path models/t5_review_model.bin --vocab_path models/reviews_t5_vocab.txt \
                         --config_path models/t5_tiny_config.json --train_path datasets/book_review/train_text.tsv \
                         --dev_path datasets/book_review/dev_text.tsv --epochs_num 3 --seq_length 64 \
                         --tgt_seq_length 4 --learning_rate 1e-3 --bias_correction --report_steps 25
python3 inference/run_text2text_infer.py --load_model_path models/text2text_model.bin \
                                         --vocab_path models/reviews_t5_vocab.txt --config_path models/t5_tiny_config.json \
                                         --test_path datasets/book_review/test_nolabel.tsv \
                                         --prediction_path datasets/book_review/generated.txt --seq_length 64
# A decoder from pre-training to chat (docs/decoders.md): JSONL texts, chat tuning on packed conversations, answers
# through the chat template, preference training. The tokenizer: models/chat_tokenizer/ (byte-level, ChatML).
CHAT_VOCAB="--tokenizer_path models/chat_tokenizer/tokenizer.json"  # pretrain.py: the vocabulary only
CHAT_TOKENIZER="--tokenizer hf $CHAT_VOCAB"
python3 preprocess.py --corpus_path corpora/llm_pretrain_sample.jsonl $CHAT_TOKENIZER --target llm_pretrain \
                      --seq_length 256 --full_sentences --dataset_path llm_dataset.pt
python3 pretrain.py --dataset_path llm_dataset.pt $CHAT_VOCAB --config_path models/llama_chat_tiny_config.json \
                    --output_model_path models/llm_base_model.bin --total_steps 200 --save_checkpoint_steps 200 \
                    --report_steps 50 --batch_size 16 --learning_rate 2e-3 --target lm
python3 preprocess.py --corpus_path datasets/chat_sample/train.jsonl $CHAT_TOKENIZER --target chat --seq_length 256 \
                      --packing --dataset_path chat_dataset.pt
python3 pretrain.py --dataset_path chat_dataset.pt $CHAT_VOCAB --config_path models/llama_chat_tiny_config.json \
                    --pretrained_model_path models/llm_base_model.bin-200 --output_model_path models/chat_model.bin \
                    --total_steps 300 --save_checkpoint_steps 300 --report_steps 50 --batch_size 8 \
                    --learning_rate 2e-3 --target lm
python3 scripts/chat.py --pretrained_model_path models/chat_model.bin-300 $CHAT_TOKENIZER \
                        --config_path models/llama_chat_tiny_config.json --seq_length 256 --max_new_tokens 12 \
                        --input_path datasets/chat_sample/test.jsonl --output_path datasets/chat_sample/answers.jsonl
python3 run_dpo.py --pretrained_model_path models/chat_model.bin-300 $CHAT_TOKENIZER \
                   --config_path models/llama_chat_tiny_config.json --train_path datasets/chat_sample/preferences_train.jsonl \
                   --dev_path datasets/chat_sample/preferences_dev.jsonl --output_model_path models/dpo_model.bin \
                   --learning_rate 5e-5 --epochs_num 2 --batch_size 16 --seq_length 128
echo "quickstart done: models/book_review_model.bin, models/classifier_model.bin, datasets/book_review/prediction.tsv,"
echo "                 models/t5_review_model.bin, models/text2text_model.bin, datasets/book_review/generated.txt,"
echo "                 models/chat_model.bin-300, datasets/chat_sample/answers.jsonl, models/dpo_model.bin"
