#!/usr/bin/env bash
# Manual compatibility scenarios with the real Apache RocketMQ 4.9.7 Java client.
#
#   tests/manual/java/run.sh <namesrv host:port> [Scenario ...]
#
# Compiles every *.java here against the reference build's classpath (RMQ_CLASSPATH, default
# ~/.cache/reference-rocketmq/build/classpath) into $BUILD (default /tmp/denomq-java-scenarios),
# then runs each scenario (all when none are named) in its own JVM and prints its PASS/FAIL line.
# Client logs go to $BUILD/logs/<scenario>. Exit code = number of failed scenarios.
#
# Fields, ErrorPaths and NameServerApi also print normalized FIELD/RESULT lines: run them against the
# reference broker and against denomq and diff the two outputs. Names are unique per run, so a
# shared broker is fine; use a different BUILD per concurrent run.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
NS="${1:?usage: run.sh <namesrv host:port> [Scenario ...]}"
shift
CP_FILE="${RMQ_CLASSPATH:-$HOME/.cache/reference-rocketmq/build/classpath}"
BUILD="${BUILD:-/tmp/denomq-java-scenarios}"
[ -f "$CP_FILE" ] || { echo "no classpath file $CP_FILE (build the reference RocketMQ first)" >&2; exit 100; }
CP="$(cat "$CP_FILE")"
rm -rf "$BUILD/classes"
mkdir -p "$BUILD/classes" "$BUILD/logs"
javac -nowarn -encoding UTF-8 -d "$BUILD/classes" -cp "$CP" "$HERE"/*.java 2>&1 | grep -v '^Note:'
[ "${PIPESTATUS[0]}" = 0 ] || { echo "compilation failed" >&2; exit 100; }

if [ $# -eq 0 ]; then
  # BrokerRestart is left out: it needs someone to restart the broker while it runs.
  set -- SendModes AutoCreateTopic CompressedBody BatchSend DelayLevels TagFilter Rebalance RebalanceCrash Broadcast \
    RetryReconsume DeadLetter Orderly OrderlyDeadLetter OrderlyCrash LitePullSubscribe LitePullAssign PullConsumer \
    VipChannel ConsumeFromWhereStart SubscriptionChange Namespace MessageTrace QueryMessage RequestReply Transaction \
    Fields ErrorPaths NameServerApi
fi
failed=0
for s in "$@"; do
  [ -f "$BUILD/classes/$s.class" ] || { echo "FAIL $s: no such scenario"; failed=$((failed + 1)); continue; }
  mkdir -p "$BUILD/logs/$s"
  out="$(java -Dns="$NS" -Duser.home="$BUILD/logs/$s" -Drocketmq.client.logRoot="$BUILD/logs/$s" \
    -Drocketmq.client.localOffsetStoreDir="$BUILD/logs/$s/offsets" -Dlogback.configurationFile="$HERE/logback.xml" \
    -Drocketmq.client.logLevel=INFO ${JAVA_OPTS:-} -cp "$BUILD/classes:$CP" "$s" 2>"$BUILD/logs/$s/stderr.txt")"
  line="$(printf '%s\n' "$out" | grep -E '^(PASS|FAIL) ' | tail -1)"
  [ -n "$line" ] || line="FAIL $s: no verdict (see $BUILD/logs/$s/stderr.txt)"
  printf '%s\n' "$out" | grep -v -E '^(PASS|FAIL) ' | sed 's/^/  /'
  echo "$line"
  case "$line" in PASS*) ;; *) failed=$((failed + 1)) ;; esac
done
exit "$failed"
