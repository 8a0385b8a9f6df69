"""SequenceTagger: learning, prediction on awkward input, evaluation, model files."""

from __future__ import annotations

import random

import pytest
import torch

from tagkit_core.data import Sentence
from tagkit_core.evaluation import span_scores
from tagkit_core.model import Model
from tagkit_core.trainer import ModelTrainer
from tagkit_crf_tagger import SequenceTagger

# The loaded model runs where load puts it (the GPU when there is one) and the trained one where
# the trainer put it; GPU kernels round differently from run to run.
SCORE_TOLERANCE = 1e-4 if torch.cuda.is_available() else 1e-6


def _train(corpus, embeddings, tmp_path, tag_type="pos", epochs=15, **tagger_options):
    tagger = SequenceTagger(hidden_size=16, embeddings=embeddings,
                            tag_dictionary=corpus.make_tag_dictionary(tag_type),
                            tag_type=tag_type, **tagger_options)
    result = ModelTrainer(tagger, corpus).train(tmp_path, max_epochs=epochs, learning_rate=0.1,
                                                mini_batch_size=8, show_progress=False)
    return tagger, result


@pytest.mark.parametrize("use_crf", [True, False])
def test_tagger_learns_toy_pos_tags(toy_corpus, toy_embeddings, tmp_path, use_crf):
    tagger, result = _train(toy_corpus, toy_embeddings, tmp_path, use_crf=use_crf)
    assert result["test_score"] > 0.95
    sentence = Sentence("we love Berlin .")
    tagger.predict(sentence)
    assert [t.get_tag("pos") for t in sentence] == ["PRON", "VERB", "PROPN", "PUNCT"]
    assert all(0.0 < t.get_label("pos").score <= 1.0 for t in sentence)


def test_saved_model_predicts_the_same_after_loading(toy_corpus, toy_embeddings, tmp_path):
    tagger, _ = _train(toy_corpus, toy_embeddings, tmp_path, epochs=3)
    loaded = SequenceTagger.load(tmp_path / "final-model.pt")
    assert isinstance(loaded, SequenceTagger)
    assert loaded.tag_dictionary == tagger.tag_dictionary
    sentences = [Sentence("a cat sleeps here"), Sentence("Anna visits New York")]
    copies = [Sentence(s.to_plain_string().split()) for s in sentences]
    tagger.predict(sentences, return_probabilities_for_all_classes=True)
    loaded.predict(copies, return_probabilities_for_all_classes=True)
    for a, b in zip(sentences, copies):
        assert [t.get_tag("pos") for t in a] == [t.get_tag("pos") for t in b]
        for ta, tb in zip(a, b):
            assert ta.get_label("pos").score == pytest.approx(tb.get_label("pos").score,
                                                              abs=SCORE_TOLERANCE)
        distribution = a.cache["pos_distribution"]
        assert len(distribution) == len(a)
        assert sum(distribution[0].values()) == pytest.approx(1.0, abs=1e-5)


def test_awkward_input_in_one_batch_gets_predictions(toy_corpus, toy_embeddings, tmp_path):
    tagger, _ = _train(toy_corpus, toy_embeddings, tmp_path, epochs=2)
    rng = random.Random(0)
    long_sentence = Sentence([rng.choice(["the", "dog", "zebra", "ø", "✓"]) for _ in range(5000)])
    empty = Sentence([])
    unseen = Sentence("Qwxyz ÆØÅ 北京 🙂 !!")
    normal = Sentence("the dog runs")
    tagger.predict([empty, long_sentence, unseen, normal], mini_batch_size=4)
    assert empty.labels == []
    for sentence in (long_sentence, unseen, normal):
        assert all(t.has_label("pos") for t in sentence)
        assert all(t.get_tag("pos") in tagger.tag_dictionary for t in sentence)


def test_prediction_does_not_depend_on_batch_composition(toy_corpus, toy_embeddings, tmp_path):
    tagger, _ = _train(toy_corpus, toy_embeddings, tmp_path, epochs=2)
    alone = Sentence("a cat sleeps here")
    tagger.predict(alone)
    together = [Sentence("Anna visits New York . we love Berlin . the dog runs".split()),
                Sentence("a cat sleeps here")]
    tagger.predict(together, mini_batch_size=2)
    for a, b in zip(alone, together[1]):
        assert a.get_tag("pos") == b.get_tag("pos")
        assert a.get_label("pos").score == pytest.approx(b.get_label("pos").score, abs=1e-5)


