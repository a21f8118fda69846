import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.impl.consumer.ProcessQueue;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.MessageQueueSelector;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Orderly consumption: messages of each sharding key go to one queue (MessageQueueSelector) and two
 * MessageListenerOrderly members consume each key's messages in send order; every owned queue is locked on the
 * broker (LOCK_BATCH_MQ), so no queue is consumed by both. A failed message (SUSPEND_CURRENT_QUEUE_A_MOMENT) is
 * redelivered locally in order with reconsumeTimes 1.
 */
public class Orderly {
  public static void main(String[] args) throws Exception {
    Common.begin("Orderly", 120);
    String topic = Common.unique("JOrder");
    String group = Common.unique("JOrderC");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 4);
    Map<String, List<Integer>> byKey = new ConcurrentHashMap<>();
    Map<Integer, String> queueOwner = new ConcurrentHashMap<>();
    List<String> conflicts = new CopyOnWriteArrayList<>();
    AtomicInteger failedOnce = new AtomicInteger();
    List<DefaultMQPushConsumer> members = new ArrayList<>();
    for (String name : new String[] {"o1", "o2"}) {
      DefaultMQPushConsumer c = Common.pushConsumer(group, name);
      c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
      c.subscribe(topic, "*");
      c.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
        for (MessageExt m : msgs) {
          String prev = queueOwner.putIfAbsent(m.getQueueId(), name);
          if (prev != null && !prev.equals(name)) conflicts.add("queue " + m.getQueueId() + " by " + prev + " and " + name);
          int seq = Integer.parseInt(m.getUserProperty("seq"));
          if (m.getKeys().equals("order-2") && seq == 5 && failedOnce.getAndIncrement() == 0) {
            return ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
          }
          if (m.getKeys().equals("order-2") && seq == 5) Common.note("redelivered reconsumeTimes " + m.getReconsumeTimes());
          byKey.computeIfAbsent(m.getKeys(), k -> new CopyOnWriteArrayList<>()).add(seq);
        }
        return ConsumeOrderlyStatus.SUCCESS;
      });
      c.start();
      members.add(c);
    }
    // Both members must have settled on disjoint, locked queues before messages flow. The second member's first
    // lock attempt can race the first member's unlock of the queues it gives up; it then retries at its next
    // rebalance (20 s), in RocketMQ too.
    long t0 = System.currentTimeMillis();
    Common.waitUntil(() -> {
      int locked = 0;
      for (DefaultMQPushConsumer c : members) {
        for (Map.Entry<MessageQueue, ProcessQueue> e
            : c.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().entrySet()) {
          if (e.getKey().getTopic().equals(topic) && e.getValue().isLocked()) locked++;
        }
      }
      return locked == 4;
    }, 45_000, "4 queues locked by the 2 members");
    long lockedMs = System.currentTimeMillis() - t0;
    DefaultMQProducer producer = Common.producer(Common.unique("JOrderP"));
    MessageQueueSelector selector = (mqs, msg, arg) -> mqs.get(Math.abs((Integer) arg) % mqs.size());
    int keys = 8;
    int perKey = 20;
    for (int seq = 0; seq < perKey; seq++) {
      for (int k = 0; k < keys; k++) {
        Message m = new Message(topic, "O", "order-" + k, ("o" + k + "-" + seq).getBytes(StandardCharsets.UTF_8));
        m.putUserProperty("seq", "" + seq);
        SendResult r = producer.send(m, selector, k);
        Common.check(r.getMessageQueue().getQueueId() == k % 4, "selector queue " + r.getMessageQueue());
      }
    }
    Common.waitUntil(() -> {
      int total = 0;
      for (List<Integer> l : byKey.values()) total += l.size();
      return total == keys * perKey;
    }, 30_000, "all " + keys * perKey + " orderly messages");
    for (int k = 0; k < keys; k++) {
      List<Integer> seqs = byKey.get("order-" + k);
      for (int i = 0; i < perKey; i++) Common.check(seqs.get(i) == i, "order of key " + k + ": " + seqs);
    }
    Common.check(conflicts.isEmpty(), "queues consumed by two members " + conflicts);
    Common.check(failedOnce.get() == 2, "suspended message redelivered " + failedOnce.get());
    Common.pass(keys + " keys x " + perKey + " in order, queues " + queueOwner + ", locked in " + (lockedMs / 1000) + " s");
  }
}
