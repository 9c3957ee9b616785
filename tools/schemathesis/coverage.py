#!/usr/bin/env python3
"""Fails a Schemathesis run that left an operation untested or only ever refused.

    coverage.py OPENAPI_URL RUN_NDJSON COVERAGE_TOML RUN_LOG

Reads every case of the run from its NDJSON report. An operation of the document passes when
some case reached it and some answer was other than 401, 403, 404 or 429: an operation that
only ever answered those was never exercised past authentication, lookup or rate limiting,
and a fuzzer finding nothing there proves nothing. COVERAGE_TOML may excuse an operation, with
the reason. Prints the run's figures: cases, operations answered a success to positive data,
links covered, failures.
"""

import collections
import json
import re
import sys
import tomllib
import urllib.request

OPENAPI_URL, RUN_NDJSON, COVERAGE_TOML, RUN_LOG = sys.argv[1:5]
REFUSALS = {401, 403, 404, 429}

with urllib.request.urlopen(OPENAPI_URL) as response:
    document = json.load(response)
operations = [
    f"{method.upper()} {path}"
    for path, item in document["paths"].items()
    for method in item
    if method in {"get", "put", "post", "delete", "patch", "head", "options"}
]
with open(COVERAGE_TOML, "rb") as config:
    excused = tomllib.load(config).get("excused", {})

statuses = collections.defaultdict(collections.Counter)
positive_successes = collections.Counter()
cases = 0
with open(RUN_NDJSON) as events:
    for line in events:
        event = json.loads(line)
        recorder = event.get("ScenarioFinished", {}).get("recorder", {})
        interactions = recorder.get("interactions", {})
        for case_id, case in recorder.get("cases", {}).items():
            value = case["value"]
            interaction = interactions.get(case_id)
            if interaction is None or interaction.get("response") is None:
                continue
            cases += 1
            label = f"{value['method'].upper()} {value['path']}"
            status = interaction["response"]["status_code"]
            statuses[label][status] += 1
            mode = (value.get("meta") or {}).get("generation", {}).get("mode")
            if mode == "positive" and 200 <= status < 400:
                positive_successes[label] += 1

problems = []
for label in operations:
    answered = statuses.get(label)
    if label in excused:
        continue
    if not answered:
        problems.append(f"{label}: never tested")
    elif set(answered) <= REFUSALS:
        seen = ", ".join(f"{code} ×{n}" for code, n in sorted(answered.items()))
        problems.append(f"{label}: only ever refused ({seen})")
for label in excused:
    if label not in operations:
        problems.append(f"{label}: excused in {COVERAGE_TOML}, but not an operation of the document")

with open(RUN_LOG) as log:
    text = log.read()
links = re.search(r"API Links:\s+(\d+) covered / (\d+) selected", text)
failures = re.search(r"(\d+) generated, (\d+) found (\d+) unique failures", text)
print(f"coverage: {len(operations)} operations; {sum(1 for o in operations if statuses.get(o))} tested; "
      f"{sum(1 for o in operations if positive_successes[o])} answered a success to positive data; "
      f"{cases} cases with an answer")
if links:
    print(f"coverage: API links {links.group(1)} covered of {links.group(2)}")
if failures:
    print(f"coverage: {failures.group(3)} unique failures")
for label, reason in excused.items():
    print(f"coverage: excused {label}: {reason}")
if problems:
    print("coverage: operations the fuzzer did not exercise:", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    sys.exit(1)
