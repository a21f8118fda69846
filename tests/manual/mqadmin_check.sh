#!/usr/bin/env bash
# Manual check: Apache RocketMQ 4.9.7's own `mqadmin` against a fresh denomq NameServer + broker.
#
#   tests/manual/mqadmin_check.sh
#
# Needs the reference build (../shared/reference-rocketmq: build.sh writes the tools classpath to
# $REF_ROCKETMQ_DIR/build/classpath, default ~/.cache/reference-rocketmq) and java on PATH, so it
# is not part of `deno task test`; tests/broker_admin_test.ts covers the same reply shapes.
#
# Starts `main.ts nameserver` and `main.ts broker` on free ports with a temporary store, runs each
# mqadmin command, and judges it by its output (mqadmin exits 0 even when a command fails). A
# benchmark Consumer from the reference build plays the online consumer group. Prints one
# PASS/FAIL line per check; the exit code is the number of failures. KEEP=1 keeps the temp dir.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
B="${REF_ROCKETMQ_DIR:-$HOME/.cache/reference-rocketmq}/build"
[ -f "$B/classpath" ] || { echo "no $B/classpath: build the reference RocketMQ first" >&2; exit 100; }
CP="$(cat "$B/classpath")"
WORK="$(mktemp -d /tmp/denomq-mqadmin-XXXXXX)"
JOPTS=(-Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "-Duser.home=$WORK/home"
  "-Drocketmq.client.logRoot=$WORK/logs" --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED -Dio.netty.tryReflectionSetAccessible=true)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  [ "${KEEP:-0}" = 1 ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

# start_role <name> <args...>: runs main.ts in the background, waits for its ready line, prints its port.
start_role() {
  local name="$1"
  shift
  (cd "$ROOT" && exec deno run -P="$1" main.ts "$@") >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    if grep -q '"event":"ready"' "$WORK/$name.out" 2>/dev/null; then
      grep '"event":"ready"' "$WORK/$name.out" | head -1 | sed -E 's/.*"port":([0-9]+).*/\1/'
      return 0
    fi
    sleep 0.2
  done
  echo "$name did not start; see $WORK/$name.err" >&2
  exit 100
}

NS_PORT="$(start_role nameserver nameserver --port 0)"
NS="127.0.0.1:$NS_PORT"
BR_PORT="$(start_role broker broker --port 0 -n "$NS" --store "$WORK/store" --set mappedFileSizeCommitLog=16777216)"
BROKER="127.0.0.1:$BR_PORT"
echo "denomq NameServer $NS, broker $BROKER, work dir $WORK"
sleep 1 # first registration

mqadmin() {
  # In $WORK: some subcommands (consumerStatus) write files into the current directory.
  (cd "$WORK" && ROCKETMQ_HOME="$B" java "${JOPTS[@]}" -cp "$CP" org.apache.rocketmq.tools.command.MQAdminStartup "$@" 2>&1)
}

failed=0
# check <label> <output> <regex>...: every regex must match a line, and no exception may be printed.
check() {
  local label="$1" out="$2" ok=1 why=""
  shift 2
  for re in "$@"; do
    if ! grep -qE -- "$re" <<<"$out"; then ok=0; why="no line matches /$re/"; break; fi
  done
  if [ $ok = 1 ] && grep -qE 'Exception|command failed' <<<"$out"; then
    ok=0
    why="$(grep -E 'Exception|command failed' <<<"$out" | grep -v '^\s*at ' | head -2 | tr '\n' ' ')"
  fi
  if [ $ok = 1 ]; then
    echo "PASS $label"
  else
    echo "FAIL $label: $why"
    sed 's/^/    | /' <<<"$out" | grep -v '^    | \s*at ' | head -15
    failed=$((failed + 1))
  fi
}

# check_refused <label> <output> <regex>: the command must fail with a message matching regex.
check_refused() {
  if grep -qE -- "$3" <<<"$2"; then echo "PASS $1"; else
    echo "FAIL $1: expected a refusal matching /$3/"
    sed 's/^/    | /' <<<"$2" | head -10
    failed=$((failed + 1))
  fi
}

T=AdminCheckTopic
G=AdminCheckGroup

out="$(mqadmin clusterList -n "$NS")"
check clusterList "$out" "^DefaultCluster +broker-a +0 +$BROKER +V4_9_7 +[0-9.]+\([0-9]+,[0-9]+ms\)"

out="$(mqadmin brokerStatus -n "$NS" -b "$BROKER")"
check brokerStatus "$out" '^brokerVersionDesc +: V4_9_7' '^putTps +: [0-9.]+ [0-9.]+ [0-9.]+' \
  '^commitLogDirCapacity +: Total : '

out="$(mqadmin updateTopic -n "$NS" -c DefaultCluster -t "$T" -r 4 -w 4)"
check updateTopic "$out" "create topic to $BROKER success"

out="$(mqadmin topicList -n "$NS")"
check topicList "$out" "^$T\$" '^TBW102$'

out="$(mqadmin topicRoute -n "$NS" -t "$T")"
check topicRoute "$out" '"readQueueNums":4' "\"brokerAddrs\":\\{0:\"$BROKER\""

for n in 1 2 3; do
  out="$(mqadmin sendMessage -n "$NS" -t "$T" -p "admin check $n" -k "key$n" -c TagA)"
  check "sendMessage #$n" "$out" '^broker-a +[0-3] +SEND_OK +[0-9A-F]+'
done

out="$(mqadmin topicStatus -n "$NS" -t "$T")"
check topicStatus "$out" '^broker-a +0 +0 +[0-9]+'
total="$(awk '$1=="broker-a" {s+=$4} END {print s+0}' <<<"$out")"
[ "$total" = 3 ] && echo "PASS topicStatus counts 3 messages" || {
  echo "FAIL topicStatus counts $total messages, expected 3"
  failed=$((failed + 1))
}

out="$(mqadmin queryMsgByKey -n "$NS" -t "$T" -k key2)"
check queryMsgByKey "$out" '^#Message ID' '^[0-9A-F]{32,56} +[0-3] +[0-9]+ *$'

queue="$(mqadmin topicStatus -n "$NS" -t "$T" | awk '$1=="broker-a" && $4>0 {print $2; exit}')"
out="$(mqadmin queryMsgByOffset -n "$NS" -t "$T" -b broker-a -i "$queue" -o 0)"
check queryMsgByOffset "$out" '^OffsetID: +[0-9A-F]{32}' "^Topic: +$T" '^Tags: +\[TagA\]'
offset_id="$(grep -E '^OffsetID:' <<<"$out" | awk '{print $2}')"

out="$(mqadmin queryMsgById -n "$NS" -i "$offset_id")"
check queryMsgById "$out" "^OffsetID: +$offset_id" "^Topic: +$T" '^Keys: +\[key[123]\]'

# An online consumer group: RocketMQ's benchmark Consumer.
java "${JOPTS[@]}" -cp "$CP" org.apache.rocketmq.example.benchmark.Consumer -n "$NS" -t "$T" -g "$G" -w 2 \
  >"$WORK/consumer.out" 2>&1 &
CONSUMER_PID=$!
PIDS+=($CONSUMER_PID)
for _ in $(seq 1 30); do
  out="$(mqadmin consumerConnection -n "$NS" -g "$G")"
  grep -q '^#ClientId' <<<"$out" && break
  sleep 1
done
check consumerConnection "$out" '^#ClientId +#ClientAddr +#Language +#Version' ' JAVA +V4_9_7$' \
  "^$T +\\*$" "^%RETRY%$G +\\*$" '^ConsumeType: CONSUME_PASSIVELY' '^MessageModel: CLUSTERING'

for _ in $(seq 1 20); do # until the consumer has consumed and committed (its retry queue included)
  out="$(mqadmin consumerProgress -n "$NS" -g "$G")"
  grep -qE "^%RETRY%$G " <<<"$out" && grep -q '^Diff Total: 0' <<<"$out" && break
  sleep 1
done
check "consumerProgress -g" "$out" "^%RETRY%$G +broker-a +0 " "^$T +broker-a +[0-3] +[0-9]+ +[0-9]+ +0 " \
  '^Consume TPS: [0-9.]+' '^Diff Total: 0'

out="$(mqadmin consumerProgress -n "$NS")"
check "consumerProgress (all groups)" "$out" "^$G +1 +V4_9_7 +PUSH +CLUSTERING "

out="$(mqadmin consumerStatus -n "$NS" -g "$G")"
check "consumerStatus (relayed GET_CONSUMER_RUNNING_INFO)" "$out" '^1 +[^ ]+@[^ ]+ +V4_9_7 ' 'Rebalance OK'

# The benchmark Consumer prints a line every 10 s; one with a number for AVG(B2C) consumed something.
consumed_lines() { grep -cE 'AVG\(B2C\) RT\(ms\): +[0-9]' "$WORK/consumer.out"; }
before="$(consumed_lines)"
out="$(mqadmin resetOffsetByTime -n "$NS" -g "$G" -t "$T" -s 0)"
check resetOffsetByTime "$out" "^rollback consumer offset by specified group\\[$G\\], topic\\[$T\\]" \
  '^broker-a +0 +0 *$' '^broker-a +3 +0 *$'
# The client takes the reset after its 10 s pause and consumes the 3 messages again.
for _ in $(seq 1 40); do
  [ "$(consumed_lines)" -gt "$before" ] && break
  sleep 1
done
if [ "$(consumed_lines)" -gt "$before" ]; then
  echo "PASS resetOffsetByTime: the consumer received the messages again"
else
  echo "FAIL resetOffsetByTime: the consumer did not consume again (see $WORK/consumer.out)"
  failed=$((failed + 1))
fi

# With the group offline the broker answers CONSUMER_NOT_ONLINE and mqadmin falls back to the old
# way: consume stats, then SEARCH_OFFSET/GET_MAX_OFFSET and UPDATE_CONSUMER_OFFSET per queue.
kill "$CONSUMER_PID" 2>/dev/null
for _ in $(seq 1 20); do
  grep -q 'not online' <<<"$(mqadmin consumerConnection -n "$NS" -g "$G")" && break
  sleep 1
done
out="$(mqadmin resetOffsetByTime -n "$NS" -g "$G" -t "$T" -s 0)"
check "resetOffsetByTime (group offline: mqadmin's fallback)" "$out" \
  "^rollback consumer offset by specified consumerGroup\\[$G\\], topic\\[$T\\]" \
  '^broker-a +[0-3] +[0-9]+ +[0-9]+ +0 +0 *$'
out="$(mqadmin consumerProgress -n "$NS" -g "$G")"
check "consumerProgress after the offline reset" "$out" '^Diff Total: 3'

out="$(mqadmin updateSubGroup -n "$NS" -c DefaultCluster -g AdminCheckSubGroup -r 5 -q 2)"
check updateSubGroup "$out" "create subscription group to $BROKER success" 'retryQueueNums=2, retryMaxTimes=5'

out="$(mqadmin deleteSubGroup -n "$NS" -c DefaultCluster -g AdminCheckSubGroup)"
check deleteSubGroup "$out" \
  "delete subscription group \\[AdminCheckSubGroup\\] from broker \\[$BROKER\\] in cluster \\[DefaultCluster\\] success"

out="$(mqadmin getBrokerConfig -n "$NS" -b "$BROKER")"
check getBrokerConfig "$out" "^============$BROKER============" '^brokerName +=  broker-a' \
  '^autoCreateTopicEnable +=  true'

out="$(mqadmin updateBrokerConfig -n "$NS" -b "$BROKER" -k autoCreateTopicEnable -v false)"
check updateBrokerConfig "$out" "update broker config success, $BROKER"
out="$(mqadmin getBrokerConfig -n "$NS" -b "$BROKER")"
check "getBrokerConfig shows the update" "$out" '^autoCreateTopicEnable +=  false'
out="$(mqadmin updateBrokerConfig -n "$NS" -b "$BROKER" -k brokerName -v other)"
check_refused "updateBrokerConfig refuses a restart-only key" "$out" \
  'CODE: 1 +DESC: Cannot update broker config: "brokerName" can only be changed in broker.conf'

# Extras: statistics, consume queue, broker-wide consume stats, housekeeping.
out="$(mqadmin statsAll -n "$NS" -t "$T")"
check statsAll "$out" "^$T +$G +3 +[0-9.]+ +[0-9.]+ +3 +[0-9]+" # 3 to consume again after the reset to 0
out="$(mqadmin queryCq -n "$NS" -t "$T" -q "$queue" -i 0 -c 1 -b "$BROKER")"
check queryCq "$out" '^max: [0-9]+, min: 0' 'ConsumeQueueData\{physicOffset=[0-9]+, physicSize=[0-9]+'
out="$(mqadmin brokerConsumeStats -n "$NS" -b "$BROKER")"
# Queues print only with a last-consumed time; after the reset to 0 there is none, only the lag.
check brokerConsumeStats "$out" '^#Topic +#Group +#Broker Name' '^Diff Total: 3'
for cmd in cleanExpiredCQ cleanUnusedTopic deleteExpiredCommitLog; do
  out="$(mqadmin "$cmd" -n "$NS" -b "$BROKER")"
  check "$cmd" "$out" '^success$'
done

out="$(mqadmin deleteTopic -n "$NS" -c DefaultCluster -t "$T")"
check deleteTopic "$out" "delete topic \\[$T\\] from cluster \\[DefaultCluster\\] success" \
  "delete topic \\[$T\\] from NameServer success"
out="$(mqadmin topicList -n "$NS")"
if grep -qE "^$T\$" <<<"$out"; then
  echo "FAIL deleteTopic: $T is still listed"
  failed=$((failed + 1))
else
  echo "PASS deleteTopic: $T is gone from topicList"
fi

echo "failed: $failed"
exit "$failed"