def test_evaluate_scores_spans_for_bioes_tags(toy_corpus, toy_embeddings, tmp_path):
    tagger, result = _train(toy_corpus, toy_embeddings, tmp_path, tag_type="ner", epochs=15)
    evaluation = tagger.evaluate(toy_corpus.test)
    assert evaluation.main_score_name == "micro_f1"
    assert set(evaluation.classification_report) <= {"PER", "LOC"}
    assert evaluation.main_score == pytest.approx(result["test_score"])
    assert evaluation.main_score > 0.9
    assert not any(t.has_label("__predicted__") for s in toy_corpus.test for t in s)


def test_span_scores_match_seqeval():
    seqeval = pytest.importorskip("seqeval.metrics")
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG", "I-ORG", "O"],
            ["B-LOC", "O", "B-PER"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG"], ["O", "B-ORG", "I-ORG", "O", "O"],
                 ["B-LOC", "O", "B-PER"]]
    scores, report = span_scores(gold, predicted)
    assert scores["micro_f1"] == pytest.approx(seqeval.f1_score(gold, predicted))
    assert scores["micro_precision"] == pytest.approx(seqeval.precision_score(gold, predicted))
    assert scores["macro_f1"] == pytest.approx(seqeval.f1_score(gold, predicted,
                                                                average="macro"))


def test_arguments_in_flair_015_order_with_its_default_hidden_size(toy_corpus, toy_embeddings):
    tags = toy_corpus.make_tag_dictionary("pos")
    tagger = SequenceTagger(toy_embeddings, tags, "pos")  # Flair 0.15's positional three
    assert tagger.hidden_size == 256 and tagger.rnn.output_size == 512
    assert SequenceTagger.from_config(tagger.get_config()).hidden_size == 256
    flert = SequenceTagger(embeddings=toy_embeddings, tag_dictionary=tags, tag_type="pos",
                           use_rnn=False, use_crf=False, reproject_embeddings=False)
    assert not hasattr(flert, "rnn") and not hasattr(flert, "crf")
    assert flert.linear.in_features == toy_embeddings.embedding_length


def test_hidden_size_given_first_is_a_clear_error(toy_corpus, toy_embeddings):
    """tagkit's first releases took ``hidden_size`` first (Flair before 0.12 did too)."""
    tags = toy_corpus.make_tag_dictionary("pos")
    with pytest.raises(TypeError, match=r"the first argument is the token embeddings, got "
                                        r"int; hidden_size is a keyword \(hidden_size=256\)"):
        SequenceTagger(256, toy_embeddings, tags)
    with pytest.raises(TypeError, match="a tagger needs a vector per token"):
        SequenceTagger(torch.nn.Identity(), tags, "pos")
    with pytest.raises(TypeError, match=r"tag_dictionary must be a Dictionary .*got str"):
        SequenceTagger(toy_embeddings, "pos", tags)
    with pytest.raises(TypeError, match="positional"):  # options are keywords only
        SequenceTagger(toy_embeddings, tags, "pos", False)


def test_unknown_gold_tag_is_a_clear_error(toy_corpus, toy_embeddings):
    dictionary = toy_corpus.make_tag_dictionary("pos")
    tagger = SequenceTagger(toy_embeddings, dictionary, "pos", hidden_size=8)
    odd = Sentence(["the", "dog"])
    odd[0].add_label("pos", "NEWTAG")
    odd[1].add_label("pos", "NOUN")
    with pytest.raises(KeyError, match="NEWTAG"):
        tagger.forward_loss([odd])


def test_generic_model_load_finds_the_class_through_the_registry(toy_corpus, toy_embeddings,
                                                                  tmp_path):
    tagger = SequenceTagger(toy_embeddings, toy_corpus.make_tag_dictionary("pos"), "pos",
                            hidden_size=8)
    tagger.save(tmp_path / "m.pt")
    from tagkit_core import load_model

    loaded = load_model(tmp_path / "m.pt")
    assert isinstance(loaded, SequenceTagger)
    assert isinstance(Model.load(tmp_path / "m.pt"), SequenceTagger)
    for (name, a), (_, b) in zip(tagger.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b.to(a.device)), name  # load_model picks CUDA where there is one


def _labels(sentences, label_type="pos"):
    return [[(t.get_tag(label_type), t.get_label(label_type).score) for t in s] for s in sentences]


