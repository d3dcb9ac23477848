#!/usr/bin/env python3
"""Fine-tune an encoder-decoder model (T5, BART; a config with "decoder") to generate text: TSV files with a header
row text_a [text_b] label, the label being the target text (a translation, a summary, an answer, or a class
written as words). After each epoch the model generates the dev targets greedily and is scored by exact match
(and --metric bleu or rouge_l); the best epoch is kept."""
from uer.tasks import script

build_parser, main = script(__doc__, "text2text")

if __name__ == "__main__":
    main.run()
