#!/usr/bin/env bash
# Docker's network create, connect and disconnect timed by curl itself (`-w %{time_total}`: from
# the start of the request to the end of the response, no process start-up), beside
# ../shared/bench/docker-ref.sh's figures (which time `date` + a `curl` process around each request).
# The same private dockerd set-up as docker-ref.sh: a throwaway network and mount namespace, a
# busybox image imported from busybox-static, N running containers.
# Usage (root): docker-curl-time.sh [N]      default N=30
# Prints one JSON line with medians in milliseconds.
set -euo pipefail
N=${1:-30}
command -v dockerd >/dev/null || { echo '{"error":"dockerd not installed (apt-get install docker.io)"}'; exit 3; }
exec unshare --net --mount --propagation private bash -s "$N" <<'INNER'
set -euo pipefail
N=$1
D=$(mktemp -d /tmp/switchyard-bench-dockerd.XXXXXX)
mount -t tmpfs tmpfs /run
ip link set lo up
dockerd --data-root "$D/data" --exec-root "$D/exec" --pidfile "$D/dockerd.pid" -H "unix://$D/docker.sock" >"$D/dockerd.log" 2>&1 &
DPID=$!
cleanup() { kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null || true; rm -rf "$D" 2>/dev/null || true; }
trap cleanup EXIT
S="$D/docker.sock"
for _ in $(seq 1 100); do curl -sf --unix-socket "$S" http://d/_ping >/dev/null 2>&1 && break; sleep 0.1; done
api() { curl -sf --unix-socket "$S" -H 'Content-Type: application/json' "$@"; }
timed() { curl -sf -o /dev/null -w '%{time_total}\n' --unix-socket "$S" -H 'Content-Type: application/json' "$@"; }
R="$D/rootfs"; mkdir -p "$R/bin"; cp "$(command -v busybox)" "$R/bin/"; for c in sh sleep; do ln -s busybox "$R/bin/$c"; done
tar -C "$R" -c . | api -X POST --data-binary @- -H 'Content-Type: application/x-tar' "http://d/v1.41/images/create?fromSrc=-&repo=busybox&tag=ref" >/dev/null
median() { sort -n | awk '{a[NR]=$1} END{ m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf("%.2f", m*1000) }'; }
create=$(for i in 1 2 3 4 5; do timed -X POST -d "{\"Name\":\"refnet$i\",\"Driver\":\"bridge\"}" http://d/v1.41/networks/create; done | median)
for i in $(seq 1 "$N"); do
  id=$(api -X POST -d '{"Image":"busybox:ref","Cmd":["sleep","100000"],"HostConfig":{"NetworkMode":"refnet1"}}' "http://d/v1.41/containers/create?name=c$i" | sed 's/.*"Id":"\([0-9a-f]*\)".*/\1/')
  api -X POST "http://d/v1.41/containers/$id/start" >/dev/null
done
connect=$(for i in $(seq 1 "$N"); do timed -X POST -d "{\"Container\":\"c$i\"}" http://d/v1.41/networks/refnet2/connect; done | median)
disconnect=$(for i in $(seq 1 "$N"); do timed -X POST -d "{\"Container\":\"c$i\"}" http://d/v1.41/networks/refnet2/disconnect; done | median)
ping=$(for i in $(seq 1 "$N"); do timed http://d/_ping; done | median)
for i in $(seq 1 "$N"); do api -X DELETE "http://d/v1.41/containers/c$i?force=true" >/dev/null || true; done
printf '{"n":%d,"network_create_ms":%s,"connect_ms":%s,"disconnect_ms":%s,"ping_ms":%s}\n' "$N" "$create" "$connect" "$disconnect" "$ping"
INNER
