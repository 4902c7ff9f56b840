#!/bin/sh
# run-tests.sh SUITE BINARY... - run test binaries, show their output, end with one summary
# line "SUITE: N passed, N failed" and exit non-zero if any binary failed.
suite=$1
shift
passed=0
failed=0
failures=""
for t in "$@"; do
	echo "=== $suite: $(basename "$t")"
	if "$t"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures="$failures $(basename "$t")"
	fi
done
echo "$suite: $passed passed, $failed failed${failures:+ (failed:$failures)}"
[ "$failed" -eq 0 ]
