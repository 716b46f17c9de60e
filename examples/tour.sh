#!/usr/bin/env bash
# A tour of fiftyone-plugins that runs offline on the embedded defaults.
# Everything happens in a temporary folder: your own plugins dir and config are untouched.
set -euo pipefail

CLI=${FIFTYONE_PLUGINS_CLI:-fiftyone-plugins}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOUR=$(mktemp -d "${TMPDIR:-/tmp}/fiftyone-plugins-tour.XXXXXX")
trap 'rm -rf "$TOUR"' EXIT
export FIFTYONE_PLUGINS_DIR="$TOUR/plugins"
export FIFTYONE_CONFIG_PATH="$TOUR/config/config.json"
export FIFTYONE_APP_CONFIG_PATH="$TOUR/config/app_config.json"
unset FIFTYONE_DELEGATED_OPERATION_STORE  # the embedded default: SQLite beside the config

if [ -t 1 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD="" PLAIN=""; fi
step() { printf '\n%s$ %s%s\n' "$BOLD" "$*" "$PLAIN"; "$@"; }

step "$CLI" config plugins_dir
step "$CLI" plugins create @tour/hello --description "Says hello" --version ">=0.22"
step "$CLI" plugins list
step "$CLI" plugins info @tour/hello
step "$CLI" plugins disable @tour/hello
step "$CLI" app config plugins
step "$CLI" plugins enable @tour/hello
step "$CLI" plugins list --enabled

# install a plugin written for FiftyOne (from a local folder; GitHub repos and archive URLs work too)
step "$CLI" plugins download "$HERE/plugins/hello"
step "$CLI" operators list
step "$CLI" operators info @examples/hello/sum_slowly
step "$CLI" operators execute @examples/hello/say_hello --params '{"name": "tour"}'

# delegate a long job, then run it with a worker that drains the queue and exits
step "$CLI" operators execute @examples/hello/sum_slowly \
    --params '{"numbers": [1, 2, 3, 4, 5], "delay": 0.1}' --delegate
step "$CLI" delegated list
step "$CLI" delegated launch --once
step "$CLI" delegated list --state completed
OP_ID=$("$CLI" delegated list --state completed --limit 1 | awk 'NR == 3 {print $1}')
step "$CLI" delegated output "$OP_ID"
step "$CLI" delegated cleanup --state completed --dry-run
