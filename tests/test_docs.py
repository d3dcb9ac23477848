"""The docs against the code: usage blocks are the scripts' own usage, every flag shown exists in the parser of
the script it is shown with, every script has a section, every relative link resolves, and the project speaks
of itself only.

UPDATE_DOCS=1 python3 -m pytest tests/test_docs.py rewrites the usage blocks from the parsers instead of failing.
"""
import argparse
import functools
import glob
import importlib.util
import os
import re

import pytest

from conftest import ROOT

DOCS = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
USAGE_BLOCK = re.compile(r"```\n(usage: (\S+) .*?)\n```", re.S)
CODE_BLOCK = re.compile(r"```[a-z]*\n(.*?)```", re.S)
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9_]*")
SCRIPT_NAME = re.compile(r"[\w/.-]*?([\w]+\.py)\b")
SCRIPT_DIRS = ("", "inference", "scripts", "benchmarks")
WIDTH = "116"
# Flags a page may name without naming a script: those of the scripts it is about.
PAGE_SCRIPTS = {"preprocess.md": ["preprocess.py"], "pretraining.md": ["pretrain.py"],
                "finetuning.md": ["run_*.py", "inference/*.py"], "scripts.md": ["scripts/*.py"],
                "models.md": ["preprocess.py", "pretrain.py", "run_*.py", "scripts/*.py"],
                "decoders.md": ["preprocess.py", "pretrain.py", "run_dpo.py", "scripts/*.py"]}
OTHER_TOOLS_FLAGS = {"--nproc_per_node", "--logdir"}  # torchrun's and tensorboard's


def read(doc):
    with open(doc, encoding="utf-8") as f:
        return f.read()


def scripts():
    """{file name: path} of every script a user runs."""
    found = {}
    for folder in SCRIPT_DIRS:
        for path in sorted(glob.glob(os.path.join(ROOT, folder, "*.py"))):
            found.setdefault(os.path.basename(path), path)
    return found


