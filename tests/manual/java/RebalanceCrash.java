import java.io.File;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * A group member in another JVM is killed (no UNREGISTER_CLIENT, its connections just drop): the broker notices the
 * closed channel and notifies the survivor, which takes every queue within seconds, not after the 120 s channel
 * expiry. Messages sent after the crash are all consumed by the survivor.
 */
public class RebalanceCrash {
  public static void main(String[] args) throws Exception {
    if (args.length == 2) {
      member(args[0], args[1]);
      return;
    }
    Common.begin("RebalanceCrash", 90);
    String topic = Common.unique("JCrash");
    String group = Common.unique("JCrashC");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 4);
    String cp = System.getProperty("java.class.path");
    ProcessBuilder pb = new ProcessBuilder(new File(System.getProperty("java.home"), "bin/java").getPath(),
        "-Dns=" + Common.ns(), "-Drocketmq.client.logRoot=" + System.getProperty("rocketmq.client.logRoot") + "/child",
        "-Duser.home=" + System.getProperty("user.home") + "/child", "-cp", cp, "RebalanceCrash", topic, group);
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    Process child = pb.start();
    Set<String> got = ConcurrentHashMap.newKeySet();
    DefaultMQPushConsumer survivor = Common.pushConsumer(group, "zz-survivor");
    survivor.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    survivor.subscribe(topic, "*");
    survivor.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) got.add(m.getKeys());
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    survivor.start();
    Common.waitUntil(() -> owned(survivor) == 2, 30_000, "survivor owns 2 of 4 queues (child joined), has " + owned(survivor));
    child.destroyForcibly();
    child.waitFor(10, TimeUnit.SECONDS);
    long t0 = System.currentTimeMillis();
    Common.waitUntil(() -> owned(survivor) == 4, 15_000, "survivor takes all 4 queues after the crash");
    long took = System.currentTimeMillis() - t0;
    DefaultMQProducer producer = Common.producer(Common.unique("JCrashP"));
    for (int i = 0; i < 40; i++) producer.send(new Message(topic, "C", "c" + i, ("c" + i).getBytes()));
    Common.waitUntil(() -> got.size() == 40, 20_000, "40 messages after the crash, got " + got.size());
    Common.pass("took over in " + took + " ms");
  }

  static int owned(DefaultMQPushConsumer c) {
    int n = 0;
    for (var mq : c.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().keySet()) {
      if (!mq.getTopic().startsWith("%RETRY%")) n++;
    }
    return n;
  }

  static void member(String topic, String group) throws Exception {
    DefaultMQPushConsumer c = Common.pushConsumer(group, "aa-doomed");
    c.subscribe(topic, "*");
    c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> ConsumeConcurrentlyStatus.CONSUME_SUCCESS);
    c.start();
    Thread.sleep(600_000);
  }
}
