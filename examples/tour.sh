#!/usr/bin/env bash
# A tour of fiftyone-plugins that runs offline on the embedded defaults.
# Everything happens in a temporary folder: your own plugins dir and config are untouched.
set -euo pipefail

CLI=${FIFTYONE_PLUGINS_CLI:-fiftyone-plugins}
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
