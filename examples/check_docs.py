#!/usr/bin/env python3
"""Checks that the docs show what the commands print: every command of `bash examples/tour.sh`
appears in a ```console block of the given pages, followed by exactly its output in the
transcript. Blocks may hold other examples too (a DuckDB session, Heroku's files, signed
checkpoints made with a fresh key): only commands the tour runs are compared.

Usage: bash examples/tour.sh > tour.out && python3 examples/check_docs.py tour.out docs/commands.md docs/audit.md
"""
import re
import sys


def entries(text):
    """(command line, output) pairs of a transcript: a line starting with `$ ` opens one."""
    found = []
    for line in text.split("\n"):
        if line.startswith("$ "):
            found.append([line, []])
        elif found:
            found[-1][1].append(line)
    return [(command, "\n".join(output).rstrip("\n")) for command, output in found]


def main():
    transcript, pages = sys.argv[1], sys.argv[2:]
    tour = "\n".join(line for line in open(transcript).read().split("\n") if not line.startswith("## "))
    printed = {}
    for command, output in entries(tour):
        printed.setdefault(command, []).append(output)
    shown = []
    for page in pages:
        for block in re.findall(r"```console\n(.*?)```", open(page).read(), re.S):
            shown += [(page, command, output) for command, output in entries(block)]
    problems = [f"{page}: `{command}` shows other output than the tour printed"
                for page, command, output in shown if command in printed and output not in printed[command]]
    shown_commands = {command for _, command, _ in shown}
    problems += [f"the tour's `{command}` is in none of {', '.join(pages)}" for command in printed if command not in shown_commands]
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(printed)} tour commands, {len(shown)} shown in the docs, {len(problems)} problems", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
