#!/usr/bin/env bash
# `make demo`: a tour of offhours on a local AWS emulator (moto). A mixed fleet (EC2 in
# two regions, an RDS instance, an Aurora cluster, an Auto Scaling group, an ECS service)
# under two schedules whose day lasts a minute; the daemon with its status page; a
# warning before a stop and the notices on a local webhook receiver; a snooze; a
# hand-started instance put back by enforce; the savings report. Each wait polls for
# what it waits for, with a deadline, and fails saying what was expected.
#
# DEMO_EXIT=1 ends after the tour; otherwise the daemon keeps running (the status page
# stays up) until Ctrl-C. Needs only Rust and Python 3.
# shellcheck disable=SC2317  # helpers run through poll, show and traps
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ -z "${OFFHOURS_TEST_ENDPOINT:-}" ]; then
  # The binary as `make test` builds it (the dev-dependencies' features unified in):
  # after `make test` nothing is compiled again, where `cargo build` would rebuild 58
  # crates with other features (6.5 min on 2 cores).
  echo "==> cargo test --locked --no-run (builds target/debug/offhours as make test does)"
  cargo test --locked --no-run --quiet
  exec scripts/with-moto.sh "$0"
fi

bin="$root/target/debug/offhours"
py=.venv/bin/python
demo="$root/target/demo"
log="$demo/daemon.log"
hooklog="$demo/webhook.log"
rm -rf "$demo" && mkdir -p "$demo/state"
# Upper case: the emulator's test wrapper keys its fault hook by the access key id.
export AWS_ENDPOINT_URL="$OFFHOURS_TEST_ENDPOINT" AWS_ACCESS_KEY_ID=DEMO AWS_SECRET_ACCESS_KEY=demo
export AWS_REGION=eu-west-1 AWS_EC2_METADATA_DISABLED=true
export OFFHOURS_CONFIG="$demo/offhours.toml"

