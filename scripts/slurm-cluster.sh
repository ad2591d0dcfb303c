#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, without systemd, for `leopard sweep slurm` and its end-to-end test.
#   scripts/slurm-cluster.sh start    install slurm-wlm and munge (as root), write a configuration, start munged,
#                                     slurmctld and slurmd, wait until the node is idle; idempotent
#   scripts/slurm-cluster.sh stop     stop the daemons this script started
#   scripts/slurm-cluster.sh status   sinfo for the cluster
# The configuration lives in $LEOPARD_SLURM_DIR (default /tmp/leopard-slurm), never in /etc/slurm, so a machine's
# real Slurm setup is left alone; clients find it through SLURM_CONF=$LEOPARD_SLURM_DIR/slurm.conf (the Makefile
# exports it when the file exists). One node named `hostname -s` with all its CPUs, one partition `leopard`,
# no accounting, no cgroups (proctrack/linuxproc): enough to run job arrays and dependencies for real.
set -euo pipefail

DIR="${LEOPARD_SLURM_DIR:-/tmp/leopard-slurm}"
CONF="$DIR/slurm.conf"
NODE="$(hostname -s)"
export SLURM_CONF="$CONF"

need_packages() {
    command -v sbatch >/dev/null && command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null
}

install_packages() {
    need_packages && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "the single-node Slurm cluster needs: sudo apt-get install -y slurm-wlm munge (then rerun as root)" >&2
        return 1
    fi
    echo "installing Debian packages: slurm-wlm munge" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq slurm-wlm munge >/dev/null; }
}

# The node's state (idle, mix, alloc, down, ...), empty when no controller answers (sinfo would otherwise retry
# for a minute or more, so it is only asked when slurmctld runs, and with a timeout).
node_state() {
    pgrep -x slurmctld >/dev/null || return 0
    timeout 10 sinfo -h -n "$NODE" -o '%t' 2>/dev/null | head -n 1 || true
}

node_ready() { case "$(node_state)" in idle|mix|alloc) return 0 ;; *) return 1 ;; esac; }

write_config() {
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
    local cpus memory
    cpus=$(nproc)
    memory=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
    cat > "$CONF" <<EOF
# Written by Leopard's scripts/slurm-cluster.sh: a single-node cluster for sweeps and tests.
ClusterName=leopard
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
NodeName=$NODE CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=leopard Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
    install_packages
    [ "$(id -u)" -eq 0 ] || { echo "starting the Slurm daemons needs root" >&2; return 1; }
    if [ -f "$CONF" ] && node_ready; then
        echo "Slurm cluster already up (node $NODE: $(node_state)); SLURM_CONF=$CONF" >&2
        return 0
    fi
    write_config
    # munge: its key comes with the package; the daemon runs as the munge user.
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
    [ -f /etc/munge/munge.key ] || { /usr/sbin/mungekey --create 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
    if ! pgrep -x munged >/dev/null; then
        if id munge >/dev/null 2>&1; then runuser -u munge -- /usr/sbin/munged; else /usr/sbin/munged --force; fi
    fi
    pkill -x slurmctld 2>/dev/null || true
    pkill -x slurmd 2>/dev/null || true
    sleep 0.5
    nohup slurmctld -D -f "$CONF" > "$DIR/log/slurmctld.stdout" 2>&1 &
    sleep 1
    nohup slurmd -D -f "$CONF" > "$DIR/log/slurmd.stdout" 2>&1 &
    for _ in $(seq 1 60); do
        if node_ready; then
            echo "Slurm cluster up: node $NODE ($(nproc) CPUs), partition leopard; SLURM_CONF=$CONF" >&2
            return 0
        fi
        sleep 1
    done
    echo "Slurm did not come up within 60 s; logs in $DIR/log:" >&2
    tail -n 20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
    return 1
}

stop() {
    pkill -x slurmd 2>/dev/null || true
    pkill -x slurmctld 2>/dev/null || true
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    status) sinfo ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 64 ;;
esac
