import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/** producer.send(List) lands in one queue with consecutive offsets; every message keeps its keys, tags and properties. */
public class BatchSend {
  public static void main(String[] args) throws Exception {
    Common.begin("BatchSend", 60);
    String topic = Common.unique("JBatch");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 4);
    DefaultMQProducer producer = Common.producer(Common.unique("JBatchP"));
    int n = 20;
    List<Message> batch = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Message m = new Message(topic, i % 2 == 0 ? "Even" : "Odd", "b" + i, ("batch-" + i).getBytes(StandardCharsets.UTF_8));
      m.putUserProperty("idx", "" + i);
      batch.add(m);
    }
    SendResult r = producer.send(batch);
    Common.check(r.getSendStatus() == SendStatus.SEND_OK, "status " + r);
    Common.check(r.getMsgId().split(",").length == n, "msgIds " + r.getMsgId());
    Common.check(r.getOffsetMsgId().split(",").length == n, "offsetMsgIds " + r.getOffsetMsgId());
    int other = (r.getMessageQueue().getQueueId() + 1) % 4;
    SendResult r2 = producer.send(batch.subList(0, 3), new MessageQueue(topic, r.getMessageQueue().getBrokerName(), other));
    Common.check(r2.getMessageQueue().getQueueId() == other, "batch to queue " + other + ": " + r2);
    Map<String, MessageExt> got = new ConcurrentHashMap<>();
    DefaultMQPushConsumer consumer = Common.pushConsumer(Common.unique("JBatchC"), Common.unique("c"));
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) got.put(m.getKeys() + "@" + m.getQueueId(), m);
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    Common.waitUntil(() -> got.size() == n + 3, 30_000, (n + 3) + " messages, got " + got.size());
    int q = r.getMessageQueue().getQueueId();
    String[] uniq = r.getMsgId().split(",");
    for (int i = 0; i < n; i++) {
      MessageExt m = got.get("b" + i + "@" + q);
      Common.check(m != null, "missing b" + i);
      Common.check(m.getQueueOffset() == r.getQueueOffset() + i, "offset of b" + i + " " + m.getQueueOffset());
      Common.check(m.getTags().equals(i % 2 == 0 ? "Even" : "Odd"), "tag " + m.getTags());
      Common.check(("" + i).equals(m.getUserProperty("idx")), "property " + m.getProperties());
      Common.check(m.getMsgId().equals(uniq[i]), "msgId " + m.getMsgId() + " vs " + uniq[i]);
      Common.check(new String(m.getBody(), StandardCharsets.UTF_8).equals("batch-" + i), "body");
    }
    Common.pass(n + "+3 messages in order");
  }
}