# Python helpers: the tour's copy of the file, and short forms of plan, log and page.
helper=$(
  cat <<'PY'
import json, re, sys, urllib.request
from datetime import datetime, timezone
try:
    from zoneinfo import ZoneInfo
    TZ = ZoneInfo("Europe/Berlin")  # the file's timezone: log times read like the crons
except Exception:
    TZ = timezone.utc

def clock(ts):
    t = datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(TZ)
    return t.strftime("%H:%M:%S.") + f"{t.microsecond // 1000:03d}"

def short(i):
    return i.split(":", 5)[-1] if i.startswith("arn:") else i

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "tour-file":
    # SRC DST HTTP_PORT NOW: SRC with its crons firing at fixed seconds after NOW, every minute.
    src, dst, port, now = args[0], args[1], args[2], int(args[3])
    cron = lambda after: f'"{(now + after) % 60} * * * * *"'
    over = {
        "schedules.office-hours": {"stop": cron(25), "start": cron(47), "warn_before": '"10s"', "enforce": '"2s"'},
        "schedules.backend": {"stop": cron(35), "start": cron(50)},
        "http": {"listen": f'"127.0.0.1:{port}"'},
    }
    section, out = None, []
    for line in open(src):
        m = re.match(r"\s*\[\[?([^\]]+)\]", line)
        if m:
            section = m.group(1).strip()
        key = line.split("=")[0].strip() if "=" in line and not line.lstrip().startswith("#") else None
        if key in over.get(section, {}):
            new = f"{key} = {over[section].pop(key)}"
            print(f"    {'[' + section + ']':<26} {line.strip():<30} -> {new}")
            line = new + "\n"
        out.append(line)
    left = {s: k for s, k in over.items() if k}
    assert not left, f"not found in {src}: {left}"
    open(dst, "w").write("".join(out))
elif cmd == "plan":
    # `plan --output json` on stdin: schedule, kind, name (else id), region, state, decision.
    for s in json.load(sys.stdin)["schedules"]:
        for r in s["resources"]:
            print(s["schedule"], r["kind"], r["name"] or short(r["id"]), r["region"], r["state"], r["decision"], sep="\t")
elif cmd == "log":
    # LOG POSFILE [KEY=VALUE...]: the daemon's events after the line POSFILE holds, one
    # short line each (those with a KEY of another VALUE left out); POSFILE is moved on.
    path, posfile, wanted = args[0], args[1], dict(a.split("=", 1) for a in args[2:])
    try:
        start = int(open(posfile).read())
    except (OSError, ValueError):
        start = 0
    with open(path) as f:
        lines = [l for l in f.readlines()[start:] if l.endswith("\n")]  # whole lines only
    open(posfile, "w").write(str(start + len(lines)))
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if any(k in e and str(e[k]) != v for k, v in wanted.items()):
            continue
        m, t = e.get("message", ""), clock(e["timestamp"])
        if "outcome" in e and "id" in e:
            who = e.get("name") or short(e["id"])
            why = f"  ({e['reason']})" if e.get("reason") else ""
            print(f"    {t}  {e['job']:<8} {e['schedule']:<12} {e['action']:<5} {e['kind']:<11} {who:<12} "
                  f"{e['region']:<12} {e.get('before') or '-'} -> {e.get('after') or '-'}: {e['outcome']}{why}")
        elif m == "Action finished.":
            print(f"    {t}  {e['job']:<8} {e['schedule']:<12} {e['action']:<5} finished: {e['outcomes']} in {e['duration_ms']} ms")
        elif m.startswith("Stop warning:"):
            print(f"    {t}  warn     {e['schedule']:<12} {e['resources']} resources to stop at {e['stop_at']}")
        elif m == "Notification sent.":
            print(f"    {t}  notice   {e['event']} sent to webhook {e['sink']}")
        elif m == "Resource needs attention.":
            print(f"    {t}  {e['job']:<8} {e['schedule']:<12} {e['action']:<5} {e['kind']:<11} {e['id']:<12} {e['region']:<12} note: {e['warning']}")
        elif m == "Order halted: a group failed, the later groups are held.":
            print(f"    {t}  {m}")
        elif m in ("Signal received.", "Daemon stopped.", "Daemon started.", "HTTP endpoint listening (/, /metrics, /healthz, /readyz)."):
            extra = " ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in e.items() if k not in ("timestamp", "level", "message"))
            print(f"    {t}  {m} {extra}".rstrip())
elif cmd == "page":
    # URL: the status page's schedules (last start and stop) and its savings line.
    page = urllib.request.urlopen(args[0], timeout=10).read().decode()
    text = lambda h: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", h)).replace("&middot;", "·").replace("&gt;", ">").strip()
    for name, body in re.findall(r'<section class="schedule" id="schedule-([^"]+)">(.*?)</section>', page, re.S):
        print(f"    {name}:")
        actions = re.search(r'<div class="actions">(.*)', body, re.S)
        actions = re.sub(r"<thead>.*?</thead>", "", actions.group(1) if actions else "no action yet", flags=re.S)
        actions = actions.replace("</h3>", ":").replace("</caption>", ":")
        for part in re.split(r"</p>|</tr>|<div[^>]*>", actions):
            if text(part):
                print(f"      {text(part)}")
    for p in re.findall(r'<p class="savings-total">(.*?)</p>', page, re.S):
        print(f"    savings: {text(p)}")
PY
)
py_helper() { "$py" -c "$helper" "$@"; }

