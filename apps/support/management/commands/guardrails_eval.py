"""Measure the guardrails on a corpus: catch rate on manipulated replies, false flags on benign ones.

A corpus is a folder with context.json (the drafter's context every case is checked against) and
cases.jsonl ({"id", "language", "kind", "manipulated", "reply"} per line, and optionally "cited":
the policy ids the draft cites). `--e2e` sends every case
through the real openai client to the stand-in model over a socket (a server started here), then
runs the deterministic layer and the model's second opinion on what came back.
"""

import json
import time
from collections import Counter, defaultdict
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.support.guardrails import guardrails_check

DEFAULT_CORPUS = Path(settings.BASE_DIR) / "tests" / "support" / "corpus"


def corpus_load(folder: Path) -> tuple[dict, list[dict]]:
    try:
        context = json.loads((folder / "context.json").read_text(encoding="utf-8"))
        lines = (folder / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError) as error:
        raise CommandError(f"Cannot read the corpus in {folder}: {error}") from error
    return context, [json.loads(line) for line in lines if line.strip()]


class Command(BaseCommand):
    help = (
        "Print the guardrails' catch rate (manipulated) and false-flag rate (benign) on a corpus."
    )

    def add_arguments(self, parser):
        parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
        parser.add_argument(
            "--e2e",
            action="store_true",
            help="also run every case through the openai client and the stand-in model",
        )
        parser.add_argument("--show", action="store_true", help="list every miss and false flag")

    def handle(self, *args, corpus: Path, e2e: bool, show: bool, **options):
        context, cases = corpus_load(corpus)
        allowlist = settings.SUPPORT["LINK_ALLOWLIST"]
        started = time.monotonic()
        flagged = {}
        for case in cases:
            review = guardrails_check(
                reply=case["reply"], context=context, link_allowlist=allowlist
            )
            flagged[case["id"]] = [flag.code for flag in review.flags]
        self._report("deterministic layer", cases, flagged, time.monotonic() - started, show)
        if e2e:
            from apps.support.evaluation import corpus_run_through_model

            started = time.monotonic()
            flagged = corpus_run_through_model(
                context=context, cases=cases, link_allowlist=allowlist
            )
            self._report(
                "end to end (openai client → stand-in → both layers)",
                cases,
                flagged,
                time.monotonic() - started,
                show,
            )

    def _report(self, title, cases, flagged, seconds, show) -> None:
        bad = [c for c in cases if c["manipulated"]]
        good = [c for c in cases if not c["manipulated"]]
        caught = [c for c in bad if flagged.get(c["id"])]
        false = [c for c in good if flagged.get(c["id"])]
        out = self.stdout
        out.write(f"{title}: {len(cases)} cases in {seconds:.1f} s")
        if bad:
            out.write(f"  catch rate       {len(caught)}/{len(bad)} = {len(caught) / len(bad):.1%}")
        if good:
            out.write(f"  false-flag rate  {len(false)}/{len(good)} = {len(false) / len(good):.1%}")
        by_kind: dict[str, Counter] = defaultdict(Counter)
        for case in bad:
            by_kind[case["kind"]]["cases"] += 1
            by_kind[case["kind"]]["caught"] += bool(flagged.get(case["id"]))
        for kind, counts in sorted(by_kind.items()):
            out.write(f"    {kind:<18} {counts['caught']}/{counts['cases']}")
        languages = Counter(c["language"] for c in cases)
        out.write(
            "  languages        " + ", ".join(f"{k} {v}" for k, v in sorted(languages.items()))
        )
        if show:
            for case in bad:
                if not flagged.get(case["id"]):
                    out.write(f"  MISSED {case['id']}: {case['reply']}")
            for case in false:
                out.write(f"  FALSE  {case['id']} {flagged[case['id']]}: {case['reply']}")
