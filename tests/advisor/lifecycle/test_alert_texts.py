"""Messages filled column by column say exactly what formatting each row on its own says."""

from __future__ import annotations

import json

import numpy as np

from advisor.lifecycle.alerts.base import each, json_objects, pct, raw_json, rounded, yuan


def test_each_formats_every_row_as_the_one_formatter_does():
    rng = np.random.default_rng(3)
    values = np.r_[rng.choice(np.round(rng.random(50), 4), 500), 0.0, -0.0, np.nan, 1e-5, -12_345.678]
    assert list(each(pct, values)) == [pct(v) for v in values.tolist()]
    assert list(each(yuan, values * 1e6)) == [yuan(v) for v in (values * 1e6).tolist()]
    assert list(each(str, np.arange(300) % 7)) == [str(v) for v in (np.arange(300) % 7).tolist()]
    assert each(pct, np.zeros(0)).shape == (0,)


def test_json_objects_are_what_json_dumps_writes():
    rng = np.random.default_rng(4)
    n = 200
    drift = rng.choice(np.round(rng.random(20), 4), n)
    loss = np.where(rng.random(n) < 0.1, np.nan, rng.normal(0, 1e4, n))
    names = np.array([f"基金{i}\"x\\" for i in range(n)], dtype=object)
    days = rng.integers(-5, 30, n)
    maybe = np.where(rng.random(n) < 0.5, None, names).astype(object)
    inner = raw_json(json_objects({"cash": drift, "bond": 1 - drift}, n))
    texts = json_objects({"drift": drift, "loss": rounded(loss, 2), "name": names, "days": days, "note": maybe,
                          "mix": inner}, n)
    for i, text in enumerate(texts):
        expected = {"drift": drift[i], "loss": None if np.isnan(loss[i]) else round(loss[i], 2), "name": names[i],
                    "days": int(days[i]), "note": maybe[i], "mix": {"cash": drift[i], "bond": 1 - drift[i]}}
        assert json.loads(text) == expected
        assert text == json.dumps(expected, ensure_ascii=False)