# The commands as the reader would type them.
offhours() { "$bin" "$@"; }
step() {
  echo
  echo "==> $1"
  shift
  local line
  for line in "$@"; do echo "    $line"; done
}
# show CMD...: print the command (words with spaces quoted), then run it.
show() {
  local word line="\$"
  for word in "$@"; do
    case $word in
      *[[:space:]\(\)]*) line+=" '$word'" ;;
      *) line+=" $word" ;;
    esac
  done
  echo "$line"
  "$@"
}
# trim N: the first N lines of stdin, and how many more there were (reads it all, so
# the writer never sees a closed pipe).
trim() { awk -v n="$1" 'NR <= n { print } END { if (NR > n) print "    ... (" NR - n " more lines)" }'; }
now() { date +%s; }
at() { TZ=Europe/Berlin date -d "@$1" +%H:%M:%S; }

# poll DEADLINE WHAT CMD...: run CMD every 0.2 s until it succeeds; at DEADLINE (Unix
# time) stop the demo, saying what was expected.
poll() {
  local deadline=$1 what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    local gone=""
    if [ -n "$daemon" ] && ! kill -0 "$daemon" 2>/dev/null; then gone=" (the daemon has exited)"; fi
    if (($(now) >= deadline)) || [ -n "$gone" ]; then
      echo
      echo "demo FAILED: expected $what by $(at "$deadline"); it is $(at "$(now)") now$gone." >&2
      echo "    the daemon's last events (all in $log):" >&2
      py_helper log "$log" "$demo/log.all" | tail -n 15 >&2
      echo "    notices received: $hooklog; the emulator's log: target/moto.log" >&2
      exit 1
    fi
    sleep 0.2
  done
}
# logged K=V...: the daemon has logged an event with these fields (values as JSON text).
logged() {
  local lines pair
  lines=$(cat "$log")
  for pair in "$@"; do
    lines=$(grep -F -- "\"${pair%%=*}\":\"${pair#*=}\"" <<<"$lines") || return 1
  done
}
# state NAME: the resource's state as `offhours plan` sees it.
state() { "$bin" plan --output json 2>/dev/null | py_helper plan | awk -F'\t' -v n="$1" '$3 == n { print $5 }'; }
state_is() { [ "$(state "$1")" = "$2" ]; }
# Notices already printed.
notices_shown=0
notices() { grep -c '^POST ' "$hooklog" 2>/dev/null || true; }
has_notice() { [ "$(grep -c "^\[$1\]" "$hooklog" 2>/dev/null || true)" -ge "$2" ]; }
print_notices() {
  awk -v from="$notices_shown" '/^POST /{n++} n > from { print "    webhook| " $0 }' "$hooklog"
  notices_shown=$(notices)
}
# events [K=V...]: the daemon's events since the last call, in short.
events() { py_helper log "$log" "$demo/log.pos" "$@"; }
# plan_of SCHEDULE: `offhours plan`, that schedule's part.
plan_of() {
  echo "\$ offhours plan   # schedule $1 only"
  offhours plan | awk -v s="schedule $1 " 'index($0, s) == 1 { p = 1 } /^$/ { p = 0 } p'
}

daemon=""
hook=""
stop_daemon() {
  [ -n "$daemon" ] || return 0
  kill -TERM "$daemon" 2>/dev/null || true
  local rc=0
  wait "$daemon" || rc=$?
  daemon=""
  echo "==> the daemon exited with status $rc"
  events
  return "$rc"
}
cleanup() {
  if [ -n "$daemon" ]; then kill -TERM "$daemon" 2>/dev/null || true; fi
  if [ -n "$hook" ]; then kill "$hook" 2>/dev/null || true; fi
}
trap cleanup EXIT

step "1. A mixed fleet on the emulator (scripts/demo_seed.py seed)" \
  "Resources follow the schedule their Schedule tag names: office-hours (EC2 in two regions)" \
  "and backend (an RDS instance, an Aurora cluster, an Auto Scaling group, an ECS service)."
"$py" scripts/demo_seed.py seed

step "2. A webhook receiver on a free loopback port (scripts/demo_webhook.py)" \
  "It prints a summary of each JSON notice it receives; the file reads its URL from DEMO_WEBHOOK_URL."
