"""The long fuzz run: many inputs in worker processes, with crash and hang detection.

    python3 -m uv run python -m fuzz.corpus              # once: the seed corpus (fuzz/corpus/)
    python3 -m uv run python -m fuzz.run --examples 100000 --time-limit 1500
    python3 -m uv run python -m fuzz.run --corpus DIR --real-only   # mutate only real files in DIR

Input ``i`` is derived from ``--seed`` and ``i`` alone (``random.Random``), so any finding is
reproducible with ``python -m fuzz.run --replay i``. Of every 8 inputs, 1 is a valid generated
file (its pixels are checked), 5 are mutated generated files and 2 are mutated corpus files.

Workers run :meth:`fuzz.harness.Harness.check`; the parent tells a worker that died (a crash in C
code) or went silent for ``--hang-seconds`` (a hang: it is killed and replaced) apart from a
property violation the worker reported. Findings go to ``--out`` as ``<kind>-<i>.tif`` plus one
JSON line each in ``findings.jsonl``; the summary is printed and written to ``summary.json``.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing as mp
import random
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

CORPUS = Path(__file__).with_name("corpus")


@dataclass(frozen=True)
class Campaign:
    """What decides every input: the seed, the seed corpus, and whether only its files are mutated
    (``real_only``: e.g. a directory of real files from public test suites)."""

    seed: int = 0
    corpus: Path = CORPUS
    real_only: bool = False


def make_input(campaign: Campaign, i: int, corpus: list[bytes]) -> tuple[bytes, object, str]:
    """Input ``i``: (bytes, expected pixels or None, description)."""
    from fuzz.tiffgen import RandomDraw, generate, mutate, mutated

    draw = RandomDraw(random.Random(campaign.seed * 1_000_003 + i))
    kind = 7 if campaign.real_only else i % 8
    if kind == 0:
        g = generate(draw)
        return g.content, g.expected, "valid " + g.description
    if kind >= 6 and corpus:
        content = draw.choice(corpus)
        names = []
        for _ in range(draw.int(1, 3)):
            content, name = mutate(draw, content)
            names.append(name)
        return content, None, "corpus " + " ".join(names)
    g = mutated(draw)
    return g.content, None, "mutated " + " ".join(g.mutations)


def load_corpus(directory: Path = CORPUS) -> list[bytes]:
    return [p.read_bytes() for p in sorted(directory.glob("*.tif"))] if directory.is_dir() else []


def worker(conn, campaign: Campaign) -> None:
    """Receive indices, answer ``(i, outcome dict)``; ``("start", i)`` first so a crash is attributable."""
    from fuzz.harness import Harness

    harness = Harness()
    corpus = load_corpus(campaign.corpus)
    conn.send(("ready", None))
    while True:
        i = conn.recv()
        if i is None:
            return
        content, expected, description = make_input(campaign, i, corpus)
        conn.send(("start", i))
        outcome = harness.check(content, expected)
        conn.send(("done", (i, asdict(outcome), description)))


@dataclass
class Summary:
    inputs: int = 0
    seconds: float = 0.0
    crashes: int = 0
    hangs: int = 0
    violations: int = 0
    peak_build_bytes: int = 0
    slowest_build_seconds: float = 0.0
    worker_max_rss_mib: float = 0.0
    builds: dict = field(default_factory=collections.Counter)
    reads: dict = field(default_factory=collections.Counter)


class Pool:
    """Worker processes with a watchdog: a silent worker is a hang, a dead one a crash."""

    def __init__(self, n: int, campaign: Campaign, hang_seconds: float) -> None:
        self.campaign, self.hang_seconds = campaign, hang_seconds
        self.ctx = mp.get_context("spawn")
        self.workers = [self._spawn() for _ in range(n)]

    def _spawn(self) -> dict:
        parent, child = self.ctx.Pipe()
        process = self.ctx.Process(target=worker, args=(child, self.campaign), daemon=True)
        process.start()
        if not parent.poll(120):
            process.kill()
            raise RuntimeError("fuzz worker did not start within 120 s")
        parent.recv()  # ready
        return {"process": process, "conn": parent, "current": None, "since": 0.0}

    def replace(self, w: dict) -> dict:
        """Kill ``w`` (if still running) and start a fresh worker in its place."""
        if w["process"].is_alive():
            w["process"].kill()
        w["process"].join(5)
        fresh = self._spawn()
        self.workers[self.workers.index(w)] = fresh
        return fresh

    def close(self) -> None:
        for w in self.workers:
            try:
                w["conn"].send(None)
            except OSError:
                pass
            w["process"].join(5)
            if w["process"].is_alive():
                w["process"].kill()
                w["process"].join(5)


def run(examples: int, campaign: Campaign, workers: int, time_limit: float, hang_seconds: float, out: Path) -> Summary:
    out.mkdir(parents=True, exist_ok=True)
    findings = (out / "findings.jsonl").open("a")
    corpus = load_corpus(campaign.corpus)
    summary = Summary()
    start = time.monotonic()
    pool = Pool(workers, campaign, hang_seconds)
    next_index = 0

    def record(kind: str, i: int, problem: str, description: str) -> None:
        content, _, _ = make_input(campaign, i, corpus)
        (out / f"{kind}-{i}.tif").write_bytes(content)
        findings.write(json.dumps({"kind": kind, "seed": campaign.seed, "corpus": str(campaign.corpus),
                                   "real_only": campaign.real_only, "index": i, "problem": problem,
                                   "input": description}) + "\n")
        findings.flush()
        print(f"FINDING {kind} #{i}: {problem} ({description})", flush=True)

    def feed(w: dict) -> None:
        nonlocal next_index
        if next_index < examples and time.monotonic() - start < time_limit:
            w["conn"].send(next_index)
            w["current"], w["since"] = next_index, time.monotonic()
            next_index += 1
        else:
            w["current"] = None

    for w in list(pool.workers):
        feed(w)
    last_print = time.monotonic()
    try:
        while any(w["current"] is not None for w in pool.workers):
            for w in list(pool.workers):
                if w["current"] is None:
                    continue
                i = w["current"]
                dead = False
                if w["conn"].poll(0.01):
                    try:
                        tag, payload = w["conn"].recv()
                    except (EOFError, OSError):
                        tag, payload, dead = "dead", None, True
                    if tag == "start":
                        w["since"] = time.monotonic()
                        continue
                    if tag == "done":
                        _, outcome, description = payload
                        summary.inputs += 1
                        summary.builds[" ".join(outcome["builds"])] += 1
                        summary.reads[outcome["read"] or "-"] += 1
                        summary.peak_build_bytes = max(summary.peak_build_bytes, outcome["peak"])
                        summary.slowest_build_seconds = max(summary.slowest_build_seconds, outcome["seconds"])
                        if outcome["problem"]:
                            summary.violations += 1
                            record("violation", i, outcome["problem"], description)
                        feed(w)
                        continue
                if dead or not w["process"].is_alive():
                    summary.inputs += 1
                    summary.crashes += 1
                    record("crash", i, f"worker died (exit code {w['process'].exitcode})", "")
                    feed(pool.replace(w))
                elif time.monotonic() - w["since"] > hang_seconds:
                    summary.inputs += 1
                    summary.hangs += 1
                    record("hang", i, f"no answer within {hang_seconds} s", "")
                    feed(pool.replace(w))
            if time.monotonic() - last_print > 30:
                last_print = time.monotonic()
                elapsed = last_print - start
                print(f"{summary.inputs} inputs, {summary.inputs / elapsed:.0f}/s, crashes {summary.crashes}, "
                      f"hangs {summary.hangs}, violations {summary.violations}", flush=True)
    finally:
        pool.close()
        findings.close()
    summary.seconds = time.monotonic() - start
    summary.worker_max_rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return summary


def replay(campaign: Campaign, i: int) -> None:
    from fuzz.harness import Harness

    content, expected, description = make_input(campaign, i, load_corpus(campaign.corpus))
    print(description, f"{len(content)} bytes")
    print(Harness().check(content, expected))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=max(1, (mp.cpu_count() or 2)))
    parser.add_argument("--time-limit", type=float, default=1500.0, help="stop feeding inputs after this many s")
    parser.add_argument("--hang-seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path("fuzz/out"))
    parser.add_argument("--replay", type=int, default=None, help="run input i in this process and print it")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the seed files (*.tif) to mutate")
    parser.add_argument("--real-only", action="store_true", help="every input a mutation of a corpus file")
    args = parser.parse_args(argv)
    campaign = Campaign(args.seed, args.corpus, args.real_only)
    if args.replay is not None:
        replay(campaign, args.replay)
        return 0
    s = run(args.examples, campaign, args.workers, args.time_limit, args.hang_seconds, args.out)
    report = {**asdict(s), "builds": dict(s.builds), "reads": dict(s.reads), "rate_per_second": round(s.inputs / s.seconds, 1) if s.seconds else 0.0,
              "peak_build_mib": round(s.peak_build_bytes / 2**20, 2)}
    (args.out / "summary.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 1 if s.crashes or s.hangs or s.violations else 0


if __name__ == "__main__":
    sys.exit(main())
