"""Benchmark of the message classifier (nlp/classifier.py): cross-validated quality and prediction latency.

What it measures
    Quality: 5-fold cross-validation over all labelled messages (8,159 stripped + 457 raw), macro-F1 over the
    7 classes overall and on the raw messages alone (what the product sees), per-class F1, the same folds for a
    plain baseline (character 1–3-gram TF-IDF of the unprepared text + linear SVM), the same model on folds that
    ignore twins (for comparison only: the optimistic number), the calibration of the confidence (log-loss,
    expected calibration error, the best SCORE_SCALE) and what each confidence threshold keeps and how often it
    is right.
    Speed: time to train on everything, then predict() one raw message at a time (median, p95) and
    predict_many() over all of them (messages per second), on one core.

Honest folds
    About 443 of the 457 raw messages also appear, stripped, in the other file, and some stripped messages were
    posted twice. Messages whose character 3-grams overlap by 40 % or more are put in one group and a group never
    spans two folds (StratifiedGroupKFold), so no message is scored by a model that saw its twin.

Usage (from the repository root)
    .venv/bin/python bench/classifier.py [--folds 5] [--seed 0]

Results are printed and saved to bench/results/classifier.json and classifier.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

# One core, as the target says: BLAS must not spread the few matrix products over both.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

TWIN_OVERLAP = 0.4  # share of the smaller message's character 3-grams found in the other
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fold shuffle (default 0)")
    return parser.parse_args(argv)


def twin_groups(documents: list[str]) -> np.ndarray:
    """A group id per document; near-duplicates (one mostly contained in the other) share it."""
    grams = []
    for document in documents:
        chinese = re.sub(r"[^\u4e00-\u9fff]", "", document)
        grams.append({chinese[i : i + 3] for i in range(len(chinese) - 2)})
    index: dict[str, list[int]] = defaultdict(list)
    for i, document_grams in enumerate(grams):
        for gram in document_grams:
            index[gram].append(i)
    parent = list(range(len(documents)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, document_grams in enumerate(grams):
        # Only 3-grams that are rare enough to be telling; common ones would compare everything with everything.
        shared = Counter(j for gram in document_grams if len(index[gram]) < 60 for j in index[gram] if j != i)
        # The five best candidates, ties broken by position so that the groups do not depend on hash order.
        for j, _ in sorted(shared.items(), key=lambda item: (-item[1], item[0]))[:5]:
            smaller = min(len(grams[j]), len(document_grams))
            if smaller and len(grams[j] & document_grams) / smaller >= TWIN_OVERLAP:
                parent[root(i)] = root(j)
    return np.array([root(i) for i in range(len(documents))])


def log_loss(probabilities: np.ndarray, truth: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probabilities[np.arange(len(truth)), truth], 1e-12, 1.0))))


def calibration_error(probabilities: np.ndarray, truth: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: how far the confidence is from the share of right answers, bin by bin."""
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == truth
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    error = 0.0
    for b in set(which.tolist()):
        members = which == b
        error += abs(confidence[members].mean() - right[members].mean()) * members.mean()
    return float(error)


