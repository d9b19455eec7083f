#!/usr/bin/env bash
# tools/README.md documents every option of every subcommand: each long option `acass <cmd>
# --help` lists must appear in it (as `--name`), as must the "Coming from dsbulk / cqlsh COPY"
# table and the exit code table with every code of tools/acass/errors.hpp.
#   readme_options.sh ACASS_SERVER ACASS
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"
readme="$(dirname "$0")/../../tools/README.md"
errors_hpp="$(dirname "$0")/../../tools/acass/errors.hpp"
[[ -f "$readme" ]] || fail "no tools/README.md"

missing=()
for command in query export load count; do
  "$acass" "$command" --help >"$work/help" || fail "acass $command --help failed"
  for option in $(grep -oE -- '--[a-z][a-z0-9-]+' "$work/help" | sort -u); do
    [[ "$option" == --help ]] && continue
    grep -qE -- "${option}([^a-z0-9-]|$)" "$readme" || missing+=("$command $option")
  done
done
((${#missing[@]} == 0)) || fail "tools/README.md does not document: ${missing[*]}"

grep -q '^## Coming from dsbulk / cqlsh COPY' "$readme" || fail "no dsbulk / cqlsh COPY section"
for dsbulk in -maxErrors -header -delim -nullValue -skipRecords -maxRecords MAXATTEMPTS; do
  grep -q -- "$dsbulk" "$readme" || fail "the mapping table lacks $dsbulk"
done
grep -q '^## Exit codes' "$readme" || fail "no exit code section"
for code in $(sed -n 's/^ *exit_[a-z_]* = \([0-9]*\),.*/\1/p' "$errors_hpp"); do
  grep -qE "^\| $code \|" "$readme" || fail "exit code $code is not in the README's table"
done
echo "README options OK"
