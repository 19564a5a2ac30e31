"""The repository stands alone: no tracked file points at documents outside it or at one machine's
directories (a design note that is not committed, a sibling checkout, /work/..., /tmp/..., a home
directory). Facts belong in the repository's own docs (README.md "How it works", csrc comments);
paths are written relative to the repository; results record no absolute paths."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THIS_FILE = os.path.relpath(os.path.abspath(__file__), REPO).replace(os.sep, "/")

# Documents and directories that exist only outside the repository, and absolute paths of one machine.
FORBIDDEN = re.compile(r"DESIGN\.md|\.\./shared|shared/reference|/work/|/tmp/|/root/|/home/")
# Directories that are not the repository's own text (build outputs, virtual environments, caches).
SKIP_DIRS = {
    ".git",
    "build",
    "dist",
    "wheelhouse",
    ".venv",
    ".venv-ci",
    ".venv-peer",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
}


def _repository_files():
    """The tracked files (git ls-files) of a checkout; in a copy without .git (the wheel test in CI
    copies tests/ alone), every file under the repository root outside build outputs and venvs."""
    try:
        out = subprocess.run(["git", "-C", REPO, "ls-files", "-z"], capture_output=True, timeout=60, check=True)
        if out.stdout:
            return [p for p in out.stdout.decode().split("\0") if p]
    except (OSError, subprocess.SubprocessError):
        pass
    files = []
    for root, dirs, names in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        files += [os.path.relpath(os.path.join(root, n), REPO).replace(os.sep, "/") for n in names]
    return files


def _text(path):
    """The file's text, or None for a binary file, one that is gone or unreadable."""
    try:
        with open(os.path.join(REPO, path), "rb") as f:
            data = f.read()
    except OSError:  # listed by git but deleted in the work tree, or a dangling link
        return None
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


def test_no_reference_outside_the_repository():
    if not os.path.isdir(os.path.join(REPO, "python", "assay")):
        pytest.skip("not a source checkout (tests/ copied on their own)")
    files = _repository_files()
    offenders = []
    for path in sorted(files):
        if path == THIS_FILE:
            continue
        text = _text(path)
        if text is None:
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            for m in FORBIDDEN.finditer(line):
                offenders.append(f"{path}:{lineno}: {m.group(0)!r} in {line.strip()[:160]}")
    assert not offenders, (
        "references to files outside the repository or to one machine's paths (cite README.md or csrc "
        "instead, write paths relative to the repository, record no absolute paths in results):\n"
        + "\n".join(offenders)
    )


@pytest.mark.parametrize(
    "line, bad",
    [
        ('see DESIGN.md "Performance model"', True),
        ("run it in the venv of ../shared/reference/peers.md", True),
        ('"assay.__file__": "/work/main/python/assay/__init__.py"', True),
        ("python -m venv /tmp/peer", True),
        ("/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages", True),
        ("cd /home/someone/assay", True),
        ('"assay.__file__": "python/assay/__init__.py"', False),
        ("#!/usr/bin/env python", False),
        ("bench/results/treeshap.json", False),
    ],
)
def test_the_patterns(line, bad):
    assert bool(FORBIDDEN.search(line)) is bad
