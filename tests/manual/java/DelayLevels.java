import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/** Delay levels 1 (1 s) and 2 (5 s): delivered to the real topic and queue after the delay, not before. */
public class DelayLevels {
  public static void main(String[] args) throws Exception {
    Common.begin("DelayLevels", 60);
    String topic = Common.unique("JDelay");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 4);
    Map<String, Long> arrived = new ConcurrentHashMap<>();
    Map<String, MessageExt> got = new ConcurrentHashMap<>();
    DefaultMQPushConsumer consumer = Common.pushConsumer(Common.unique("JDelayC"), Common.unique("c"));
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) {
        arrived.put(m.getKeys(), System.currentTimeMillis());
        got.put(m.getKeys(), m);
      }
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    Thread.sleep(1500); // let the consumer settle its queues
    DefaultMQProducer producer = Common.producer(Common.unique("JDelayP"));
    Map<String, Long> sentAt = new ConcurrentHashMap<>();
    Map<String, Integer> queueOf = new ConcurrentHashMap<>();
    int[] levels = {0, 1, 2, 1, 2};
    for (int i = 0; i < levels.length; i++) {
      Message m = new Message(topic, "D", "d" + i + "-L" + levels[i], ("delay-" + i).getBytes(StandardCharsets.UTF_8));
      if (levels[i] > 0) m.setDelayTimeLevel(levels[i]);
      long t = System.currentTimeMillis();
      SendResult r = producer.send(m);
      sentAt.put(m.getKeys(), t);
      queueOf.put(m.getKeys(), r.getMessageQueue().getQueueId());
    }
    Common.waitUntil(() -> got.size() == levels.length, 20_000, "all delayed messages");
    long[] expectMs = {0, 1000, 5000};
    StringBuilder detail = new StringBuilder();
    for (int i = 0; i < levels.length; i++) {
      String k = "d" + i + "-L" + levels[i];
      long took = arrived.get(k) - sentAt.get(k);
      MessageExt m = got.get(k);
      detail.append(k).append('=').append(took).append("ms ");
      Common.check(took >= expectMs[levels[i]] - 200, k + " arrived early: " + took + " ms");
      Common.check(took <= expectMs[levels[i]] + 3000, k + " arrived late: " + took + " ms");
      Common.check(m.getTopic().equals(topic), "topic " + m.getTopic());
      Common.check(m.getQueueId() == queueOf.get(k), k + " queue " + m.getQueueId() + " sent to " + queueOf.get(k));
      if (levels[i] > 0) {
        Common.check(("" + levels[i]).equals(m.getProperty("DELAY")), "DELAY property " + m.getProperties());
        Common.check(topic.equals(m.getProperty("REAL_TOPIC")), "REAL_TOPIC " + m.getProperties());
      }
    }
    Common.pass(detail.toString().trim());
  }
}
