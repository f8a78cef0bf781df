#!/usr/bin/env bash
# Server load benchmark, in one run: builds the release binary, starts
# `miroir serve`, measures its cold start, warms up, and runs wrk against
#   (a) GET of a step page inside a live rehearsal: a reload, served from
#       the page cache; and the same on a server that keeps no page, where
#       each GET is a render,
#   (b) the POST-redirect-GET cycle of a step, on that second server, each
#       submit with a new amount: every page is rendered,
#   (c) the catalogue;
# and against nginx serving the byte-identical step page as a static file at
# the page's own path (no index, no internal redirect), tuned as a fast
# static server is: 2 workers, sendfile, open_file_cache, keep-alive for
# 100 000 requests per connection, no access log. The rows take turns in
# rounds, nginx first in each, with the same wrk, threads, connections and
# request headers. Prints the machine, then per row requests per second,
# p50 and p99 latency, the ratio to nginx and the budget, and the CPU time
# the row's server spent per request; then the time of `miroir check` over
# 1 000 generated scenario files.
#
#   benches/load.sh                       # 5 rounds of 2 s a row, 64 connections
#   ROUNDS=10 SLICE=3s CONNECTIONS=64 benches/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
SLICE=${SLICE:-2s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}
NGINX_PORT=${NGINX_PORT:-18081}

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
command -v curl >/dev/null || need+=(curl)
if [ "${#need[@]}" -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo build --release --locked --quiet
bin=target/release/miroir
work=$(mktemp -d)
miroir_pid=""; nginx_pid=""; uncached_pid=""
cleanup() {
  [ -n "$miroir_pid" ] && kill "$miroir_pid" 2>/dev/null || true
  [ -n "$uncached_pid" ] && kill "$uncached_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The bundled scenarios, and one whose form step loops onto itself: every
# POST is a valid submit, whatever the other connections did, so the cycle
# can repeat under load.
mkdir -p "$work/scenarios/bench"
cp -r scenarios/. "$work/scenarios/"
cp benches/boucle.yaml "$work/scenarios/bench/boucle.yaml"

# Cold start: from launch to the first answer of /healthz.
cold_ms=$(python3 - "$bin" "$PORT" "$work" <<'PY'
import socket, subprocess, sys, time
binary, port, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
start = time.monotonic()
proc = subprocess.Popen([binary, "serve", "--addr", f"127.0.0.1:{port}", "--scenarios", f"{work}/scenarios"],
                        stdout=subprocess.DEVNULL, stderr=open(f"{work}/miroir.log", "w"))
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=0.2)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        if s.recv(16).startswith(b"HTTP/1.1 200"):
            break
    except OSError:
        pass
    if time.monotonic() - start > 20:
        sys.exit("miroir did not start")
    time.sleep(0.001)
print(f"{(time.monotonic() - start) * 1000:.0f}", flush=True)
open(f"{work}/miroir.pid", "w").write(str(proc.pid))
PY
)
miroir_pid=$(cat "$work/miroir.pid")
base="http://127.0.0.1:$PORT"

# A live rehearsal on a form step, as a visitor has it (cookie, answers).
start_at() { # base scenario step -> "cookie location"
  curl -s -o /dev/null -D - -X POST -H 'Sec-Fetch-Site: same-origin' "$1/auteur/scenarios/$2/commencer/$3" \
    | awk 'tolower($1)=="set-cookie:" {split($2,c,";"); cookie=c[1]} tolower($1)=="location:" {loc=$2} END {gsub("\r","",loc); print cookie, loc}'
}
read -r step_cookie step_path < <(start_at "$base" impots/declaration-revenus revenus)

# A second server that keeps no rendered page (--page-cache-mb 0): every
# GET there is a render. The POST cycle runs on it too.
plain="http://127.0.0.1:$((PORT + 2))"
"$bin" serve --addr "127.0.0.1:$((PORT + 2))" --scenarios "$work/scenarios" --page-cache-mb 0 2>/dev/null &
uncached_pid=$!
until curl -sf "$plain/healthz" >/dev/null; do sleep 0.05; done
read -r plain_cookie plain_path < <(start_at "$plain" impots/declaration-revenus revenus)
read -r loop_cookie loop_path < <(start_at "$plain" bench/boucle formulaire)
# The cycle's submit must be accepted (303), not refused with errors (200).
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Cookie: $loop_cookie" -H 'Sec-Fetch-Site: same-origin' \
  --data 'nom=Durand&montant=1&date=05%2F03%2F1961&choix=oui' "$plain$loop_path")
[ "$status" = 303 ] || { echo "the cycle's submit was answered $status, not 303" >&2; exit 1; }

# nginx serves the step page, byte for byte, at the page's exact path.
mkdir -p "$work/www$(dirname "$step_path")"
page="$work/www$step_path"
curl -s -H "Cookie: $step_cookie" "$base$step_path" > "$page"
# nginx's workers run as another user: they need to read the page.
chmod -R a+rX "$work/www"; chmod 755 "$work"
cat > "$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  keepalive_timeout 75s;
  open_file_cache max=64 inactive=60s;
  open_file_cache_valid 60s;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $work/www;
    default_type text/html;
    charset utf-8;
    location = $step_path { add_header Cache-Control no-store; }
  }
}
NGINX
nginx -c "$work/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
until curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT$step_path"; do sleep 0.05; done
nginx_url="http://127.0.0.1:$NGINX_PORT$step_path"
# The very page, at the very path: a 200 with the same bytes, no redirect.
[ "$(curl -s -o /dev/null -w '%{http_code} %{num_redirects}' "$nginx_url")" = "200 0" ] \
  || { echo "nginx does not answer 200 at $step_path" >&2; cat "$work/nginx.err" >&2; exit 1; }
