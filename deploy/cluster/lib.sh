# lib.sh - names, addresses, ports and helpers of the cluster
# (deploy/cluster/up|down|test).  Sourced, not run; sources
# deploy/local/lib.sh for the shared helpers (say, die, pid_of, stop_group).
# shellcheck shell=bash

. "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

# Everything the cluster creates is named after the checkout, so two
# checkouts never collide: namespaces <prefix>-a and <prefix>-b, veth pairs
# <prefix>a0/<prefix>a1 and <prefix>b0/<prefix>b1 (at most 15 bytes).
CL_PREFIX=pg$(printf '%s' "$SRC" | sha256sum | cut -c1-6)
NS_A=$CL_PREFIX-a
NS_B=$CL_PREFIX-b
VETH_A=${CL_PREFIX}a
VETH_B=${CL_PREFIX}b

# One private /24 (PINGOO_CLUSTER_NET, its first three bytes), cut in two
# /30 links: host .1 <-> host A .2, host .5 <-> host B .6.  Traffic stays
# between this machine's namespaces (no route leaves them, no forwarding).
CL_NET=${PINGOO_CLUSTER_NET:-10.232.17}
HOST_A_PEER=$CL_NET.1	# the root namespace's end of A's link
HOST_A_IP=$CL_NET.2
HOST_B_PEER=$CL_NET.5
HOST_B_IP=$CL_NET.6

# Ports, all 16xxx.  The pools listen on no port: each on a unix socket
# (host_socket) that only root and nginx's group may open, which nginx in
# the root namespace reaches across namespaces (a path is not an address).
CL_HTTPS_PORT=${PINGOO_CLUSTER_HTTPS_PORT:-16543}
CL_HTTP_PORT=${PINGOO_CLUSTER_HTTP_PORT:-16580}
CL_DIRECT_A_PORT=16581	# HTTPS straight to host A (tests, diagnosis)
CL_DIRECT_B_PORT=16582	# ... and to host B

# The pools' account, as in the local stack: the workers run as it, and it
# can read none of the secrets (pingoo-fcgi -u reads them as root first).
POOL_ACCOUNT=${PINGOO_POOL_USER:-pingoo}

# The three Galera nodes: node 1 is nearest host A (on A's link), node 2
# nearest host B, node 3 on loopback (the admin's and the tests' way in).
# Per node: address, SQL port, group communication, IST and SST ports.
NODE_ADDR=("" "$HOST_A_PEER" "$HOST_B_PEER" 127.0.0.1)
NODE_PORT=("" 16331 16332 16333)
NODE_GCOMM=("" 16431 16432 16433)
NODE_IST=("" 16451 16452 16453)
NODE_SST=("" 16461 16462 16463)

CVAR=$VAR/cluster
CL_LOGS=$CVAR/log
CL_RUN=$CVAR/run
CL_SECRETS=$CVAR/secrets
CL_ENV=$CVAR/stack.env
CL_NGINX=$CVAR/nginx
CL_TLS=$CVAR/tls
GALERA=/usr/lib/galera/libgalera_smm.so

# Host NAME's FastCGI socket.
host_socket() { printf '%s/%s.sock' "$CL_RUN" "$1"; }

node_dir() { printf '%s/db%s' "$CVAR" "$1"; }
node_socket() { printf '%s/db%s/mysqld.sock' "$CVAR" "$1"; }
node_pidfile() { printf '%s/db%s/mysqld.pid' "$CVAR" "$1"; }

# The gcomm:// list of every node.
cluster_address() {
	local i list=
	for i in 1 2 3; do
		list=${list:+$list,}${NODE_ADDR[$i]}:${NODE_GCOMM[$i]}
	done
	printf 'gcomm://%s' "$list"
}

# mariadbd's arguments for node N (no --wsrep-new-cluster).
node_args() {
	local n=$1 d
	d=$(node_dir "$n")
	printf '%s\n' --no-defaults --user=mysql --datadir="$d/data" \
	    --socket="$(node_socket "$n")" --port="${NODE_PORT[$n]}" \
	    --bind-address="${NODE_ADDR[$n]}" --pid-file="$(node_pidfile "$n")" \
	    --log-error="$d/mysqld.log" --tmpdir="$d/tmp" \
	    --innodb-buffer-pool-size=64M --innodb-log-file-size=48M \
	    --innodb-flush-log-at-trx-commit=2 --skip-name-resolve \
	    --max-connections=300 \
	    --binlog-format=ROW --default-storage-engine=InnoDB \
	    --innodb-autoinc-lock-mode=2 \
	    --wsrep-on=ON --wsrep-provider="$GALERA" \
	    --wsrep-cluster-name="pingoo-$CL_PREFIX" \
	    --wsrep-cluster-address="$(cluster_address)" \
	    --wsrep-node-name="node$n" \
	    --wsrep-node-address="${NODE_ADDR[$n]}:${NODE_GCOMM[$n]}" \
	    --wsrep-node-incoming-address="${NODE_ADDR[$n]}:${NODE_PORT[$n]}" \
	    --wsrep-sst-method=rsync \
	    --wsrep-sst-receive-address="${NODE_ADDR[$n]}:${NODE_SST[$n]}" \
	    --wsrep-slave-threads=2 \
	    --wsrep-provider-options="gmcast.listen_addr=tcp://${NODE_ADDR[$n]}:${NODE_GCOMM[$n]};ist.recv_addr=${NODE_ADDR[$n]}:${NODE_IST[$n]};gcache.size=64M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.install_timeout=PT6S"
}

# The pid of node N while it runs.
node_pid() {
	pid_of "$(node_pidfile "$1")" "$(node_dir "$1")/data"
}

# SQL as root on node N (its socket); extra arguments go to the client.
node_sql() {
	local n=$1
	shift
	mariadb --no-defaults --socket="$(node_socket "$n")" --user=root \
	    --connect-timeout=2 -N -B "$@"
}

# "SIZE STATE" of node N (wsrep_cluster_size, wsrep_local_state_comment).
node_state() {
	node_sql "$1" -e "SELECT MAX(IF(VARIABLE_NAME='WSREP_CLUSTER_SIZE',
	    VARIABLE_VALUE, NULL)), MAX(IF(VARIABLE_NAME=
	    'WSREP_LOCAL_STATE_COMMENT', VARIABLE_VALUE, NULL))
	    FROM information_schema.GLOBAL_STATUS" 2>/dev/null | tr '\t' ' '
}
