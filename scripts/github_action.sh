#!/usr/bin/env bash
# The analysis step of the composite GitHub Action (action.yml): findings as annotations on
# stdout, the markdown summary appended to $GITHUB_STEP_SUMMARY, lossctl's exit code passed on
# (and set as the step output `exit-code`). Inputs come as environment variables, never
# spliced into the script, so a path cannot inject shell code.
set -uo pipefail

args=(analyze "$LOSSCTL_PATH" --format github --fail-on "${LOSSCTL_FAIL_ON:-error}")
if [ -n "${LOSSCTL_BASELINE:-}" ]; then
  args+=(--baseline "$LOSSCTL_BASELINE")
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  args+=(--summary "$GITHUB_STEP_SUMMARY")
fi

"${LOSSCTL:-lossctl}" "${args[@]}"
code=$?

if [ "$code" -ge 2 ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  printf '## lossctl\n\n**❌ could not analyse** `%s` (exit %s): see the step log for why.\n' \
    "$LOSSCTL_PATH" "$code" >> "$GITHUB_STEP_SUMMARY"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "exit-code=$code" >> "$GITHUB_OUTPUT"
fi
exit "$code"