cmp -s "$page" <(curl -s "$nginx_url") || { echo "nginx does not serve the same page" >&2; cat "$work/nginx.err" >&2; exit 1; }

cat > "$work/cycle.lua" <<LUA
-- The POST-redirect-GET cycle: a submit (answered 303), then the page it
-- leads to, in turn. Each submit gives another amount: every page that
-- follows is a new one, rendered, never a reload.
local threads = 0
setup = function(thread)
  thread:set("first", threads * 1000000000)
  threads = threads + 1
end
local n = 0
request = function()
  n = n + 1
  if n % 2 == 1 then
    local body = "nom=Durand&montant=" .. (first + n) .. "&date=05%2F03%2F1961&choix=oui"
    return wrk.format("POST", "$loop_path", {
      ["Cookie"] = "$loop_cookie",
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Sec-Fetch-Site"] = "same-origin",
    }, body)
  end
  return wrk.format("GET", "$loop_path", { ["Cookie"] = "$loop_cookie" })
end
LUA

# One wrk run: requests, seconds, p50 and p99 (ms), non-2xx/3xx answers.
run() { # url [wrk args...]
  local url=$1; shift
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$SLICE" --latency "$@" "$url")
  awk '/requests in/ { n = $1; d = $4; sub(/,$/, "", d) }
       $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
       /Non-2xx or 3xx/ { e = $5 }
       function ms(v) { if (v ~ /us$/) { sub("us", "", v); return v / 1000 } if (v ~ /ms$/) { sub("ms", "", v); return v + 0 } sub("s", "", v); return v * 1000 }
       function sec(v) { if (v ~ /ms$/) { sub("ms", "", v); return v / 1000 } if (v ~ /m$/) { sub("m", "", v); return v * 60 } sub("s", "", v); return v + 0 }
       END { printf "%d %.3f %.2f %.2f %d\n", n, sec(d), ms(p50), ms(p99), e }' <<<"$out"
}

# Warm up the servers.
wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -H "Cookie: $step_cookie" "$base$step_path" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -H "Cookie: $plain_cookie" "$plain$plain_path" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s "$work/cycle.lua" "$plain$loop_path" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -H "Cookie: $step_cookie" "$nginx_url" >/dev/null

# The rows, nginx first: its reference gets the same request (path and
# cookie) as miroir's reload.
names=(
  "nginx: the step page, static"
  "miroir: GET a step page (page cache)"
  "miroir: GET a step page, rendered"
  "miroir: POST-redirect-GET, rendered"
  "miroir: the catalogue"
)
# The CPU time a row's server spent, in clock ticks, all its threads (and
# for nginx, all its processes): a figure of the server's own, next to the
# ratio, which also holds wrk's share of the two cores.
server_pids() { # index
  case "$1" in
    0) echo "$nginx_pid" $(pgrep -P "$nginx_pid") ;;
    1 | 4) echo "$miroir_pid" ;;
    2 | 3) echo "$uncached_pid" ;;
  esac
}
ticks() { # pid... -> utime + stime
  local t=0 p f
  for p in "$@"; do
    # The fields after the command's name, which is in parentheses.
    read -r -a f <<<"$(sed 's/^.*) //' "/proc/$p/stat")"
    t=$((t + f[11] + f[12]))
  done
  echo "$t"
}
run_row() { # index -> "requests seconds p50 p99 errors ticks"
  local pids before figures
  pids=$(server_pids "$1")
  # shellcheck disable=SC2086
  before=$(ticks $pids)
  case "$1" in
    0) figures=$(run "$nginx_url" -H "Cookie: $step_cookie") ;;
    1) figures=$(run "$base$step_path" -H "Cookie: $step_cookie") ;;
    2) figures=$(run "$plain$plain_path" -H "Cookie: $plain_cookie") ;;
    3) figures=$(run "$plain$loop_path" -s "$work/cycle.lua") ;;
    4) figures=$(run "$base/") ;;
  esac
  # shellcheck disable=SC2086
  echo "$figures $(($(ticks $pids) - before))"
}
# A shared VM speeds up and slows down by a fifth over tens of seconds: a
# row and nginx measured one after the other can meet different machines.
# So the rows take turns, ROUNDS times SLICE each, nginx first in every
# round, and each row's throughput is its requests over its seconds across
# the rounds: every ratio compares the same minutes.
runs="$work/runs"
: > "$runs"
for round in $(seq "$ROUNDS"); do
  for i in "${!names[@]}"; do
    echo "$i $(run_row "$i")" >> "$runs"
  done
