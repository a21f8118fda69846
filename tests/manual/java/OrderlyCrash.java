import java.io.File;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.impl.consumer.ProcessQueue;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * An orderly member in another JVM is killed while holding queue locks. The survivor rebalances at once (connection
 * close → NOTIFY_CONSUMER_IDS_CHANGED) but takes a queue only once it can lock it, i.e. once the dead member's locks
 * expire (60 s in RocketMQ 4.9.7, which keeps locks across a disconnect) and its next rebalance (20 s) comes.
 */
public class OrderlyCrash {
  public static void main(String[] args) throws Exception {
    if (args.length == 2) {
      DefaultMQPushConsumer c = Common.pushConsumer(args[1], "aa-doomed");
      c.subscribe(args[0], "*");
      c.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> ConsumeOrderlyStatus.SUCCESS);
      c.start();
      Thread.sleep(600_000);
      return;
    }
    Common.begin("OrderlyCrash", 150);
    String topic = Common.unique("JOCrash");
    String group = Common.unique("JOCrashC");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 4);
    ProcessBuilder pb = new ProcessBuilder(new File(System.getProperty("java.home"), "bin/java").getPath(),
        "-Dns=" + Common.ns(), "-Drocketmq.client.logRoot=" + System.getProperty("rocketmq.client.logRoot") + "/child",
        "-Duser.home=" + System.getProperty("user.home") + "/child", "-cp", System.getProperty("java.class.path"),
        "OrderlyCrash", topic, group);
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    Process child = pb.start();
    Map<Integer, Boolean> consumedQueues = new ConcurrentHashMap<>();
    DefaultMQPushConsumer survivor = Common.pushConsumer(group, "zz-survivor");
    survivor.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    survivor.subscribe(topic, "*");
    survivor.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
      for (MessageExt m : msgs) consumedQueues.put(m.getQueueId(), true);
      return ConsumeOrderlyStatus.SUCCESS;
    });
    survivor.start();
    Common.waitUntil(() -> owned(survivor, topic) == 2 && locked(survivor, topic) == 2, 40_000,
        "survivor owns and locks 2 of 4 queues (the child joined)");
    Thread.sleep(3000); // the child locks its two
    child.destroyForcibly();
    child.waitFor(10, TimeUnit.SECONDS);
    long t0 = System.currentTimeMillis();
    Common.waitUntil(() -> locked(survivor, topic) == 4, 110_000, "survivor locks all 4 queues");
    long lockedAfter = System.currentTimeMillis() - t0;
    DefaultMQProducer producer = Common.producer(Common.unique("JOCrashP"));
    for (int q = 0; q < 4; q++) {
      producer.send(new Message(topic, "O", "o" + q, "x".getBytes()), new MessageQueue(topic, "broker-a", q));
    }
    Common.waitUntil(() -> consumedQueues.size() == 4, 15_000, "consumed on all 4 queues: " + consumedQueues.keySet());
    Common.pass("took over the dead member's queues after " + lockedAfter + " ms");
  }

  static int owned(DefaultMQPushConsumer c, String topic) {
    int n = 0;
    for (MessageQueue mq : c.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().keySet()) {
      if (mq.getTopic().equals(topic)) n++;
    }
    return n;
  }

  static int locked(DefaultMQPushConsumer c, String topic) {
    int n = 0;
    for (Map.Entry<MessageQueue, ProcessQueue> e
        : c.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().entrySet()) {
      if (e.getKey().getTopic().equals(topic) && e.getValue().isLocked()) n++;
    }
    return n;
  }
}
