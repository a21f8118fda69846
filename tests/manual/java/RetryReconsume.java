import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * RECONSUME_LATER → the broker stores a copy in %RETRY%group and redelivers it after the delay: first at the
 * broker's level 3 (10 s), then at a level the listener picks (1 → 1 s); reconsumeTimes 0, 1, 2; the copy keeps
 * msgId, keys, tags, body and user properties, carries RETRY_TOPIC and ORIGIN_MESSAGE_ID, and shows the original topic.
 */
public class RetryReconsume {
  public static void main(String[] args) throws Exception {
    Common.begin("RetryReconsume", 90);
    String topic = Common.unique("JRetry");
    String group = Common.unique("JRetryC");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 2);
    List<MessageExt> deliveries = new CopyOnWriteArrayList<>();
    List<Long> times = new CopyOnWriteArrayList<>();
    DefaultMQPushConsumer consumer = Common.pushConsumer(group, Common.unique("c"));
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      MessageExt m = msgs.get(0);
      deliveries.add(m);
      times.add(System.currentTimeMillis());
      if (m.getReconsumeTimes() >= 2) return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
      if (m.getReconsumeTimes() == 1) ctx.setDelayLevelWhenNextConsume(1);
      return ConsumeConcurrentlyStatus.RECONSUME_LATER;
    });
    consumer.start();
    DefaultMQProducer producer = Common.producer(Common.unique("JRetryP"));
    Message msg = new Message(topic, "TagR", "retry-key", "retry-body".getBytes(StandardCharsets.UTF_8));
    msg.putUserProperty("u", "v");
    SendResult sent = producer.send(msg);
    Common.waitUntil(() -> deliveries.size() >= 3, 40_000, "3 deliveries, got " + deliveries.size());
    Thread.sleep(1500);
    Common.check(deliveries.size() == 3, "deliveries " + deliveries.size());
    for (int i = 0; i < 3; i++) {
      MessageExt m = deliveries.get(i);
      Common.note("delivery " + i + ": topic " + m.getTopic() + " q" + m.getQueueId() + " props " + m.getProperties());
      Common.check(m.getReconsumeTimes() == i, "reconsumeTimes of delivery " + i + " = " + m.getReconsumeTimes());
      Common.check(m.getMsgId().equals(sent.getMsgId()), "msgId " + m.getMsgId() + " vs " + sent.getMsgId());
      Common.check(m.getTopic().equals(topic), "topic " + m.getTopic());
      Common.check("retry-key".equals(m.getKeys()) && "TagR".equals(m.getTags()), "keys/tags");
      Common.check("v".equals(m.getUserProperty("u")), "user property");
      Common.check(new String(m.getBody(), StandardCharsets.UTF_8).equals("retry-body"), "body");
      if (i > 0) {
        Common.check(topic.equals(m.getProperty("RETRY_TOPIC")), "RETRY_TOPIC " + m.getProperties());
        Common.check(sent.getOffsetMsgId().equals(m.getProperty("ORIGIN_MESSAGE_ID")), "ORIGIN_MESSAGE_ID "
            + m.getProperty("ORIGIN_MESSAGE_ID") + " vs " + sent.getOffsetMsgId());
      }
    }
    long first = times.get(1) - times.get(0);
    long second = times.get(2) - times.get(1);
    Common.check(first >= 9_000 && first <= 13_000, "first retry after " + first + " ms (level 3 = 10 s)");
    Common.check(second >= 800 && second <= 4_000, "second retry after " + second + " ms (level 1 = 1 s)");
    Common.pass("retries after " + first + " ms and " + second + " ms");
  }
}
