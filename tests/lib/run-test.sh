#!/bin/sh
# run-test.sh TEST [ARGS...] - the LOG_COMPILER of every test.
# Gives the test private berth directories under a fresh temporary folder,
# runs it (shell script, Lua script or program) and removes the folder,
# unless BERTH_KEEP_TMP is set.  Its log ends with the test's duration.
BERTH_TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-test.XXXXXX") || exit 99
export BERTH_TEST_TMP
BERTH_RUN_DIR="$BERTH_TEST_TMP/run"; export BERTH_RUN_DIR
BERTH_DATA_DIR="$BERTH_TEST_TMP/data"; export BERTH_DATA_DIR
BERTH_CONFIG_DIR="$BERTH_TEST_TMP/config"; export BERTH_CONFIG_DIR
mkdir -p "$BERTH_RUN_DIR" "$BERTH_DATA_DIR" "$BERTH_CONFIG_DIR"
t0=$(date +%s)
case "$1" in
*.sh) ${SHELL:-/bin/sh} "$@" ;;
*.lua) "$BERTH" run "$@" ;;
*) "$@" ;;
esac
rc=$?
# For .ci/run's list of the slowest tests.
echo "berth-test-duration: $(( $(date +%s) - t0 )) s"
[ -n "$BERTH_KEEP_TMP" ] || rm -rf "$BERTH_TEST_TMP"
exit $rc
