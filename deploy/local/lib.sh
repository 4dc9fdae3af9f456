# lib.sh - paths and helpers shared by the local stack's scripts (bash).
# shellcheck shell=bash
# Sourced, not run.  Every script sets PROG before sourcing this.

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Where var/ lives when nginx's or the pool's account cannot enter the
# checkout (see place_state in up): one folder per checkout, named by a
# hash of its path.
STATE_ROOT=/var/lib/pingoo-local
NGINX_GROUP=www-data

# Sets the paths of the stack's state.  var/ is a folder of the checkout or
# a link to a folder under STATE_ROOT; VAR is where it really is, so the
# paths handed to nginx and the pool never go through the checkout.
set_paths() {
	VAR=$SRC/var
	if [ -L "$VAR" ]; then
		VAR=$(readlink -f "$VAR")
	fi
	BUILD=$VAR/build
	LOGDIR=$VAR/log
	RUNDIR=$VAR/run
	SECRETS=$VAR/secrets
	CONFIG=$VAR/pingoo.conf
	PORTS_FILE=$VAR/ports.env
	STACK_ENV=$VAR/stack.env

	DB_DIR=$VAR/mariadb
	DB_DATADIR=$DB_DIR/data
	DB_SOCKET=$DB_DIR/mysqld.sock
	DB_PIDFILE=$DB_DIR/mysqld.pid
	DB_LOG=$LOGDIR/mariadb.log

	POOL_SOCKET=$RUNDIR/pingoo.sock
	POOL_PIDFILE=$RUNDIR/pingoo.pid
	POOL_LOG=$LOGDIR/pingoo.log
	POOL_USER_FILE=$RUNDIR/pool.user

	NGINX_PREFIX=$VAR/nginx
	NGINX_PIDFILE=$NGINX_PREFIX/run/nginx.pid
}
set_paths
DB_NAME=pingoo
DB_USER=pingoo
DB_MIGRATE_USER=pingoo_migrate

say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

# The ports: the environment wins, then what an earlier run chose, then the
# defaults.  up records the result so later runs (and down) agree.
load_ports() {
	local saved_https='' saved_http='' saved_db=''
	if [ -r "$PORTS_FILE" ]; then
		saved_https=$(sed -n 's/^HTTPS_PORT=//p' "$PORTS_FILE")
		saved_http=$(sed -n 's/^HTTP_PORT=//p' "$PORTS_FILE")
		saved_db=$(sed -n 's/^DB_PORT=//p' "$PORTS_FILE")
	fi
	HTTPS_PORT=${PINGOO_HTTPS_PORT:-${saved_https:-8443}}
	HTTP_PORT=${PINGOO_HTTP_PORT:-${saved_http:-8080}}
	DB_PORT=${PINGOO_DB_PORT:-${saved_db:-13306}}
	local p
	for p in "$HTTPS_PORT" "$HTTP_PORT" "$DB_PORT"; do
		case $p in
		''|*[!0-9]*) die "bad port: $p" ;;
		esac
	done
}

save_ports() {
	mkdir -p "$VAR"
	printf 'HTTPS_PORT=%s\nHTTP_PORT=%s\nDB_PORT=%s\n' \
	    "$HTTPS_PORT" "$HTTP_PORT" "$DB_PORT" >"$PORTS_FILE"
}

# True when PID is a live process (this machine's init does not reap
# orphans, so a dead daemon lingers as a zombie that kill -0 still finds).
proc_running() {
	local state
	[ -n "$1" ] || return 1
	state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# True when any live process is in process group PGID.
group_running() {
	ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^[ZX]/ { found = 1 } END { exit !found }'
}

# Prints the pid in PIDFILE when that process runs and its command line
# contains PATTERN (a recycled pid or another checkout's daemon is not ours).
pid_of() {
	local pidfile=$1 pattern=$2 pid
	[ -r "$pidfile" ] || return 1
	pid=$(tr -dc 0-9 <"$pidfile")
	proc_running "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern" || return 1
	printf '%s\n' "$pid"
}

# Runs COMMAND as ACCOUNT (user and group of that name, with its groups);
# true when it succeeds.
as_account() {
	local account=$1
	shift
	setpriv --reuid="$account" --regid="$account" --init-groups -- "$@" 2>/dev/null
}

# True when something listens on 127.0.0.1:PORT.
port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Waits up to SECONDS (tenths allowed) for COMMAND to succeed.
wait_for() {
	local tenths=$(( ${1%.*} * 10 )) i=0
	shift
	while ! "$@"; do
		i=$((i + 1))
		[ "$i" -le "$tenths" ] || return 1
		sleep 0.1
	done
}

# Sends SIGTERM to PID and waits up to SECONDS for its process group to
# end, then kills the group.  Quiet when nothing runs.
stop_group() {
	local pid=$1 seconds=$2 what=$3
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_for "$seconds" eval '! group_running '"$pid"; then
		warn "$what did not stop within ${seconds}s: SIGKILL"
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
		wait_for 5 eval '! group_running '"$pid" || warn "$what still running"
	fi
}
