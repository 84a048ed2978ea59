#!/usr/bin/env python3
"""report.py: the table of `make bench` (bench/README.md) from the rows the benchmarks printed.

Usage: python3 bench/report.py ROWS.jsonl MACHINE.json OUT.json
ROWS.jsonl: one row per line (the format in bench/README.md; "not run" rows carry
"status": "not run" and "reason"). MACHINE.json: the machine description.
Prints one aligned table on stdout and writes OUT.json: {"machine": ..., "rows": [...]}.
"""
import json
import sys



def num(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v).lower()
    if not isinstance(v, (int, float)):
        return str(v)
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.2f} M"
    if a >= 1e4:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.4f}"


def main():
    rows_path, machine_path, out_path = sys.argv[1:4]
    rows = []
    with open(rows_path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if isinstance(r, dict) and "group" in r and "name" in r:
                if str(r.get("goal", "")).startswith("none"):
                    r["met"] = None  # no goal: nothing to meet (some scripts print true)
                rows.append(r)
    with open(machine_path) as f:
        machine = json.load(f)
    def number(r):  # groups are "<n> <title>": ordered by n; stable, so each benchmark's own order holds within
        head = str(r["group"]).split(" ", 1)[0]
        return int(head) if head.isdigit() else 99
    rows.sort(key=number)

    head = ["group", "figure", "value", "reference", "ref value", "ratio", "goal", "met"]
    table = []
    for r in rows:
        if r.get("status") == "not run":
            table.append([r["group"], r["name"], "not run", r.get("reason", ""), "", "", r.get("goal", ""), "-"])
            continue
        unit = r.get("unit", "")
        val = num(r.get("value")) + (" " + unit if unit else "")
        ref = num(r.get("ref_value")) + (" " + unit if unit and r.get("ref_value") is not None else "")
        met = r.get("met")
        table.append([r["group"], r["name"], val, r.get("reference", ""), ref, num(r.get("ratio")),
                      r.get("goal", ""), "yes" if met is True else "NO" if met is False else "-"])
    widths = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(head)]
    # keep the long text columns readable on a terminal
    caps = {1: 60, 3: 50, 6: 28}
    for i, cap in caps.items():
        widths[i] = min(widths[i], cap)

    def fmt(cells):
        out = []
        for i, c in enumerate(cells):
            c = c if len(c) <= widths[i] else c[: widths[i] - 1] + "~"
            out.append(c.rjust(widths[i]) if i in (2, 4, 5) else c.ljust(widths[i]))
        return " | ".join(out).rstrip()

    print(f"riskgate benchmarks - {machine.get('date', '')}, commit {machine.get('commit', '')}, "
          f"scale {machine.get('scale', '')}")
    print(f"machine: {machine.get('cpu', '')}, {machine.get('nproc', '')} CPUs, {machine.get('ram', '')} RAM, "
          f"{machine.get('os', '')}, kernel {machine.get('kernel', '')}")
    print(fmt(head))
    print("-+-".join("-" * w for w in widths))
    last = None
    for t in table:
        if last is not None and t[0] != last:
            print("-+-".join("-" * w for w in widths))
        last = t[0]
        print(fmt(t))
    met = sum(1 for r in rows if r.get("met") is True)
    missed = sum(1 for r in rows if r.get("met") is False)
    notrun = sum(1 for r in rows if r.get("status") == "not run")
    print(f"goals met: {met}, not met: {missed}, not run: {notrun}; total time {machine.get('total_seconds', '?')} s")
    with open(out_path, "w") as f:
        json.dump({"machine": machine, "rows": rows}, f, indent=1)
        f.write("\n")
    print(f"written: {out_path}")


if __name__ == "__main__":
    main()
