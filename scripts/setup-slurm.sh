#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the cluster tests (test/cluster/) and for trying
# `gradflow sweep --executor slurm` locally. Idempotent: running it again on a live cluster only
# checks it. Needs root (it writes /etc/slurm/slurm.conf and starts the daemons); no systemd needed.
#
#   scripts/setup-slurm.sh [start]          install (if missing) and start munge, slurmctld, slurmd
#   scripts/setup-slurm.sh status           exit 0 when the node is idle or busy (ready for jobs)
#   scripts/setup-slurm.sh restart-controller   stop and start slurmctld (jobs keep running)
#   scripts/setup-slurm.sh stop             stop slurmd and slurmctld (munged is left running)
#
# State and logs live in $GRADFLOW_SLURM_DIR (default /var/tmp/gradflow-slurm). The cluster uses
# Slurm's fixed ports 6817/6818, so there is one per machine.
set -euo pipefail

DIR=${GRADFLOW_SLURM_DIR:-/var/tmp/gradflow-slurm}
CONF=/etc/slurm/slurm.conf
HOST=$(hostname -s)
CMD=${1:-start}

log() { printf 'setup-slurm: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# Poll (never a fixed sleep) until a command succeeds or the deadline passes.
wait_for() { # seconds description command...
  local limit=$1 what=$2; shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$end" ] || { log "timed out after ${limit}s waiting for $what"; return 1; }
    sleep 0.1
  done
}

node_state() { sinfo -h -N -o %t 2>/dev/null | head -n1; }
node_ready() { case "$(node_state)" in idle | mix | alloc | comp) return 0 ;; *) return 1 ;; esac; }
ctld_up() { scontrol ping 2>/dev/null | grep -q 'is UP'; }
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
pid_of() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null && cat "$1"; }

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then return; fi
  [ "$(id -u)" = 0 ] || die "slurm-wlm and munge are not installed and this is not root: install them (apt-get install slurm-wlm munge)"
  log "installing slurm-wlm and munge"
  # Other jobs on this machine may use apt at the same time: serialise on one lock.
  flock /tmp/apt.lock apt-get update -qq
  DEBIAN_FRONTEND=noninteractive flock /tmp/apt.lock apt-get install -y -qq --no-install-recommends slurm-wlm munge
}

start_munge() {
  if munge_ok; then return; fi
  install -d -o munge -g munge -m 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    # The package normally creates the key; a fresh image without one gets a random key.
    install -d -o munge -g munge -m 0700 /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=128 status=none
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  # As root munged refuses its log directory's ownership: run it as the munge user.
  runuser -u munge -- munged
  wait_for 10 "munged" munge_ok || die "munged does not answer (munge -n | unmunge)"
}

write_conf() {
  local cpus mem
  cpus=$(nproc)
  # Memory Slurm may hand out (MB): the machine's, less 512 MB for the system.
  mem=$(awk '/MemTotal/ { m = int($2 / 1024) - 512; if (m < 256) m = 256; print m }' /proc/meminfo)
  mkdir -p "$DIR/ctld" "$DIR/d" /etc/slurm
  local tmp="$CONF.tmp.$$"
  cat >"$tmp" <<EOF
# Written by gradflow scripts/setup-slurm.sh: a one-node test cluster (no systemd, no cgroups).
ClusterName=gradflow
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/d
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.log
MpiDefault=none
MailProg=/bin/true
SchedulerParameters=batch_sched_delay=0,kill_invalid_depend
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=600
MaxArraySize=1001
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
  if [ -f "$CONF" ] && cmp -s "$tmp" "$CONF"; then rm -f "$tmp"; else mv "$tmp" "$CONF"; log "wrote $CONF"; fi
}

start_ctld() {
  if ctld_up; then return; fi
  if pid_of "$DIR/slurmctld.pid" >/dev/null; then
    wait_for 20 "slurmctld to answer" ctld_up && return
  fi
  slurmctld
  wait_for 30 "slurmctld to answer (log: $DIR/slurmctld.log)" ctld_up || die "slurmctld did not start; see $DIR/slurmctld.log"
}

start_slurmd() {
  if ! pid_of "$DIR/slurmd.pid" >/dev/null; then slurmd; fi
  if ! wait_for 30 "the node to be ready" node_ready; then
    # A node left down by an earlier run comes back once it is told to.
    scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true
    wait_for 20 "the node to be ready" node_ready || die "node $HOST is '$(node_state)', not idle; see $DIR/slurmd.log"
  fi
}

stop_daemon() { # pidfile name
  local pid
  pid=$(pid_of "$1") || return 0
  kill "$pid" 2>/dev/null || true
  wait_for 30 "$2 to exit" bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
}

case "$CMD" in
  start)
    install_packages
    [ "$(id -u)" = 0 ] || die "run as root (it writes $CONF and starts the Slurm daemons)"
    start_munge
    write_conf
    start_ctld
    start_slurmd
    log "ready: node $HOST is $(node_state) ($(nproc) CPUs); state and logs in $DIR"
    ;;
  status)
    node_ready
    ;;
  restart-controller)
    stop_daemon "$DIR/slurmctld.pid" slurmctld
    start_ctld
    wait_for 30 "the node to be ready" node_ready
    ;;
  stop)
    stop_daemon "$DIR/slurmd.pid" slurmd
    stop_daemon "$DIR/slurmctld.pid" slurmctld
    ;;
  *)
    die "unknown command '$CMD' (start | status | restart-controller | stop)"
    ;;
esac
