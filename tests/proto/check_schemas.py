#!/usr/bin/env python3
"""check_schemas.py: the JSON Schemas of proto/schema/ agree with the C decoder.

- every example network (examples/*.json) and every valid case
  (tests/proto/cases/valid/*/input.json) validates against schema/session.json;
- invalid cases whose error is a schema matter (types, unknown/missing fields, enums,
  plain ranges) are rejected by the schema too, unless listed in error.json with
  "schema_accepts": true (rules a schema cannot state: cross-field checks, references
  between elements, sizes against limits);
- every schema is itself valid Draft 2020-12.

usage: check_schemas.py REPO_ROOT
"""
import glob
import json
import os
import sys

import jsonschema

root = sys.argv[1]
store = {}
for fn in glob.glob(os.path.join(root, "proto/schema/*.json")):
    with open(fn, encoding="utf-8") as f:
        sch = json.load(f)
    jsonschema.Draft202012Validator.check_schema(sch)
    store[sch["$id"]] = sch
session = store["session.json"]
resolver = jsonschema.RefResolver(base_uri="", referrer=session, store=store)
validator = jsonschema.Draft202012Validator(session, resolver=resolver)

failures = 0
bodies = glob.glob(os.path.join(root, "examples/*.json"))
bodies += glob.glob(os.path.join(root, "tests/proto/cases/valid/*/input.json"))
for fn in sorted(bodies):
    with open(fn, encoding="utf-8") as f:
        body = json.load(f)
    errs = list(validator.iter_errors(body))
    for e in errs[:3]:
        print("%s: %s at %s" % (fn, e.message, "/".join(map(str, e.absolute_path))))
    failures += bool(errs)

SCHEMA_CODES = ("wrong_type", "missing_field", "unknown_field")
checked = 0
for d in sorted(glob.glob(os.path.join(root, "tests/proto/cases/invalid/*"))):
    with open(os.path.join(d, "error.json"), encoding="utf-8") as f:
        want = json.load(f)
    if want.get("code") not in SCHEMA_CODES or want.get("schema_accepts"):
        continue
    try:
        with open(os.path.join(d, "input.json"), encoding="utf-8") as f:
            body = json.load(f)
    except ValueError:
        continue
    checked += 1
    if validator.is_valid(body):
        print("%s: the schema accepts a body the decoder refuses (%s at %s)"
              % (d, want.get("code"), want.get("path")))
        failures += 1

print("%d bodies valid, %d invalid cases rejected by the schema, %d failures"
      % (len(bodies), checked, failures))
sys.exit(1 if failures else 0)
