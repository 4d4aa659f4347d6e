#!/usr/bin/env python3
"""Prints the benchmark's table from timeit.py's results and run.sh's notes.

    python3 bench/report.py RESULTS.jsonl META.tsv

META holds `name<TAB>value` lines written by run.sh (scale, build times, what was measured how).
"""

import json
import sys


def load(results_path, meta_path):
    results = {}
    with open(results_path) as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                results[record["key"]] = record
    meta = {}
    with open(meta_path) as f:
        for line in f:
            name, _, value = line.rstrip("\n").partition("\t")
            meta[name] = value
    return results, meta


def count(n):
    try:
        n = int(n)
    except (TypeError, ValueError):
        return str(n)
    if n >= 1_000_000 and n % 100_000 == 0:
        return f"{n / 1_000_000:g}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"


def seconds(t):
    if t is None:
        return "-"
    return f"{t * 1000:.1f} ms" if t < 1 else f"{t:.2f} s"


def main():
    results, meta = load(sys.argv[1], sys.argv[2])
    rows = []
    notes = []
    problems = []

    def get(key):
        record = results.get(key)
        if record and record.get("problem"):
            problems.append(f"{key}: `{' '.join(record['command'])}`: {record['problem']}")
        return record

    def note(text):
        notes.append(text)
        return f"[{len(notes)}]"

    def time_row(label, key, base_key, target_kind, target, baseline, extra_note=None):
        ours, base = get(key), get(base_key) if base_key else None
        t_ours = ours and ours["best"]
        t_base = base and base["best"]
        ratio = t_ours / t_base if t_ours and t_base else None
        if t_ours is None:
            verdict = "FAILED"
        elif target_kind == "ratio":
            verdict = "met" if ratio is not None and ratio <= target else "MISSED"
        else:
            verdict = "met" if t_ours <= target else "MISSED"
        target_text = f"≤ {target:g}× sqlite3" if target_kind == "ratio" else f"≤ {seconds(target)}"
        runs = f"best of {len(ours['runs'])}" if ours and ours["runs"] else ""
        marks = note(baseline + (f"; {extra_note}" if extra_note else "") + (f" (ours {runs}, sqlite3 best of {len(base['runs'])})" if base and base['runs'] and runs else ""))
        rows.append([label, seconds(t_ours), seconds(t_base), f"{ratio:.2f}×" if ratio else "-", target_text, verdict, marks])

    def rss_row(label, key, limit_mb):
        ours = get(key)
        rss = ours and ours.get("rss_kb")
        mb = rss / 1024 if rss else None
        verdict = "FAILED" if mb is None else "met" if mb < limit_mb else "MISSED"
        rows.append([label, f"{mb:.1f} MB" if mb else "-", "-", "-", f"< {limit_mb} MB", verdict,
                     note("peak resident set size of the export process, /usr/bin/time -f %M, largest of its runs")])

    m = meta.get("maintenances", "0")
    entries = meta.get("trail_entries", "?")
    time_row(f"export {count(m)} maintenances → CSV", "export_csv", "export_csv_sqlite", "ratio", 1.2,
             "sqlite3 -csv -header FILE 'SELECT m.*, addon, app, head seq … JOIN addons, apps ORDER BY m.id' > file, then fsync "
             "(export fsyncs its file); " + meta.get("export_csv_check", "output NOT checked") + (f"; sqlite3 without the fsync: {seconds(results['export_csv_sqlite_nosync']['best'])}" if results.get("export_csv_sqlite_nosync", {}).get("best") else ""))
    rss_row("  peak memory of that export", "export_csv", 50)
    time_row(f"export {count(m)} maintenances → NDJSON", "export_ndjson", "export_ndjson_sqlite", "ratio", 1.2,
             "sqlite3 -json (same query) > file, then fsync; same objects, keys and values (sqlite3 writes one JSON array and "
             "0/1 where export writes false/true); " + meta.get("export_ndjson_check", "output NOT checked") + (f"; sqlite3 without the fsync: {seconds(results['export_ndjson_sqlite_nosync']['best'])}" if results.get("export_ndjson_sqlite_nosync", {}).get("best") else ""))
    rss_row("  peak memory of that export", "export_ndjson", 50)
    time_row(f"audit:verify, {count(entries)} trail entries", "verify", "verify_sqlite", "abs", 1.5,
             "sqlite3 -csv reading what verify reads: every trail entry in seq order, then every row of every ledger table, "
             "to /dev/null (no SHA-256, no payload parsing, no comparison)",
             f"verify's peak memory {results['verify']['rss_kb'] / 1024:,.0f} MB; runs stop once they pass 60 s in total"
             if results.get("verify", {}).get("rss_kb") else None)
    time_row("  audit:verify --integrity", "verify_integrity", "verify_sqlite_integrity", "abs", 1.5,
             "adds SQLite's integrity_check and foreign_key_check before the above; sqlite3: PRAGMA integrity_check alone; one run each")

    # audit:verify beside the floor of its work, bench/verify_floor.c on two threads (not a target).
    t_verify = results.get("verify", {}).get("best")

    def verify_floor_row(label, key, what):
        floor = get(key)
        t_floor = floor and floor["best"]
        found = floor.get("stdout", "").strip().splitlines()[1:] if floor and t_floor else []
        rows.append([label, seconds(t_verify), seconds(t_floor), f"{t_verify / t_floor:.2f}×" if t_verify and t_floor else "-",
                     "(its floor, no target)", "-",
                     note(f"bench/verify_floor.c, best of {len(floor['runs']) if floor and floor['runs'] else 0}: {what}"
                          + (f" It printed: {found[0]}" if found else ""))])

    verify_floor_row("  audit:verify beside its floor", "verify_floor",
                     "two connections on two threads, SQLite's cheapest read of every row (sqlite3_column_value, bytes read "
                     "in place), every entry's hash recomputed and compared, the Merkle tree, one SHA-256 per table row, in C; "
                     "no payload decoded, no row compared: less than verify's guarantee needs.")
    verify_floor_row("  audit:verify beside its floor with format 2's row check", "verify_floor_images",
                     "the floor above and every payload walked, every inserted row's digest computed from its entry's image (times, uuids "
                     "and the entry's time and actor written out as text, the rest copied as it is), every table row hashed "
                     "in its plain encoding, and each compared with the digest its last change implies: the least verify can "
                     "do and still find any row that is not what the trail says (the run fails on a mismatch).")

    # Import: a rate.
    ours, base = get("import"), get("import_sqlite")
    lines = int(meta.get("import_measured_lines", "0"))
    rate = lines / ours["best"] if ours and ours["best"] else None
    base_rate = lines / base["best"] if base and base["best"] else None
    ratio = ours["best"] / base["best"] if rate and base_rate else None
    verdict = "FAILED" if rate is None else "met" if rate >= 50_000 and ratio is not None and ratio <= 1.5 else "MISSED"
    full = meta.get("import_full_lines", "0")
    how = (f"measured on {count(lines)} of the {count(full)} lines (all those of the first tenth of the add-ons, so the "
           f"same mix) and extrapolated: at {rate:,.0f}/s the whole file "
           f"would take about {int(full) / rate / 60:.0f} min" if rate and meta.get("import_extrapolated") == "yes"
           else f"all {count(lines)} lines imported")
    loaded = meta.get("import_probe_rows" if meta.get("import_extrapolated") == "yes" else "import_rows", "?")
    rows.append([f"import {count(full)} NDJSON lines", f"{rate:,.0f} /s" if rate else "-",
                 f"{base_rate:,.0f} /s" if base_rate else "-", f"{ratio:.2f}×" if ratio else "-", "≥ 50,000 /s, ≤ 1.5× sqlite3", verdict,
                 note(f"maintenances recorded per second, into a new ledger (10 per add-on: it also creates "
                      f"{count(meta.get('import_addons', '0'))} add-ons and their apps); {how}. ours: {seconds(ours and ours['best'])}; "
                      f"sqlite3: {seconds(base and base['best'])} for .import of the rows that import wrote (the maintenances and "
                      f"{loaded}), table by table as CSV into temp tables, then INSERT … SELECT into the ledger's tables "
                      "(CHECKs, indexes, foreign keys on), one transaction, with the 256 MB page cache maintledger's batches get; "
                      "no trail entries")])

    # Simulate: 10,000 apps over two years in at most 30 s, and at most twice sqlite3's copy of its rows.
    sim_apps = int(meta.get("simulate_apps", "0") or 0)
    ours, base = get("simulate"), get("simulate_sqlite")
    t_ours, t_base = ours and ours["best"], base and base["best"]
    scale = 10_000 / sim_apps if sim_apps else None
    projected = t_ours * scale if t_ours and scale else None
    sim_ratio = t_ours / t_base if t_ours and t_base else None
    rows.append([f"simulate --apps {count(sim_apps)} --days 730", seconds(t_ours), seconds(t_base),
                 f"{sim_ratio:.2f}×" if sim_ratio else "-", "10,000 apps ≤ 30 s, ≤ 2× sqlite3",
                 "FAILED" if projected is None else "met" if projected <= 30 and sim_ratio is not None and sim_ratio <= 2 else "MISSED",
                 note(f"{count(meta.get('simulate_maintenances', '0'))} maintenances, {count(meta.get('simulate_entries', '0'))} trail entries"
                      + (f"; peak memory {ours['rss_kb'] / 1024:,.0f} MB" if ours and ours.get("rss_kb") else "")
                      + (f". Work grows with the apps: 10,000 apps would take about {projected:.0f} s, sqlite3's copy about "
                         f"{t_base * scale:.0f} s" if projected and t_base and sim_apps != 10_000 else "")
                      + ". sqlite3: the same rows copied into an empty file with the same schema, every table (the trail, its "
                        "Merkle tree and the checkpoints too) in key order (CHECKs, indexes, foreign keys and the trail's triggers "
                        "on), one transaction: the writes alone, without the engine's updates, rules, encoding or hashing")])

    # Simulate beside the floor of its work: its writes made again through SQLite's C API (not a target).
    def floor_row(label, key, what):
        floor = get(key)
        t_floor = float(floor["stdout"]) if floor and floor.get("stdout", "").strip() else None
        rows.append([label, seconds(t_ours), seconds(t_floor), f"{t_ours / t_floor:.2f}×" if t_ours and t_floor else "-",
                     "(its floor, no target)", "-",
                     note("bench/simulate_floor.c: the writes simulate made, decoded from its trail (untimed), made again in "
                          "their order through SQLite's C API with bound statements, in simulate's transactions (the fleet, "
                          "then 30 days to one) and settings (WAL, synchronous=FULL, its 256 MB batch page cache); no reads, "
                          f"rules, encoding, hashing or Swift; the seconds of its writes. {what}"
                          + (f"; the floor is {t_floor / t_base:.2f}× the sqlite3 row copy above" if t_floor and t_base else ""))])

    verified = get("simulate_floor_verify")
    floor_row("  simulate beside its table writes alone", "simulate_floor_tables",
              "Here the tables' writes alone (each maintenance inserted, then updated as it moved, a status change row per "
              "step, a notice per scheduling, the fleet, its customers' changes, the ticks), no trail; the file holds the "
              "simulated ledger's table rows, checked")
    floor_row("  simulate beside every byte it wrote", "simulate_floor_trail",
              "Here the same writes and, after each entry's, the entry (its payload and hash as recorded) and the tree nodes "
              "it completed: the floor of the trail format; the file holds every row of the simulated ledger, checked, and "
              + ("audit:verify accepts it" if verified and verified["best"] else "audit:verify did NOT accept it (see PROBLEMS)"))

    # Rebuild: the simulated ledger made again from its trail export, beside the copy of its rows.
    trail_bytes = int(meta.get("simulate_trail_bytes") or 0)
    rebuild = get("simulate_rebuild")
    time_row(f"rebuild of that ledger from its trail", "simulate_rebuild", "simulate_sqlite", "ratio", 2,
             f"rebuild --from the simulated ledger's `export --entity trail` (one NDJSON file of {trail_bytes:,} bytes and its "
             "manifest) --to a new file: the chain checked, every entry replayed, format 2 updates held to their digests, "
             "synced and renamed into place; sqlite3: the same copy of its rows as the simulate row above (every table, the "
             "trail and its tree included, into an empty file with the same schema, one transaction)",
             f"rebuild's peak memory {rebuild['rss_kb'] / 1024:,.0f} MB" if rebuild and rebuild.get("rss_kb") else None)

    # The size of the simulated ledger, per maintenance.
    sim_m = int(meta.get("simulate_maintenances", "0") or 0)
    sim_bytes, copy_bytes = int(meta.get("simulate_bytes") or 0), int(meta.get("simulate_copy_bytes") or 0)
    per, copy_per = (sim_bytes / sim_m if sim_m and sim_bytes else None), (copy_bytes / sim_m if sim_m and copy_bytes else None)
    rows.append(["  file size per maintenance, simulated fleet", f"{per / 1024:.2f} KB" if per else "-",
                 f"{copy_per / 1024:.2f} KB" if copy_per else "-", f"{per / copy_per:.2f}×" if per and copy_per else "-",
                 "≤ 2 KB", "FAILED" if per is None else "met" if per <= 2048 else "MISSED",
                 note(f"bytes of the ledger simulate wrote (file and WAL: {sim_bytes:,}) / its {sim_m:,} maintenances, with "
                      "everything else it holds (apps, add-ons, windows, status changes, notices, ticks, the trail and its tree); "
                      f"sqlite3: the same over its copy of the same rows ({copy_bytes:,} bytes), written once each in key order")])

    fixture = meta.get("fixture_rows", "0")
    fixture_note = (f"on a {count(fixture)}-maintenance query fixture (bulk-inserted by SQL, no trail entries: read-only, "
                    f"audit:verify would refuse it){meta.get('fixture_reason', '')}")
    time_row(f"history --addon NAME --limit 20 --ndjson", "history_addon", "history_addon_sqlite", "abs", 0.02,
             f"sqlite3 -json: the same 20 maintenances joined with add-on, app, attachments and window; {fixture_note}")
    time_row(f"history --status failed --limit 20", "history_failed", "history_failed_sqlite", "abs", 0.02,
             f"sqlite3: the same 20 rows (index on status, scheduled_for), joined likewise; {fixture_note}")
    time_row(f"cold data:maintenances:info ADDON", "info", "info_sqlite", "abs", 0.015,
             f"a new process each run on the {count(m)}-maintenance ledger (the page cache stays warm); sqlite3: the newest "
             "maintenance of the add-on (ORDER BY created_at DESC LIMIT 1) joined with add-on, app, attachments and window")

    headers = ["figure", "maintledger", "sqlite3", "ratio", "target", "verdict", "how"]
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    print(f"maintledger benchmark ({meta.get('mode', '?')} mode, {meta.get('date', '')}, {meta.get('machine', '')})")
    if meta.get("build"):
        print(f"binary: `{meta['build']}`, as README.md installs it")
    print(f"ledger: {count(m)} maintenances over {count(meta.get('addons', '0'))} add-ons, {count(entries)} trail entries, "
          f"{meta.get('ledger_bytes', '?')} bytes; generated in {meta.get('ledger_build_s', '?')} s"
          + ("; audit:verify accepts it" if results.get("verify", {}).get("best") else "; audit:verify did NOT accept it (see PROBLEMS)"))
    print("ratio = maintledger's time / sqlite3's time for the same work on the same file (> 1: slower)")
    print()
    for r in [headers] + [["─" * w for w in widths]] + rows:
        print("  ".join(str(c).ljust(w) if i < len(r) - 1 else str(c) for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    print()
    for i, text in enumerate(notes, 1):
        print(f"[{i}] {text}")
    if problems:
        print()
        print("PROBLEMS:")
        for text in problems:
            print(f"- {text}")
    print()
    print(f"Timings are wall-clock of whole processes on a shared 2-core machine (load average at start "
          f"{meta.get('load_start', '?')}, at end {meta.get('load_end', '?')}): expect noise of tens of percent.")
    if meta.get("total_s"):
        print(f"Total wall time of the benchmark: {meta['total_s']} s")


if __name__ == "__main__":
    main()
