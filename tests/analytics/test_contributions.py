"""TreeSHAP by path pattern gives LightGBM's own per-row contributions."""

from __future__ import annotations

import lightgbm
import numpy as np
import pytest

from caseboard.analytics import contributions as shap


def _data(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 6))
    x[:, 1] = rng.integers(0, 4, size=rows)  # small counts, many exact zeros
    x[rng.random(rows) < 0.2, 2] = np.nan  # missing values
    x[rng.random(rows) < 0.3, 3] = 0.0
    x[rng.random(rows) < 0.1, 3] = np.nan
    logit = x[:, 0] + 0.8 * x[:, 1] - np.nan_to_num(x[:, 2], nan=1.5) + 0.5 * (x[:, 3] == 0)
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


def _train(x: np.ndarray, y: np.ndarray, **params: object) -> lightgbm.Booster:
    settings = {"objective": "binary", "verbosity": -1, "num_leaves": 7, "seed": 1, **params}
    return lightgbm.train(settings, lightgbm.Dataset(x, y), num_boost_round=40)


@pytest.mark.parametrize(
    "params",
    [
        {},  # NaN goes the learned way (missing type NaN)
        {"zero_as_missing": True},  # zero and NaN go the learned way (missing type Zero)
        {"use_missing": False},  # NaN is read as 0 (missing type None)
        {"num_leaves": 13},  # the largest trees the pattern table takes
    ],
)
def test_pattern_treeshap_equals_lightgbms_per_row_treeshap(params: dict[str, object]) -> None:
    x, y = _data(5000, seed=3)
    model = _train(x, y, **params)
    trees = shap._supported(model)
    assert trees is not None
    missing = {split.missing for tree in trees for split in tree}
    assert missing & {"NaN", "Zero"} or params.get("use_missing") is False
    fresh, _ = _data(20_000, seed=4)  # rows the model has not seen
    expected = model.predict(fresh, pred_contrib=True)
    got = shap.contributions(model, fresh)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    # Contributions add up to the raw score.
    np.testing.assert_allclose(got.sum(axis=1), model.predict(fresh, raw_score=True), atol=1e-9)


def test_trees_too_large_or_categorical_go_to_lightgbm_unchanged() -> None:
    x, y = _data(5000, seed=5)
    large = _train(x, y, num_leaves=31, min_data_in_leaf=5)
    assert shap._supported(large) is None
    np.testing.assert_allclose(
        shap.contributions(large, x[:500]), large.predict(x[:500], pred_contrib=True), atol=1e-12
    )
    categorical = lightgbm.train(
        {"objective": "binary", "verbosity": -1, "num_leaves": 7, "min_data_per_group": 5},
        lightgbm.Dataset(x, y, categorical_feature=[1]),
        num_boost_round=10,
    )
    assert shap._supported(categorical) is None
    np.testing.assert_allclose(
        shap.contributions(categorical, x[:500]),
        categorical.predict(x[:500], pred_contrib=True),
        atol=1e-12,
    )
