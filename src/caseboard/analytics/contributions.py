"""LightGBM's TreeSHAP contributions for many members, computed once per path pattern.

`Booster.predict(x, pred_contrib=True)` runs TreeSHAP for every row and tree: at a million
members and a few hundred trees that was most of the pipeline's time. But a tree's TreeSHAP
values depend on a row only through the way the row goes at each of the tree's splits (the
algorithm reads the row's features nowhere else), and a tree of L leaves has L - 1 splits, so
at most 2**(L - 1) such patterns. So, per tree: the pattern of every row is computed with a few
vectorised comparisons, LightGBM's own TreeSHAP runs on one row per pattern present, and every
row takes its pattern's values. The sum over trees is what LightGBM returns (the tests compare
the two), to within floating-point summation order.

The split rule is LightGBM's numerical decision (`Tree::NumericalDecision`): a missing value
(NaN) counts as 0 unless the split's missing type is NaN; a split whose missing type is NaN
(or Zero) sends NaN (or zero) the split's default way; everything else goes left when it is at
most the threshold. Models with categorical splits or larger trees go to LightGBM's per-row
computation unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import lightgbm
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
CodeArray = npt.NDArray[np.unsignedinteger[Any]]

# Trees with more splits than this go to LightGBM's per-row TreeSHAP (the pattern table of a
# tree has 2**splits rows).
MAX_SPLITS = 12
_ZERO = 1e-35  # LightGBM's kZeroThreshold: |value| at most this is zero
_CHUNK = 65_536  # rows per block, so a block's patterns and sums stay in cache
_THREADS = os.cpu_count() or 1


@dataclass(frozen=True)
class _Split:
    feature: int
    threshold: float
    missing: str  # "None", "Zero" or "NaN"
    default_left: bool


def _splits(node: dict[str, Any], found: list[_Split]) -> list[_Split]:
    if "split_index" in node:
        found.append(
            _Split(
                feature=node["split_feature"],
                threshold=node["threshold"],
                missing=node["missing_type"],
                default_left=node["default_left"],
            )
        )
        _splits(node["left_child"], found)
        _splits(node["right_child"], found)
    return found


def _supported(model: lightgbm.Booster) -> list[list[_Split]] | None:
    """Each tree's splits, or None if a tree is too large or has a categorical split."""
    dump = model.dump_model()
    if dump.get("num_tree_per_iteration", 1) != 1:
        return None
    trees = []
    for info in dump["tree_info"]:
        if info.get("num_cat", 0):
            return None
        splits = _splits(info["tree_structure"], [])
        if len(splits) > MAX_SPLITS:
            return None
        trees.append(splits)
    return trees


def _goes_left(columns: FloatArray, zeroed: FloatArray, split: _Split) -> npt.NDArray[np.bool_]:
    if split.missing == "NaN":
        value = columns[split.feature]
        left = value <= split.threshold
        return np.where(np.isnan(value), split.default_left, left)
    value = zeroed[split.feature]  # NaN read as 0
    left = value <= split.threshold
    if split.missing == "Zero":
        return np.where((value >= -_ZERO) & (value <= _ZERO), split.default_left, left)
    return left


def _patterns(
    columns: FloatArray, zeroed: FloatArray, trees: list[list[_Split]], codes: CodeArray
) -> None:
    """Fill `codes` (tree x row): bit k set when the row goes left at the tree's k-th split."""
    for code, splits in zip(codes, trees, strict=True):
        for k, split in enumerate(splits):
            code |= _goes_left(columns, zeroed, split).astype(code.dtype) << k


def _blocks(n: int) -> Iterator[slice]:
    for start in range(0, n, _CHUNK):
        yield slice(start, min(start + _CHUNK, n))


def contributions(model: lightgbm.Booster, x: FloatArray) -> FloatArray:
    """`model.predict(x, pred_contrib=True)` for a binary or regression model: one column per
    feature and a last one for the expected value, in raw score (log-odds) units."""
    trees = _supported(model)
    x = np.ascontiguousarray(x, dtype=np.float64)
    if trees is None:
        return np.asarray(model.predict(x, pred_contrib=True, num_threads=0), dtype=np.float64)
    n, features = x.shape
    columns = np.ascontiguousarray(x.T)
    zeroed = np.where(np.isnan(columns), 0.0, columns)
    blocks = list(_blocks(n))

    with ThreadPoolExecutor(_THREADS) as pool:
        # numpy lets go of the GIL in these loops: blocks of rows run on every core.
        wide = max(len(splits) for splits in trees) > 8
        codes = np.zeros((len(trees), n), dtype=np.uint16 if wide else np.uint8)
        list(pool.map(lambda b: _patterns(columns[:, b], zeroed[:, b], trees, codes[:, b]), blocks))
        tables = []
        for t, splits in enumerate(trees):
            # One row of `x` per pattern present (any of them: they all have the same values).
            representative = np.full(1 << len(splits), -1, dtype=np.int64)
            representative[codes[t]] = np.arange(n)
            present = np.flatnonzero(representative >= 0)
            table = np.zeros((features + 1, len(representative)))
            table[:, present] = np.asarray(
                model.predict(
                    x[representative[present]],
                    pred_contrib=True,
                    start_iteration=t,
                    num_iteration=1,
                    num_threads=1,
                ),
                dtype=np.float64,
            ).T
            used = [*sorted({s.feature for s in splits}), features]
            tables.append((used, table))

        out = np.zeros((features + 1, n))

        def gather(block: slice) -> None:
            part = out[:, block]
            for code, (used, table) in zip(codes[:, block], tables, strict=True):
                for j in used:
                    part[j] += np.take(table[j], code)

        list(pool.map(gather, blocks))
    return out.T
