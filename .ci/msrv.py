#!/usr/bin/env python3
"""Checks that every publishable crate's declared `rust-version` is at least the highest
`rust-version` among the locked dependencies it builds with (normal and build dependencies,
transitively; dev-dependencies do not reach users). Older toolchains cannot be installed on the
CI machine, so this is how the declared minimum is kept true.

Usage: python3 .ci/msrv.py   (from the workspace root; exits 1 with the offenders)
"""
import json
import subprocess
import sys


def version(text):
    parts = [int(p) for p in (text or "0").split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    meta = json.loads(
        subprocess.check_output(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--all-features"]
        )
    )
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    members = set(meta["workspace_members"])

    def closure(root):
        seen, stack = set(), [root]
        while stack:
            node = nodes[stack.pop()]
            for dep in node["deps"]:
                kinds = {k["kind"] for k in dep["dep_kinds"]}
                if kinds & {None, "build"} and dep["pkg"] not in seen:
                    seen.add(dep["pkg"])
                    stack.append(dep["pkg"])
        return seen

    failures = []
    for member in sorted(members, key=lambda i: packages[i]["name"]):
        package = packages[member]
        if package.get("publish") == []:
            continue
        declared = package.get("rust_version")
        highest = max(
            (
                (version(packages[d].get("rust_version")), packages[d]["name"], packages[d]["version"])
                for d in closure(member)
            ),
            default=((0, 0, 0), "-", "-"),
        )
        needed = ".".join(map(str, highest[0]))
        status = "ok" if version(declared) >= highest[0] else "TOO LOW"
        print(f"{package['name']}: declares {declared}, needs {needed} ({highest[1]} {highest[2]}): {status}")
        if status != "ok":
            failures.append(package["name"])
    if failures:
        print("rust-version too low for: " + ", ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
