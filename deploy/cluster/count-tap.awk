# count-tap.awk - counts the cases of a TAP stream as deploy/local/test counts them
# (count_results, over tap-driver.sh's results): a case passes when it is "ok" or an expected
# failure ("not ok ... # TODO"); a skip ("ok ... # SKIP"), an unexpected pass ("ok ... # TODO")
# and a failure fail, and so does a plan of 1..0 with no case, as a case that never ran proves
# nothing.  Prints a line "counted as a failure: ..." for each skip and unexpected pass, then
# "PASSED FAILED".  Used by deploy/cluster/test; t/integration/tap-rules.mjs checks it.

# The directive of a result line, SKIP, TODO or "", found as tap-driver.sh finds it:
# case-insensitive, and not after an odd number of backslashes (tap.mjs writes a "#" in a
# sentence as "\#").
function directive(line,   pos, i, b, rest) {
	line = toupper(line)
	if (!match(line, /#[ \t]*(TODO|SKIP)([^A-Z0-9_]|$)/))
		return ""
	pos = RSTART
	b = 0
	for (i = pos; i > 1 && substr(line, i - 1, 1) == "\\"; i--)
		b++
	if (b % 2)
		return ""
	rest = substr(line, pos + 1)
	sub(/^[ \t]*/, "", rest)
	return substr(rest, 1, 4)
}

/^ok([ \t]|$)/ {
	n++
	if (directive($0) == "")
		pass++
	else {
		fail++
		print "counted as a failure: " $0
	}
	next
}

/^not ok([ \t]|$)/ {
	n++
	if (directive($0) == "TODO")
		pass++
	else
		fail++
	next
}

/^1\.\.0([^0-9]|$)/ { empty = 1 }

END {
	if (n == 0 && empty) {
		fail++
		print "counted as a failure: a plan of no case (" FILENAME ")"
	}
	printf "%d %d\n", pass + 0, fail + 0
}
