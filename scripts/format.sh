#!/usr/bin/env bash
# Format (or, with --check, only report) TypeScript with prettier and native/
# with clang-format (native/.clang-format). Without arguments: the whole tree.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [[ "${1:-}" == "--check" ]]; then check=1; shift; fi
ts=("$@")
if [[ ${#ts[@]} -eq 0 ]]; then ts=(src test eslint.config.js); fi
if [[ $check -eq 1 ]]; then
  echo "+ prettier --check ${ts[*]}"
  node_modules/.bin/prettier --check "${ts[@]}"
else
  echo "+ prettier --write ${ts[*]}"
  node_modules/.bin/prettier --write --log-level warn "${ts[@]}"
fi
if ! command -v clang-format > /dev/null; then
  echo "clang-format not installed (apt-get install clang-format): native/ not checked" >&2
  exit 0
fi
mapfile -t c < <(find native -name '*.c' -o -name '*.cc' -o -name '*.h' | sort)
if [[ $check -eq 1 ]]; then
  echo "+ clang-format --dry-run --Werror native/..."
  clang-format --style=file:native/.clang-format --dry-run --Werror "${c[@]}"
else
  echo "+ clang-format -i native/..."
  clang-format --style=file:native/.clang-format -i "${c[@]}"
fi
