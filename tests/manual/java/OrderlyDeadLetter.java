import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * An orderly listener that always suspends: the client retries locally (reconsumeTimes 0..max), then re-sends the
 * message to %RETRY%group with reconsumeTimes > max, which the broker must redirect to %DLQ%group; the queue then
 * moves on to the next message.
 */
public class OrderlyDeadLetter {
  public static void main(String[] args) throws Exception {
    Common.begin("OrderlyDeadLetter", 60);
    String topic = Common.unique("JODlq");
    String group = Common.unique("JODlqC");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 1);
    List<String> seen = new CopyOnWriteArrayList<>();
    DefaultMQPushConsumer c = Common.pushConsumer(group, Common.unique("o"));
    c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    c.setMaxReconsumeTimes(2);
    c.setSuspendCurrentQueueTimeMillis(100);
    c.subscribe(topic, "*");
    c.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
      MessageExt m = msgs.get(0);
      seen.add(m.getKeys() + "#" + m.getReconsumeTimes());
      return m.getKeys().equals("bad") ? ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT : ConsumeOrderlyStatus.SUCCESS;
    });
    c.start();
    DefaultMQProducer producer = Common.producer(Common.unique("JODlqP"));
    producer.send(new Message(topic, "O", "bad", "bad".getBytes(StandardCharsets.UTF_8)));
    producer.send(new Message(topic, "O", "good", "good".getBytes(StandardCharsets.UTF_8)));
    Common.waitUntil(() -> seen.contains("good#0"), 20_000, "the next message after the poisoned one: " + seen);
    Common.note("seen " + seen);
    DefaultMQPullConsumer puller = new DefaultMQPullConsumer(Common.unique("JODlqR"));
    puller.setNamesrvAddr(Common.ns());
    puller.setInstanceName(Common.unique("r"));
    puller.start();
    PullResult dead = null;
    long deadline = System.currentTimeMillis() + 10_000;
    while (System.currentTimeMillis() < deadline) {
      try {
        dead = puller.pull(new MessageQueue("%DLQ%" + group, "broker-a", 0), "*", 0, 32);
        if (dead.getPullStatus() == PullStatus.FOUND) break;
      } catch (Exception e) {
        Common.note("DLQ pull: " + e.getMessage());
      }
      Thread.sleep(300);
    }
    if (dead == null || dead.getPullStatus() != PullStatus.FOUND) {
      // RocketMQ 4.9.7 redirects the re-sent message to the DLQ but still applies the DELAY level the client set
      // (3 + reconsumeTimes), so it first waits in SCHEDULE_TOPIC_XXXX with REAL_TOPIC=%DLQ%group.
      int level = 3 + 2;
      MessageQueue sq = new MessageQueue("SCHEDULE_TOPIC_XXXX", "broker-a", level - 1);
      PullResult scheduled = puller.pull(sq, "*", Math.max(0, puller.maxOffset(sq) - 5), 32);
      boolean waiting = false;
      if (scheduled.getMsgFoundList() != null) {
        for (MessageExt m : scheduled.getMsgFoundList()) waiting |= ("%DLQ%" + group).equals(m.getProperty("REAL_TOPIC"));
      }
      Common.check(waiting, "DLQ " + dead + " and nothing scheduled for it");
      Common.pass("local retries " + seen + ", then to the DLQ after delay level " + level);
    }
    MessageExt m = dead.getMsgFoundList().get(0);
    Common.note("DLQ reconsumeTimes " + m.getReconsumeTimes() + " props " + m.getProperties());
    Common.check(m.getKeys().equals("bad"), "DLQ holds " + m.getKeys());
    Common.pass("local retries " + seen + ", then DLQ with reconsumeTimes " + m.getReconsumeTimes());
  }
}