"$py" scripts/demo_webhook.py --port-file "$demo/webhook.port" --raw "$demo/webhook.jsonl" >"$hooklog" 2>&1 &
hook=$!
poll $(($(now) + 10)) "the webhook receiver to listen" test -s "$demo/webhook.port"
DEMO_WEBHOOK_URL="http://127.0.0.1:$(cat "$demo/webhook.port")/ops"
export DEMO_WEBHOOK_URL
echo "    DEMO_WEBHOOK_URL=$DEMO_WEBHOOK_URL"

step "3. The file: config/demo.toml, its day compressed into a minute" \
  "The tour runs a copy whose crons fire at set seconds of every minute and whose status page" \
  "listens on a free port; everything else is as written."
http_port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
t0=$(now)
echo "    config/demo.toml -> target/demo/offhours.toml:"
py_helper tour-file config/demo.toml "$demo/offhours.toml" "$http_port" "$t0"
warn_at=$((t0 + 15)) office_stop=$((t0 + 25)) backend_stop=$((t0 + 35)) office_start=$((t0 + 47)) backend_start=$((t0 + 50))
echo "    the tour: warning $(at $warn_at), office-hours stop $(at $office_stop), backend stop $(at $backend_stop)," \
  "office-hours start $(at $office_start), backend start $(at $backend_start) (Europe/Berlin)"
show offhours check --next 1 | trim 18

step "4. What each schedule governs, and would do now (read-only)" \
  "Per schedule: the matching resources in both regions, the last fire, and what it would do to each" \
  "(prod-web has no Schedule tag: no schedule lists it)."
show offhours plan

step "5. The daemon, with its status page" \
  "First the emulator is told to refuse dev-db's next stop, once (the fault hook of tests/moto/server.py):" \
  "step 10 shows that failure and its notice. The daemon's events go to target/demo/daemon.log (JSON);" \
  "the tour shows them in short."
show "$py" scripts/demo_seed.py refuse-once StopDBInstance dev-db InvalidParameterCombination \
  "dev-db cannot be stopped now (a fault injected by the demo)"
echo "\$ offhours run --state-dir target/demo/state --log-format json 2>target/demo/daemon.log &"
"$bin" run --state-dir "$demo/state" --log-format json 2>"$log" >"$demo/daemon.out" &
daemon=$!
page="http://127.0.0.1:$http_port"
poll $(($(now) + 10)) "the status page to answer at $page/readyz" "$py" -c \
  "import urllib.request, sys; sys.exit(b'ready' not in urllib.request.urlopen('$page/readyz', timeout=2).read())"
events
echo "    status page: $page/   (also /metrics, /healthz, /readyz)"
if (($(now) >= warn_at - 2)); then
  echo "demo FAILED: the daemon was ready only at $(at "$(now)"), too close to the first warning at $(at $warn_at)." >&2
  exit 1
fi

step "6. A warning ahead of the office-hours stop (warn_before: 10 s here, 15 min in the file)" \
  "One notice lists what the stop will stop, each with the command that snoozes it."
echo "    waiting for the notice at $(at $warn_at) ..."
poll $((warn_at + 10)) "a stop-warning notice on the webhook at $(at $warn_at)" has_notice stop-warning 1
print_notices
events schedule=office-hours

step "7. Snooze web-2, with the command the warning gave for it" \
  "It sets the override tag offhours:skip to an instant: stops and starts leave web-2 alone until then."
