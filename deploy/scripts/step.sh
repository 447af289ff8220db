#!/usr/bin/env bash
# step.sh "what it does" command...: print what a set-up step does, run it,
# and print how long it took (or that it failed, and after how long).
# pip shows its progress on a terminal; when stdout is not one (CI logs,
# a pipe) PIP_QUIET=1 makes it as quiet as -q, unless PIP_QUIET is set.
what=$1; shift
echo "==> $what"
[ -t 1 ] || export PIP_QUIET="${PIP_QUIET:-1}"
start=$SECONDS
"$@"
rc=$?
if [ $rc -eq 0 ]; then
  echo "    $what: done in $((SECONDS - start)) s"
else
  echo "    $what: FAILED (exit code $rc) after $((SECONDS - start)) s" >&2
fi
exit $rc
