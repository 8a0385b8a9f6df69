"""Flair's training tutorial, as written, runs on tagkit: only its imports are rewritten.

The tutorial is ``../shared/seed/TRAINING_TUTORIAL.md`` (beside the repository). Every Python
block is rewritten through docs/porting.md (import mapping, then the listed substitutions that
make it run on a CPU without network: one epoch, tiny samples, tiny local models) and run in a
fresh process and folder. Each block's test checks what the tutorial says the block does. A
block docs/porting.md marks ``#N`` is expected to fail, strictly: when it starts to pass the
test fails until the mark is removed, so marks cannot outlive their issue.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from seed_tutorial import (  # noqa: E402
    PortingError,
    Substitution,
    python_blocks,
    read_porting,
    rewrite_imports,
    substitute,
)

REPO = Path(__file__).resolve().parent.parent
TUTORIAL = REPO.parent / "shared" / "seed" / "TRAINING_TUTORIAL.md"
PORTING = REPO / "docs" / "porting.md"
RUNNER = Path(__file__).parent / "seed_tutorial.py"
CHAIN_TIMEOUT_S = 300


@cache
def porting():
    return read_porting(PORTING.read_text(encoding="utf-8"))


@cache
def tutorial_blocks() -> list[str]:
    if not TUTORIAL.is_file():
        raise FileNotFoundError(f"{TUTORIAL}: the seed tutorial must be beside the repository "
                                f"(../shared/seed/)")
    return python_blocks(TUTORIAL.read_text(encoding="utf-8"))


def block_params(blocks=None):
    """One pytest param per block; a marked block is xfail(strict=True): passing fails it."""
    params = []
    for block in porting().blocks if blocks is None else blocks:
        marks = []
        if block.issue is not None:
            marks.append(pytest.mark.xfail(
                strict=True, reason=f"marked in docs/porting.md: issue #{block.issue}"))
        params.append(pytest.param(block.number, marks=marks, id=f"block{block.number}"))
    return params


# -- the rewriting itself: quick, no data --------------------------------------------------------
def test_every_tutorial_block_is_listed_once_in_porting_md():
    numbers = [b.number for b in porting().blocks]
    assert numbers == list(range(1, len(tutorial_blocks()) + 1))
    for block in porting().blocks:
        assert block.runs_after is None or block.runs_after < block.number


def test_every_mapped_tagkit_name_exists():
    import importlib

    for flair, target in porting().mapping.items():
        if target is None:
            continue
        module, _, name = target.rpartition(".")
        assert hasattr(importlib.import_module(module), name), f"{flair} -> {target}"


def test_imports_are_rewritten_and_split_by_tagkit_module():
    mapping = porting().mapping
    source = ("from flair.embeddings import TokenEmbeddings, WordEmbeddings, FlairEmbeddings\n"
              "x = 'from flair.data import Corpus'\n"
              "    from flair.training_utils import EvaluationMetric  # unused\n")
    assert rewrite_imports(source, mapping) == (
        "from tagkit_core.embeddings import TokenEmbeddings\n"
        "from tagkit_embeddings import WordEmbeddings\n"
        "from tagkit_flair_embeddings import FlairEmbeddings\n"
        "x = 'from flair.data import Corpus'\n")
    assert rewrite_imports("from flair.data import Sentence as S\n", mapping) == (
        "from tagkit_core.data import Sentence as S\n")


def test_an_unmapped_name_or_import_form_is_refused():
    with pytest.raises(PortingError, match="flair.models.NoSuchModel is not in"):
        rewrite_imports("from flair.models import NoSuchModel\n", porting().mapping)
    with pytest.raises(PortingError, match="only 'from flair.X import"):
        rewrite_imports("import flair.datasets\n", porting().mapping)


def test_a_marked_block_must_fail_and_names_its_issue():
    page = PORTING.read_text(encoding="utf-8").replace(
        "| 6 | Multi-Dataset Training | — | runs |", "| 6 | Multi-Dataset Training | — | #19 no "
        "German train file |")
    blocks = read_porting(page).blocks
    assert [b.issue for b in blocks if b.issue] == [19]
    (mark,) = block_params(blocks)[5].marks
    assert mark.name == "xfail" and mark.kwargs["strict"] and "#19" in mark.kwargs["reason"]
    with pytest.raises(PortingError, match="status must be 'runs' or '#ISSUE"):
        read_porting(page.replace("| #19 no German", "| broken, no German"))


def test_a_substitution_that_no_longer_matches_fails():
    subs = [Substitution(3, "all", "max_epochs=150", "max_epochs=1")]
    with pytest.raises(PortingError, match="block 3: substitution text 'max_epochs=150'"):
        substitute("trainer.train(max_epochs=5)", 3, subs, {})
    first_last = [Substitution(8, "1st", "e=150", "e=1"), Substitution(8, "last", "e=150", "e=2")]
    assert substitute("e=150; e=150", 8, first_last, {}) == "e=1; e=2"


# -- fixtures: the data mirror and the tiny models that stand in for pretrained ones ------------
TINY_BERT_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "what", "who", "how", "when",
                   "where", "why", "which", "is", "was", "the", "a", "of", "in", "did", "does",
                   "do", "name", "many", "much", "built", "city", "country", "?", ",", "."]


def write_tiny_bert(folder: Path) -> Path:
    """A random 2-layer BERT (hidden 32) and its WordPiece vocabulary: no download."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    folder.mkdir(parents=True)
    BertTokenizer(vocab={w: i for i, w in enumerate(TINY_BERT_VOCAB)}).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(TINY_BERT_VOCAB), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=48, max_position_embeddings=64)
    BertModel(config).eval().save_pretrained(folder)
    return folder


