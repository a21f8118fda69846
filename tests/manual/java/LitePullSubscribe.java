import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/** DefaultLitePullConsumer in subscribe mode: polls every message with a tag filter; committed offsets reach the broker. */
public class LitePullSubscribe {
  public static void main(String[] args) throws Exception {
    Common.begin("LitePullSubscribe", 60);
    String topic = Common.unique("JLite");
    String group = Common.unique("JLiteC");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 4);
    DefaultMQProducer producer = Common.producer(Common.unique("JLiteP"));
    int n = 40;
    for (int i = 0; i < n; i++) {
      producer.send(new Message(topic, i % 4 == 3 ? "Other" : "Lite", "l" + i, ("lite-" + i).getBytes(StandardCharsets.UTF_8)));
    }
    DefaultLitePullConsumer c = new DefaultLitePullConsumer(group);
    c.setNamesrvAddr(Common.ns());
    c.setInstanceName(Common.unique("lite"));
    c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    c.setAutoCommit(true);
    c.setAutoCommitIntervalMillis(1000);
    c.subscribe(topic, "Lite");
    c.start();
    Set<String> got = new HashSet<>();
    long deadline = System.currentTimeMillis() + 30_000;
    while (got.size() < 30 && System.currentTimeMillis() < deadline) {
      List<MessageExt> msgs = c.poll(1000);
      for (MessageExt m : msgs) {
        Common.check(m.getTags().equals("Lite"), "tag " + m.getTags());
        got.add(m.getKeys());
      }
    }
    Common.check(got.size() == 30, "polled " + got.size() + " of 30");
    Common.check(c.poll(1500).isEmpty(), "nothing more to poll");
    // Offsets are committed by the auto-commit (and on shutdown) and persisted on the broker.
    Thread.sleep(1500);
    c.poll(100);
    Thread.sleep(6000);
    long total = 0;
    for (MessageQueue mq : c.fetchMessageQueues(topic)) {
      Long committed = c.committed(mq);
      Common.note(mq.getQueueId() + " committed " + committed + " max " + admin.maxOffset(mq));
      total += committed == null ? 0 : committed;
    }
    // Queues whose messages all were filtered out keep their old offset (the reference does the same).
    Common.check(total >= 30, "committed offsets sum to " + total + ", want >= 30");
    Common.pass(got.size() + " polled, offsets committed " + total);
  }
}
