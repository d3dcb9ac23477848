"""The core every room of uer/ stands on: errors, atomic file writing, readers of the input files, the special
tokens, and how a script ends (cli.py)."""
