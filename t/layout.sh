#!/bin/sh
# t/layout.sh - calls go one way: main -> pool -> route -> handler -> reply,
# lib/ below app/, and within lib/ each room only on the rooms below it.
#
# From the built objects (nm on the members of libpingoo.a and
# libpingooapp.a, and app/main.o), which file calls which: a symbol one
# object leaves undefined and another defines is a call (or a read of its
# data) from the first to the second.  From the sources, which lib/ room
# includes which.  TAP; fails on
#   - a lib/ object that references a symbol of app/;
#   - a cycle of calls between files, anywhere;
#   - a handler file (app/h_*.c) that calls another handler file;
#   - a lib/ room that calls or includes a room it may not (ROOMS below).
# LAYOUT_GRAPH=1 prints every edge with its symbols as TAP comments.
#
# Run by `make check` with PINGOO_SRCDIR and PINGOO_BUILDDIR set; by hand:
#   PINGOO_SRCDIR=. PINGOO_BUILDDIR=/tmp/build sh t/layout.sh

src=${PINGOO_SRCDIR:-${srcdir:-.}}
build=${PINGOO_BUILDDIR:-.}
NM=${NM:-nm}
AWK=${AWK:-awk}

# What each room of lib/ may use besides itself.
ROOMS='
core:
measure: core
export: core measure
auth: core measure
input: core measure export auth
shm: core measure
store: core measure export auth shm
'

for a in libpingoo.a libpingooapp.a; do
	if [ ! -f "$build/$a" ]; then
		echo "Bail out! $build/$a is not built"
		exit 1
	fi
done
objs="$build/libpingoo.a $build/libpingooapp.a"
[ -f "$build/app/main.o" ] && objs="$objs $build/app/main.o"

