"""Parse an HL7 message from stdin with python-hl7 and print the requested
fields as JSON. Keys are python-hl7 accessor keys (e.g. PID1.F3.R2.C4.S1),
which python-hl7 returns unescaped. Used by crosscheck_test.go."""
import json
import sys

import hl7

raw = sys.stdin.buffer.read().decode("utf-8")
msg = hl7.parse(raw)
out = {}
for key in sys.argv[1:]:
    try:
        out[key] = str(msg[key])
    except (KeyError, IndexError) as e:
        out[key] = None
print(json.dumps(out))
