#!/usr/bin/env bash
# Starts a throwaway S3-compatible server (moto in server mode, from PyPI) on
# 127.0.0.1:${S3PORT:-55900} for the test suite and prints the endpoint to use
# as VERDICT_TEST_S3_ENDPOINT. moto keeps buckets in memory and accepts any
# credentials; the tests create a bucket of their own each.
set -euo pipefail
port="${S3PORT:-55900}"
venv="${S3_VENV:-/tmp/verdict-moto}"
endpoint="http://127.0.0.1:$port"
if curl -fsS "$endpoint/moto-api/" >/dev/null 2>&1; then
  echo "$endpoint"; exit 0
fi
if [ ! -x "$venv/bin/moto_server" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check 'moto[server]==5.2.5' >&2
fi
"$venv/bin/python" -c 'import moto; print("moto", moto.__version__)' >&2
nohup "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$venv/server.log" 2>&1 &
for _ in $(seq 1 100); do
  if curl -fsS "$endpoint/moto-api/" >/dev/null 2>&1; then
    echo "$endpoint"; exit 0
  fi
  sleep 0.2
done
echo "moto did not start on $endpoint; see $venv/server.log" >&2
exit 1
