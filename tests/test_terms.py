"""cnnlib.terms: finding glossary terms in a page's text and linking their first mention."""

from cnnlib.glossary import FORMS, GLOSSARY, anchor, lookup, title
from cnnlib.terms import find_mentions, link_terms, linked_terms, mentioned_terms


def _links(md: str) -> list[str]:
    import re

    return re.findall(r"\[([^\]]+)\]\(glossary#([a-z-]+) ", md)


def test_every_term_and_form_is_found_as_itself():
    for term in GLOSSARY:
        for form in (term, *FORMS.get(term, ())):
            assert mentioned_terms(f"Here: {form}.") == {term}, form


def test_plural_and_case():
    assert _links(link_terms("Two kernels.")) == [("kernels", "kernel")]
    assert _links(link_terms("Batches and biases.")) == [("Batches", "batch"), ("biases", "bias")]
    assert _links(link_terms("relu then ReLU")) == [("relu", "relu")]  # one term, linked once
    assert _links(link_terms("A ReLU.")) == [("ReLU", "relu")]


def test_whole_words_only():
    assert mentioned_terms("LeakyReLU, in_channels, batch_size, kernelling, nn.ReLU, x/stride") == set()
    assert mentioned_terms("softmax.py") == set()


def test_first_mention_only_and_the_title_is_the_entry():
    md = link_terms("A kernel, another kernel.")
    assert md.count("](glossary#kernel") == 1 and md.endswith("another kernel.")
    assert f'"{GLOSSARY["kernel"]}"' in md


def test_protected_regions_are_not_linked():
    for text in ("`stride`", "```\nstride = 2\n```", "$stride$", "$$\\text{stride}$$", "[stride](x)",
                 "<span title='stride'>", ":red[stride]", "https://x.org/stride", "<style>.stride{}</style>"):  # fmt: skip
        assert link_terms(text) == text, text
        assert mentioned_terms(text) == set(), text


def test_a_term_already_linked_is_not_linked_twice():
    once = link_terms("The stride and the padding.")
    assert link_terms(once) == once
    assert linked_terms(once) == {"stride", "padding"} and mentioned_terms(once) == set()
    assert link_terms("[stride](glossary#stride) then stride") == "[stride](glossary#stride) then stride"


def test_longer_overlapping_term_wins():
    assert _links(link_terms("Batch norm after each batch.")) == [
        ("Batch norm", "batch-norm"),
        ("batch", "batch"),
    ]
    assert [t for *_, t in find_mentions("batch normalisation")] == ["batch norm"]
    assert [t for *_, t in find_mentions("the feature map and the feature-maps")] == ["feature map"] * 2
    assert mentioned_terms("test accuracy") == {"validation accuracy"}


def test_skip_and_page():
    assert link_terms("stride", skip=frozenset({"stride"})) == "stride"
    assert link_terms("stride", page="/g").startswith("[stride](/g#stride ")


def test_titles_with_quotes_stay_one_link():
    md = link_terms("padding")  # its entry holds ('same') and parentheses
    assert md.count("](glossary#") == 1 and mentioned_terms(md) == set()


def test_glossary_entries_anchors_and_titles():
    wanted = ["kernel", "feature map", "cross-correlation", "stride", "padding", "dilation", "pooling", "relu",
              "channel", "parameter", "trainable", "bias", "receptive field", "activation", "logit", "softmax",
              "cross-entropy", "gradient", "learning rate", "optimizer", "sgd", "adam", "momentum", "batch",
              "epoch", "one-cycle", "overfitting", "validation accuracy", "dropout", "batch norm", "weight decay",
              "augmentation", "early stopping", "grad-cam", "normalisation", "model size"]  # fmt: skip
    assert set(wanted) <= set(GLOSSARY)
    assert "not flipped" in lookup("cross-correlation").replace("skip the flip", "not flipped")
    assert "−0.43" in lookup("normalisation") and "2.81" in lookup("normalisation")
    assert anchor("feature map") == "feature-map" and anchor("grad-cam") == "grad-cam"
    assert title("relu") == "ReLU" and title("feature map") == "Feature map"