def test_decoding_many_batches_at_once_changes_nothing(toy_corpus, toy_embeddings, tmp_path,
                                                       monkeypatch):
    """Prediction decodes several batches in one CRF pass; results equal batch-by-batch ones."""
    tagger, _ = _train(toy_corpus, toy_embeddings, tmp_path, epochs=2)
    texts = [s.to_plain_string().split() for s in toy_corpus.test] + [["the"], ["New", "York"]]
    results = {}
    for positions in (1, 10**6):  # one batch per decode, then everything in one decode
        monkeypatch.setattr(SequenceTagger, "decode_group_positions", positions)
        sentences = [Sentence(words) for words in texts]
        tagger.predict(sentences, mini_batch_size=3, return_probabilities_for_all_classes=True)
        results[positions] = (_labels(sentences), [s.cache["pos_distribution"] for s in sentences])
        results[positions, "eval"] = tagger.evaluate(toy_corpus.test, mini_batch_size=3).scores
    (tags_alone, dist_alone), (tags_joined, dist_joined) = results[1], results[10**6]
    assert [[tag for tag, _ in s] for s in tags_alone] == [[tag for tag, _ in s]
                                                          for s in tags_joined]
    for alone, joined in zip(tags_alone, tags_joined):
        assert [score for _, score in alone] == pytest.approx([score for _, score in joined],
                                                              abs=1e-6)
    assert dist_alone[0][0] == pytest.approx(dist_joined[0][0], abs=1e-6)
    assert results[1, "eval"] == pytest.approx(results[10**6, "eval"], rel=1e-5)


def test_decode_groups_respect_the_padded_size():
    from tagkit_crf_tagger.tagger import decode_groups

    batches = [[Sentence(["w"] * n) for n in lengths]
               for lengths in ([9, 8], [5, 5], [4, 3], [2, 2], [1])]
    groups = decode_groups(batches, positions=20)
    assert [[len(batch) for batch in group] for group in groups] == [[2], [2, 2], [2, 1]]
    for group in groups:
        longest = max(len(s) for batch in group for s in batch)
        assert len(group) == 1 or sum(map(len, group)) * longest <= 20
    assert [b for g in groups for b in g] == batches  # order kept, nothing lost


def test_bfloat16_prediction_stays_close_to_float32(toy_corpus, toy_embeddings, tmp_path):
    tagger, _ = _train(toy_corpus, toy_embeddings, tmp_path, epochs=15)
    full = [Sentence(s.to_plain_string().split()) for s in toy_corpus.test]
    half = [Sentence(s.to_plain_string().split()) for s in toy_corpus.test]
    tagger.predict(full)
    tagger.predict(half, precision="bfloat16")
    for a, b in zip(_labels(full), _labels(half)):
        assert [tag for tag, _ in a] == [tag for tag, _ in b]  # a trained model: clear margins
        assert [s for _, s in a] == pytest.approx([s for _, s in b], abs=0.02)
    assert tagger.evaluate(toy_corpus.test, precision="bfloat16").main_score > 0.95
    assert all(p.dtype == torch.float32 for p in tagger.parameters())  # training weights kept
    with pytest.raises(ValueError, match="precision"):
        tagger.predict(full, precision="float16")


def test_bfloat16_prediction_warns_where_the_cpu_runs_it_slower(toy_corpus, toy_embeddings,
                                                                monkeypatch):
    import warnings

    import tagkit_core.product_rates as product_rates

    tagger = SequenceTagger(toy_embeddings, tag_dictionary=toy_corpus.make_label_dictionary("pos"),
                            tag_type="pos", hidden_size=8)
    for speedup, expected in ((1.3, 0), (0.2, 1)):  # native bfloat16; an AVX2-only CPU
        monkeypatch.setattr(product_rates, "bfloat16_speedup", lambda speedup=speedup: speedup)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tagger.predict([Sentence("a b".split())], precision="bfloat16")
        slow = [w for w in caught if "5.0 times slower than float32" in str(w.message)]
        assert len(slow) == expected


def test_bfloat16_copy_follows_weight_updates(toy_corpus, toy_embeddings):
    """The bfloat16 copy of the BiLSTM is cached; training in between must invalidate it."""
    tagger = SequenceTagger(toy_embeddings, toy_corpus.make_tag_dictionary("pos"), "pos",
                            hidden_size=8)
    tagger.eval()
    x = torch.randn(2, 5, tagger.rnn.forward_layers[0].input_size)
    lengths = torch.tensor([5, 3])
    with torch.no_grad():
        before = tagger.rnn(x, lengths, dtype=torch.bfloat16)
        assert before.dtype == torch.float32
        assert torch.allclose(before, tagger.rnn(x, lengths), atol=0.02)
        for parameter in tagger.rnn.parameters():
            parameter.add_(0.5)  # in place, as an optimizer step is
        after = tagger.rnn(x, lengths, dtype=torch.bfloat16)
        assert torch.allclose(after, tagger.rnn(x, lengths), atol=0.02)
        assert not torch.allclose(after, before, atol=0.02)
    assert "_cast_layers" not in "".join(tagger.state_dict())
