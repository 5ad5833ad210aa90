#!/usr/bin/env bash
# Builds the C host of the wshm core against JavaScriptCore's C API.
#   embed/build.sh [OUTPUT]      (default: build/wshm-embed)
# Exits 77 ("skipped", the automake convention) when gcc, pkg-config or the
# JavaScriptCore development package is missing, so a test can tell
# "cannot be built here" from "fails to build".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
output="${1:-$here/../build/wshm-embed}"

for tool in gcc pkg-config; do
  if ! command -v "$tool" >/dev/null; then
    echo "embed/build.sh: $tool is missing" >&2
    exit 77
  fi
done
# Any of Debian's JavaScriptCore builds has the same C API; 4.1 is the one CI installs.
package=""
for candidate in javascriptcoregtk-4.1 javascriptcoregtk-6.0 javascriptcoregtk-4.0; do
  if pkg-config --exists "$candidate"; then
    package="$candidate"
    break
  fi
done
if [ -z "$package" ]; then
  echo "embed/build.sh: no JavaScriptCore (apt-get install libjavascriptcoregtk-4.1-dev)" >&2
  exit 77
fi

mkdir -p "$(dirname "$output")"
# shellcheck disable=SC2046 # pkg-config's flags are meant to be split
gcc -std=c11 -O2 -Wall -Wextra -o "$output" "$here/host.c" $(pkg-config --cflags --libs "$package") -lm
