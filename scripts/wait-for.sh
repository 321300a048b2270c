# Sourced by the service scripts: wait_for NAME SECONDS COMMAND... runs COMMAND once a second
# until it succeeds, or says NAME did not come up (prefixed with the sourcing script's name).
wait_for() {
  local name=$1 seconds=$2; shift 2
  for _ in $(seq "$seconds"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "$(basename "$0" .sh): $name did not come up within ${seconds}s" >&2
  return 1
}