# The notice's command for web-2, one word a line.
mapfile -t snooze < <("$py" -c 'import json, shlex, sys
for n in map(json.loads, open(sys.argv[1])):
    for r in n.get("resources") or []:
        if r.get("name") == "web-2":
            print("\n".join(shlex.split(r["detail"])))
            sys.exit()' "$demo/webhook.jsonl")
[ "${snooze[0]:-}" = offhours ] || { echo "demo FAILED: the warning gave no snooze command for web-2" >&2; exit 1; }
show "${snooze[@]}"
(($(now) < office_stop)) || { echo "demo FAILED: the snooze came after the stop at $(at $office_stop)" >&2; exit 1; }

step "8. The office-hours stop at $(at $office_stop)" \
  "web-1 (eu-west-1) and staging-api (eu-central-1) stop; web-2 is snoozed and build-agent carries" \
  "the override tag offhours:skip=true: both are left running, each logged with the reason."
poll $((office_stop + 15)) "the office-hours stop to finish" logged message=Action\ finished. schedule=office-hours action=stop job=schedule
events schedule=office-hours
plan_of office-hours

step "9. Enforce: someone starts web-1 by hand during the off period" \
  "The schedule's last fire wants it stopped; with enforce (every 2 s here, 15 min in the file) offhours stops it again."
show "$py" scripts/demo_seed.py start-by-hand web-1
started=$(now)
echo "    polling offhours plan until web-1 is stopped again ..."
poll $((started + 15)) "enforce to stop web-1 again" state_is web-1 stopped
poll $((started + 15)) "the enforce stop of web-1 in the daemon's log" logged job=enforce name=web-1 outcome=stopped
events job=enforce
echo "    web-1: $(state web-1), within $(($(now) - started)) s of the hand start"

step "10. The backend stop at $(at $backend_stop), in the schedule's order: the group and the service, then the databases" \
  "The group's sizes and the service's count and scaling target are recorded in a tag on each, then set" \
  "to 0. dev-db's stop is refused (the fault set in step 5): the others still stop, and the failure is notified."
poll $((backend_stop + 15)) "the backend stop to finish" logged message=Action\ finished. schedule=backend action=stop
events schedule=backend
poll $((backend_stop + 15)) "the action-failed notice on the webhook" has_notice action-failed 1
print_notices
show "$py" scripts/demo_seed.py sizes

step "11. The status page at $page/" \
  "One HTML page (no script): per schedule its week, next fires and last outcomes; the savings below. In short:"
py_helper page "$page/"

step "12. The starts: office-hours at $(at $office_start), backend at $(at $backend_start)" \
  "backend starts the databases first, then restores the group's and the service's recorded sizes exactly." \
  "web-2 is still snoozed (it kept running); dev-db never stopped, so there is nothing to start."
poll $((office_start + 15)) "the office-hours start to finish" logged message=Action\ finished. schedule=office-hours action=start job=schedule
poll $((backend_start + 15)) "the backend start to finish" logged message=Action\ finished. schedule=backend action=start job=schedule
events job=schedule
show "$py" scripts/demo_seed.py sizes

step "13. The savings report: hours kept off and money saved" \
  "Counted from the daemon's ledger of every stop and start, priced at the file's [savings.prices] (the" \
  "emulator has no AWS Price List API). The tour's day is a minute, so its hours are minutes and its money" \
  "under a cent; the projected month is the money. That needs the real crons (the tour's fire more than" \
  "20,000 times a week, which report does not project), so report reads config/demo.toml itself."
show offhours report --config config/demo.toml --state-dir target/demo/state

if [ "${DEMO_EXIT:-}" = 1 ]; then
  step "14. SIGTERM: the daemon finishes what is in flight, then exits"
  stop_daemon
  echo
  echo "==> the tour took $(($(now) - t0)) s from the file to the report; logs in target/demo/"
  exit 0
fi

step "14. The daemon keeps running the one-minute day until Ctrl-C" \
  "Status page: $page/   notices are printed below as they arrive."
interrupted() {
  trap - INT
  echo
  echo "==> Ctrl-C: SIGTERM to the daemon"
  stop_daemon || true
  exit 0
}
trap interrupted INT
while [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; do
  print_notices
  sleep 1 &
  wait $! || true
done
rc=0
wait "$daemon" || rc=$?
echo "==> the daemon stopped by itself with status $rc"
events
exit 1
