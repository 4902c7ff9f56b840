#!/bin/sh
# test-all.sh - every test suite, in order, each ending with its own summary line; then one
# line for the whole run. Exits non-zero if any suite failed. Run as root: the BPF and
# network-namespace suites need it, and without it they count as failed, never as skipped.
# Called by `make test` and .ci/run.
cd "$(dirname "$0")/.." || exit 1
MAKE=${MAKE:-make}
passed=0
failed=0
failures=""

record() {
	if [ "$2" -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures="$failures $1"
		echo "##### $1 FAILED"
	fi
}

suite() {
	name=$1
	shift
	echo "##### $name"
	"$@"
	record "$name" $?
}

root_suite() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "##### $1: needs root (run the tests with sudo)"
		record "$1" 1
		return
	fi
	suite "$@"
}

suite layers $MAKE --no-print-directory check-layers
suite check $MAKE --no-print-directory check
suite unit $MAKE --no-print-directory unit
suite unit-asan $MAKE --no-print-directory unit-asan
root_suite bpf $MAKE --no-print-directory test-bpf
suite interop $MAKE --no-print-directory test-interop
root_suite security $MAKE --no-print-directory test-security
suite fuzz $MAKE --no-print-directory test-fuzz
root_suite integ $MAKE --no-print-directory test-integ
root_suite strongswan $MAKE --no-print-directory test-strongswan
root_suite install $MAKE --no-print-directory test-install

echo "all suites: $passed passed, $failed failed${failures:+ (failed:$failures)}"
[ "$failed" -eq 0 ]
