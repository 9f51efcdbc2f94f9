"""Regressions: COPY --exclude and .. sources, fsutil's prefix pruning, automaton anchors, secrets' false alarms."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from secpolicy.context.ignore import PatternMatcher
from secpolicy.context.walk import walk


def tree(root: Path, files: dict[str, str | bytes]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            (root / name).write_bytes(text)
        else:
            (root / name).write_text(text)


def lint_json(root: Path, select: str = "CTX") -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "secpolicy", "lint", ".", "--format", "json", "--select", select],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    findings: list[dict[str, object]] = json.loads(result.stdout)["findings"]
    return findings


def lint_rules(root: Path) -> list[tuple[str, str]]:
    return sorted((str(f["rule"]), str(f["key"])) for f in lint_json(root))


KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n"


def test_copy_exclude_is_relative_to_the_source(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            ".dockerignore": "x\n",
            "config/server.key": KEY,
            "Dockerfile": "FROM alpine\nCOPY --exclude=*.key config/ /app/\nUSER 1\n",
        },
    )
    assert [r for r in lint_rules(tmp_path) if r[0] == "CTX103"] == []
    tree(tmp_path, {"Dockerfile": "FROM alpine\nCOPY --exclude=config/*.key config /app\nUSER 1\n"})
    assert ("CTX103", "stage 0:config/server.key") in lint_rules(tmp_path)


def test_copy_exclude_decides_like_the_copier_walk(tmp_path: Path) -> None:
    # fsutil's copier passes each directory's bits down (MatchesUsingParentResults): "!certs" never
    # matched the directory, so certs/tls.pem stays excluded, though the documented rule re-includes it
    dockerfile = "FROM alpine\nCOPY --exclude=**/*.pem --exclude=!certs . /app\nUSER 1\n"
    tree(tmp_path, {".dockerignore": "x\n", "certs/tls.pem": KEY, "Dockerfile": dockerfile})
    found = lint_rules(tmp_path)
    assert ("CTX102", "certs/tls.pem") in found
    assert [r for r in found if r[0] == "CTX103"] == []
    tree(tmp_path, {"Dockerfile": dockerfile.replace("!certs", "!certs/tls.pem")})
    assert ("CTX103", "stage 0:certs/tls.pem") in lint_rules(tmp_path)


def test_dot_dot_sources_copy_from_the_context_root(tmp_path: Path) -> None:
    tree(tmp_path, {".dockerignore": "x\n", "id_rsa": "k", "Dockerfile": "FROM alpine\nCOPY ../id_rsa /x/\nUSER 1\n"})
    assert ("CTX103", "stage 0:id_rsa") in lint_rules(tmp_path)


def test_prefix_only_exceptions_prune_like_fsutil(tmp_path: Path) -> None:
    tree(tmp_path, {"src/app/.env": "x", "src/main.py": "", "top": ""})
    entries = walk(tmp_path, PatternMatcher(["*", "!src/*/**"])).paths
    assert entries == []  # fsutil skips src: the stem of !src/*/** is src, which holds no exception deeper


def test_automaton_keeps_anchors_and_newlines_like_re2() -> None:
    matcher = PatternMatcher(["x^*a*b*c"])
    assert matcher.matches_or_parent_matches("x^abc")[0] is False
    assert PatternMatcher(["*a*b**"]).matches_or_parent_matches("xaxb\nz")[0] is False


def test_secret_false_alarms(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            ".dockerignore": "x\n",
            "Dockerfile": "FROM alpine\nCOPY . /app\nUSER 1\n",
            ".env.example": "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n",
            "README": "key: AKIAIOSFODNN7EXAMPLE\n",
            ".npmrc": "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n",
            "docker.asc": "-----BEGIN PGP PUBLIC KEY BLOCK-----\n",
            "keyring.gpg": b"\x99\x01\x0d\x04",
        },
    )
    assert lint_rules(tmp_path) == []


def test_suggested_lines_are_literal_patterns(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            ".dockerignore": "x\n",
            "Dockerfile": "FROM alpine\nCOPY app /app\nUSER 1\n",
            "!prod.key": KEY,
            "a/[1].key": KEY,
        },
    )
    result = subprocess.run(
        [sys.executable, "-m", "secpolicy", "lint", ".", "--format", "json", "--select", "CTX102"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    messages = sorted(f["message"] for f in json.loads(result.stdout)["findings"])
    assert "add the line \\!prod.key to" in messages[0]
    assert "add the line **/\\[1\\].key to" in messages[1]


def test_a_large_file_is_suggested_by_its_own_path(tmp_path: Path) -> None:
    tree(tmp_path, {".dockerignore": "x\n", "Dockerfile": "FROM alpine\nCOPY src /app\nUSER 1\n", "src/a.py": ""})
    (tmp_path / "data").mkdir()
    with (tmp_path / "data" / "dump[1].sql").open("wb") as fh:
        fh.truncate(11 * 1024 * 1024)  # sparse: the size counts, not the disk
    [finding] = lint_json(tmp_path, "CTX106")
    assert finding["key"] == "data/dump[1].sql"
    assert str(finding["message"]).endswith("add data/dump\\[1\\].sql to .dockerignore")  # not **/dump… everywhere
