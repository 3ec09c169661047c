#!/usr/bin/env bash
# Stop the daemons that tests/slurm/start_local_cluster.sh started (slurmd, slurmctld, and
# munged when it started munged), and nothing else. Leaves slurm.conf, the spool directories
# and the logs under /var/log/slurm in place; running it twice is harmless.
set -euo pipefail

PATH="$PATH:/usr/sbin:/sbin"
STATE_DIR=/run/lso-local-slurm

[ "$(id -u)" -eq 0 ] || {
    echo "stop_local_cluster.sh: must run as root" >&2
    exit 1
}

stop() { # name, pid file
    local name="$1" pid_file="$2" pid
    [ -f "$STATE_DIR/$name" ] || return 0
    if [ -f "$pid_file" ]; then
        pid="$(cat "$pid_file")"
        if kill -0 "$pid" 2>/dev/null; then
            echo "stopping $name (pid $pid)"
            kill "$pid"
            for _ in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.2
            done
            if kill -0 "$pid" 2>/dev/null; then
                echo "$name did not stop after 10 s; killing it" >&2
                kill -9 "$pid" 2>/dev/null || true
            fi
        fi
    fi
    rm -f "$STATE_DIR/$name"
}

stop slurmd /run/slurmd.pid
stop slurmctld /run/slurmctld.pid
stop munged /run/munge/munged.pid
