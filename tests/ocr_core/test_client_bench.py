"""The batch-throughput bench runs end to end (its figures are printed, not asserted: the
machine is shared, so timing targets belong in the bench's report, not in a test)."""

from __future__ import annotations

from ocr_core.bench import _batch


def test_batch_bench_measures_every_configuration_without_losing_pages(capsys):
    figures = _batch.run(pages=8, service_time_s=0.1, slots=4, repeat=1)
    assert figures["failed_pages"] == 0
    assert figures["capacity_pages_per_s"] == 4 / 0.1
    for key in ("batch_pages_per_s", "pipelined_pages_per_s", "sequential_pages_per_s"):
        assert figures[key] > 0
    printed = capsys.readouterr().out
    assert "% of capacity" in printed and "x sequential" in printed
