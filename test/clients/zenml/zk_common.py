"""Shared by the scripts that drive ZenML 0.58.0's real client against Keyward.

Every check is recorded; the script prints each failure and exits 1 if any failed, so a mismatch
is never silent. The last line of stdout is `RESULT <json>`: facts the vitest file checks again
through Keyward's own API.
"""
import json
import os
import re
import shlex
import sys
import traceback

URL = os.environ["KEYWARD_URL"]
FAILURES = []
RESULT = {}


def check(cond, what, detail=None):
    if not cond:
        FAILURES.append(what if detail is None else f"{what}: {detail!r}")
        print(f"FAIL: {FAILURES[-1]}", file=sys.stderr)
    return cond


def raises(fn, exc_types, what):
    """Runs fn; checks that it raises one of exc_types and returns the exception."""
    try:
        fn()
    except exc_types as e:  # noqa: PERF203
        return e
    except Exception as e:  # a different class is a mismatch too
        check(False, what, f"raised {type(e).__name__}: {e}")
        return e
    check(False, what, "did not raise")
    return None


def step(name, fn):
    """Runs one step; an unexpected exception is a failure of that step, and the run goes on."""
    print(f"--- {name}", file=sys.stderr)
    try:
        return fn()
    except Exception as e:
        check(False, f"{name} raised {type(e).__name__}", str(e))
        traceback.print_exc()
        return None


def finish():
    print("RESULT " + json.dumps(RESULT))
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed:", file=sys.stderr)
        for f in FAILURES:
            print(f"  - {f}", file=sys.stderr)
        sys.exit(1)
    print("all checks passed", file=sys.stderr)
    sys.exit(0)


KEY_RE = re.compile(r"'(ZENKEY_[A-Za-z0-9+/=\s]+)'")


def keys_in(output):
    """The ZENKEY_ values a CLI command printed (rich may wrap them across lines)."""
    return [re.sub(r"\s+", "", m) for m in KEY_RE.findall(output)]


class Cli:
    """The real `zenml` command tree (zenml.cli.cli), invoked in this process.

    Importing zenml takes seconds, so the commands of one scenario share a process. Between
    commands the Client and GlobalConfiguration singletons are dropped, so that each command reads
    the stored configuration from disk as a new `zenml` process would.
    """

    def __init__(self):
        from click.testing import CliRunner
        from zenml.cli import cli

        self.cli = cli
        self.runner = CliRunner()

    def __call__(self, line, expect_exit=0):
        from zenml.client import Client
        from zenml.config.global_config import GlobalConfiguration

        Client._reset_instance()
        GlobalConfiguration._reset_instance()
        res = self.runner.invoke(self.cli, shlex.split(line), prog_name="zenml")
        print(f"$ zenml {line}  -> exit {res.exit_code}\n{res.output}", file=sys.stderr)
        if res.exit_code != expect_exit and res.exception is not None and not isinstance(res.exception, SystemExit):
            traceback.print_exception(type(res.exception), res.exception, res.exception.__traceback__)
        out = res.output
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            # An exception the command did not handle: `zenml` would print it as a traceback.
            out += f"\n{type(res.exception).__name__}: {res.exception}"
        check(res.exit_code == expect_exit, f"`zenml {line}` exit code", f"{res.exit_code} (wanted {expect_exit}); output: {out[-600:]}")
        return out
