"""Builds the minified scripts in src/djinsight/static/djinsight/ from their sources.

    python scripts/build_js.py          # rewrite the minified files (make js)
    python scripts/build_js.py --check  # exit 1 if one is not the build of its source

The minifier is calmjs.parse (pure Python, pinned in the test extra, so the test
suite rebuilds each file in memory and compares it byte for byte). Local names
are mangled; the sources are ES5, which is what calmjs.parse reads.
"""

from __future__ import annotations

import sys
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "src" / "djinsight" / "static" / "djinsight"
# source -> minified build; live.js is served as written.
BUILDS = {"tracker.js": "tracker.min.js"}


def minify(source: str) -> str:
    """The minified form of ES5 ``source``, ending with one newline."""
    from calmjs.parse import es5
    from calmjs.parse.unparsers.es5 import minify_print

    return minify_print(es5(source), obfuscate=True, drop_semi=True) + "\n"


def stale() -> list[str]:
    """Names of the minified files that are not the build of their source."""
    return [
        target
        for source, target in BUILDS.items()
        if (STATIC / target).read_text(encoding="utf-8")
        != minify((STATIC / source).read_text(encoding="utf-8"))
    ]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        names = stale()
        for name in names:
            print(f"{name} is not the build of its source: run `make js`", file=sys.stderr)
        return 1 if names else 0
    for source, target in BUILDS.items():
        built = minify((STATIC / source).read_text(encoding="utf-8"))
        (STATIC / target).write_text(built, encoding="utf-8")
        print(f"{target}: {len(built.encode())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