{
	printf '%s\n' "$ROOMS" | sed -n 's/^\([a-z]*\):\(.*\)$/ROOM \1 \2/p'
	# The sources of lib/, to name an archive's member by its path.
	(cd "$src" && ls lib/*/*.c) | sed 's/^/SRC /'
	(cd "$src" && ls lib/*/*.h) | sed 's/^/HDR /'
	# lib/'s includes of its own headers (config.h is the build's).
	(cd "$src" && grep -H '^#[ 	]*include[ 	]*"' lib/*/*.[ch]) |
	    sed -n 's/^\([^:]*\):#[ 	]*include[ 	]*"\([^"]*\)".*/INC \1 \2/p'
	LC_ALL=C $NM -P -A $objs 2>/dev/null | sed 's/^/NM /'
} | LC_ALL=C $AWK -v graph="${LAYOUT_GRAPH:-0}" '
function node(label,    m, base) {
	# "/b/libpingoo.a[error.o]:", "/b/app/main.o:"
	sub(/:$/, "", label)
	if (match(label, /\[[^]]*\]$/)) {
		base = substr(label, RSTART + 1, RLENGTH - 2)
		sub(/\.o$/, "", base)
		sub(/^[a-z_]*_a-/, "", base)	# per-target object names
		if (label ~ /libpingooapp\.a\[/)
			return "app/" base ".c"
		return (base in libsrc) ? libsrc[base] : "lib/?/" base ".c"
	}
	m = label
	sub(/^.*\//, "", m)
	sub(/\.o$/, "", m)
	return "app/" m ".c"
}
function room(path,    p) {
	if (path ~ /^app\//)
		return "app"
	split(path, p, "/")
	return p[2]
}
function may(from, to) {
	return from == to || ((from SUBSEP to) in allow)
}
function report(name, bad, diag) {
	t++
	printf "%sok %d - %s\n", bad ? "not " : "", t, name
	if (bad) {
		printf "%s", diag
		failed++
	}
}
$1 == "ROOM" {
	rooms[$2] = 1
	for (i = 3; i <= NF; i++)
		allow[$2, $i] = 1
	next
}
$1 == "HDR" {
	hdr[$2] = 1
	next
}
$1 == "SRC" {
	b = $2
	sub(/^.*\//, "", b)
	sub(/\.c$/, "", b)
	libsrc[b] = $2
	next
}
$1 == "INC" {
	from = room($2)
	to = $3
	if (to == "config.h")
		next
	# "room/room.h" from lib/, or "store_int.h" beside the includer.
	if (("lib/" to) in hdr) {
		split(to, p, "/")
		to = p[1]
	} else if (("lib/" from "/" to) in hdr)
		to = from
	else
		to = ""
	ninc++
	if (!(from in rooms))
		incbad = incbad "# " $2 ": lib/" from " is not a known room\n"
	else if (!(to in rooms))
		incbad = incbad "# " $2 " includes \"" $3 "\": not a header " \
		    "of lib/\n"
	else if (!may(from, to))
		incbad = incbad "# " $2 " includes \"" $3 "\": lib/" from \
		    " may not use lib/" to "\n"
	next
}
$1 == "NM" {
	n = node($2)
	if (!(n in seen)) {
		seen[n] = 1
		nodes[++nn] = n
		idx[n] = nn
	}
	sym = $3
	type = $4
	if (type == "U")
		uses[++nu] = n SUBSEP sym
	else if (type ~ /^[TDBRGSCVW]$/) {
		if ((sym in def) && def[sym] != n)
			dupdef = dupdef "# " sym ": defined in " def[sym] \
			    " and " n "\n"
		def[sym] = n
	}
	next
}
END {
	for (k = 1; k <= nu; k++) {
		split(uses[k], u, SUBSEP)
		if (!(u[2] in def) || def[u[2]] == u[1])
			continue
		a = u[1]
		b = def[u[2]]
		if (!((a SUBSEP b) in edge)) {
			edge[a, b] = u[2]
			elist[++ne] = a SUBSEP b
		} else
			edge[a, b] = edge[a, b] ", " u[2]
		reach[idx[a], idx[b]] = 1
	}
	napp = 0
	for (i = 1; i <= nn; i++)
		if (room(nodes[i]) == "app")
			napp++
	report("nm read " nn " objects (" napp " of app/, " nn - napp \
	    " of lib/), " ne " edges between files", nn == 0 || dupdef != "",
	    dupdef)

	if (graph == "1")
		for (k = 1; k <= ne; k++) {
			e = elist[k]
			split(e, p, SUBSEP)
			printf "# %s -> %s: %s\n", p[1], p[2], edge[e]
		}

	# lib/ never calls app/.
	d = ""
	for (k = 1; k <= ne; k++) {
		e = elist[k]
		split(e, p, SUBSEP)
		if (room(p[1]) != "app" && room(p[2]) == "app")
			d = d "# " p[1] " -> " p[2] ": " edge[e] "\n"
	}
	report("lib/ references nothing of app/", d != "", d)

	# Cycles: the transitive closure, then the groups of files that
	# reach each other.
	for (k = 1; k <= nn; k++)
		for (i = 1; i <= nn; i++)
			if ((i SUBSEP k) in reach)
				for (j = 1; j <= nn; j++)
					if ((k SUBSEP j) in reach)
						reach[i, j] = 1
	d = ""
	for (i = 1; i <= nn; i++) {
		if (i in grouped)
			continue
		members = ""
		for (j = 1; j <= nn; j++)
			if (j == i || (((i SUBSEP j) in reach) &&
			    ((j SUBSEP i) in reach))) {
				grouped[j] = 1
				members = members " " nodes[j]
				grp[j] = i
			}
		if (split(members, p, " ") < 2)
			continue
		d = d "# cycle:" members "\n"
		for (k = 1; k <= ne; k++) {
			e = elist[k]
			split(e, q, SUBSEP)
			if (grp[idx[q[1]]] == i && grp[idx[q[2]]] == i)
				d = d "#   " q[1] " -> " q[2] ": " edge[e] "\n"
		}
	}
	report("no cycle of calls between files", d != "", d)

	# Handlers never call handlers.
	d = ""
	for (k = 1; k <= ne; k++) {
		e = elist[k]
		split(e, p, SUBSEP)
		if (p[1] ~ /^app\/h_/ && p[2] ~ /^app\/h_/)
			d = d "# " p[1] " -> " p[2] ": " edge[e] "\n"
	}
	report("no handler file calls another", d != "", d)

	# lib/ rooms call only the rooms they may use.
	d = ""
	for (k = 1; k <= ne; k++) {
		e = elist[k]
		split(e, p, SUBSEP)
		f = room(p[1])
		g = room(p[2])
		if (f == "app" || g == "app")
			continue
		if (!(f in rooms) || !(g in rooms) || !may(f, g))
			d = d "# " p[1] " -> " p[2] ": lib/" f \
			    " may not use lib/" g " (" edge[e] ")\n"
	}
	report("lib/ rooms call only the rooms below them", d != "", d)

	report("lib/ rooms include only the rooms below them (" ninc \
	    " includes)", ninc == 0 || incbad != "", incbad)

	printf "1..%d\n", t
	exit failed > 0
}'
