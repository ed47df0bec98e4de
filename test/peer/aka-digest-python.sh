#!/usr/bin/env bash
# aka-digest-python.sh -- SIP/HTTP digest (every algorithm x qop, userhash,
# AKAv1/AKAv2 passwords) cross-checked against Python's hashlib/hmac.
set -u
BUILD=${BUILD:-build}
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP aka-digest-python: python3 not installed"
    exit 0
fi
BUILD="$BUILD" timeout 240 python3 test/peer/aka_digest_check.py || echo "FAIL aka-digest-python: script exited $?"
exit 0
