"""MediaWiki's parser tests: the share of cases our renderer gives as MediaWiki does (issue 13).

Every case of every wikitext parser-test file (``../shared/data/parsertests``)
that has legacy-parser HTML and no option we cannot model is rendered once and
compared after the normalisation in docs/rendering.md. Printed per file and per
group (within core: images and language variants apart from the rest), with the
issue's two targets: 90% of core outside images and language variants, 80% of
Cite's. ``python -m bench.parser_tests`` prints it alone, with the failing and
skipped counts.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from parser_tests import Outcome, run_all, shares  # noqa: E402  (tests/ holds the one reader)

TARGETS = {"core outside images and variants": 0.90, "cite": 0.80}


def _share(passed: int, compared: int) -> float:
    return passed / compared if compared else 0.0


def aggregates(outcomes: list[Outcome]) -> dict[str, tuple[int, int]]:
    """(passed, compared) of the issue's target groups and of everything."""
    def total(keep) -> tuple[int, int]:
        chosen = [o for o in outcomes if o.skipped is None and keep(o)]
        return sum(o.passed for o in chosen), len(chosen)
    return {
        "core outside images and variants": total(
            lambda o: o.file.startswith("core/") and o.group not in ("core/images", "core/variants")),
        "cite": total(lambda o: o.file.startswith("cite/")),
        "all": total(lambda o: True),
    }


def run() -> dict[str, object]:
    """The figures ``make bench`` prints: passed/compared per group, then the targets."""
    outcomes = run_all()
    results: dict[str, object] = {}
    for group, (passed, compared, skipped) in shares(outcomes, "group").items():
        results[group] = f"{passed}/{compared} ({_share(passed, compared):.0%}; {skipped} skipped)"
    for name, (passed, compared) in aggregates(outcomes).items():
        target = TARGETS.get(name)
        note = f", target {target:.0%}" if target else ""
        results[f"= {name}"] = f"{passed}/{compared} ({_share(passed, compared):.1%}{note})"
    return results


def main() -> int:
    outcomes = run_all()
    print("per file (passed/compared, skipped):")
    for name, (passed, compared, skipped) in shares(outcomes, "file").items():
        print(f"  {name:<40} {passed:>4}/{compared:<4} {_share(passed, compared):6.1%}  skipped {skipped}")
    for key, value in run().items():
        if key.startswith("core/") or key.startswith("="):
            print(f"  {key:<40} {value}")
    reasons = Counter(o.skipped for o in outcomes if o.skipped)
    print("skipped:", ", ".join(f"{reason} {n}" for reason, n in reasons.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
