import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Prints every field a Java client sees of stored messages of each kind (plain, flagged, unicode, compressed, batch,
 * delayed before and after its delay, retry copy, dead letter, auto-created topic, send result), normalized so runs
 * against two brokers can be diffed line by line: `run.sh <ns> Fields` on both, then `diff`. It passes when it could
 * read everything; the diff is the verdict.
 */
public class Fields {
  static String topic;
  static String group;
  static String run;

  public static void main(String[] args) throws Exception {
    Common.begin("Fields", 90);
    run = Common.unique("F");
    topic = run + "_T";
    group = run + "_G";
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 1);
    DefaultMQProducer producer = Common.producer(run + "_P");
    DefaultMQPullConsumer puller = new DefaultMQPullConsumer(run + "_R");
    puller.setNamesrvAddr(Common.ns());
    puller.setInstanceName(Common.unique("r"));
    puller.start();
    List<String> out = new ArrayList<>();

    Message plain = new Message(topic, "TagA", "k1 k2", "plain".getBytes(StandardCharsets.UTF_8));
    plain.putUserProperty("user", "v");
    out.add("send plain: " + result(producer.send(plain)));
    Message flagged = new Message(topic, "TagB", "flagged", 77, "f".getBytes(), true);
    out.add("send flagged: " + result(producer.send(flagged)));
    Message unicode = new Message(topic, "Tág", "ключ", "ünï".getBytes(StandardCharsets.UTF_8));
    unicode.putUserProperty("näme", "välue ✓");
    out.add("send unicode: " + result(producer.send(unicode)));
    out.add("send nokeys: " + result(producer.send(new Message(topic, "x".getBytes()))));
    byte[] big = new byte[8000];
    java.util.Arrays.fill(big, (byte) 'z');
    out.add("send compressed: " + result(producer.send(new Message(topic, "Z", "zip", big))));
    out.add("send batch: " + result(producer.send(List.of(new Message(topic, "B", "b1", "1".getBytes()),
        new Message(topic, "B", "b2", "2".getBytes())))));
    Message delayed = new Message(topic, "D", "delayed", "d".getBytes());
    delayed.setDelayTimeLevel(1);
    out.add("send delayed: " + result(producer.send(delayed)).replaceAll(" off\\d+", " off<schedule>"));
    Message waitFalse = new Message(topic, "W", "nowait", 0, "w".getBytes(), false);
    out.add("send nowait: " + result(producer.send(waitFalse)));
    String auto = run + "_Auto";
    out.add("send auto: " + result(producer.send(new Message(auto, "A", "auto", "a".getBytes()))));

    MessageQueue mq = new MessageQueue(topic, "broker-a", 0);
    PullResult scheduled = puller.pull(new MessageQueue("SCHEDULE_TOPIC_XXXX", "broker-a", 0), "*",
        Math.max(0, puller.maxOffset(new MessageQueue("SCHEDULE_TOPIC_XXXX", "broker-a", 0)) - 1), 1);
    out.add("pull SCHEDULE_TOPIC_XXXX: " + scheduled.getPullStatus());
    if (scheduled.getPullStatus() == PullStatus.FOUND) {
      for (MessageExt m : scheduled.getMsgFoundList()) out.add("  " + describe(m).replaceAll(" off\\d+", " off<schedule>"));
    }
    Thread.sleep(2500); // the delayed message is due after 1 s

    // A consumer fails "plain" once, so it comes back from %RETRY%; "flagged" goes straight to the DLQ (level -1).
    List<MessageExt> seen = new CopyOnWriteArrayList<>();
    DefaultMQPushConsumer consumer = Common.pushConsumer(group, Common.unique("c"));
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "TagA || TagB");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      MessageExt m = msgs.get(0);
      seen.add(m);
      if (m.getTags().equals("TagB")) {
        ctx.setDelayLevelWhenNextConsume(-1);
        return ConsumeConcurrentlyStatus.RECONSUME_LATER;
      }
      if (m.getReconsumeTimes() == 0) {
        ctx.setDelayLevelWhenNextConsume(1);
        return ConsumeConcurrentlyStatus.RECONSUME_LATER;
      }
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    Common.waitUntil(() -> seen.size() >= 3, 20_000, "3 push deliveries");
    Thread.sleep(1000);
    List<String> deliveries = new ArrayList<>();
    for (MessageExt m : seen) deliveries.add("push delivery: " + describe(m));
    java.util.Collections.sort(deliveries);
    out.addAll(deliveries);

    PullResult all = puller.pull(mq, "*", 0, 64);
    out.add("pull topic: " + all.getPullStatus() + " next=" + all.getNextBeginOffset() + " min=" + all.getMinOffset()
        + " max=" + all.getMaxOffset());
    for (MessageExt m : all.getMsgFoundList()) out.add("  " + describe(m));
    pullAll(puller, "%RETRY%" + group, out);
    pullAll(puller, "%DLQ%" + group, out);
    pullAll(puller, auto, out);
    for (String line : out) System.out.println("FIELD " + line);
    Common.pass(out.size() + " lines");
  }

  static void pullAll(DefaultMQPullConsumer puller, String t, List<String> out) throws Exception {
    for (MessageQueue q : puller.fetchSubscribeMessageQueues(t)) {
      PullResult r = puller.pull(q, "*", 0, 64);
      if (r.getPullStatus() != PullStatus.FOUND) continue;
      out.add("pull " + norm(t) + " q" + q.getQueueId() + ": " + r.getPullStatus() + " next=" + r.getNextBeginOffset());
      for (MessageExt m : r.getMsgFoundList()) out.add("  " + describe(m));
    }
  }

  static String result(SendResult r) {
    return r.getSendStatus() + " q" + r.getMessageQueue().getQueueId() + " off" + r.getQueueOffset() + " msgIds="
        + r.getMsgId().split(",").length + " offsetIds=" + (r.getOffsetMsgId() == null ? "null" : r.getOffsetMsgId().split(",").length)
        + " region=" + r.getRegionId() + " traceOn=" + r.isTraceOn() + " txId=" + (r.getTransactionId() == null ? "null" : "set");
  }

  static String norm(String s) {
    if (s == null) return "null";
    return s.replace(run, "RUN").replaceAll("[0-9A-F]{32,}", "<id>").replaceAll("1[0-9]{12}", "<ts>");
  }

  static String describe(MessageExt m) {
    Map<String, String> props = new TreeMap<>();
    for (Map.Entry<String, String> e : m.getProperties().entrySet()) props.put(e.getKey(), norm(e.getValue()));
    props.remove("CONSUME_START_TIME");
    props.remove("MIN_OFFSET");
    props.remove("MAX_OFFSET");
    return norm(m.getTopic()) + " q" + m.getQueueId() + " off" + m.getQueueOffset() + " flag=" + m.getFlag()
        + " sysFlag=" + m.getSysFlag() + " reconsume=" + m.getReconsumeTimes() + " size=" + m.getStoreSize()
        + " bodyCRC=" + m.getBodyCRC() + " body=" + m.getBody().length + " born=" + m.getBornHostNameString()
        + " store=" + m.getStoreHost().toString().replaceAll(":\\d+$", ":PORT") + " timesOk="
        + (m.getStoreTimestamp() >= m.getBornTimestamp()) + " prepTx=" + m.getPreparedTransactionOffset()
        + " tags=" + norm(m.getTags()) + " keys=" + norm(m.getKeys()) + " props=" + props;
  }
}
