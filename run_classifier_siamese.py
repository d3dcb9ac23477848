#!/usr/bin/env python3
"""Fine-tune a siamese (two-tower) classifier of text pairs on TSV files with a header row: label, text_a,
text_b. Each text is encoded on its own into a vector (u, v), the label is predicted from [u, v, |u - v|,
u * v]; the towers share their weights unless --separate_towers."""
from uer.tasks import script

build_parser, main = script(__doc__, "classifier_siamese")

if __name__ == "__main__":
    main.run()
