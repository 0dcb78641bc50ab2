#!/usr/bin/env bash
# The analysis step of the composite GitHub Action (action.yml): findings as annotations on
# stdout, the markdown summary appended to $GITHUB_STEP_SUMMARY, lossctl's exit code passed on
# (and set as the step output `exit-code`). With LOSSCTL_HTML set, the HTML report is written
# there first, and that run writes the summary (which then says where the report is).
# Inputs come as environment variables, never spliced into the script, so a path cannot
# inject shell code.
set -uo pipefail

common=(analyze "$LOSSCTL_PATH" --fail-on "${LOSSCTL_FAIL_ON:-error}")
if [ -n "${LOSSCTL_BASELINE:-}" ]; then
  common+=(--baseline "$LOSSCTL_BASELINE")
fi
summary=()
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  summary=(--summary "$GITHUB_STEP_SUMMARY")
fi

if [ -n "${LOSSCTL_HTML:-}" ]; then
  # same analysis, same exit code; its terminal report is left out of the log (the annotations
  # below carry the findings)
  "${LOSSCTL:-lossctl}" "${common[@]}" --format html --output "$LOSSCTL_HTML" ${summary[@]+"${summary[@]}"} >/dev/null
  summary=()
fi
"${LOSSCTL:-lossctl}" "${common[@]}" --format github ${summary[@]+"${summary[@]}"}
code=$?

if [ "$code" -ge 2 ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  printf '## lossctl\n\n**❌ could not analyse** `%s` (exit %s): see the step log for why.\n' \
    "$LOSSCTL_PATH" "$code" >> "$GITHUB_STEP_SUMMARY"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "exit-code=$code" >> "$GITHUB_OUTPUT"
fi
exit "$code"