def cross_validate(args: argparse.Namespace, examples: list, prepared: list[str]) -> dict[str, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    from nlp import classifier

    labels = np.array([e.label for e in examples])
    raw = np.array([e.raw for e in examples])
    unprepared = np.array([f"{e.title} {e.detail}" for e in examples], dtype=object)
    texts = np.array(prepared, dtype=object)
    groups = twin_groups(list(unprepared))
    folds = list(StratifiedGroupKFold(args.folds, shuffle=True, random_state=args.seed).split(texts, labels, groups))
    classes = sorted(set(labels))

    scores = np.zeros((len(labels), len(classes)))
    baseline = np.empty(len(labels), dtype=object)
    fold_f1 = []
    for number, (train, test) in enumerate(folds, 1):
        started = time.monotonic()
        pipeline = classifier.build_pipeline().fit(list(texts[train]), labels[train])
        assert list(pipeline.classes_) == classes
        scores[test] = pipeline.decision_function(list(texts[test]))
        plain = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True), LinearSVC())
        baseline[test] = plain.fit(list(unprepared[train]), labels[train]).predict(list(unprepared[test]))
        predicted = np.array(classes)[scores[test].argmax(axis=1)]
        fold_raw = raw[test]
        fold_f1.append(
            {
                "fold": number,
                "messages": len(test),
                "raw_messages": int(fold_raw.sum()),
                "macro_f1": f1_score(labels[test], predicted, average="macro"),
                "raw_macro_f1": f1_score(labels[test][fold_raw], predicted[fold_raw], average="macro"),
            }
        )
        print(
            f"fold {number}: macro-F1 {fold_f1[-1]['macro_f1']:.4f}, raw {fold_f1[-1]['raw_macro_f1']:.4f} "
            f"({time.monotonic() - started:.0f} s)",
            flush=True,
        )

    # The same model with plain stratified folds, where a raw message's stripped twin may be in training: what to
    # expect on messages that (nearly) appear in the published data, not on new ones.
    seen = np.empty(len(labels), dtype=object)
    for train, test in StratifiedKFold(args.folds, shuffle=True, random_state=args.seed).split(texts, labels):
        seen[test] = classifier.build_pipeline().fit(list(texts[train]), labels[train]).predict(list(texts[test]))
    print("folds with twins done", flush=True)

    predicted = np.array(classes)[scores.argmax(axis=1)]
    truth = np.array([classes.index(label) for label in labels])

    def f1_report(mask: np.ndarray) -> dict[str, Any]:
        per_class = f1_score(labels[mask], predicted[mask], labels=classes, average=None)
        return {
            "messages": int(mask.sum()),
            "macro_f1": f1_score(labels[mask], predicted[mask], average="macro"),
            "accuracy": float((labels[mask] == predicted[mask]).mean()),
            "baseline_macro_f1": f1_score(labels[mask], baseline[mask], average="macro"),
            "per_class_f1": dict(zip(classes, per_class.tolist(), strict=True)),
        }

    everything = np.ones(len(labels), dtype=bool)
    probabilities = classifier.to_probabilities(scores)
    scales = np.round(np.arange(1.0, 10.01, 0.25), 2)
    losses = [log_loss(classifier.to_probabilities(scores, scale), truth) for scale in scales]
    confidence = probabilities.max(axis=1)
    right = predicted == labels
    thresholds = []
    for threshold in THRESHOLDS:
        row: dict[str, Any] = {"threshold": threshold}
        for name, mask in (("all", everything), ("raw", raw)):
            kept = mask & (confidence >= threshold)
            dropped = mask & (confidence < threshold)
            row[name] = {
                "kept": float(kept.sum() / mask.sum()),
                "accuracy_kept": float(right[kept].mean()) if kept.any() else None,
                "accuracy_dropped": float(right[dropped].mean()) if dropped.any() else None,
            }
        thresholds.append(row)
    return {
        "folds": fold_f1,
        "groups": int(len(set(groups))),
        "twins_in_training": {
            "macro_f1": f1_score(labels, seen, average="macro"),
            "raw_macro_f1": f1_score(labels[raw], seen[raw], average="macro"),
        },
        "overall": f1_report(everything),
        "raw": f1_report(raw),
        "calibration": {
            "score_scale": classifier.SCORE_SCALE,
            "log_loss": log_loss(probabilities, truth),
            "expected_calibration_error": calibration_error(probabilities, truth),
            "raw_expected_calibration_error": calibration_error(probabilities[raw], truth[raw]),
            "best_score_scale": float(scales[int(np.argmin(losses))]),
            "best_log_loss": float(min(losses)),
        },
        "thresholds": thresholds,
    }


def latency(examples: list) -> dict[str, Any]:
    from nlp import classifier

    started = time.monotonic()
    model = classifier.Classifier(classifier.train(examples))
    train_seconds = time.monotonic() - started
    messages = [(e.title, e.detail) for e in examples if e.raw]
    classifier.predict(*messages[0], classifier=model)  # warm up jieba's caches
    single = []
    for _ in range(3):
        for title, detail in messages:
            started = time.perf_counter()
            classifier.predict(title, detail, classifier=model)
            single.append(time.perf_counter() - started)
    started = time.perf_counter()
    classifier.predict_many(messages * 3, classifier=model)
    batch_seconds = time.perf_counter() - started
    milliseconds = np.array(single) * 1000
    return {
        "train_seconds": train_seconds,
        "messages": len(messages),
        "median_ms": float(np.median(milliseconds)),
        "p95_ms": float(np.percentile(milliseconds, 95)),
        "max_ms": float(milliseconds.max()),
        "batch_messages_per_second": len(messages) * 3 / batch_seconds,
    }


def machine() -> dict[str, Any]:
    import jieba
    import sklearn

    cpuinfo = Path("/proc/cpuinfo")
    match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE) if cpuinfo.exists() else None
    return {
        "cpu": match.group(1).strip() if match else platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "scikit_learn": sklearn.__version__,
        "jieba": jieba.__version__,
    }


