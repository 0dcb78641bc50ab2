"""``--format junit``: JUnit XML as CI servers read it (Jenkins, GitLab, Azure, CircleCI).

One ``<testsuite>`` per run, one ``<testcase>`` per kind: ``<failure>`` when the run has a
finding of that kind at or above the fail level, ``<skipped>`` when the kind was not enabled;
findings below the fail level pass and are listed in ``<system-out>``. A run judged against a
baseline gets a ``baseline`` test case. Inputs that could not be read form a last suite of
``<error>`` cases. Times are 0: detection time says nothing about the run.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from lossctl.detectors import DETECTORS
from lossctl.detectors.stats import fmt
from lossctl.renderers.ci import run_label, steps
from lossctl.report import failing


def _describe(f) -> str:
    ev = ", ".join(f"{k}={fmt(v) if isinstance(v, float) else v}" for k, v in f.evidence.items() if v is not None)
    lines = [f"{f.severity} {f.kind} on {f.metric}" + (f", steps {steps(f)}" if steps(f) else ""), f.message]
    if ev:
        lines.append(f"evidence: {ev}")
    lines += [f"fix {i}: {s}" for i, s in enumerate(f.suggestions, 1)]
    return "\n".join(lines)


def _suite(r) -> ET.Element:
    name = run_label(r)
    suite = ET.Element("testsuite", name=name)
    props = ET.SubElement(suite, "properties")
    for k, v in [("path", r.run.path), ("format", r.run.format), ("fail-on", r.fail_on),
                 *((f"role.{k}", v) for k, v in r.view.roles.items())]:
        ET.SubElement(props, "property", name=k, value=str(v))
    fails = {id(f) for f in failing(r)}
    n = {"tests": 0, "failures": 0, "skipped": 0}
    for det in DETECTORS:
        case = ET.SubElement(suite, "testcase", classname=f"lossctl.{name}", name=det.kind, time="0")
        n["tests"] += 1
        found = [f for f in r.findings if f.kind == det.kind]
        bad = [f for f in found if id(f) in fails]
        if det.kind not in r.checked:
            ET.SubElement(case, "skipped", message=f"{det.kind} not enabled (--select/--ignore or config)")
            n["skipped"] += 1
        elif bad:
            fail = ET.SubElement(case, "failure", message=bad[0].message, type=det.kind)
            fail.text = "\n\n".join(_describe(f) for f in bad)
            n["failures"] += 1
        rest = [f for f in found if id(f) not in fails]
        if rest:
            ET.SubElement(case, "system-out").text = "\n\n".join(_describe(f) for f in rest)
    v = r.baseline
    if v is not None:
        case = ET.SubElement(suite, "testcase", classname=f"lossctl.{name}", name="baseline", time="0")
        n["tests"] += 1
        if v.verdict == "worse":
            ET.SubElement(case, "failure", message=v.reason, type="worse_than_baseline").text = v.reason
            n["failures"] += 1
        else:
            ET.SubElement(case, "system-out").text = f"{v.verdict}: {v.reason}"
    if r.run.warnings:
        ET.SubElement(suite, "system-err").text = "\n".join(r.run.warnings)
    suite.attrib.update(tests=str(n["tests"]), failures=str(n["failures"]), errors="0",
                        skipped=str(n["skipped"]), time="0")
    return suite


def _input_suite(errors) -> ET.Element:
    suite = ET.Element("testsuite", name="input", tests=str(len(errors)), failures="0",
                       errors=str(len(errors)), skipped="0", time="0")
    for i, e in enumerate(errors, 1):
        case = ET.SubElement(suite, "testcase", classname="lossctl.input", name=f"input {i}", time="0")
        ET.SubElement(case, "error", message=e, type="unreadable").text = e
    return suite


def render(reports, errors, *, color: bool = False, width: int = 100) -> str:
    root = ET.Element("testsuites", name="lossctl")
    suites = [_suite(r) for r in reports] + ([_input_suite(errors)] if errors else [])
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key)) for s in suites)))
    root.set("time", "0")
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
