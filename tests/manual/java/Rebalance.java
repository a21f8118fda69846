import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Clustering push consumers on an 8-queue topic: 1 member takes 8 queues, 2 members 4+4, 3 members 3+3+2 (averagely,
 * by sorted client id); when one leaves the rest take its queues over. Rebalances are driven by
 * NOTIFY_CONSUMER_IDS_CHANGED, so each step must settle well inside the 20 s periodic rebalance. Every message is
 * consumed, none by two members while they agree on the split.
 */
public class Rebalance {
  static final int QUEUES = 8;
  static final long SETTLE_MS = 8_000;

  public static void main(String[] args) throws Exception {
    Common.begin("Rebalance", 120);
    String topic = Common.unique("JReb");
    String group = Common.unique("JRebC");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, QUEUES);
    DefaultMQProducer producer = Common.producer(Common.unique("JRebP"));
    Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
    List<DefaultMQPushConsumer> members = new ArrayList<>();
    AtomicInteger sent = new AtomicInteger();

    StringBuilder timeline = new StringBuilder();
    for (int k = 1; k <= 3; k++) {
      long t0 = System.currentTimeMillis();
      members.add(start(group, topic, "m" + k, seen));
      int[] expect = k == 1 ? new int[] {8} : k == 2 ? new int[] {4, 4} : new int[] {3, 3, 2};
      settle(members, expect, k + " members");
      timeline.append(k).append(" members ").append(System.currentTimeMillis() - t0).append("ms; ");
      send(producer, topic, sent, 40);
      Common.waitUntil(() -> seen.size() == sent.get(), 20_000, sent.get() + " messages with " + members.size());
    }
    // The middle member leaves (UNREGISTER_CLIENT + connection close): the others take over.
    long t0 = System.currentTimeMillis();
    DefaultMQPushConsumer leaving = members.remove(1);
    leaving.shutdown();
    settle(members, new int[] {4, 4}, "after one left");
    timeline.append("leave ").append(System.currentTimeMillis() - t0).append("ms; ");
    send(producer, topic, sent, 40);
    Common.waitUntil(() -> seen.size() == sent.get(), 20_000, sent.get() + " messages after leave");
    t0 = System.currentTimeMillis();
    members.remove(0).shutdown();
    settle(members, new int[] {8}, "after two left");
    timeline.append("leave2 ").append(System.currentTimeMillis() - t0).append("ms");
    send(producer, topic, sent, 40);
    Common.waitUntil(() -> seen.size() == sent.get(), 20_000, sent.get() + " messages with one left");
    int dup = 0;
    for (AtomicInteger c : seen.values()) if (c.get() > 1) dup++;
    Common.note("duplicates " + dup);
    Common.pass(sent.get() + " consumed, " + dup + " redelivered; " + timeline);
  }

  static DefaultMQPushConsumer start(String group, String topic, String name, Map<String, AtomicInteger> seen)
      throws Exception {
    DefaultMQPushConsumer c = Common.pushConsumer(group, name);
    c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    c.subscribe(topic, "*");
    c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) seen.computeIfAbsent(m.getKeys(), x -> new AtomicInteger()).incrementAndGet();
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    c.start();
    return c;
  }

  static Set<MessageQueue> owned(DefaultMQPushConsumer c, String topicPrefix) {
    Set<MessageQueue> out = new TreeSet<>();
    for (MessageQueue mq : c.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().keySet()) {
      if (!mq.getTopic().startsWith("%RETRY%")) out.add(mq);
    }
    return out;
  }

  /** Waits until the members own exactly `expect` queue counts (in member-id order) covering all queues once. */
  static void settle(List<DefaultMQPushConsumer> members, int[] expect, String what) throws InterruptedException {
    Common.waitUntil(() -> {
      Set<MessageQueue> union = new TreeSet<>();
      List<Integer> counts = new ArrayList<>();
      int total = 0;
      for (DefaultMQPushConsumer c : members) {
        Set<MessageQueue> own = owned(c, "");
        counts.add(own.size());
        total += own.size();
        union.addAll(own);
      }
      List<Integer> want = new ArrayList<>();
      for (int e : expect) want.add(e);
      return union.size() == QUEUES && total == QUEUES && counts.equals(want);
    }, SETTLE_MS, "rebalance " + what + " to " + java.util.Arrays.toString(expect) + ": " + describe(members));
    Common.note(what + ": " + describe(members));
  }

  static String describe(List<DefaultMQPushConsumer> members) {
    StringBuilder sb = new StringBuilder();
    for (DefaultMQPushConsumer c : members) sb.append(c.getInstanceName()).append(Common.queueIds(owned(c, ""))).append(' ');
    return sb.toString();
  }

  static void send(DefaultMQProducer p, String topic, AtomicInteger sent, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      int k = sent.getAndIncrement();
      p.send(new Message(topic, "R", "r" + k, ("reb-" + k).getBytes(StandardCharsets.UTF_8)));
    }
  }
}
