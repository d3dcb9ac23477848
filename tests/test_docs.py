"""The docs against the code: every usage block in README.md and docs/*.md is the script's own usage.

UPDATE_DOCS=1 python3 -m pytest tests/test_docs.py rewrites the blocks from the parsers instead of failing.
"""
import glob
import importlib.util
import os
import re

import pytest

from conftest import ROOT

DOCS = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
USAGE_BLOCK = re.compile(r"```\n(usage: (\S+) .*?)\n```", re.S)
SCRIPT_DIRS = ("", "inference", "scripts")
WIDTH = "116"


def script_path(name):
    for folder in SCRIPT_DIRS:
        path = os.path.join(ROOT, folder, name)
        if os.path.isfile(path):
            return path
    raise AssertionError(f"a usage block names {name}, which is not a script of the project")


def parser_usage(name, monkeypatch):
    monkeypatch.setenv("COLUMNS", WIDTH)  # argparse wraps to the terminal width it reads from COLUMNS
    spec = importlib.util.spec_from_file_location(f"docs_{name[:-3]}", script_path(name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    parser = module.build_parser()
    parser.prog = name
    return parser.format_usage().strip()


def read(doc):
    with open(doc, encoding="utf-8") as f:
        return f.read()


def test_the_main_scripts_have_usage_blocks():
    shown = {m.group(2) for doc in DOCS for m in USAGE_BLOCK.finditer(read(doc))}
    assert {"preprocess.py", "pretrain.py"} <= shown


@pytest.mark.parametrize("doc", DOCS, ids=os.path.basename)
def test_usage_blocks_are_the_parsers_usage(doc, monkeypatch):
    text = read(doc)
    blocks = list(USAGE_BLOCK.finditer(text))
    if os.environ.get("UPDATE_DOCS"):
        for match in reversed(blocks):
            text = text[:match.start(1)] + parser_usage(match.group(2), monkeypatch) + text[match.end(1):]
        with open(doc, "w", encoding="utf-8") as f:
            f.write(text)
        return
    for match in blocks:
        assert match.group(1) == parser_usage(match.group(2), monkeypatch), \
            f"{os.path.basename(doc)}: the usage block of {match.group(2)} differs from its --help; " \
            "UPDATE_DOCS=1 python3 -m pytest tests/test_docs.py rewrites it"
