"""python -m eval bench: its parts produce the rows of the one table, on small inputs."""

from __future__ import annotations

import numpy as np
from skimage import data as skdata

from eval.bench import client_rows, format_table, pipeline_rows
from models.pipeline import load_default_models


def test_pipeline_rows_put_each_stage_beside_the_floor_and_the_earlier_shape():
    rows = pipeline_rows(load_default_models(), {"astronaut": skdata.astronaut()}, repeats=2)
    names = [name for name, _, _ in rows]
    assert {"assess: face", "assess: side model", "assess: pain model", "assess: total"} <= set(names)
    assert "floor: bare forward pass, pain model, both halves" in names
    assert names[-1] == "earlier app's pipeline shape, whole assess"
    assert all(len(values) >= 2 and all(v > 0 for v in values) for _, values, _ in rows)
    total = dict((n, v) for n, v, _ in rows)["assess: total"]
    floor = dict((n, v) for n, v, _ in rows)["floor: bare forward pass, pain model, both halves"]
    assert np.median(total) > np.median(floor)  # the whole assessment costs more than one bare pass


def test_client_rows_time_the_live_dashboard_and_the_table_prints_them():
    rows = client_rows(repeats=2, clients=(1,))
    assert [name for name, _, _ in rows] == ["dashboard /assess + Grad-CAM, 1 client(s): p50",
                                             "dashboard /assess + Grad-CAM, 1 client(s): p95"]
    p50, p95 = rows[0][1][0], rows[1][1][0]
    assert 0 < p50 <= p95
    table = format_table(rows).splitlines()
    assert table[0].split()[:4] == ["measure", "median", "min", "max"] and len(table) == 3
