"""Remove each IAM statement in turn and show the integration suite notices: `python -m tests.iam_proof`.

For every statement moto can enforce (tests/integration/test_iam_enforced.py says which), the
integration suite runs with that one statement left out of its function's role
(``STEPSTORE_LOCAL_IAM_DROP=<function>:<index>``, read by tests/conftest.py) and must fail. Prints
one line per statement and exits non-zero if any removal went unnoticed. Takes a few minutes per
statement on a busy machine (each run stops at its first failure); not part of `make test`, whose
test_iam_enforced.py proves the same per function in seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.integration.test_iam_enforced import _label, enforced_statements


def main(argv: list[str]) -> int:
    paths = argv or ["tests/integration"]
    unnoticed = []
    for function, index in enforced_statements():
        env = {**os.environ, "STEPSTORE_LOCAL_IAM_DROP": f"{function}:{index}"}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                *paths,
                "-x",
                "-q",
                "-p",
                "no:cacheprovider",
                "--deselect",
                "tests/integration/test_iam_enforced.py",
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        summary = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
        noticed = result.returncode != 0
        print(f"{'noticed  ' if noticed else 'UNNOTICED'} {_label((function, index))}: {summary}", flush=True)
        if not noticed:
            unnoticed.append((function, index))
    return 1 if unnoticed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