def markdown(result: dict[str, Any]) -> str:
    cv, speed, m = result["cv"], result["latency"], result["machine"]
    classes = list(cv["overall"]["per_class_f1"])
    lines = [
        "# Message classifier (nlp/classifier.py)",
        "",
        f"{result['date']} · {m['cpu']}, {m['cores']} cores · Python {m['python']}, scikit-learn "
        f"{m['scikit_learn']}, jieba {m['jieba']} · `.venv/bin/python bench/classifier.py`",
        "",
        f"## Quality: {len(cv['folds'])}-fold cross-validation, twins kept in one fold ({cv['groups']} groups)",
        "",
        "| messages | n | macro-F1 | accuracy | plain baseline macro-F1 |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, part in (("all", cv["overall"]), ("raw only", cv["raw"])):
        lines.append(
            f"| {name} | {part['messages']} | **{part['macro_f1']:.4f}** | {part['accuracy']:.4f} "
            f"| {part['baseline_macro_f1']:.4f} |"
        )
    twins = cv["twins_in_training"]
    lines += [
        "",
        "Baseline: character 1–3-gram TF-IDF of the unprepared text + LinearSVC, same folds.",
        "",
        f"Not honest, for comparison: with plain stratified folds, where most raw messages have their stripped twin "
        f"in training, macro-F1 is {twins['macro_f1']:.4f} overall and {twins['raw_macro_f1']:.4f} on the raw "
        "messages: what to expect on messages that already appear in the published data.",
        "",
    ]
    lines += ["| class | F1 all | F1 raw |", "|---|---:|---:|"]
    for label in classes:
        lines.append(
            f"| {label} | {cv['overall']['per_class_f1'][label]:.4f} | {cv['raw']['per_class_f1'][label]:.4f} |"
        )
    lines += ["", "| fold | messages | raw | macro-F1 | raw macro-F1 |", "|---:|---:|---:|---:|---:|"]
    for fold in cv["folds"]:
        lines.append(
            f"| {fold['fold']} | {fold['messages']} | {fold['raw_messages']} | {fold['macro_f1']:.4f} "
            f"| {fold['raw_macro_f1']:.4f} |"
        )
    c = cv["calibration"]
    lines += [
        "",
        "## Calibration",
        "",
        f"Softmax of the SVM scores × {c['score_scale']}: log-loss {c['log_loss']:.4f}, expected calibration error "
        f"{c['expected_calibration_error']:.4f} (raw {c['raw_expected_calibration_error']:.4f}). "
        f"The scale with the lowest log-loss is {c['best_score_scale']} ({c['best_log_loss']:.4f}).",
        "",
        "## Threshold: share of messages whose confidence reaches it, and how often those (and the rest) are right",
        "",
        "| threshold | kept (all) | right when kept | right when not | kept (raw) | right when kept | right when not |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def share(value: float | None) -> str:
        return "–" if value is None else f"{value:.1%}"

    for row in cv["thresholds"]:
        a, r = row["all"], row["raw"]
        lines.append(
            f"| {row['threshold']} | {share(a['kept'])} | {share(a['accuracy_kept'])} | {share(a['accuracy_dropped'])} "
            f"| {share(r['kept'])} | {share(r['accuracy_kept'])} | {share(r['accuracy_dropped'])} |"
        )
    lines += [
        "",
        "## Speed (one core)",
        "",
        f"Training on all {cv['overall']['messages']} messages: {speed['train_seconds']:.1f} s. "
        f"predict() over the {speed['messages']} raw messages, 3 rounds: median **{speed['median_ms']:.2f} ms**, "
        f"p95 {speed['p95_ms']:.2f} ms, max {speed['max_ms']:.2f} ms. "
        f"predict_many(): {speed['batch_messages_per_second']:.0f} messages/s.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import django

    django.setup()
    from nlp import classifier, text

    examples = classifier.load_examples()
    started = time.monotonic()
    prepared = [text.prepare(e.title, e.detail) for e in examples]
    print(f"{len(examples)} messages prepared in {time.monotonic() - started:.1f} s", flush=True)
    result = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "model": {"min_confidence": classifier.MIN_CONFIDENCE, "max_chars": text.MAX_CHARS},
        "cv": cross_validate(args, examples, prepared),
        "latency": latency(examples),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "classifier.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    report = markdown(result)
    (RESULTS / "classifier.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