def write_tiny_lm(path: Path, forward: bool) -> Path:
    """A random character language model (hidden 16) over English and German letters."""
    from tagkit_core.seeding import set_seed
    from tagkit_flair_embeddings import LanguageModel, save_language_model
    from tagkit_flair_embeddings.language_model import character_dictionary

    set_seed(3)
    chars = character_dictionary(["abcdefghijklmnopqrstuvwxyzäöüß ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "ÄÖÜ0123456789.,;:!?'\"-()\n"])
    lm = LanguageModel(chars, is_forward_lm=forward, hidden_size=16, embedding_size=8)
    return save_language_model(lm, path)


def write_mirror(folder: Path) -> Path:
    """The data mirror, with German GSD's dev file standing in for its absent train file."""
    source = Path(os.environ.get("TAGKIT_DATASETS_MIRROR", REPO.parent / "shared" / "datasets"))
    folder.mkdir()
    for entry in source.iterdir():
        if entry.name != "ud_german_gsd":
            (folder / entry.name).symlink_to(entry)
    german = folder / "ud_german_gsd"
    german.mkdir()
    for split in ("dev", "test"):
        (german / f"de_gsd-ud-{split}.conllu").symlink_to(
            source / "ud_german_gsd" / f"de_gsd-ud-{split}.conllu")
    dev = source / "ud_german_gsd" / "de_gsd-ud-dev.conllu"
    (german / "de_gsd-ud-train.conllu").symlink_to(dev)
    return folder


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("seed-tutorial")
    fill = {"tiny_bert": str(write_tiny_bert(root / "tiny-bert")),
            "tiny_lm_forward": str(write_tiny_lm(root / "lm-forward.safetensors", True)),
            "tiny_lm_backward": str(write_tiny_lm(root / "lm-backward.safetensors", False))}
    return {"root": root, "fill": fill, "mirror": write_mirror(root / "mirror"), "chains": {}}


def prepared(number: int, fill: dict[str, str]) -> str:
    source = substitute(tutorial_blocks()[number - 1], number, porting().substitutions, fill)
    return rewrite_imports(source, porting().mapping)


def chain_of(number: int) -> list[int]:
    """The block and the blocks it runs after, first first."""
    after = {b.number: b.runs_after for b in porting().blocks}
    chain = [number]
    while after[chain[0]] is not None:
        chain.insert(0, after[chain[0]])
    return chain


def run_chain(fixtures: dict, number: int) -> tuple[Path, dict[int, dict]]:
    """Run the chain ending at ``number`` (once per module; a longer chain's run is reused)."""
    chain = chain_of(number)
    for key, (folder, results) in fixtures["chains"].items():
        if key[:len(chain)] == tuple(chain):
            return folder, results
    # Run the longest chain that starts like this one, so a shared prefix trains once.
    longest = max((chain_of(b.number) for b in porting().blocks),
                  key=lambda c: (c[:len(chain)] == chain, len(c)))
    longest = longest if longest[:len(chain)] == chain else chain
    folder = fixtures["root"] / f"run-{'-'.join(map(str, longest))}"
    folder.mkdir()
    plan = [{"block": n, "code": prepared(n, fixtures["fill"])} for n in longest]
    (folder.parent / f"{folder.name}.json").write_text(json.dumps(plan), encoding="utf-8")
    env = {**os.environ, "TAGKIT_DATASETS_MIRROR": str(fixtures["mirror"]),
           "TAGKIT_CACHE_DIR": str(fixtures["root"] / "cache"), "MPLBACKEND": "Agg"}
    out = folder.parent / f"{folder.name}.results.json"
    proc = subprocess.run([sys.executable, str(RUNNER), str(folder.parent / f"{folder.name}.json"),
                           str(out)], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=CHAIN_TIMEOUT_S)
    assert out.is_file(), f"the tutorial runner died:\n{proc.stderr[-3000:]}"
    results = {r["block"]: r for r in json.loads(out.read_text(encoding="utf-8"))}
    fixtures["chains"][tuple(longest)] = (folder, results)
    return folder, results


# -- what each block claims ---------------------------------------------------------------------
UPOS = {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON",
        "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"}
TREC_CLASSES = {"ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"}


def printed_dictionary(stdout: str) -> set[str]:
    """The tags of the line ``print(tag_dictionary)`` wrote."""
    line = next((x for x in stdout.splitlines() if x.startswith("Dictionary with ")), None)
    assert line is not None, f"no tag dictionary printed:\n{stdout[:2000]}"
    count, _, tags = line.removeprefix("Dictionary with ").partition(" tags: ")
    assert int(count) == len(tags.split(", ")), line
    return set(tags.split(", "))


def model_file(folder: Path, run: str) -> None:
    path = folder / "resources" / "taggers" / run / "final-model.pt"
    assert path.is_file() and path.stat().st_size > 1000, f"{path} not written"


def check_1(folder: Path, stdout: str) -> None:
    assert re.search(r"^Corpus: [1-9]\d* train \+ [1-9]\d* dev \+ [1-9]\d* test sentences$",
                     stdout, re.M), stdout[:2000]  # print(corpus)
    assert printed_dictionary(stdout) == UPOS  # print(tag_dictionary): the 17 UPOS tags
    model_file(folder, "example-pos")


def check_2(folder: Path, stdout: str) -> None:
    line = next(x for x in stdout.splitlines() if "I love Berlin" in x)
    tags = re.findall(r'"(I|love|Berlin)"/([A-Z]+)', line)
    assert [w for w, _ in tags] == ["I", "love", "Berlin"], line
    assert {t for _, t in tags} <= UPOS, line


def check_3(folder: Path, stdout: str) -> None:
    model_file(folder, "trec")


def check_4(folder: Path, stdout: str) -> None:
    # print(sentence.labels): the predicted class and its probability, e.g. [DESC (0.3541)]
    match = re.fullmatch(r"\[([A-Z]+) \((0\.\d+|1\.0+)\)\]", stdout.strip())
    assert match and match.group(1) in TREC_CLASSES, stdout


def check_5(folder: Path, stdout: str) -> None:
    model_file(folder, "trec")
    header = (folder / "resources" / "taggers" / "trec" / "final-model.pt").read_bytes()[:20000]
    assert b"transformer_document" in header  # the fine-tuned transformer is in the model


def check_6(folder: Path, stdout: str) -> None:
    assert printed_dictionary(stdout) <= UPOS
    assert printed_dictionary(stdout) >= {"NOUN", "VERB", "DET", "ADP", "PROPN"}
    model_file(folder, "example-universal-pos")


def check_7(folder: Path, stdout: str) -> None:
    for name in ("training.png", "weights.png"):
        path = folder / "resources" / "taggers" / "example-pos" / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"


def check_8(folder: Path, stdout: str) -> None:
    run = folder / "resources" / "taggers" / "example-ner"
    assert (run / "checkpoint.pt").is_file()
    epochs = [line.split("\t")[0] for line in (run / "loss.tsv").read_text().splitlines()[1:]]
    assert epochs == ["1", "2"], epochs


CHECKS = {1: check_1, 2: check_2, 3: check_3, 4: check_4, 5: check_5, 6: check_6, 7: check_7,
          8: check_8}


@pytest.mark.integration
@pytest.mark.parametrize("number", block_params())
def test_tutorial_block_runs_and_does_what_it_says(number, fixtures):
    folder, results = run_chain(fixtures, number)
    result = results.get(number)
    assert result is not None, (f"block {number} did not run: block "
                                f"{max(results)} before it failed:\n{results[max(results)]}")
    assert result["ok"], f"block {number} failed:\n{result['error']}"
    CHECKS[number](folder, result["stdout"])
