"""Fit the answerability gate on the dev split: a logistic model over the evidence features.

Runs the product with the gate open on every dev item, labels each one answerable or not from the set, and
prints the weights, bias and thresholds to copy into rag/policy.py; with --keep-weights, only the thresholds for the
policy's own weights. Usage: python eval/calibrate.py [--keep-weights] eval/questions
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag.answer import Answer
from rag.answer.gate import FEATURES
from rag.answer.question import Form
from rag.config import Settings
from rag.evaluate import category, judge, load_items, run_item
from rag.policy import DEFAULT_POLICY
from rag.runtime import Runtime


def label(item: dict, answer: Answer) -> int | None:
    """1: the open gate's answer passes; 0: refusing is better (unanswerable, or answered wrong); None: either."""
    if item.get("refusal_ok"):
        return None
    return int(not item.get("unanswerable") and judge(item, answer))


def fit(x: np.ndarray, y: np.ndarray, l2: float = 0.01, steps: int = 20_000) -> tuple[np.ndarray, float]:
    """Logistic regression by gradient descent on standardised features, returned in the raw scale."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / std
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= 0.5 * (z.T @ (p - y) / len(y) + l2 * w)
        b -= 0.5 * float(np.mean(p - y))
    return w / std, b - float(np.sum(w * mean / std))


def threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The probability cut with the best gate accuracy; of equals, the one nearest 0.5."""
    cuts = np.arange(0.2, 0.81, 0.05)
    return float(max(cuts, key=lambda t: (np.mean((p >= t) == (y == 1)), -abs(t - 0.5))))


def main(path: Path, keep_weights: bool = False) -> None:
    settings = Settings.from_env()
    runtime = Runtime(settings)
    assistant = runtime.build_assistant(
        policy=replace(DEFAULT_POLICY, gate_threshold=0.0, gathered_threshold=0.0)
    )
    rows, labels, cats, gathered = [], [], [], []
    for item in load_items(path, "dev"):
        answer, _ = run_item(assistant.ask, item)
        wanted = label(item, answer)
        if wanted is None or not answer.evidence:
            continue
        rows.append([answer.evidence[f] for f in FEATURES])
        labels.append(wanted)
        cats.append(category(item))
        gathered.append(answer.form in (Form.LIST.value, Form.EXPLAIN.value))
    x, y = np.asarray(rows), np.asarray(labels, dtype=float)
    for name, column in zip(FEATURES, x.T):
        print(
            f"  {name}: answerable mean {column[y == 1].mean():.2f}, unanswerable {column[y == 0].mean():.2f}"
        )
    w, b = (np.asarray(DEFAULT_POLICY.gate_weights), DEFAULT_POLICY.gate_bias) if keep_weights else fit(x, y)
    p = 1 / (1 + np.exp(-(x @ w + b)))
    best = threshold(p, y)
    lists = np.asarray(gathered)
    # Lists and accounts have their own threshold, by the same rule over the items of those forms.
    best_gathered = threshold(p[lists], y[lists])
    refuse = p < np.where(lists, best_gathered, best)
    precision = np.sum(refuse & (y == 0)) / max(1, np.sum(refuse))
    recall = np.sum(refuse & (y == 0)) / max(1, np.sum(y == 0))
    print(f"{len(y)} dev items with evidence ({int(sum(y))} answered right with the gate open)")
    print(
        "gate_weights =",
        tuple(round(float(v), 2) for v in w),
        f"gate_bias = {b:.2f}",
        f"threshold = {best:.2f}",
        f"gathered_threshold = {best_gathered:.2f}",
    )
    print(
        f"gate accuracy {np.mean(~refuse == (y == 1)):.1%}, refusal precision {precision:.1%}, recall {recall:.1%}"
    )
    for c in sorted(set(cats)):
        idx = [i for i, k in enumerate(cats) if k == c]
        print(f"  {c}: {np.mean([~refuse[i] == (y[i] == 1) for i in idx]):.0%} of {len(idx)} gated right")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--keep-weights"]
    main(Path(args[0] if args else "eval/questions"), keep_weights="--keep-weights" in sys.argv[1:])
