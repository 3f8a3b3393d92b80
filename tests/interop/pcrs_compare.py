#!/usr/bin/env python3
"""Compares the final PCR values of a TCG PC Client event log (TCG PC Client Platform Firmware
Profile, crypto-agile "Spec ID Event03" logs) as two implementations replay it: tpm2-tools'
tpm2_eventlog (its YAML's closing "pcrs:" section, which lists the PCRs that have events) and
`cvmattest eventlog --json` (its "pcrs" member: every PCR of every bank, docs/eventlog.md).
Python's standard library only; the replay itself is tpm2-tools' and cvmattest's, this only
reads both outputs. Used by tests/e2e/interop_eventlog.sh.

  pcrs_compare.py TPM2_EVENTLOG.yaml CVMATTEST.json [NAME]
(NAME, default "cvmattest": what the JSON's values are called in the output; the JSON may hold
other values in the same shape, e.g. a quote's PCRs.) Exit 0 when the banks are the same, every PCR tpm2_eventlog lists has the same value in
cvmattest's replay, and every PCR it leaves out (no event) is at its initial value in
cvmattest's (all 0xFF for PCRs 17..22, else zero); 1 otherwise, naming each difference.
"""
import json
import re
import sys


def tpm2_eventlog_pcrs(text):
    """{bank: {index: hex}} from the last "pcrs:" section of tpm2_eventlog's output."""
    at = text.rfind("\npcrs:\n")
    if at < 0:
        raise ValueError("no pcrs: section in the tpm2_eventlog output")
    pcrs, bank = {}, None
    for line in text[at + 7:].splitlines():
        m = re.match(r"^  (\w+):\s*$", line)
        if m:
            bank = pcrs.setdefault(m.group(1), {})
            continue
        m = re.match(r"^    (\d+)\s*:\s*0x([0-9A-Fa-f]+)\s*$", line)
        if m and bank is not None:
            bank[int(m.group(1))] = m.group(2).lower()
        elif line.strip():
            raise ValueError("unexpected line in the pcrs: section: %r" % line)
    return pcrs


def main():
    theirs = tpm2_eventlog_pcrs(open(sys.argv[1]).read())
    ours = {b: {int(i): v.lower() for i, v in regs.items()}
            for b, regs in json.load(open(sys.argv[2]))["pcrs"].items()}
    name = sys.argv[3] if len(sys.argv) > 3 else "cvmattest"
    diffs, compared = [], 0
    if sorted(theirs) != sorted(ours):
        diffs.append("banks: tpm2_eventlog %s, %s %s" % (sorted(theirs), name, sorted(ours)))
    for bank in sorted(set(theirs) & set(ours)):
        for i, v in sorted(ours[bank].items()):
            if i in theirs[bank]:
                compared += 1
                if theirs[bank][i] != v:
                    diffs.append("%s PCR %d: tpm2_eventlog %s, %s %s" % (bank, i, theirs[bank][i], name, v))
            elif v != ("f" if 17 <= i <= 22 else "0") * len(v):
                diffs.append("%s PCR %d: no event for tpm2_eventlog, %s %s" % (bank, i, name, v))
        for i in sorted(set(theirs[bank]) - set(ours[bank])):
            diffs.append("%s PCR %d: tpm2_eventlog %s, absent from %s" % (bank, i, theirs[bank][i], name))
    for d in diffs:
        print("DIFF " + d)
    print("%s: %d PCR values compared in %s, %d differences"
          % (sys.argv[1], compared, ", ".join(sorted(theirs)), len(diffs)))
    return 1 if diffs or compared == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
