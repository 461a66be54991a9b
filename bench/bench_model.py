"""Train and evaluate the predictive model on a generated population, timed against HCC scoring.

    uv run python bench/bench_model.py --members 20000

Ours: caseboard.analytics.model.train() (features at two index dates, two LightGBM models and
two baselines, the held-out evaluation) and predict() (features, both probabilities and the
TreeSHAP explanations for every member enrolled on the last day of data). Peer, measured in the
same run on the same input: one caseboard.analytics.hcc.score() of all three models, the step
the plan already runs for its risk-score ranking. The output gives the held-out report (the
numbers docs/analytics/model.md quotes) and each step's time as a multiple of the peer's.
"""

from __future__ import annotations

import argparse
import datetime
import tempfile
import time
from pathlib import Path

from caseboard.analytics import hcc, model
from caseboard.analytics.engine import connect, read_input
from caseboard.demo.population import generate, write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the evaluation report here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        population = generate(members=args.members, seed=args.seed)
        write(population, Path(folder))
        con = connect()
        inputs = read_input(con, Path(folder))
        as_of: datetime.date = population.as_of

        started = time.perf_counter()
        hcc.score(con, inputs, payment_year=2026, performance_year=as_of.year - 1).to_polars()
        peer = time.perf_counter() - started

        started = time.perf_counter()
        trained = model.train(con, inputs, as_of)
        train_seconds = time.perf_counter() - started

        started = time.perf_counter()
        predictions = model.predict(con, inputs, trained, as_of)
        predict_seconds = time.perf_counter() - started

    report = trained.report
    print(
        f"{args.members:,} members (seed {args.seed}); trained on index date "
        f"{report.train_index_date}, held out {report.test_index_date}"
    )
    for name, outcome in report.outcomes.items():
        print(
            f"\n{name}: {outcome.test_events} events in {outcome.test_members:,} held-out members "
            f"(trained on {outcome.train_events} in {outcome.train_members:,})"
        )
        print(f"  {'':10} {'AUC':>7} {'Brier':>8} {'top-decile lift':>16} {'mean p / rate':>16}")
        for side in ("model", "baseline"):
            s = getattr(outcome, side)
            print(
                f"  {side:10} {s.auc:7.3f} {s.brier:8.4f} {s.top_decile_lift:16.2f} "
                f"{s.mean_predicted:8.3f} / {s.observed_rate:.3f}"
            )
        print("  calibration (tenths by predicted risk): mean predicted / observed")
        bins = zip(outcome.model.calibration, outcome.baseline.calibration, strict=True)
        for k, (m, b) in enumerate(bins):
            print(
                f"    {k + 1:2}  model {m.mean_predicted:6.3f} / {m.observed_rate:6.3f}"
                f"   baseline {b.mean_predicted:6.3f} / {b.observed_rate:6.3f}"
            )
    explained = predictions.filter(predictions["explanations"].list.len() > 0).height
    print(f"\n{predictions.height:,} members predicted, {explained:,} with an explanation")
    print(f"\n{'step':34} {'seconds':>8} {'x peer':>7}")
    print(f"{'peer: hcc.score (V24, V28, HHS)':34} {peer:8.2f} {1:7.1f}")
    print(f"{'model.train':34} {train_seconds:8.2f} {train_seconds / peer:7.1f}")
    print(f"{'model.predict':34} {predict_seconds:8.2f} {predict_seconds / peer:7.1f}")
    if args.json:
        args.json.write_text(report.to_json())


if __name__ == "__main__":
    main()
