#!/usr/bin/env bash
# Checks that every include in service/ points at its own room or one below
# it (the order in service/CMakeLists.txt), that a room's internal/ files are
# included only from that room, and that engine/ includes nothing from
# service/ (nor service/ the engine's internals). Prints every include that
# points the wrong way.
set -euo pipefail
cd "$(dirname "$0")/.."

# A room and the rooms it may include.
declare -A allowed=(
  [common]="common"
  [audit]="common audit"
  [security]="common security"
  [decision]="common audit decision"
  [api]="common audit security decision api"
  [fhir]="common fhir"
  [http]="common audit security decision fhir http"
  [web]="common audit security decision http web"
  [metrics]="common audit security decision metrics"
  [cli]="common audit security decision api fhir http web metrics cli"
)

bad=0
checked=0
while IFS= read -r file; do
  room="${file#service/}"
  room="${room%%/*}"
  if [[ -z "${allowed[$room]:-}" ]]; then
    echo "$file: not in a room (service/<room>/...)"
    bad=$((bad + 1))
    continue
  fi
  while IFS=: read -r line include; do
    checked=$((checked + 1))
    target="${include#service/}"
    target="${target%%/*}"
    if [[ " ${allowed[$room]} " != *" $target "* ]]; then
      echo "$file:$line: the $room room includes $include ($target may not be used from $room)"
      bad=$((bad + 1))
    elif [[ "$include" == */internal/* && "$target" != "$room" ]]; then
      echo "$file:$line: $include is internal to the $target room"
      bad=$((bad + 1))
    fi
  done < <(grep -n -o '#include "service/[^"]*"' "$file" | sed 's/#include "\(.*\)"/\1/')
done < <(find service -name '*.h' -o -name '*.cc' | sort)

# Nothing outside engine/ reaches into the engine's internals.
while IFS= read -r hit; do
  echo "$hit: engine internals are for engine/ only"
  bad=$((bad + 1))
done < <(grep -rn '#include "engine/[^"]*internal/' service || true)

while IFS= read -r hit; do
  echo "$hit: engine/ may not include service/"
  bad=$((bad + 1))
done < <(grep -rn '#include "service/' engine || true)

echo "layering: $checked include(s) checked, $bad wrong"
[[ $bad -eq 0 ]]
