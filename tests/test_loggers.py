"""loggers: what CSVMetrics writes, read_metric reads back (rows that logged the metric, against any x column)."""

import pytest

from oppshape.loggers import CSVMetrics, read_metric


def test_read_metric_returns_the_rows_that_logged_it(tmp_path) -> None:
    metrics = CSVMetrics(tmp_path / "metrics.csv")
    metrics.log({"iteration": 1.0, "frames": 100.0, "loss": 0.5})
    metrics.log({"iteration": 2.0, "frames": 200.0, "loss": 0.4, "eval_return": 0.25})  # widens the header
    metrics.log({"iteration": 3.0, "frames": 300.0, "loss": 0.3})
    assert read_metric(tmp_path, "eval_return") == [(200.0, 0.25)]
    assert read_metric(tmp_path, "loss", x="iteration") == [(1.0, 0.5), (2.0, 0.4), (3.0, 0.3)]
    with pytest.raises(ValueError, match="has no column 'eval_sampled'; columns: iteration, frames, loss"):
        read_metric(tmp_path, "eval_sampled")