def load(path):
    spec = importlib.util.spec_from_file_location(f"docs_{os.path.basename(path)[:-3]}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Parsed(Exception):
    """Raised by parse_args to hand over the parser a script's main() built."""


def parser_of(module):
    if hasattr(module, "build_parser"):
        return module.build_parser()
    original = argparse.ArgumentParser.parse_args

    def hand_over(self, *args, **kwargs):
        raise Parsed(self)
    argparse.ArgumentParser.parse_args = hand_over
    try:
        module.main([])
    except Parsed as parsed:
        return parsed.args[0]
    finally:
        argparse.ArgumentParser.parse_args = original
    raise AssertionError(f"{module.__name__}: main() parsed no arguments")


@functools.cache
def flags_of(name):
    """The options of a script: those of the parser it builds (benchmarks: those their source adds)."""
    path = scripts()[name]
    if os.path.dirname(path) == os.path.join(ROOT, "benchmarks"):
        with open(path, encoding="utf-8") as f:
            return frozenset(re.findall(r"add_argument\(\s*\"(--[a-z0-9_]+)\"", f.read()))
    return frozenset(s for a in parser_of(load(path))._actions for s in a.option_strings)


def page_flags(doc):
    names = PAGE_SCRIPTS.get(os.path.basename(doc))
    paths = [p for pattern in names for p in glob.glob(os.path.join(ROOT, pattern))] if names else \
        list(scripts().values())
    return frozenset().union(*(flags_of(os.path.basename(p)) for p in paths if os.path.basename(p) in scripts()))


def usage_of(name, monkeypatch):
    monkeypatch.setenv("COLUMNS", WIDTH)  # argparse wraps to the terminal width it reads from COLUMNS
    parser = load(scripts()[name]).build_parser()
    parser.prog = name
    return parser.format_usage().strip()


def test_the_main_scripts_have_usage_blocks():
    shown = {m.group(2) for doc in DOCS for m in USAGE_BLOCK.finditer(read(doc))}
    assert {"preprocess.py", "pretrain.py"} <= shown


@pytest.mark.parametrize("doc", DOCS, ids=os.path.basename)
def test_usage_blocks_are_the_parsers_usage(doc, monkeypatch):
    text = read(doc)
    blocks = list(USAGE_BLOCK.finditer(text))
    if os.environ.get("UPDATE_DOCS"):
        for match in reversed(blocks):
            text = text[:match.start(1)] + usage_of(match.group(2), monkeypatch) + text[match.end(1):]
        with open(doc, "w", encoding="utf-8") as f:
            f.write(text)
        return
    for match in blocks:
        assert match.group(1) == usage_of(match.group(2), monkeypatch), \
            f"{os.path.basename(doc)}: the usage block of {match.group(2)} differs from its --help; " \
            "UPDATE_DOCS=1 python3 -m pytest tests/test_docs.py rewrites it"


def commands(block):
    """(script name, its arguments) of each command line of a code block (continuation lines joined)."""
    known = scripts()
    for line in block.replace("\\\n", " ").splitlines():
        for part in re.split(r"\||;|&&|#", line):
            words = part.split()
            for i, word in enumerate(words):
                name = os.path.basename(word)
                if word.endswith(".py") and name in known:
                    yield name, words[i + 1:]
                    break


@pytest.mark.parametrize("doc", DOCS, ids=os.path.basename)
def test_flags_in_commands_exist(doc):
    wrong = []
    for block in CODE_BLOCK.findall(read(doc)):
        if block.startswith("usage: "):
            continue
        for name, words in commands(block):
            wrong += [f"{name} {w}" for w in words if FLAG.fullmatch(w.split("=")[0]) and
                      w.split("=")[0] not in flags_of(name)]
    assert not wrong, f"{os.path.basename(doc)}: flags their script does not have: {wrong}"


def prose_scopes(text):
    """Paragraphs, list items and table rows outside code blocks."""
    text = CODE_BLOCK.sub("", text)
    for paragraph in re.split(r"\n\s*\n", text):
        for scope in re.split(r"\n(?=\||- |\d+\. )", paragraph):
            yield scope


@pytest.mark.parametrize("doc", DOCS, ids=os.path.basename)
def test_flags_in_prose_exist(doc):
    """A flag in a sentence or table row belongs to a script named there or to one the page is about."""
    known, wrong = scripts(), []
    for scope in prose_scopes(read(doc)):
        named = {m for m in SCRIPT_NAME.findall(scope) if m in known}
        allowed = frozenset().union(page_flags(doc), OTHER_TOOLS_FLAGS, *map(flags_of, named))
        wrong += [f for f in FLAG.findall(scope) if f not in allowed]
    assert not wrong, f"{os.path.basename(doc)}: flags no script named with them has: {sorted(set(wrong))}"


def test_every_script_has_a_section():
    """Each script a user runs is named in a heading or in a table row of its own."""
    shown = set()
    for doc in DOCS:
        for line in read(doc).splitlines():
            if line.startswith(("#", "|")):
                shown.update(SCRIPT_NAME.findall(line))
    users = [n for n, p in scripts().items() if os.path.dirname(p) != os.path.join(ROOT, "benchmarks")]
    assert not sorted(set(users) - shown)


def slug(heading):
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(path):
    return {slug(line.lstrip("#")) for line in read(path).splitlines() if re.match(r"#+ ", line)}


@pytest.mark.parametrize("doc", DOCS, ids=os.path.basename)
def test_relative_links_resolve(doc):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", CODE_BLOCK.sub("", read(doc))):
        if re.match(r"[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(os.path.dirname(doc), path)) if path else doc
        if not os.path.exists(full) or (anchor and full.endswith(".md") and anchor not in anchors(full)):
            broken.append(target)
    assert not broken, f"{os.path.basename(doc)}: broken links {broken}"


HISTORY = re.compile(r"\b(the issue|this change|before this change|the issue's)\b", re.I)


def test_the_project_speaks_of_itself_only():
    """No history in the docs or in code comments: that belongs in git log."""
    files = DOCS + [p for folder in ("uer", "scripts", "inference", "benchmarks", "tests")
                    for p in glob.glob(os.path.join(ROOT, folder, "**", "*.py"), recursive=True)]
    files += glob.glob(os.path.join(ROOT, "*.py"))
    found = [f"{os.path.relpath(p, ROOT)}: {m.group(0)}" for p in files if not p.endswith("test_docs.py")
             for m in HISTORY.finditer(read(p))]
    assert not found, found


SAMPLE_TASKS = ("datasets/review_", "datasets/book_review/few.tsv", "--prompt_id")


def test_the_later_task_examples_run_as_written(tmp_path, monkeypatch):
    """The fine-tuning examples on the shipped samples of the later task scripts (regression, multi-label, two
    towers, SimCSE, prompts) run as the page prints them (for one epoch), from a folder laid out as the repository
    (datasets/, models/), with a BERT-tiny of the Quickstart's shape standing for models/book_review_model.bin;
    in this process (the scripts' main), as the command line would run it there."""
    import shutil
    from conftest import model_args
    from uer.model_builder import build_model
    from uer.model_saver import save_model
    from uer.opts import load_config
    from uer.text.vocab import Vocab
    shutil.copytree(os.path.join(ROOT, "datasets"), tmp_path / "datasets")
    for path in (tmp_path / "datasets").glob("*/*.tsv"):  # the header and 100 rows: the commands, not accuracy
        with open(path, encoding="utf-8") as f:
            head = [line for _, line in zip(range(101), f)]
        path.write_text("".join(head), encoding="utf-8")
    (tmp_path / "models").mkdir()
    for name in os.listdir(os.path.join(ROOT, "models")):
        if not name.endswith(".bin"):
            os.symlink(os.path.join(ROOT, "models", name), tmp_path / "models" / name)
    config_path = os.path.join(ROOT, "models", "bert_tiny_config.json")
    vocab = Vocab.load(os.path.join(ROOT, "models", "reviews_vocab.txt"))
    save_model(build_model(model_args(load_config(config_path), config_path=config_path), len(vocab)),
               str(tmp_path / "models" / "book_review_model.bin"))
    ran = []
    for block in CODE_BLOCK.findall(read(os.path.join(ROOT, "docs", "finetuning.md"))):
        for name, argv in commands(block):
            line = " ".join(argv)
            if not any(marker in line for marker in SAMPLE_TASKS):
                continue
            quick = [] if name.endswith("_infer.py") else ["--epochs_num", "1"]  # as written, one epoch
            monkeypatch.chdir(tmp_path)
            assert not load(scripts()[name]).main([*argv, *quick]), f"{name} {line}"
            ran.append(name)
    assert sorted(set(ran)) == sorted(["run_regression.py", "run_regression_infer.py",
                                       "run_classifier_multi_label.py", "run_classifier_multi_label_infer.py",
                                       "run_classifier_siamese.py", "run_simcse.py", "run_simcse_infer.py",
                                       "run_classifier_prompt.py"])
    assert (tmp_path / "datasets" / "review_aspects" / "prediction.tsv").read_text().splitlines()[0] == "label\tprob"


DESIGN = os.path.join(ROOT, "docs", "design.md")
MODULE_PATH = re.compile(r"\buer/[\w/]*?\w+(?:\.py|/)")


def test_design_names_only_what_exists_and_everything_there_is():
    """docs/design.md: every uer/ path it names exists; every package under uer/, every script a user runs and
    every test file is named in it."""
    text = read(DESIGN)
    for path in set(MODULE_PATH.findall(text)):
        assert os.path.exists(os.path.join(ROOT, path)), f"docs/design.md names {path}, which does not exist"
    packages = sorted(os.path.relpath(d, ROOT) + "/" for d, _, files in os.walk(os.path.join(ROOT, "uer"))
                      if "__init__.py" in files and "__pycache__" not in d)
    missing = [p for p in packages if p not in text]
    assert not missing, f"docs/design.md does not name the packages {missing}"
    names = set(re.findall(r"[\w.]+\.py", text))
    unnamed = [name for name in scripts() if name not in names and name != "conftest.py"]
    tests = [os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "tests", "test_*.py"))]
    unnamed += [t for t in tests if t not in names]
    assert not unnamed, f"docs/design.md does not name {unnamed}"


def test_design_states_the_checked_layer_order():
    import configparser
    contracts = configparser.ConfigParser()
    contracts.read(os.path.join(ROOT, ".importlinter"))
    layers = contracts["importlinter:contract:layers"]["layers"]
    checked = [line.strip() for line in layers.splitlines() if line.strip()]
    text = read(DESIGN)
    block = text[text.index("## Layer order"):].split("```")[1].strip().splitlines()
    assert block == checked
