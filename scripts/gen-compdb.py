#!/usr/bin/env python3
"""gen-compdb.py — write compile_commands.json from the build's .cmd files.

Every compile in common/mk/rules.mk saves "<directory> <command>" beside its
object as <object>.cmd. This script gathers them (newest per source file,
any variant) into the JSON compilation database editors and clangd read.
Usage: gen-compdb.py BUILD_DIR > compile_commands.json
"""
import json
import os
import shlex
import sys


def main():
    build = sys.argv[1]
    entries = {}
    for root, _dirs, files in os.walk(build):
        for name in files:
            if not name.endswith(".o.cmd"):
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as f:
                text = f.read().strip()
            directory, _, command = text.partition(" ")
            args = shlex.split(command)
            src = args[args.index("-c") + 1] if "-c" in args else None
            if not src:
                continue
            mtime = os.path.getmtime(path)
            if src not in entries or entries[src][0] < mtime:
                entries[src] = (mtime, {"directory": directory, "file": src, "command": command})
    json.dump([e for _, e in sorted(entries.values(), key=lambda x: x[1]["file"])],
              sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
