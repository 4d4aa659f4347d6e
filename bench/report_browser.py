#!/usr/bin/env python3
"""`audit:report` in a real browser (issue 18, part 2), as CI runs it from .ci/run.

Builds the demo ledger, writes its report, and opens the page in headless Chromium (Debian's
`chromium` package): the page must log nothing to the console (no error, no warning, nothing),
its script must have run (the filters are shown) and filter (a link that chooses a plan and an
app hides exactly the rows and charts of the others), and every figure it carries in `data-*`
attributes must be what `audit:compliance --json` prints for the same ledger: overall, by plan,
and each month. The page is rendered to a PNG (--screenshot; docs/audit-report.png is the one
kept in the repository). Then a window is changed by an actor named like markup, and the page
must show the name as text and still run only its own script.

    python3 bench/report_browser.py --bin .build/release/maintledger [--screenshot docs/audit-report.png]

Before anything, a canary page that logs an error must be caught, so that a Chromium that
stopped reporting console messages fails this script instead of passing it.
"""
import argparse
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                 "--disable-extensions", "--enable-logging=stderr", "--v=0"]


def fail(message):
    print(f"report_browser: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def browse(page, *flags):
    """Chromium's stdout, and the console messages it logged (lines of its log on stderr)."""
    result = subprocess.run([CHROMIUM, *BROWSER_FLAGS, *flags, "file://" + os.path.abspath(page)],
                            capture_output=True, text=True, timeout=180)
    if result.returncode != 0:
        fail(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout, [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


class Figures(html.parser.HTMLParser):
    """The rows of the page's tables, each as its data-* attributes (by JSON key), the
    attributes of #filters, and how many script elements the page holds."""

    def __init__(self):
        super().__init__()
        self.table = None
        self.rows = {}
        self.filters = None
        self.scripts = 0
        self.hidden_plans = []  # (data-plan, data-app, hidden) of every element with a plan

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "data-plan" in attributes:
            self.hidden_plans.append((attributes["data-plan"], attributes.get("data-app"), "hidden" in attributes))
        if tag == "table":
            self.table = attributes.get("id")
            self.rows[self.table] = []
        elif tag == "tr" and self.table and any(name.startswith("data-") for name in attributes):
            row = {name[5:].replace("-", "_"): value for name, value in attributes.items() if name.startswith("data-")}
            self.rows[self.table].append(dict(row, hidden="hidden" in attributes))
        elif tag == "nav" and attributes.get("id") == "filters":
            self.filters = attributes
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag):
        if tag == "table":
            self.table = None


def agrees(page_row, json_row):
    for key, value in json_row.items():
        text = page_row.get(key)
        if text is None:
            return False
        if value is None:
            if text != "null":
                return False
        elif isinstance(value, str):
            if text != value:
                return False
        elif float(text) != float(value):
            return False
    return True


def next_month(month):
    year, number = map(int, month.split("-"))
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def check_filters(page, figures):
    """The filters, chosen by the link (`#plan=…&app=…`), hide exactly what they rule out."""
    plan = figures.rows["compliance-by-plan"][0]["plan"]
    overdue = figures.rows.get("overdue-addons", [])
    app = overdue[0]["app"] if overdue else "no-such-app"
    dom, console = browse(page + "#" + urllib.parse.urlencode({"plan": plan, "app": app}), "--dump-dom")
    if console:
        fail("the filtered page logged to the console:\n" + "\n".join(console))
    filtered = Figures()
    filtered.feed(dom)
    wrong = [(p, a, hidden) for p, a, hidden in filtered.hidden_plans
             if hidden != (p != plan or (a is not None and app not in a))]
    if len(filtered.hidden_plans) <= len(figures.rows["compliance-by-plan"]) or wrong:
        fail(f"with #plan={plan}, elements of other plans must be hidden and of {plan} shown: {wrong[:5]}")
    for row in filtered.rows.get("overdue-addons", []):
        if row["hidden"] != (row["app"] != app or row["plan"] != plan):
            fail(f"with #plan={plan}&app={app}, the overdue add-on {row} is hidden wrongly")
    for row in filtered.rows["compliance-overall"]:
        if row["hidden"]:
            fail("the overall figures were hidden by a filter")


def check_page(binary, env, page):
    dom, console = browse(page, "--dump-dom")
    if console:
        fail("the page logged to the console:\n" + "\n".join(console))
    figures = Figures()
    figures.feed(dom)
    if figures.filters is None or "hidden" in figures.filters:
        fail("the filters are still hidden: the page's script did not run")
    if figures.scripts != 1:
        fail(f"the page holds {figures.scripts} script elements; only its own should be there")
    check_filters(page, figures)

    def compliance(*arguments):
        result = subprocess.run([binary, "audit:compliance", "--json", *arguments], env=env, capture_output=True,
                                text=True, check=True)
        return json.loads(result.stdout)

    def expect(table, rows):
        page_rows = figures.rows.get(table, [])
        if len(page_rows) != len(rows) or not all(agrees(p, j) and not p["hidden"] for p, j in zip(page_rows, rows)):
            fail(f"{table} disagrees with audit:compliance --json:\n  page: {page_rows}\n  json: {rows}")
        return len(page_rows)

    checked = expect("compliance-overall", compliance())
    checked += expect("compliance-by-plan", compliance("--by", "plan"))
    months = figures.rows.get("compliance-by-month", [])
    if not months:
        fail("the page has no months")
    expect("compliance-by-month", [compliance("--since", row["month"] + "-01T00:00:00Z",
                                              "--until", next_month(row["month"]) + "-01T00:00:00Z")[0] for row in months])
    return checked + len(months), dom


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True, help="the maintledger binary")
    parser.add_argument("--screenshot", help="where to keep the PNG of the demo ledger's report")
    arguments = parser.parse_args()
    if CHROMIUM is None:
        fail("no chromium on PATH (apt-get install chromium)")
    binary = os.path.abspath(arguments.bin)

    with tempfile.TemporaryDirectory(prefix="report-browser-") as folder:
        canary = os.path.join(folder, "canary.html")
        with open(canary, "w") as file:
            file.write("<!DOCTYPE html><p>canary</p><script>console.error('canary')</script>")
        if not browse(canary, "--dump-dom")[1]:
            fail("Chromium did not report the canary page's console error: console messages would go unseen")

        env = dict(os.environ, MAINTLEDGER_DB=os.path.join(folder, "demo.sqlite"), MAINTLEDGER_ACTOR="auditor")
        subprocess.run([binary, "demo"], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        page = os.path.join(folder, "report.html")
        subprocess.run([binary, "audit:report", "--to", page], env=env, check=True, stdout=subprocess.DEVNULL)
        checked, _ = check_page(binary, env, page)

        png = arguments.screenshot or os.path.join(folder, "report.png")
        _, console = browse(page, "--screenshot=" + os.path.abspath(png), "--window-size=1100,1500")
        if console:
            fail("the page logged to the console while rendered:\n" + "\n".join(console))
        if not os.path.exists(png) or os.path.getsize(png) < 20_000:
            fail(f"no screenshot at {png}, or an empty one")

        # An actor named like markup changes a window; the page shows the name as text.
        addons = json.loads(subprocess.run([binary, "addons", "--json"], env=env, check=True, capture_output=True, text=True).stdout)
        redis = next(addon["name"] for addon in addons if addon["name"].startswith("redis-"))
        actor = "<script>console.error('injected')</script><img src=x onerror=\"console.error('injected')\">"
        subprocess.run([binary, "data:maintenances:window:update", redis, "mondays", "10:00"], check=True,
                       env=dict(env, MAINTLEDGER_ACTOR=actor), stdout=subprocess.DEVNULL)
        subprocess.run([binary, "audit:report", "--to", page, "--force"], env=env, check=True, stdout=subprocess.DEVNULL)
        _, dom = check_page(binary, env, page)
        if "&lt;script&gt;console.error('injected')&lt;/script&gt;" not in dom:
            fail("the actor's name is not shown as text")

    print(f"report_browser: ok: no console message, script ran, {checked} rows agree with audit:compliance --json; "
          f"screenshot {png}")


if __name__ == "__main__":
    main()