done

# The budgets (issue 15): throughput against nginx in the same run, and
# p99 at 64 connections.
budget_of() { # row name -> minimum ratio, or nothing
  case "$1" in
    *"(page cache)") echo 0.8 ;;
    *"GET a step page, rendered") echo 0.5 ;;
    *"POST-redirect-GET"*) echo 0.6 ;;
  esac
}
P99_BUDGET_MS=5

# Per row: requests/s over all its runs, the median of its runs' p50 and
# p99, and its errors.
hz=$(getconf CLK_TCK)
row_figures() { # index -> "rps p50 p99 errors cpu_us_per_request"
  awk -v i="$1" -v hz="$hz" '$1 == i { n += $2; s += $3; e += $6; t += $7; p50[++k] = $4; p99[k] = $5 }
    function median(a, k,   j, t, m, x) { for (j = 1; j <= k; j++) x[j] = a[j]
      for (j = 2; j <= k; j++) { t = x[j]; for (m = j - 1; m >= 1 && x[m] > t; m--) x[m + 1] = x[m]; x[m + 1] = t }
      return k % 2 ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2 }
    END { printf "%.0f %.2f %.2f %d %.1f\n", n / s, median(p50, k), median(p99, k), e, t * 1000000 / hz / n }' "$runs"
}
read -r nginx_rps _ <<<"$(row_figures 0)"
# The machine, first: the ratios depend on it. The same build measured the
# kept page at 0.90-0.95 of nginx on one host and 0.56 on another, with
# nginx as fast on both (README, Performance).
cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
printf '\nmachine: %s, %s cores, Linux %s; %s; %s; %s\n' "${cpu:-unknown CPU}" "$(nproc)" "$(uname -r)" \
  "$(nginx -v 2>&1 | sed 's/^nginx version: //')" "$(wrk -v 2>&1 | awk 'NR == 1 {print $1, $2}')" "$(rustc --version | awk '{print $1, $2}')"
printf '\n%-40s %12s %9s %9s %9s %-14s %7s %9s\n' "test ($CONNECTIONS connections, ${ROUNDS}×$SLICE)" "requests/s" "p50 ms" "p99 ms" "vs nginx" "budget" "errors" "CPU µs/req"
worst_p99=0
for i in "${!names[@]}"; do
  name=${names[$i]}
  read -r rps p50 p99 errors cpu <<<"$(row_figures "$i")"
  ratio=$(awk -v a="$rps" -v b="$nginx_rps" 'BEGIN { printf "%.2f", a/b }')
  budget=$(budget_of "$name")
  verdict=""
  if [ -n "$budget" ]; then
    verdict=$(awk -v r="$ratio" -v b="$budget" 'BEGIN { print (r >= b ? "≥ " b " ok" : "≥ " b " MISSED") }')
  fi
  case "$name" in miroir:*) worst_p99=$(awk -v a="$worst_p99" -v b="$p99" 'BEGIN { print (b > a ? b : a) }') ;; esac
  printf '%-40s %12s %9s %9s %9s %-14s %7s %9s\n' "$name" "$rps" "$p50" "$p99" "$ratio" "$verdict" "$errors" "$cpu"
done
echo "reference: nginx, $nginx_rps requests/s over its $ROUNDS runs"
echo "p99 at $CONNECTIONS connections (median of each row's runs), worst miroir row: $worst_p99 ms (budget ≤ $P99_BUDGET_MS ms: $(awk -v p="$worst_p99" -v b="$P99_BUDGET_MS" 'BEGIN { print (p <= b ? "ok" : "MISSED") }'))"
page_bytes=$(wc -c < "$page")
echo "step page: $page_bytes bytes; cold start of miroir serve with the bundled library: ${cold_ms} ms"

# `miroir check` over 1 000 generated scenario files.
gen="$work/generated"
python3 - "$gen" scenarios <<'PY'
import os, pathlib, sys
out, src = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
files = sorted(p for p in src.glob("*/*.yaml") if not p.name.endswith(".group.yaml"))
for g in src.glob("*/*.group.yaml"):
    (out / g.parent.name).mkdir(parents=True, exist_ok=True)
    (out / g.parent.name / g.name).write_text(g.read_text())
for i in range(1000):
    f = files[i % len(files)]
    d = out / f"{f.parent.name}"
    d.mkdir(parents=True, exist_ok=True)
    # A comment, not the title: a quoted title would break.
    text = f"# copie N°{i}\n" + f.read_text()
    (d / f"{f.stem}-{i:04d}.yaml").write_text(text)
PY
check_ms=$(python3 - "$bin" "$gen" <<'PY'
import subprocess, sys, time
start = time.monotonic()
out = subprocess.run([sys.argv[1], "check", sys.argv[2]], capture_output=True, text=True)
ms = (time.monotonic() - start) * 1000
print(f"{ms:.0f} ms: {out.stdout.strip().splitlines()[-1]}")
PY
)
echo "miroir check over 1 000 generated scenario files: $check_ms"
