import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/** Sync, async and oneway sends with keys, tags and user properties; a push consumer sees them intact. */
public class SendModes {
  public static void main(String[] args) throws Exception {
    Common.begin("SendModes", 60);
    String topic = Common.unique("JSend");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 4);
    DefaultMQProducer producer = Common.producer(Common.unique("JSendP"));

    Map<String, MessageExt> got = new ConcurrentHashMap<>();
    DefaultMQPushConsumer consumer = Common.pushConsumer(Common.unique("JSendC"), Common.unique("c"));
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) got.put(m.getKeys(), m);
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();

    int n = 10;
    for (int i = 0; i < n; i++) {
      Message m = new Message(topic, "TagS", "sync-" + i, ("body-sync-" + i).getBytes(StandardCharsets.UTF_8));
      m.putUserProperty("color", "red-" + i);
      SendResult r = producer.send(m);
      Common.check(r.getSendStatus() == SendStatus.SEND_OK, "sync send status " + r.getSendStatus());
      Common.check(r.getMsgId() != null && r.getOffsetMsgId() != null && r.getOffsetMsgId().length() == 32,
          "sync send ids " + r);
      Common.check(r.getMessageQueue().getTopic().equals(topic) && r.getQueueOffset() >= 0, "sync result " + r);
      Common.check(r.getRegionId() != null && r.isTraceOn(), "region/trace " + r.getRegionId() + " " + r.isTraceOn());
    }
    CountDownLatch acked = new CountDownLatch(n);
    Map<String, String> asyncErrors = new ConcurrentHashMap<>();
    for (int i = 0; i < n; i++) {
      Message m = new Message(topic, "TagA", "async-" + i, ("body-async-" + i).getBytes(StandardCharsets.UTF_8));
      m.putUserProperty("color", "blue-" + i);
      final int idx = i;
      producer.send(m, new SendCallback() {
        public void onSuccess(SendResult r) {
          if (r.getSendStatus() != SendStatus.SEND_OK) asyncErrors.put("" + idx, "" + r.getSendStatus());
          acked.countDown();
        }

        public void onException(Throwable e) {
          asyncErrors.put("" + idx, e.toString());
          acked.countDown();
        }
      });
    }
    Common.check(acked.await(15, TimeUnit.SECONDS), "async acks");
    Common.check(asyncErrors.isEmpty(), "async errors " + asyncErrors);
    for (int i = 0; i < n; i++) {
      Message m = new Message(topic, "TagO", "oneway-" + i, ("body-oneway-" + i).getBytes(StandardCharsets.UTF_8));
      m.putUserProperty("color", "green-" + i);
      producer.sendOneway(m);
    }
    Common.waitUntil(() -> got.size() >= 3 * n, 30_000, "3*" + n + " messages, got " + got.size());
    String[][] kinds = {{"sync", "TagS", "red"}, {"async", "TagA", "blue"}, {"oneway", "TagO", "green"}};
    for (String[] k : kinds) {
      for (int i = 0; i < n; i++) {
        MessageExt m = got.get(k[0] + "-" + i);
        Common.check(m != null, "missing " + k[0] + "-" + i);
        Common.check(new String(m.getBody(), StandardCharsets.UTF_8).equals("body-" + k[0] + "-" + i), "body " + m);
        Common.check(k[1].equals(m.getTags()), "tag " + m.getTags());
        Common.check((k[2] + "-" + i).equals(m.getUserProperty("color")), "user property " + m.getProperties());
        Common.check(m.getReconsumeTimes() == 0, "reconsumeTimes " + m.getReconsumeTimes());
        Common.check(m.getBornHost() != null && m.getStoreHost() != null, "hosts");
        Common.check(m.getProperty("CLUSTER") != null, "CLUSTER property " + m.getProperties());
      }
    }
    Common.pass(3 * n + " messages");
  }
}
