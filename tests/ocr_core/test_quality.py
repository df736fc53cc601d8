"""ocr_core.quality: scores against hand-computed cases, the diff, and runaway detection."""

from __future__ import annotations

import pytest

from ocr_core import quality
from ocr_core.quality import (
    DiffSpan,
    cer,
    looks_repetitive,
    normalise,
    rerun_reason,
    wer,
    word_diff,
)


def test_identical_text_scores_zero():
    assert cer("The quick fox", "The quick fox") == 0.0
    assert wer("The quick fox", "The quick fox") == 0.0


def test_cer_is_character_edits_per_reference_character():
    # "kitten" -> "sitting": k->s, e->i, +g = 3 edits over 6 reference characters.
    assert cer("sitting", "kitten") == pytest.approx(3 / 6)


def test_wer_is_word_edits_per_reference_word():
    # one substitution (brown->brwn) and one deletion (fox) over 4 reference words.
    assert wer("the quick brwn", "the quick brown fox") == pytest.approx(2 / 4)


def test_extra_text_can_push_cer_past_one():
    assert cer("abcdef", "ab") == pytest.approx(4 / 2)


def test_whitespace_and_line_breaks_do_not_count():
    assert cer("Total due:\n\n  100   EUR", "Total due: 100 EUR") == 0.0


def test_markdown_markup_is_not_text():
    hypothesis = "# Invoice\n\n**Total** due: _100_ EUR\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    assert normalise(hypothesis) == "Invoice Total due: 100 EUR a b 1 2"


def test_unicode_is_compared_composed():
    assert cer("cafe\u0301", "caf\u00e9") == 0.0


def test_case_counts_unless_ignored():
    assert cer("HELLO", "hello") == 1.0
    assert cer("HELLO", "hello", ignore_case=True) == 0.0


def test_an_empty_reference_is_refused_with_a_message():
    with pytest.raises(ValueError, match="reference text is empty"):
        cer("anything", "  \n ")
    with pytest.raises(ValueError, match="reference text is empty"):
        wer("anything", "")


def test_word_diff_names_each_kind_of_change_in_order():
    spans = word_diff("the quick red fox jumps high", "the quick brown fox jumps")
    assert spans == [
        DiffSpan("equal", ("the", "quick"), ("the", "quick")),
        DiffSpan("replace", ("brown",), ("red",)),
        DiffSpan("equal", ("fox", "jumps"), ("fox", "jumps")),
        DiffSpan("insert", (), ("high",)),
    ]


def test_word_diff_of_lost_words_is_a_delete():
    spans = word_diff("pay 100", "pay 100 EUR today")
    assert spans[-1] == DiffSpan("delete", ("EUR", "today"), ())


def test_a_line_repeated_until_max_tokens_is_repetitive():
    text = "Invoice 2024\n" + "Thank you for your business.\n" * 60
    assert looks_repetitive(text)


def test_a_single_word_loop_is_repetitive():
    assert looks_repetitive("Name: John " + "the " * 200)


def test_a_loop_with_a_counter_is_caught_by_compression():
    text = "".join(f"| item | {i % 3} | 0.00 | 0.00 |\n" for i in range(400))
    assert looks_repetitive(text)


@pytest.mark.parametrize("name", ["eurotext.txt", "phototest.txt"])
def test_real_pages_are_not_repetitive(corpus, name):
    assert not looks_repetitive((corpus / "scans" / name).read_text())


def test_a_table_of_contents_is_not_repetitive():
    toc = "\n".join(
        f"{n}. Chapter {n}: {title} .......... {n * 7}"
        for n, title in enumerate(
            ["Income", "Assets", "Liabilities", "Employment", "Property", "Declarations"] * 6,
            start=1,
        )
    )
    assert not looks_repetitive(toc)


def test_rerun_reason_names_empty_and_repetition():
    assert rerun_reason("  \n") == "empty"
    assert rerun_reason("loop " * 100) == "repetition"
    assert rerun_reason("A normal page of text.") is None


def _columns_swapped(text: str) -> str:
    """The page's second half read before its first: every word right, the order not."""
    lines = text.splitlines()
    half = len(lines) // 2
    return "\n".join(lines[half:] + lines[:half])


def test_a_page_read_in_another_order_is_right_word_for_word(corpus):
    truth = (corpus / "scans" / "phototest.txt").read_text()
    found = quality.score(_columns_swapped(truth), truth)
    assert found.cer > 0.3
    assert found.order_free_cer == 0.0
    assert (found.word_precision, found.word_recall) == (1.0, 1.0)
    assert found.mostly_reading_order


def test_misread_words_count_order_free_too(corpus):
    truth = (corpus / "scans" / "phototest.txt").read_text()
    misread = truth.replace("e", "c").replace("o", "0")
    found = quality.score(misread, truth)
    assert found.order_free_cer > 0.1 and found.word_precision < 0.5
    assert not found.mostly_reading_order


def test_word_precision_and_recall_count_extra_and_missing_words():
    precision, recall = quality.word_precision_recall("the cat the cat sat", "the cat sat on")
    assert (precision, recall) == (3 / 5, 3 / 4)
    assert quality.word_precision_recall("", "the cat") == (0.0, 0.0)


def test_order_free_cer_ignores_order_only():
    assert quality.order_free_cer("b a c", "a b c") == 0.0
    assert quality.order_free_cer("b a x", "a b c") == quality.cer("a b x", "a b c")
    with pytest.raises(ValueError, match="empty"):
        quality.order_free_cer("a", "  ")
