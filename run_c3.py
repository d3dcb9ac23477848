#!/usr/bin/env python3
"""Multiple-choice reading comprehension (C3): JSON items [[context sentences], [{question, choice, answer}],
id]; each choice is scored against the question and context, and the best-scoring choice is the answer."""
from uer.tasks import script

build_parser, main = script(__doc__, "c3")

if __name__ == "__main__":
    main.run()
